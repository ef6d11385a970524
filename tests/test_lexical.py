"""BM25 postings and the Indonesian tokens they are built from."""

from pathlib import Path

import numpy as np
import pytest

from index.search.tokens import STOPWORDS, stem, tokenize
from index.storage.lexical import BM25Index


def test_tokens_keep_numbers_whole_and_stem_words() -> None:
    tokens = tokenize(
        "Kim Jong-un dituduh menempatkan 11.000 tentara, Rp 1.500.000 dan 10.30, naik 3,5 persen."
    )
    assert "11000" in tokens  # thousands dots dropped: a reader may type "11000"
    assert "1500000" in tokens
    assert "10.30" in tokens  # a time, not a thousands group
    assert "3,5" in tokens
    assert "tempat" in tokens  # menempatkan
    assert "jong" in tokens and "un" in tokens  # a hyphenated name gives its parts


def test_a_number_typed_without_dots_is_the_number_written_with_them() -> None:
    assert tokenize("berapa 11000 tentara") == tokenize("Berapa 11.000 tentara?")
    assert tokenize("Rp 2.500,75") == ["rp", "2500,75"]
    assert tokenize("tahun 2005") == ["tahun", "2005"]
    assert "11.0000" in tokenize("11.0000")  # not a thousands group: kept as written


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


DOCS = {
    # id: (group, text)
    1: (10, "harga cabai rawit naik di pasar senen"),
    2: (10, "pedagang cabai mengeluh harga naik"),
    3: (20, "banjir merendam rumah di kampung melayu"),
    4: (20, "warga kampung melayu mengungsi karena banjir"),
    5: (30, "kereta cepat mengangkut penumpang pada hari minggu"),
}
ADDED = {
    7: (40, "harga beras naik di pasar induk"),
    8: (40, "pasar induk ramai pembeli beras dan cabai"),
}
QUERIES = [["harga", "cabai"], ["banjir", "kampung"], ["pasar", "beras"], ["kereta"], ["naik"]]


def _build(docs: dict[int, tuple[int, str]]) -> BM25Index:
    ids = sorted(docs)
    return BM25Index.build(ids, [docs[i][1].split() for i in ids], groups=[docs[i][0] for i in ids])


@pytest.mark.parametrize("saved", [False, True])
def test_an_update_scores_exactly_like_a_rebuild(tmp_path: Path, saved: bool) -> None:
    old = _build(DOCS)
    if saved:
        old.save(tmp_path / "lexical")
        old = BM25Index.load(tmp_path / "lexical")

    updated = old.updated(
        remove_groups=np.asarray([20]),
        doc_ids=sorted(ADDED),
        documents=[ADDED[i][1].split() for i in sorted(ADDED)],
        groups=[ADDED[i][0] for i in sorted(ADDED)],
    )

    rebuilt = _build({**{k: v for k, v in DOCS.items() if v[0] != 20}, **ADDED})
    assert updated is not None
    assert updated.doc_ids.tolist() == rebuilt.doc_ids.tolist() == [1, 2, 5, 7, 8]
    assert updated.groups.tolist() == rebuilt.groups.tolist()
    for query in QUERIES:
        np.testing.assert_allclose(updated.scores(query), rebuilt.scores(query), rtol=1e-6)
        for token in query:
            assert updated.idf(token) == pytest.approx(rebuilt.idf(token))
    assert updated.idf("banjir") == 0.0  # its documents are gone
    # and the update can itself be updated
    again = updated.updated(remove_groups=np.asarray([40]), doc_ids=[], documents=[], groups=[])
    assert again is not None
    np.testing.assert_allclose(
        again.scores(["harga"]),
        _build({k: v for k, v in DOCS.items() if v[0] != 20}).scores(["harga"]),
    )


def test_an_index_saved_without_term_counts_cannot_be_updated(tmp_path: Path) -> None:
    _build(DOCS).save(tmp_path / "lexical")
    (tmp_path / "lexical" / "tf.npy").unlink()  # as written before updates existed

    old = BM25Index.load(tmp_path / "lexical")

    assert (
        old.updated(remove_groups=np.asarray([]), doc_ids=[9], documents=[["x"]], groups=[9])
        is None
    )


def test_a_typing_slip_is_read_as_the_most_common_known_token_one_slip_away() -> None:
    index = BM25Index.build(
        [1, 2, 3, 4],
        [["tentara", "utara"], ["tentara", "selatan"], ["tenggara", "utara"], ["tentara"]],
        groups=[1, 2, 3, 4],
    )
    assert index.nearest_known("utra") == "utara"  # a letter dropped
    assert index.nearest_known("tentera") == "tentara"  # a letter changed
    assert index.nearest_known("uatra") == "utara"  # two letters swapped
    assert index.nearest_known("seelatan") == "selatan"  # a letter added
    # "utaa" is one slip from "utara" (2 documents) and from "utama" (1): the commoner wins.
    more = BM25Index.build([1, 2, 3], [["utara"], ["utara"], ["utama"]], groups=[1, 2, 3])
    assert more.nearest_known("utaa") == "utara"
    assert more.nearest_known("utaam") == "utama"
    assert index.nearest_known("rendang") is None  # nothing one slip away
