"""Article text to sentences: plain text and Markdown cleaned, split, each sentence with its line.

Cleaning is conservative (:mod:`index.articles.cleaning`): it removes what is not part of the
article (related-article links, promotional footers, bylines, datelines, Wikipedia residue,
scraper debris) and otherwise keeps the text exactly as written, because the sentences are
quoted. Every sentence keeps the 1-based line of the file it stands on, so an answer can cite
``file:line``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Sequence
from typing import NamedTuple

from index.articles.cleaning import (
    HAS_ALNUM,
    LINE_BREAK,
    TITLE_LINE,
    WHITESPACE,
    attribution_of,
    clean_line,
    cut_related,
    derive_title,
    is_article_line,
    is_boilerplate,
    looks_like_title,
    strip_dateline,
)
from index.articles.reports import ParsedArticle, SourceSentence
from index.articles.sentences import sentence_spans

__all__ = ["parse_text_article"]

# ---------------------------------------------------------------------------------- markdown


class _Line(NamedTuple):
    number: int  # 1-based line in the file
    text: str  # cleaned; "" for a blank line
    block: bool = False  # markdown: a heading, list item or quote, never joined to neighbours


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_MD_SETEXT = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
_MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")
_MD_FENCE = re.compile(r"^\s{0,3}(?:```|~~~)")
_MD_BULLET = re.compile(r"^\s*[-*+]\s+")
_MD_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+")
_MD_QUOTE = re.compile(r"^\s{0,3}>\s?")
_MD_INLINE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),
    (re.compile(r"\[([^\]]+)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"), r"\1"),
    (re.compile(r"<[A-Za-z/][^>]*>"), " "),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
)


def _markdown_lines(
    raw_lines: Sequence[str], numbers: Sequence[int]
) -> tuple[list[_Line], str | None]:
    """Markdown lines as plain text, and the title from a leading ``# Title`` (or setext) line."""
    out: list[_Line] = []
    title: str | None = None
    in_fence = False
    seen_text = False
    for raw, number in zip(raw_lines, numbers, strict=True):
        if _MD_FENCE.match(raw):
            in_fence = not in_fence
            out.append(_Line(number, ""))
            continue
        if in_fence:
            out.append(_Line(number, ""))
            continue
        if _MD_SETEXT.match(raw) and out and out[-1].text and not out[-1].block:
            # "Heading\n=======" or "Heading\n-------": the previous line was a heading.
            previous = out.pop()
            first = not any(line.text for line in out)
            if title is None and first and raw.strip().startswith("="):
                title = previous.text
                out.append(previous._replace(text=""))
            else:
                out.append(previous._replace(block=True))
            out.append(_Line(number, ""))
            continue
        if _MD_RULE.match(raw):
            out.append(_Line(number, ""))
            continue
        block = False
        heading = _MD_HEADING.match(raw)
        if heading:
            text = heading.group(2)
            block = True
            if title is None and not seen_text and len(heading.group(1)) == 1:
                title = _md_inline(clean_line(text)) or None
                seen_text = True
                out.append(_Line(number, ""))
                continue
        else:
            text = raw
            for marker in (_MD_QUOTE, _MD_BULLET):
                m = marker.match(text)
                if m:
                    text = text[m.end() :]
                    block = True
            if _MD_NUMBERED.match(text):
                block = True
        text = _md_inline(clean_line(text))
        seen_text = seen_text or bool(text)
        out.append(_Line(number, text, block))
    return out, title


def _md_inline(text: str) -> str:
    for pattern, replacement in _MD_INLINE:
        text = pattern.sub(replacement, text)
    return WHITESPACE.sub(" ", text).strip()


# ---------------------------------------------------------------------------------- articles

_END_OF_SENTENCE = tuple(".!?…:;\"”’')]")


def _paragraphs(lines: Sequence[_Line], *, join_wrapped: bool, markdown: bool) -> list[list[_Line]]:
    """Group kept lines into paragraphs.

    One line is one paragraph, except that a wrapped line is joined to the previous one: in
    Markdown any line that follows a text line without a blank between; in plain text a line
    starting with a lower-case letter that follows a line not ending a sentence.
    """
    paragraphs: list[list[_Line]] = []
    previous_blank = True
    for line in lines:
        if not line.text:
            previous_blank = True
            continue
        if paragraphs and not previous_blank and join_wrapped:
            last = paragraphs[-1][-1]
            if markdown:
                joined = not line.block and not last.block
            else:
                joined = not last.text.endswith(_END_OF_SENTENCE) and line.text[0].islower()
            if joined:
                paragraphs[-1].append(line)
                previous_blank = False
                continue
        paragraphs.append([line])
        previous_blank = False
    return paragraphs


