"""Reply formatting: escaped HTML under Telegram's limit, the same content as plain text."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import replace

import pytest

from bot.replies import (
    MAX_MESSAGE_CHARS,
    answer_html,
    answer_plain,
    inline_results,
    telegram_length,
)
from bot.texts import Language, help_text, language_for, text
from index.search.answers import Answer, Quote
from index.search.questions import AnswerKind
from index.search.sources import ArticleSource
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
    assert visible.splitlines() == [
        'Harga <naik> 5% & "turun"',
        "baris 3",
        "📰 Judul <b>tebal</b> & co",
        "a&b.txt · Sumber: A<B>",
    ]


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
    assert plain.splitlines() == [
        "1. “A & B.” (baris 3)",
        "   Judul <b>tebal</b> & co",
        "   a&b.txt · Sumber: Kompas",
    ]
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
        assert f"(salinan-{n}.txt, baris {n})" in visible
    assert "salinan-4" not in visible and "(+2)" in visible
    assert "Lain." in visible  # the next quote still fits: long titles are cut
    assert telegram_length(visible) <= MAX_MESSAGE_CHARS

    plain = answer_plain(_answer(_quote("Harga naik.", also=others[:1])), "en")
    assert "The same sentence is also in: Salinan 1 <i>" in plain
    assert plain.splitlines()[:2] == [
        "1. “Harga naik.” (line 3)",
        f"   The same sentence is also in: {others[0].title}, salinan-1.txt, line 1",
    ]


def _from(article: str, text: str, line: int, *, folder: str = "/srv/berita/seeds") -> Quote:
    return Quote(
        text=text,
        title=f"Judul {article}",
        path=f"{folder}/{article}.txt",
        line=line,
        score=1.0,
        article_key=f"{article}.txt",
    )


def test_quotes_of_one_article_stand_above_one_source_each_with_its_line() -> None:
    reply = answer_html(
        _answer(_from("a", "Satu.", 13), _from("b", "Dua.", 4), _from("a", "Tiga.", 12))
    )
    blocks = [_visible(block).splitlines() for block in reply.split("\n\n")]
    # The article of the best quote comes first, with all its quotes; each source shows once.
    assert blocks == [
        ["Satu.", "baris 13", "Tiga.", "baris 12", "📰 Judul a", "a.txt"],
        ["Dua.", "baris 4", "📰 Judul b", "b.txt"],
    ]
    assert reply.count("<blockquote>") == 3

    plain = answer_plain(
        _answer(_from("a", "Satu.", 13), _from("b", "Dua.", 4), _from("a", "Tiga.", 12))
    )
    assert plain.split("\n\n") == [
        "1. “Satu.” (baris 13)\n2. “Tiga.” (baris 12)\n   Judul a\n   a.txt",
        "3. “Dua.” (baris 4)\n   Judul b\n   b.txt",
    ]


def test_the_articles_folder_never_shows_only_the_file_below_it() -> None:
    nested = Quote(
        text="Bersarang.",
        title="T",
        path="/srv/berita/seeds/2024/12/berita.jsonl",
        line=7,
        score=1.0,
        article_key="2024/12/berita.jsonl#abc-1",
    )
    feed = Quote(
        text="Dari feed.",
        title="F",
        path="/var/lib/tanya/data/feeds/contoh-id-rss-1a2b.jsonl",
        line=2,
        score=1.0,
        article_key="feeds/contoh-id-rss-1a2b.jsonl#https://contoh.id/a",
    )
    # Read from outside any folder: only the file's name is shown.
    outside = Quote(
        text="Di luar.",
        title="L",
        path="/opt/lain.txt",
        line=1,
        score=1.0,
        article_key="/opt/lain.txt",
    )
    answer = _answer(replace(nested, also=(_from("salinan", "Bersarang.", 5),)), feed, outside)
    for reply in (answer_html(answer), answer_plain(answer), answer_html(answer, "en")):
        for folder in ("/srv", "/var", "/opt", "seeds/", "data/"):
            assert folder not in reply
    visible = _visible(answer_html(answer))
    assert "2024/12/berita.jsonl" in visible.splitlines()
    assert "(salinan.txt, baris 5)" in visible
    assert "feeds/contoh-id-rss-1a2b.jsonl" in visible.splitlines()
    assert "lain.txt" in visible.splitlines()


def test_source_shows_date_publisher_and_link_once() -> None:
    quotes = (_from("a", "Satu.", 2), _from("a", "Dua.", 3))
    source = ArticleSource(
        title="Cabai <naik>",
        file="a.txt",
        url="https://contoh.id/cabai?a=1&b=2",
        date=dt.date(2024, 12, 30),
        publisher="Kompas & Co",
        attribution="Antara",
    )
    reply = answer_html(_answer(*quotes), sources={"a.txt": source})
    assert reply.count('<a href="https://contoh.id/cabai?a=1&amp;b=2">') == 1
    assert _visible(reply).splitlines() == [
        "Satu.",
        "baris 2",
        "Dua.",
        "baris 3",
        "📰 Cabai <naik>",
        "a.txt · 30 Desember 2024 · Kompas & Co · Sumber: Antara",
    ]
    english = _visible(answer_html(_answer(*quotes), "en", sources={"a.txt": source}))
    assert english.splitlines()[-1] == "a.txt · 30 December 2024 · Kompas & Co · Source: Antara"
    # The same name as publisher and in its "Sumber:" line is said once.
    same = ArticleSource(title="T", file="a.txt", publisher="Antara", attribution="Antara")
    assert _visible(answer_html(_answer(*quotes), sources={"a.txt": same})).endswith(
        "a.txt · Antara"
    )


def test_grouped_reply_stays_under_telegram_limit() -> None:
    # Many long quotes of two articles whose titles are huge: cut, and no block past the limit.
    quotes = [
        Quote(
            text="kalimat panjang " * 100,
            title="judul " * 1000,
            path=f"/srv/seeds/{n % 2}.txt",
            line=n,
            score=1.0,
            article_key=f"{n % 2}.txt",
        )
        for n in range(1, 11)
    ]
    reply = answer_html(_answer(*quotes))
    visible = _visible(reply)
    assert telegram_length(visible) <= MAX_MESSAGE_CHARS
    assert 2 <= reply.count("<blockquote>") < 10  # some fit, not all
    assert reply.count("📰") == 2  # each article's source once, even though they alternate


def _unmarked(reply: str) -> str:
    """``reply`` with the first bold tags taken out: the mark's, which comes before any title."""
    start = reply.index("<b>")
    end = reply.index("</b>", start)
    return reply[:start] + reply[start + 3 : end] + reply[end + 4 :]


