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
- **Typed as in a chat**: a share of the questions is asked again in lower case, in chat
  spelling, without the question mark (:func:`chat_typed`), with the same answers.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence
from pathlib import Path

from index.lab.corpus import write_article_passages
from index.lab.evaluate import Question
from index.search.chat import chat_spelling

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


def article_passages(
    articles: Path, questions: Sequence[Question], *, source: Path, folder: Path
) -> Path:
    """The articles ``questions`` name (``article_id``), written as a passages file.

    Questions written on full news articles are asked of their whole articles, as a reader
    asks them; the file is named after ``source``, the questions file they were read from.
    """
    named = dict.fromkeys(q.passage_id for q in questions if q.passage_id)
    if not named:
        raise ValueError(f"{source.name} names no article (article_id)")
    folder.mkdir(parents=True, exist_ok=True)
    stem = source.name.split(".")[0]
    target = folder / f"{source.parent.name}.{stem}.articles.passages.jsonl"
    write_article_passages(articles, named, target)
    return target


def chat_typed(question: str) -> str:
    """``question`` as a reader types it in a chat: lower case, chat spelling, no "?"."""
    return " ".join(chat_spelling(question).replace("?", " ").split())


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
            typed = chat_typed(question.question)
            if typed != question.question:
                copies.append(
                    dataclasses.replace(question, id=f"{question.id}~chat", question=typed)
                )
    return [*questions, *copies]