def parse_text_article(
    raw: str,
    *,
    key: str,
    path: str,
    content_hash: str,
    line_offset: int = 0,
    single_line: int | None = None,
    markdown: bool = False,
    detect_title: bool = True,
    title: str | None = None,
    date: dt.date | None = None,
    source: str | None = None,
    url: str | None = None,
) -> ParsedArticle | None:
    r"""Clean one article's text and split it into sentences with their lines.

    Args:
        raw: The article text; lines are separated by ``\n`` (or ``\r\n``, ``\r``).
        key: Stable identity of the article.
        path: The file as shown to users.
        content_hash: sha256 hex of the raw content.
        line_offset: Lines before ``raw`` in its file: line ``i`` of ``raw`` (0-based) is file
            line ``line_offset + i + 1``.
        single_line: If given, every sentence gets this line (a .jsonl record on that line).
        markdown: Treat ``raw`` as Markdown (``# Title``, lists, emphasis, links, wrapped lines).
        detect_title: Look for a title in the text (a ``Judul:`` line or a short first line).
        title: The title, if known (a .jsonl ``title``); no title is then looked for in the text.
        date: Publication date.
        source: Publisher.
        url: Address of the article.

    Returns:
        The article, or None if no sentence is left after cleaning.
    """
    raw_lines = LINE_BREAK.split(raw)
    if single_line is None:
        numbers: Sequence[int] = range(line_offset + 1, line_offset + 1 + len(raw_lines))
    else:
        numbers = [single_line] * len(raw_lines)
    if markdown:
        lines, md_title = _markdown_lines(raw_lines, numbers)
    else:
        lines = [_Line(n, clean_line(t)) for n, t in zip(numbers, raw_lines, strict=True)]
        md_title = None

    found_title = _clean_title(title)
    if found_title is None and md_title:
        found_title = md_title
    if found_title is None and detect_title:
        found_title, lines = _title_from_lines(lines)

    attributions: list[str] = []
    kept = [
        line if is_article_line(line.text, attributions) else line._replace(text="")
        for line in lines
    ]
    paragraphs = _paragraphs(kept, join_wrapped=single_line is None, markdown=markdown)

    place: str | None = None
    sentences: list[SourceSentence] = []
    for index, paragraph in enumerate(paragraphs):
        pieces = [line.text for line in paragraph]
        if index == 0:
            dateline = strip_dateline(pieces[0])
            if dateline is not None:
                place, pieces[0] = dateline
                if not pieces[0]:
                    pieces, paragraph = pieces[1:], paragraph[1:]
        _paragraph_sentences(pieces, [line.number for line in paragraph], sentences, attributions)

    if not sentences:
        return None
    return ParsedArticle(
        key=key,
        path=path,
        line=single_line if single_line is not None else line_offset + 1,
        title=found_title or derive_title(sentences[0].text),
        sentences=tuple(sentences),
        content_hash=content_hash,
        date=date,
        source=source,
        url=url,
        attribution="; ".join(attributions) or None,
        place=place,
    )


def _clean_title(title: str | None) -> str | None:
    if not title:
        return None
    return clean_line(title) or None


def _title_from_lines(lines: list[_Line]) -> tuple[str | None, list[_Line]]:
    """A title from the first non-blank line ("Judul: ..." or a short heading-like line)."""
    for i, line in enumerate(lines):
        if not line.text:
            continue
        m = TITLE_LINE.match(line.text)
        if m:
            title = m.group("title").strip()
        elif looks_like_title(line.text) and any(rest.text for rest in lines[i + 1 :]):
            title = line.text
        else:
            return None, lines
        return title, [*lines[:i], line._replace(text=""), *lines[i + 1 :]]
    return None, lines


def _paragraph_sentences(
    pieces: Sequence[str],
    numbers: Sequence[int],
    out: list[SourceSentence],
    attributions: list[str],
) -> None:
    """Split one paragraph (its lines' texts) into sentences, appending them to ``out``."""
    if not pieces:
        return
    text = " ".join(piece for piece in pieces if piece)
    # Where each line starts in the joined text, to give each sentence its line.
    starts: list[int] = []
    position = 0
    for piece in pieces:
        starts.append(position)
        position += len(piece) + 1 if piece else 0
    for start, end in sentence_spans(text):
        sentence = cut_related(text[start:end])
        if not sentence or HAS_ALNUM.search(sentence) is None:
            continue
        source = attribution_of(sentence)
        if source is not None:
            if source and source not in attributions:
                attributions.append(source)
            continue
        if is_boilerplate(sentence):
            continue
        line = numbers[bisect.bisect_right(starts, start) - 1]
        out.append(SourceSentence(sentence, line))
