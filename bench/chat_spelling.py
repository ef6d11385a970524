"""``python -m bench.chat_spelling IN.jsonl > OUT.jsonl``: questions as typed in a group chat.

Writes each question of a ``shared/eval`` questions file in lower case, with every word that
``index.questions.CHAT_WORDS`` writes out put back in its first chat spelling ("yang" -> "yg",
"berapa" -> "brp"). The chat forms come from the same list the searcher reads, so the eval of
the output shows what that list is worth to a reader who types so, not how complete it is.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from index.questions import CHAT_WORDS

#: Each written-out word's first chat spelling, plus the -kah forms FacQA's questions use.
CHAT_SPELLING: dict[str, str] = {}
for chat, written in CHAT_WORDS.items():
    CHAT_SPELLING.setdefault(written, chat)
for written in ("berapa", "siapa", "kapan", "dimana", "bagaimana"):
    CHAT_SPELLING[f"{written}kah"] = CHAT_SPELLING[written]
_WORD = re.compile(r"\w+")


def chat_spelling(question: str) -> str:
    """``question`` in lower case, in chat spelling."""
    return _WORD.sub(lambda m: CHAT_SPELLING.get(m.group(0), m.group(0)), question.lower())


def main(argv: list[str] | None = None) -> int:
    """Print the questions file given, each question in chat spelling."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with Path(args[0]).open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                record["question"] = chat_spelling(record["question"])
                print(json.dumps(record, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
