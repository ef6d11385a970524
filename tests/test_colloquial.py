"""Chat-typed words and the spellings the articles use for them."""

from __future__ import annotations

import pytest

from index.search.colloquial import skeleton, written_forms


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("nyebar", "menyebar"),  # the nasal prefix without "me-"
        ("nyari", "mencari"),
        ("ngambil", "mengambil"),
        ("nulis", "menulis"),
        ("ngeliput", "meliput"),
        ("umumin", "umumkan"),  # "-in" for "-kan"
        ("ngumumin", "mengumumkan"),  # both at once
        ("nempatin", "menempatkan"),
        ("cepet", "cepat"),  # "e" for "a" in the last syllable
        ("ditangkep", "ditangkap"),
        ("pake", "pakai"),  # "-e" for "-ai"
        ("sampe", "sampai"),
        ("prnh", "pernah"),  # the vowels left out
        ("tmpt", "tempat"),
    ],
)
def test_a_chat_spelling_gives_the_written_one(typed: str, written: str) -> None:
    assert written in written_forms(typed)


def test_what_has_no_rule_gives_nothing() -> None:
    assert written_forms("tentara") == []  # nothing to undo
    assert written_forms("dpr") == []  # three consonants: a short form, not a word
    assert written_forms("11000") == []
    assert "nyebar" not in written_forms("nyebar")  # never the word itself


def test_the_vowel_rule_gives_dictionary_words_only() -> None:
    assert skeleton("pernah") == "prnh"
    # No Indonesian root word is "b p j s" with vowels between: an unknown short form stays so.
    assert written_forms("bpjs") == []
