"""BM25 postings and the Indonesian tokens they are built from."""

from pathlib import Path

import numpy as np
import pytest

from index.lexical import BM25Index
from index.tokens import STOPWORDS, stem, tokenize


def test_tokens_keep_numbers_whole_and_stem_words() -> None:
    tokens = tokenize("Kim Jong-un dituduh menempatkan 11.000 tentara, Rp 1.500.000 dan 10.30.")
    assert "11.000" in tokens
    assert "1.500.000" in tokens
    assert "10.30" in tokens
    assert "tempat" in tokens  # menempatkan
    assert "jong" in tokens and "un" in tokens  # a hyphenated name gives its parts


def test_question_words_and_function_words_are_not_tokens() -> None:
    assert tokenize("Berapakah yang di mana siapa?") == []
    assert {"berapa", "siapakah", "dimanakah", "yang"} <= STOPWORDS


def test_stem_joins_inflections() -> None:
    assert stem("dikirim") == stem("mengirimkan") == "kirim"
    assert stem("11.000") == "11.000"


def _index() -> BM25Index:
    documents = [
        ["tentara", "korea", "utara", "kirim"],
        ["putin", "kirim", "ucap", "selamat"],
        ["11.000", "tentara", "korea", "utara", "tempat"],
        ["cuaca", "cerah"],
    ]
    return BM25Index.build([10, 20, 30, 40], documents, groups=[1, 1, 2, 3])


def test_search_ranks_by_rare_shared_terms() -> None:
    index = _index()
    hits = index.search(["tentara", "11.000"], k=10)
    assert hits.ids.tolist() == [30, 10]
    assert hits.scores[0] > hits.scores[1] > 0


def test_search_returns_only_matching_documents() -> None:
    assert _index().search(["sepak", "bola"], k=5).ids.size == 0


def test_idf_is_higher_for_rarer_terms() -> None:
    index = _index()
    assert index.idf("cuaca") > index.idf("tentara") > 0
    assert index.idf("tidak-ada") == 0.0


def test_rows_of_maps_ids_to_rows() -> None:
    assert _index().rows_of([30, 10, 99]).tolist() == [2, 0, -1]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = _index()
    index.save(tmp_path / "lexical")
    loaded = BM25Index.load(tmp_path / "lexical")
    query = ["kirim", "tentara"]
    assert np.allclose(loaded.scores(query), index.scores(query))
    assert loaded.groups.tolist() == [1, 1, 2, 3]


def test_build_rejects_unordered_ids() -> None:
    with pytest.raises(ValueError, match="increasing"):
        BM25Index.build([2, 1], [["a"], ["b"]])
