"""Reply formatting: escaped HTML under Telegram's limit, the same content as plain text."""

from __future__ import annotations

import html

from bot.replies import MAX_MESSAGE_CHARS, answer_html, answer_plain, language_for, telegram_length
from index.questions import AnswerKind
from index.search import Answer, Quote
from tests.telegram_spec import ApiError, parse_html  # the stand-in's own HTML parser


def _quote(text: str, line: int = 3, **extra: object) -> Quote:
    return Quote(
        text=text,
        title="Judul <b>tebal</b> & co",
        path="seeds/a&b.txt",
        line=line,
        score=1.0,
        article_key="a&b.txt",
        **extra,  # type: ignore[arg-type]
    )


def _answer(*quotes: Quote) -> Answer:
    return Answer(question="q", answered=True, kind=AnswerKind.OTHER, quotes=quotes)


def _visible(markup: str) -> str:
    try:
        return parse_html(markup)[0]
    except ApiError as error:
        raise AssertionError(f"invalid Telegram HTML: {error}\n{markup}") from error


def test_article_text_is_escaped_and_valid_html() -> None:
    reply = answer_html(_answer(_quote('Harga <naik> 5% & "turun"', attribution="A<B>")))
    visible = _visible(reply)
    assert 'Harga <naik> 5% & "turun"' in visible
    assert "Judul <b>tebal</b> & co" in visible
    assert "seeds/a&b.txt, baris 3 · Sumber: A<B>" in visible


def test_url_becomes_a_link_with_escaped_href() -> None:
    reply = answer_html(_answer(_quote("Teks.", url='https://x.id/a?b=1&c="2"')))
    assert '<a href="https://x.id/a?b=1&amp;c=&quot;2&quot;">' in reply
    _visible(reply)


def test_reply_stays_under_telegram_limit_with_huge_sentences() -> None:
    quotes = [_quote("kata " * 2000, line=n) for n in range(1, 4)]
    reply = answer_html(_answer(*quotes))
    assert telegram_length(_visible(reply)) <= MAX_MESSAGE_CHARS
    assert "…" in reply  # a giant sentence is cut, visibly


def test_emoji_count_as_telegram_counts_them() -> None:
    assert telegram_length("😀") == 2
    quotes = [_quote("😀" * 1000, line=n) for n in range(1, 4)]
    assert telegram_length(_visible(answer_html(_answer(*quotes)))) <= MAX_MESSAGE_CHARS


def test_not_answered_replies() -> None:
    declined = Answer(question="q", answered=False, kind=AnswerKind.OTHER)
    assert answer_html(declined) == "Maaf, artikel yang saya punya tidak menjawab pertanyaan itu."
    assert answer_html(declined, "en") == "Sorry, none of my articles answers that question."
    no_words = Answer(question="😀", answered=False, kind=AnswerKind.OTHER, has_words=False)
    assert "dengan kata-kata" in answer_html(no_words)
    assert "<i>" not in answer_plain(no_words)


def test_plain_text_has_quote_and_source_unescaped() -> None:
    plain = answer_plain(_answer(_quote("A & B.", attribution="Kompas")))
    assert plain.startswith("1. “A & B.”")
    assert "seeds/a&b.txt, baris 3 · Sumber: Kompas" in plain
    assert html.escape("&") not in plain


def test_language_for() -> None:
    assert language_for("en-GB") == "en"
    assert language_for("id") == "id"
    assert language_for(None) == "id"


def test_a_sentence_several_articles_share_names_them_under_one_quote() -> None:
    others = tuple(
        Quote(
            text="Harga naik.",
            title=f"Salinan {n} <i>" + "panjang " * 200,
            path=f"seeds/salinan-{n}.txt",
            line=n,
            score=0.5,
            article_key=f"salinan-{n}.txt",
        )
        for n in range(1, 6)
    )
    reply = answer_html(_answer(_quote("Harga naik.", also=others), _quote("Lain.", line=9)))
    visible = _visible(reply)
    assert visible.count("Harga naik.") == 1
    assert "Kalimat yang sama juga di: Salinan 1 <i>" in visible
    for n in (1, 2, 3):
        assert f"(seeds/salinan-{n}.txt, baris {n})" in visible
    assert "salinan-4" not in visible and "(+2)" in visible
    assert "Lain." in visible  # the next quote still fits: long titles are cut
    assert telegram_length(visible) <= MAX_MESSAGE_CHARS

    plain = answer_plain(_answer(_quote("Harga naik.", also=others[:1])), "en")
    assert "The same sentence is also in: Salinan 1 <i>" in plain
    assert plain.rstrip().endswith("seeds/salinan-1.txt, line 1")
