"""``python -m index.lab.kinds``: how well the rules read which sentences hold the asked answer.

A question asks for a kind of answer ("kapan": a time, "di mana": a place), and the ranking
reads whether each sentence holds one (``holds_answer_kind``); the "not found" decision reads
it of the first. For questions about full news articles (``article_id`` and ``answers``, as in
``tests/data/realuse-train/``), every sentence of the question's article, as the index stores
it, is put to the rule: per kind, the share of the questions for which a sentence holding an
answer passes (a sentence that fails it is read as no answer) and the share of the article's
other sentences that pass (those the rule cannot tell from an answer). A rule is better when
the first rises by more than the second.

    python -m index.lab.kinds --articles ../shared/eval/news/articles.jsonl \
        --questions tests/data/realuse-train/questions.jsonl [--show time]
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.articles.files import read_file
from index.articles.records import passage_id
from index.lab.corpus import PASSAGES_FILE, write_article_passages
from index.lab.evaluate import Question, read_questions
from index.search.chat import formal_question
from index.search.questions import AnswerKind, answer_kind, holds_answer_kind
from index.search.tokens import words


@dataclass(slots=True)
class KindCount:
    """What the rule of one kind of answer made of its questions' articles."""

    questions: int = 0
    passed: int = 0  # questions with a sentence that holds an answer and passes the rule
    others: int = 0  # the articles' sentences that hold no answer
    others_passed: int = 0

    @property
    def recall(self) -> float:
        """Share of the questions whose answer passes the rule."""
        return self.passed / self.questions if self.questions else 0.0

    @property
    def others_share(self) -> float:
        """Share of the other sentences that pass it."""
        return self.others_passed / self.others if self.others else 0.0


@dataclass(frozen=True, slots=True)
class Missed:
    """A question whose every answering sentence fails the rule of its kind."""

    kind: AnswerKind
    question: str
    sentence: str


def article_sentences(articles: Path, named: Sequence[str]) -> dict[str, list[str]]:
    """The sentences of each named article of an articles .jsonl, as the index reads them."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / PASSAGES_FILE
        write_article_passages(articles, named, target)
        report = read_file(target, folder=Path(folder))
    return {
        passage_id(article.key): [sentence.text for sentence in article.sentences]
        for article in report.articles
    }


def count_kinds(
    questions: Sequence[Question], sentences: dict[str, list[str]]
) -> tuple[dict[AnswerKind, KindCount], list[Missed]]:
    """Per kind of answer asked, what its rule makes of the questions' articles.

    A question none of whose article's sentences holds an answer is left out.
    """
    counts: dict[AnswerKind, KindCount] = {}
    missed = []
    for question in questions:
        article = sentences.get(question.passage_id or "", [])
        answers = [answer.lower() for answer in question.answers]
        holding = [any(answer in text.lower() for answer in answers) for text in article]
        if not any(holding):
            continue
        formal = formal_question(question.question)
        kind = answer_kind(formal)
        asked = set(words(formal))
        passes = [holds_answer_kind(text, kind, asked) for text in article]
        passed = any(p and h for p, h in zip(passes, holding, strict=True))
        count = counts.setdefault(kind, KindCount())
        count.questions += 1
        count.passed += passed
        count.others += holding.count(False)
        count.others_passed += sum(p and not h for p, h in zip(passes, holding, strict=True))
        if not passed:
            missed.append(Missed(kind, question.question, article[holding.index(True)]))
    return counts, missed


def format_counts(counts: dict[AnswerKind, KindCount]) -> str:
    """A markdown table, one row per kind, most questions first."""
    lines = [
        "| kind | questions | answer passes | other sentences | others that pass |",
        "|---|---|---|---|---|",
    ]
    for kind, count in sorted(counts.items(), key=lambda item: -item[1].questions):
        lines.append(
            f"| {kind.value} | {count.questions} | {count.recall:.3f} | {count.others} "
            f"| {count.others_share:.3f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table; with ``--show KIND``, each question of that kind the rule misses."""
    parser = argparse.ArgumentParser(prog="python -m index.lab.kinds", description=__doc__)
    parser.add_argument("--articles", type=Path, required=True, help="articles .jsonl")
    parser.add_argument(
        "--questions", type=Path, required=True, help="questions .jsonl with article_id"
    )
    parser.add_argument(
        "--show",
        choices=[kind.value for kind in AnswerKind],
        action="append",
        help="also list the questions of this kind whose answer fails the rule",
    )
    args = parser.parse_args(argv)
    questions = read_questions(args.questions)
    named = sorted({q.passage_id for q in questions if q.passage_id})
    counts, missed = count_kinds(questions, article_sentences(args.articles, named))
    print(format_counts(counts))
    for item in missed:
        if item.kind.value in (args.show or ()):
            print(f"{item.kind.value}: {item.question} | {item.sentence}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
