"""``python -m bench.typed chat|slips IN.jsonl > OUT.jsonl``: questions as readers type them.

``chat`` writes each question of a ``shared/eval`` questions file in lower case, with every word
that ``index.search.chat.CHAT_WORDS`` writes out put back in its first chat spelling ("yang" ->
"yg", "berapa" -> "brp"). The chat forms come from the same list the searcher reads, so the
eval of the output shows what that list is worth to a reader who types so, not how complete
it is.

``slips`` makes one typing slip in one word of five letters or more that is no stopword: a
letter dropped, changed or swapped with the next, never the first or last letter. The word,
the slip and its place are drawn with a fixed seed, so the file is the same on every run.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from string import ascii_lowercase

from index.search.chat import chat_spelling
from index.search.tokens import STOPWORDS

SEED = 11


def with_a_slip(question: str, rng: random.Random) -> str:
    """``question`` with one typing slip in one of its longer content words, if it has one."""
    words = question.split(" ")
    slippable = [
        i for i, w in enumerate(words) if w.isalpha() and len(w) >= 5 and w.lower() not in STOPWORDS
    ]
    if not slippable:
        return question
    n = rng.choice(slippable)
    word = words[n]
    at = rng.randrange(1, len(word) - 2)
    slip = rng.randrange(3)
    if slip == 0:
        word = word[:at] + word[at + 1 :]
    elif slip == 1:
        word = (
            word[:at] + rng.choice(ascii_lowercase.replace(word[at].lower(), "")) + word[at + 1 :]
        )
    else:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    words[n] = word
    return " ".join(words)


def main(argv: list[str] | None = None) -> int:
    """Print the questions file given, each question as the mode types it."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("chat", "slips"):
        print(__doc__, file=sys.stderr)
        return 2
    rng = random.Random(SEED)
    typed: Callable[[str], str] = (
        chat_spelling if args[0] == "chat" else lambda q: with_a_slip(q, rng)
    )
    with Path(args[1]).open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                record["question"] = typed(record["question"])
                print(json.dumps(record, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