def test_the_marked_answer_is_bold_and_the_quote_unchanged() -> None:
    text = "Kim Jong-un dituduh menempatkan 11.000 tentara di perbatasan."
    start = text.index("11.000 tentara")
    marked = _quote(text, mark=(start, start + len("11.000 tentara")))
    reply = answer_html(_answer(marked))
    assert "<blockquote>Kim Jong-un dituduh menempatkan <b>11.000 tentara</b> di" in reply
    assert _unmarked(reply) == answer_html(_answer(_quote(text)))
    visible, entities = parse_html(reply)
    assert visible.splitlines()[0] == text
    bold = {"type": "bold", "offset": start, "length": len("11.000 tentara")}
    assert bold in entities
    # The terminal's plain text has no markup, and the same words.
    assert answer_plain(_answer(marked)) == answer_plain(_answer(_quote(text)))


def test_a_mark_next_to_characters_html_needs_escaped_stays_valid() -> None:
    text = 'Saham PT <Maju & Jaya> naik 7,5% & "Rp 5 juta" <lagi>.'
    for phrase in ("7,5%", "<Maju & Jaya>", '"Rp 5 juta"', "<lagi>."):
        start = text.index(phrase)
        reply = answer_html(_answer(_quote(text, mark=(start, start + len(phrase)))))
        assert f"<b>{html.escape(phrase)}</b>" in reply
        visible, entities = parse_html(reply)  # raises on invalid Telegram HTML
        assert visible.splitlines()[0] == text
        assert {"type": "bold", "offset": start, "length": len(phrase)} in entities
        assert _unmarked(reply) == answer_html(_answer(_quote(text)))


def test_a_mark_the_cut_of_a_long_quote_would_split_is_left_out() -> None:
    text = "kata " * 400 + "berjumlah 35 orang."
    late = text.index("35 orang")
    reply = answer_html(_answer(_quote(text, mark=(late, late + len("35 orang")))))
    assert "35 orang" not in reply and reply.count("<b>") == 1  # only the source's title
    early = _quote("35 orang " + text, mark=(0, len("35 orang")))
    assert answer_html(_answer(early)).startswith("<blockquote><b>35 orang</b> kata kata")


def test_inline_results_show_the_mark_too() -> None:
    text = "Banjir merendam 35 rumah di Jakarta Timur."
    start = text.index("35 rumah")
    [result] = inline_results(_answer(_quote(text, mark=(start, start + len("35 rumah")))))
    assert result.message_html.startswith("<blockquote>Banjir merendam <b>35 rumah</b> di")
    assert result.title == text  # the list above the keyboard shows plain text
    assert _visible(result.message_html).splitlines()[0] == text


@pytest.mark.parametrize("language", ["id", "en"])
def test_help_offers_inline_mode_only_when_the_bot_has_it(language: Language) -> None:
    on = help_text(language, username="tanya_bot", inline=True)
    off = help_text(language, username="tanya_bot", inline=False)
    assert "<code>@tanya_bot " in on and "<code>@tanya_bot " not in off
    assert on.replace(text("help_inline", language, username="tanya_bot"), "") == off
