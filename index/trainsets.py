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
  chat (:func:`chat_typed`): lower case, chat spelling, no question mark, and shorter, the
  question word last and small words left out, with the same answers.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path

from index.evaluate import Question, write_article_passages
from index.questions import AnswerKind, answer_kind, chat_spelling, formal_question
from index.tokens import STOPWORDS

#: Paragraphs joined into one article: about as many sentences as a news article has.
PARAGRAPHS = 5
#: Seed of the draw of the questions typed again as in a chat.
CHAT_SEED = 7


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


#: Question words as chat spelling leaves them; a chat often puts them last ("skor arsenal vs
#: chelsea brp", "pengacaranya siapa").
_ASKING = frozenset(
    ("brp", "siapa", "kpn", "apa", "apakah", "mana", "manakah", "dmn", "knp", "gmn", "mengapa")
)
#: Question words as readers type them: "siapa" (not "sapa"), "apa" for the formal "apakah"
#: ("Apakah ibukota Kanada?" asks what it is).
_CHAT_ASKING = {"sapa": "siapa", "apakah": "apa", "manakah": "mana"}
#: Words that stand before a question word in its phrase ("di mana", "pada thn brp").
_BEFORE_ASKING = frozenset(("di", "ke", "dari", "pada", "sejak", "sampai"))
#: Words a chat leaves out: they say nothing the rest of the question does not.
_LEFT_OUT_IN_CHAT = frozenset(
    ("tersebut", "tsb", "adalah", "merupakan", "telah", "sedang", "oleh", "para", "sebuah")
)
#: The meN- prefixes whose stem is plain (men+cetak, meng+geledah, mem+bakar), written off as
#: chats do ("kpk geledah dmn"); men-, mem- and meny- before a vowel are left (menang, memakan,
#: menyatakan).
_ME_PREFIX = re.compile(r"^(?:mem(?=[bp])|men(?=[cdj])|meng(?=[ghk]))(\w{3,})$")
#: A chat question keeps at least this many words when some are left out.
_CHAT_WORDS_KEPT = 4


def chat_typed(question: str, draw: random.Random | None = None) -> str:
    """``question`` as a reader types it in a chat: lower case, chat spelling, no "?".

    With ``draw``, also shorter, as chat questions are (about 6 words where a formal one has
    9): a leading question phrase ("berapa", "siapa yang", "pada tahun berapa", "di negara
    mana") moves to the end, filler words go, some meN- verbs lose their prefix, and some other words are left out, small words more often
    than the rest and names least; the question phrase and numbers always stay.
    """
    typed = chat_spelling(question).replace("?", " ").split()
    if draw is None or not typed:
        return " ".join(typed)
    typed = [_CHAT_ASKING.get(w, w) for w in (w.strip(",.;:!") for w in typed) if w]
    names = {word.lower() for word in re.findall(r"\w+", question) if word[0].isupper()}
    lead = _question_phrase(typed)
    if 0 < lead < len(typed) - 1 and draw.random() < 0.5:
        rest = typed[lead:]
        moved = [*(rest[1:] if rest[0] == "yg" else rest), *typed[:lead]]
        if _kind(moved) == _kind(typed):  # "apa itu X" is not "itu X apa"
            typed = moved
    kept = _asking_phrases(typed)
    typed = [w for w in typed if w not in _LEFT_OUT_IN_CHAT or draw.random() >= 0.6]
    typed = [_chat_verb(w) if draw.random() < 0.5 else w for w in typed]
    shortened = list(typed)
    for word in typed:
        if len(shortened) <= _CHAT_WORDS_KEPT:
            break
        if word in kept or any(c.isdigit() for c in word):
            continue
        left_out = 0.08 if word in names else 0.5 if word in STOPWORDS else 0.2
        if draw.random() < left_out:
            shortened.remove(word)
    return " ".join(shortened)


def _question_phrase(typed: Sequence[str]) -> int:
    """How many of ``typed``'s first words are its question phrase (0: it does not lead)."""
    for end, word in enumerate(typed[:3]):
        if word in _ASKING:
            return end + 1
        if end > 0 and typed[end - 1] not in _BEFORE_ASKING:
            return 0
    return 0


def _asking_phrases(typed: Sequence[str]) -> set[str]:
    """The words of ``typed``'s question phrases ("pada thn brp", "apa penyebab").

    Each question word, the two words before it and the one after.
    """
    kept: set[str] = set()
    for n, word in enumerate(typed):
        if word in _ASKING:
            kept.update(typed[max(0, n - 2) : n + 2])
    return kept


def _kind(typed: Sequence[str]) -> AnswerKind:
    """The kind of answer ``typed`` asks for, read as the searcher reads a chat question."""
    return answer_kind(formal_question(" ".join(typed)))


def _chat_verb(word: str) -> str:
    """``word`` without its meN- prefix when the stem is plain ("mencetak" -> "cetak")."""
    found = _ME_PREFIX.match(word)
    return word if found is None else found.group(1)


def chat_draw(question: Question) -> random.Random:
    """The draw that shortens ``question``'s chat-typed copy: the same for it every time."""
    return random.Random(f"{CHAT_SEED}:{question.id}")


def with_chat_typed(questions: Sequence[Question], share: float) -> list[Question]:
    """``questions`` plus a chat-typed copy of ``share`` of them (a fixed draw).

    A copy keeps its question's answers and passage; its id ends in ``~chat``. A question
    already typed so gets no copy.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError("the share of questions typed again must be between 0 and 1")
    draw = random.Random(CHAT_SEED)
    copies = []
    for question in questions:
        if draw.random() < share:
            typed = chat_typed(question.question, chat_draw(question))
            if typed != question.question:
                copies.append(
                    dataclasses.replace(question, id=f"{question.id}~chat", question=typed)
                )
    return [*questions, *copies]
