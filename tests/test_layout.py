"""The shape of the code: one-way imports, no import circle, modules a reader can hold in mind."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "index", "config", "bench")
#: A module longer than this says why in its docstring, in a paragraph starting so.
MAX_LINES = 400
LONG_REASON = "Longer than 400 lines because"


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imported(path: Path, name: str) -> Iterator[tuple[str, list[str]]]:
    """Each module ``path`` imports, with the names taken.

    Imports inside functions and under ``TYPE_CHECKING`` count: a circle closed at call time,
    or only for the type checker, is still a circle a reader has to untangle.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, [alias.name for alias in node.names]


def project_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (``from p import m`` names module p.m)."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, names in imported(path, name):
            for candidate in [f"{target}.{n}" for n in names] or [target]:
                if candidate in known:
                    graph[name].add(candidate)
                elif target in known:
                    graph[name].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), and modules importing
    themselves."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index_of[node] = low[node] = len(index_of)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index_of:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index_of[nxt])
        if low[node] == index_of[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1 or node in graph[node]:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index_of:
            visit(node)
    return found


def test_the_circle_finder_finds_a_circle_and_only_circles() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set(), "c": {"c"}}) == [["c"]]


def test_no_import_circle() -> None:
    assert circles(project_graph()) == []


def test_imports_go_one_way_bot_index_config() -> None:
    wrong = []
    for name, path in modules().items():
        top = name.split(".")[0]
        for target, _ in imported(path, name):
            first = target.split(".")[0]
            if top == "index" and first in {"bot", "telegram"}:
                wrong.append(f"{name} imports {target}")
            if top == "config" and first in {"bot", "index", "telegram"}:
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_what_serves_answers_never_imports_the_lab() -> None:
    """Evaluation and fitting (``index/lab/``) are reached only from the shell's commands."""
    shell = {"index.cli", "index.__main__"}
    wrong = [
        f"{name} imports {target}"
        for name, path in modules().items()
        if name.split(".")[0] in {"bot", "index"}
        and not name.startswith("index.lab")
        and name not in shell
        for target, _ in imported(path, name)
        if target.startswith("index.lab")
    ]
    assert wrong == []


def test_bot_reaches_index_only_through_its_public_face() -> None:
    """``bot/`` writes ``from index import ...``: index's inner layout may change under it."""
    inner = [
        f"{name} imports {target}"
        for name, path in modules().items()
        if name.split(".")[0] == "bot"
        for target, _ in imported(path, name)
        if target.startswith("index.")
    ]
    assert inner == []


def test_every_name_of_the_public_face_is_importable() -> None:
    import index

    missing = [name for name in index.__all__ if not hasattr(index, name)]
    assert missing == []
    assert len(index.__all__) == len(set(index.__all__))


def test_no_module_over_400_lines_without_a_reason() -> None:
    unexplained = []
    for name, path in modules().items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            if not any(p.startswith(LONG_REASON) for p in doc.split("\n\n")):
                unexplained.append(f"{name}: {lines} lines")
    assert unexplained == []


def readme_tree() -> dict[str, set[str]]:
    """Folder -> the modules the README's "Where things live" names in it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Where things live", 1)[1]
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    named: dict[str, set[str]] = {}
    top = sub = ""
    for line in block.splitlines():
        indent = len(line) - len(line.lstrip())
        first = line.split()[0] if line.strip() else ""
        if indent == 0:
            top, sub = first.split("/")[0], ""
        elif indent == 2:
            sub = f"{top}/{first[:-1]}" if first.endswith("/") else ""
        folder = sub or top
        names = set(re.findall(r"(?<![/\w])\w+\.py\b", line))
        if indent == 0 and "/" in first and first.endswith(".py"):
            names.add(first.split("/")[-1])
        named.setdefault(folder, set()).update(names)
    return named


def test_the_readme_names_every_module_where_it_lives() -> None:
    named = readme_tree()
    for folder in ["bot", "index", *(f"index/{p.name}" for p in (ROOT / "index").iterdir())]:
        path = ROOT / folder
        if not (path / "__init__.py").exists():
            continue
        modules_there = {p.name for p in path.glob("*.py")} - {"__init__.py"}
        assert named.get(folder, set()) == modules_there, folder
