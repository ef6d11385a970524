"""Train questions in the shapes readers meet, for ``python -m index tune``.

The eval sets' passages are one to three sentences; readers ask about full articles of 15-40.
A ranking and a "not found" model fitted only on short passages learn that the right passage
is the one with the question's words, and then, inside a full article, quote another sentence
of it first or nothing at all. Two ways to fit on what readers meet:

- **Questions with their paragraph** (``shared/eval/extra``: ``{"id", "question", "answers",
  "context"}``, ``answers`` empty when the paragraph does not answer): consecutive paragraphs
  of the file, which are consecutive paragraphs of one encyclopedia article, are joined into
  articles of ``paragraphs`` each. A question's passage is that article, and a sentence is
  right only if it stands in the question's own paragraph and holds an answer (the same name
  often stands in the paragraphs around it).
- **A newsroom's archive**: articles of a news corpus with no questions of their own, where
  the other sets' questions are asked: no article there answers them, so the "not found"
  model sees how sure it gets among thousands of full articles that do not answer
  (:func:`news_passages`).
- **Typed as in a chat**: a share of the questions is asked again as readers type in a group
  (:func:`chat_typed`), with the same answers: lower case, chat spelling, no question mark,
  no "apakah"/"adalah"; half of them with the question word last ("pelatih argentina sapa"),
  a third with one long word shortened to its consonants ("pnddk"), a word no article
  writes. Readers' questions have such words (nicknames, slang, their own short forms);
  a "not found" model that never met one in an answerable question declines them all.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path

from index.evaluate import Question, write_article_passages
from index.questions import CHAT_WORDS, chat_spelling

#: Paragraphs joined into one article: about as many sentences as a news article has.
PARAGRAPHS = 5
#: Seed of the draw of the questions typed again as in a chat.
CHAT_SEED = 7
#: Shares of the chat-typed copies with the question word last, and with a word shortened.
ASKED_LAST = 0.5
SHORTENED = 0.3
#: Words a chat question leaves out (after chat spelling).
_LEFT_OUT = frozenset({"apakah", "adalah", "merupakan"})
#: A question word first, possibly with "yg": what a chat question may put last.
_ASKED_FIRST = re.compile(
    r"^((?:brp|sapa|kpn|dmn|knp|gmn|mengapa|apa|di mana(?:kah)?)(?:\s+yg)?)\s+(\S.*)$"
)
#: Question words, which a reader does not shorten.
_ASKING = frozenset({"mengapa", "bagaimana", "manakah", "apakah", "siapakah"})
#: The shortest word shortened to its consonants.
SHORTEST_SHORTENED = 6


@dataclasses.dataclass(frozen=True, slots=True)
class ContextSet:
    """Articles written as a passages file, and the questions asked of them."""

    passages: Path
    answerable: list[Question]
    unanswerable: list[Question]


def context_set(path: Path, *, folder: Path, paragraphs: int = PARAGRAPHS) -> ContextSet:
    """Read a questions-with-paragraph file; write its articles to ``folder``/NAME.passages.jsonl.

    Each article is ``paragraphs`` consecutive distinct paragraphs of the file, in file order;
    its id is the file's stem and the article's number.
    """
    if paragraphs < 1:
        raise ValueError("an article needs at least one paragraph")
    records = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                record = json.loads(line)
                if not record.get("context") or not record.get("question"):
                    raise ValueError(f"{path.name} line {number}: no question or no context")
                records.append(record)
    stem = path.name.split(".")[0]
    article_of: dict[str, str] = {}
    texts: dict[str, list[str]] = {}
    for record in records:
        context = record["context"]
        if context not in article_of:
            key = f"{stem}-{len(article_of) // paragraphs:05d}"
            article_of[context] = key
            texts.setdefault(key, []).append(context)
    folder.mkdir(parents=True, exist_ok=True)
    passages = folder / f"{stem}.p{paragraphs}.passages.jsonl"
    with passages.open("w", encoding="utf-8") as out:
        for key, parts in texts.items():
            passage = {"passage_id": key, "title": None, "text": "\n\n".join(parts)}
            out.write(json.dumps(passage, ensure_ascii=False) + "\n")
    answerable: list[Question] = []
    unanswerable: list[Question] = []
    for record in records:
        question = Question(
            id=str(record["id"]),
            question=record["question"],
            answers=tuple(record.get("answers") or ()),
            passage_id=article_of[record["context"]],
            source=path.name,
            context=record["context"],
        )
        (answerable if question.answers else unanswerable).append(question)
    return ContextSet(passages=passages, answerable=answerable, unanswerable=unanswerable)


def news_passages(articles: Path, *, folder: Path, count: int) -> Path:
    """``count`` articles spread evenly over an articles .jsonl, written as a passages file."""
    if count < 1:
        raise ValueError("take at least one news article")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{articles.name.split('.')[0]}.n{count}.passages.jsonl"
    write_article_passages(articles, (), target, distractors=count)
    return target


def chat_typed(question: str, *, asked_last: bool = False, shortened: str | None = None) -> str:
    """``question`` as a reader types it in a chat: lower case, chat spelling, no "?".

    "apakah", "adalah" and "merupakan" are left out. ``asked_last``: a first question word
    goes last ("siapa yang menang" -> "yg menang sapa"). ``shortened``: that word of the
    question is typed as its first letter and consonants ("penduduk" -> "pnddk").
    """
    typed = [
        word for word in chat_spelling(question).replace("?", " ").split() if word not in _LEFT_OUT
    ]
    if shortened is not None:
        typed = [_consonants(word) if word == shortened.lower() else word for word in typed]
    text = " ".join(typed)
    first = _ASKED_FIRST.match(text) if asked_last else None
    if first is not None:
        asked, rest = first.groups()
        word, yg = (asked[:-3], "yg ") if asked.endswith(" yg") else (asked, "")
        text = f"{yg}{rest} {word}"  # "sapa yg menang" -> "yg menang sapa"
    return text if text else question


def shortenable(question: str) -> list[str]:
    """Words of ``question`` a reader may shorten: long, lower case (not a name), no chat word."""
    return [
        word
        for word in dict.fromkeys(re.findall(r"\b[a-z]+\b", question))
        if len(word) >= SHORTEST_SHORTENED
        and word not in CHAT_WORDS.values()
        and word not in _LEFT_OUT | _ASKING
        and not word.endswith("kah")
    ]


def _consonants(word: str) -> str:
    return word[0] + "".join(letter for letter in word[1:] if letter not in "aeiou")


def with_chat_typed(questions: Sequence[Question], share: float) -> list[Question]:
    """``questions`` plus a chat-typed copy of ``share`` of them (a fixed draw).

    A copy keeps its question's answers and passage; its id ends in ``~chat``. A question
    already typed so gets no copy. How each copy is typed (:func:`chat_typed`: the question
    word last, a word shortened) is drawn from its question's id, so a copy is the same
    whatever other questions are asked.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError("the share of questions typed again must be between 0 and 1")
    draw = random.Random(CHAT_SEED)
    copies = []
    for question in questions:
        if draw.random() < share:
            shape = random.Random(f"{CHAT_SEED}:{question.id}")
            asked_last = shape.random() < ASKED_LAST
            words = shortenable(question.question)
            shortened = shape.choice(words) if words and shape.random() < SHORTENED else None
            typed = chat_typed(question.question, asked_last=asked_last, shortened=shortened)
            if typed != question.question:
                copies.append(
                    dataclasses.replace(question, id=f"{question.id}~chat", question=typed)
                )
    return [*questions, *copies]
