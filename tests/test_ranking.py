"""The learned ranking: features, fitting, the ranker file, and the shipped weights."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from index.lab.fitting import (
    listwise_objective,
    logistic_objective,
    minimise,
    network_objective,
    network_start,
    unpack_network,
)
from index.search.features import BASE_FEATURES, FEATURES, ParsedQuestion, sentence_features
from index.search.questions import answer_kind
from index.search.ranker import (
    CONFIDENCE_FEATURES,
    CROSS_CONFIDENCE_FEATURES,
    CROSS_RANKER_FILE,
    RANKER_FILE,
    ConfidenceLayer,
    Decision,
    Ranker,
    RankerFileError,
    confidence_values,
    cross_confidence_values,
)
from index.search.tokens import tokenize, words


def _question(text: str) -> ParsedQuestion:
    tokens = tokenize(text)
    return ParsedQuestion(
        text=text,
        kind=answer_kind(text),
        weights={t: 1.0 for t in tokens},
        words=words(text),
        rarest=2.0,
        known=frozenset(tokens[:-1]),
    )


def _row(chunk_id: int, position: int, text: str) -> SimpleNamespace:
    return SimpleNamespace(
        chunk_id=chunk_id,
        article_key=f"article-{chunk_id}",
        position=position,
        text=text,
        tokens=tuple(tokenize(text)),
    )


def test_features_tell_the_answering_sentence_from_a_look_alike() -> None:
    query = _question("Berapa tentara Korea Utara dikirim ke Rusia?")
    rows = [
        _row(1, 0, "Korea Utara mengirim 11.000 tentara ke Rusia."),
        _row(1, 1, "Tentara Korea Utara dikirim ke Rusia, kata pejabat."),
        _row(2, 0, "Harga cabai naik di pasar."),
    ]
    matrix = sentence_features(query, rows, {1: 0.9, 2: 0.6}, np.array([3.0, 4.0, 0.0]))
    column = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
    assert matrix.shape == (3, len(FEATURES))
    assert column["kind_quantity"].tolist() == [1.0, 0.0, 0.0]
    assert column["no_kind"].tolist() == [0.0, 1.0, 1.0]
    assert column["dense"][0] == 0.0 and column["dense"][2] == pytest.approx(-0.3)
    assert column["dense_rank"].tolist() == [1.0, 1.0, 0.5]
    assert column["dense_top"].tolist() == [1.0, 1.0, 0.0]
    assert column["lexical"].tolist() == [0.75, 1.0, 0.0]
    assert column["context"][0] == column["context"][1] == 1.0 > column["context"][2]
    assert column["lead"].tolist() == [1.0, 0.0, 1.0]
    # "Berapa tentara": the first sentence counts the soldiers, the second only names them.
    assert column["focus"].tolist() == [1.0, 1.0, 0.0]
    assert column["focus_slot"].tolist() == [1.0, 0.0, 0.0]
    # Every base feature comes again, times the question's length (7 words of 20).
    assert query.length == pytest.approx(7 / 20)
    for name in BASE_FEATURES:
        assert column[f"{name}*question_length"] == pytest.approx(column[name] * 7 / 20)
    # The question names "Korea", "Utara" and "Rusia": the first two sentences have them all.
    assert column["names"][0] == column["names"][1] == 1.0 and column["names"][2] == 0.0
    assert query.unknown == pytest.approx(1 / len(query.weights))


def test_a_question_typed_in_lower_case_finds_its_names_in_the_candidates() -> None:
    rows = [
        _row(1, 0, "Korea Utara mengirim 11.000 tentara ke Rusia, kata Kim Jong-un."),
        _row(1, 1, "Tentara itu dikirim ke Rusia."),
        _row(2, 0, "Harga cabai naik di pasar."),
    ]
    column = FEATURES.index("names")
    cosines, lexical = {1: 0.9, 2: 0.6}, np.array([3.0, 4.0, 0.0])

    def names(question: str) -> list[float]:
        return sentence_features(_question(question), rows, cosines, lexical)[:, column].tolist()

    assert _question("Apa kata Kim Jong-un tentang Rusia?").names == {"kim", "jong", "un", "rusia"}
    assert names("Apa kata Kim Jong-un tentang Rusia?") == [1.0, 0.25, 0.0]
    # Typed in lower case, "korea", "utara" and "rusia" are written capitalised by a candidate
    # other than as its first word ("Korea" starts the sentence, so it is not taken)...
    assert _question("tentara korea utara dikirim ke rusia").names_in(r.text for r in rows) == {
        "utara",
        "rusia",
    }
    # ... and count as names do: the second sentence has one of those two ("rusia"), as it has
    # one of the three names of the capitalised question.
    assert names("berapa tentara korea utara dikirim ke rusia") == [1.0, 0.5, 0.0]
    assert names("Berapa tentara Korea Utara dikirim ke Rusia?") == pytest.approx([1.0, 1 / 3, 0])


def test_lead_context_lends_a_sentence_what_its_article_is_about() -> None:
    query = _question("Siapa arsitek Tugu Pahlawan?")
    lead = "Tugu Pahlawan adalah monumen di Surabaya."
    rows = [
        _row(1, 0, lead),
        _row(1, 1, "Arsiteknya bernama Budi Santoso."),
        # A sentence of another article whose first sentence was not retrieved: the searcher
        # hands that first sentence's tokens over.
        SimpleNamespace(
            chunk_id=2,
            article_key="article-9",
            position=7,
            text="Arsiteknya pernah belajar di Bandung.",
            tokens=tuple(tokenize("Arsiteknya pernah belajar di Bandung.")),
        ),
    ]
    leads = {"article-9": tokenize(lead)}
    matrix = sentence_features(query, rows, {1: 0.9, 2: 0.8}, np.ones(3), leads)
    column = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
    # "siapa" is no lexical token: arsitek, tugu, pahlawan count a third each.
    assert len(query.weights) == 3
    assert column["coverage"] == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    assert column["lead_context"] == pytest.approx([2 / 3, 1.0, 1.0])
    without = sentence_features(query, rows, {1: 0.9, 2: 0.8}, np.ones(3))
    assert without[2, FEATURES.index("lead_context")] == pytest.approx(1 / 3)


def test_listwise_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    matrices = [rng.normal(size=(5, 3)) for _ in range(4)]
    labels = [np.array([i == j for i in range(5)]) for j in range(4)]
    objective = listwise_objective(matrices, labels, l2=0.01)
    weights = rng.normal(size=3)
    _, gradient = objective(weights)
    for i in range(3):
        step = np.zeros(3)
        step[i] = 1e-6
        numeric = (objective(weights + step)[0] - objective(weights - step)[0]) / 2e-6
        assert gradient[i] == pytest.approx(numeric, rel=1e-4, abs=1e-6)


def test_fitting_learns_which_feature_marks_the_right_candidate() -> None:
    rng = np.random.default_rng(2)
    matrices, labels = [], []
    for _ in range(60):
        matrix = rng.normal(size=(6, 2))
        right = int(rng.integers(6))
        matrix[right, 1] += 3.0  # the second feature marks the right one; the first is noise
        matrices.append(matrix)
        labels.append(np.arange(6) == right)
    weights = minimise(listwise_objective(matrices, labels), np.zeros(2))
    assert weights[1] > 1.0 and abs(weights[0]) < 0.5 * weights[1]

    def hits(w: np.ndarray) -> int:
        return sum(bool(y[np.argmax(m @ w)]) for m, y in zip(matrices, labels, strict=True))

    # As good as knowing the rule that made the data.
    assert hits(weights) >= hits(np.array([0.0, 1.0])) - 1 >= 45

    features = np.r_[rng.normal(1.0, 0.5, 200), rng.normal(-1.0, 0.5, 200)].reshape(-1, 1)
    target = np.r_[np.ones(200), np.zeros(200)].astype(bool)
    solution = minimise(logistic_objective(features, target), np.zeros(2))
    predicted = (features[:, 0] * solution[0] + solution[1]) > 0
    assert (predicted == target).mean() > 0.95


def test_network_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    features = rng.normal(size=(30, 3))
    labels = rng.random(30) > 0.5
    objective = network_objective(features, labels, hidden=4, l2=0.01)
    weights = network_start(3, 4, seed=1) + rng.normal(0, 0.1, 3 * 4 + 4 + 4 + 3 + 1)
    _, gradient = objective(weights)
    for i in range(len(weights)):
        step = np.zeros(len(weights))
        step[i] = 1e-6
        numeric = (objective(weights + step)[0] - objective(weights - step)[0]) / 2e-6
        assert gradient[i] == pytest.approx(numeric, rel=1e-4, abs=1e-7)


def test_a_question_counted_twice_weighs_as_if_it_were_asked_twice() -> None:
    """``counts`` stand for repeated questions: the same loss and gradient as the repeats."""
    rng = np.random.default_rng(4)
    matrices = [rng.normal(size=(5, 3)) for _ in range(4)]
    labels = [np.array([i == j for i in range(5)]) for j in range(4)]
    weights = rng.normal(size=3)
    counted = listwise_objective(matrices, labels, counts=[1, 3, 1, 2])
    repeated = listwise_objective(
        [*matrices, matrices[1], matrices[1], matrices[3]],
        [*labels, labels[1], labels[1], labels[3]],
    )
    value, gradient = counted(weights)
    same_value, same_gradient = repeated(weights)
    assert value == pytest.approx(same_value)
    assert gradient == pytest.approx(same_gradient)
    assert counted(weights)[0] != pytest.approx(listwise_objective(matrices, labels)(weights)[0])


def _layered_ranker(solution: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> Ranker:
    layer, layer_bias, output, skip, bias = unpack_network(solution, len(mean), 4)
    return _ranker(
        confidence_weights=tuple(skip),
        confidence_bias=bias,
        confidence_layer=ConfidenceLayer(
            mean=tuple(mean),
            scale=tuple(scale),
            weights=tuple(tuple(row) for row in layer),
            bias=tuple(layer_bias),
            output=tuple(output),
        ),
    )


def test_confidence_layer_learns_what_a_line_cannot(tmp_path: Path) -> None:
    # Right answers sit in a band of the first value: no single line separates them.
    rng = np.random.default_rng(4)
    values = rng.normal(size=(600, len(CONFIDENCE_FEATURES)))
    right = np.abs(values[:, 0]) < 0.7
    linear = minimise(logistic_objective(values, right), np.zeros(values.shape[1] + 1))
    linear_accuracy = (((values @ linear[:-1] + linear[-1]) > 0) == right).mean()
    mean, scale = values.mean(axis=0), values.std(axis=0)
    solution = minimise(
        network_objective((values - mean) / scale, right, hidden=4),
        network_start(values.shape[1], 4),
        steps=2000,
        rate=0.01,
    )
    ranker = _layered_ranker(solution, mean, scale)
    confidence = ranker.confidences(values)
    assert linear_accuracy < 0.7 < 0.9 < ((confidence > 0.5) == right).mean()
    assert ranker.confidence(values[0].tolist()) == pytest.approx(confidence[0])
    # The layer survives the ranker file.
    ranker.save(tmp_path / "ranker.json")
    loaded = Ranker.load(tmp_path / "ranker.json")
    assert loaded.confidences(values) == pytest.approx(confidence, abs=1e-4)


def _ranker(**changes: object) -> Ranker:
    values: dict[str, object] = {
        "weights": tuple(1.0 if name == "lexical" else 0.0 for name in FEATURES),
        "confidence_weights": (1.0,) + (0.0,) * (len(CONFIDENCE_FEATURES) - 1),
        "confidence_bias": 0.0,
        "threshold": 0.5,
    }
    values.update(changes)
    return Ranker(**values)  # type: ignore[arg-type]


def test_ranking_orders_by_weighted_features_and_confidence_reads_the_best() -> None:
    features = np.zeros((4, len(FEATURES)), dtype=np.float32)
    features[:, FEATURES.index("lexical")] = [0.2, 1.0, 0.9, 0.1]
    features[:, FEATURES.index("coverage")] = [0.1, 0.6, 0.3, 0.0]
    ordering = _ranker().order(features)
    assert ordering.order.tolist() == [1, 2, 0, 3]
    assert ordering.scores.tolist() == pytest.approx([1.0, 0.9, 0.2, 0.1])
    values = confidence_values(
        ordering,
        features,
        np.array([0.7, 0.8, 0.9, 0.6]),
        unknown=0.25,
    )
    assert len(values) == len(CONFIDENCE_FEATURES)
    named = dict(zip(CONFIDENCE_FEATURES, values, strict=True))
    assert named["score"] == pytest.approx(1.0)
    assert named["margin"] == pytest.approx(0.1)
    assert named["coverage"] == pytest.approx(0.6)
    # The chunk of row 1, the best, against the mean of the chunks retrieved.
    assert named["chunk_contrast"] == pytest.approx(0.8 - 0.75)
    assert named["unknown"] == 0.25


def test_the_cross_encoder_reorders_the_rows_it_read_and_only_those() -> None:
    features = np.zeros((5, len(FEATURES)), dtype=np.float32)
    features[:, FEATURES.index("lexical")] = [0.5, 1.0, 0.9, 0.1, 0.8]
    ordering = _ranker(cross_weight=0.5).order(features)
    assert ordering.order.tolist() == [1, 2, 4, 0, 3]
    # Rows 1, 2 and 4 read again; row 4 (0.8 + 0.5 * 1.0) overtakes both others.
    reordered = _ranker(cross_weight=0.5).reorder(ordering, np.array([0.0, -0.4, 1.0]))
    assert reordered.order.tolist() == [4, 1, 2, 0, 3]
    assert reordered.scores.tolist() == pytest.approx([1.3, 1.0, 0.7, 0.4, 0.0], abs=1e-6)
    # Scores still fall: the rows not read stay below the lowest one read, as far apart.
    assert np.all(np.diff(reordered.scores) <= 0)
    # Weight 0: the ranking's order stands.
    unchanged = _ranker().reorder(ordering, np.array([0.0, -0.4, 1.0]))
    assert unchanged.order.tolist() == ordering.order.tolist()


def _cross_decision(weight_of: str, threshold: float = 0.5) -> Decision:
    """A decision after reading that reads one of ``CROSS_CONFIDENCE_FEATURES``, as it is."""
    return Decision(
        weights=tuple(float(name == weight_of) for name in CROSS_CONFIDENCE_FEATURES),
        bias=0.0,
        threshold=threshold,
    )


def test_the_decision_after_reading_reads_the_sentence_the_cross_encoder_put_first() -> None:
    features = np.zeros((5, len(FEATURES)), dtype=np.float32)
    features[:, FEATURES.index("lexical")] = [0.5, 1.0, 0.9, 0.1, 0.8]
    features[:, FEATURES.index("coverage")] = [0.0, 0.2, 0.0, 0.0, 0.9]
    cosines = np.array([0.5, 0.6, 0.7, 0.8, 0.9])
    ranker = _ranker(cross_weight=0.5)
    ranked = ranker.order(features)  # rows 1, 2, 4, 0, 3
    cross = np.array([0.0, -0.4, 1.0])  # of rows 1, 2, 4: row 4 goes first
    reordered = ranker.reorder(ranked, cross)
    values = cross_confidence_values(ranked, reordered, cross, features, cosines, unknown=0.1)
    assert len(values) == len(CROSS_CONFIDENCE_FEATURES)
    named = dict(zip(CROSS_CONFIDENCE_FEATURES, values, strict=True))
    # The facts are of row 4, first after reading, and of the combined scores.
    assert named["coverage"] == pytest.approx(0.9)
    assert named["score"] == pytest.approx(1.3)
    assert named["margin"] == pytest.approx(0.3)
    assert named["cross"] == pytest.approx(1.0)
    assert named["cross_margin"] == pytest.approx(1.0)  # over row 1's 0.0
    assert named["cross_moved"] == 1.0
    # Nothing moved: the ranking's first keeps its place, its reading is the one judged.
    kept = ranker.reorder(ranked, np.array([0.5, 0.1, -2.0]))
    values = cross_confidence_values(
        ranked, kept, np.array([0.5, 0.1, -2.0]), features, cosines, unknown=0.1
    )
    named = dict(zip(CROSS_CONFIDENCE_FEATURES, values, strict=True))
    assert (named["cross"], named["cross_moved"]) == (0.5, 0.0)
    assert named["cross_margin"] == pytest.approx(0.4)

    # The decision reads those values: a high reading answers, a low one declines, whatever
    # step 2 would have said.
    deciding = dataclasses.replace(ranker, cross_decision=_cross_decision("cross", 0.6))
    facts = (features, cosines)
    assert deciding.confident_after_reading(ranked, reordered, cross, *facts, unknown=0.1)
    low = np.array([0.0, -0.4, 0.3])
    lower = ranker.reorder(ranked, low)
    assert not deciding.confident_after_reading(ranked, lower, low, *facts, unknown=0.1)
    # Without one, step 2 decides on the ranking's first, as before reading.
    step2 = ranker.confidence(confidence_values(ranked, *facts, unknown=0.1)) >= ranker.threshold
    assert ranker.confident_after_reading(ranked, lower, low, *facts, unknown=0.1) == step2


def test_ranker_file_round_trip_and_mismatch(tmp_path: Path) -> None:
    ranker = _ranker(fitted={"questions": 3})
    path = tmp_path / "ranker.json"
    ranker.save(path)
    loaded = Ranker.load(path)
    assert loaded.weights == ranker.weights and loaded.fitted == {"questions": 3}
    assert loaded.cross_weight is None and "cross_weight" not in json.loads(path.read_text())
    crossed = _ranker(cross_weight=1.25)
    crossed.save(tmp_path / "crossed.json")
    assert Ranker.load(tmp_path / "crossed.json") == crossed
    assert "cross_decision" not in json.loads((tmp_path / "crossed.json").read_text())
    deciding = _ranker(cross_weight=1.25, cross_decision=_cross_decision("cross_margin", 0.3))
    deciding.save(tmp_path / "deciding.json")
    assert Ranker.load(tmp_path / "deciding.json") == deciding
    # A decision fitted on other facts than this code computes is refused, as the rest is.
    data = json.loads((tmp_path / "deciding.json").read_text())
    data["cross_confidence_features"] = data["cross_confidence_features"][:-1]
    (tmp_path / "deciding.json").write_text(json.dumps(data))
    with pytest.raises(RankerFileError, match="cross_confidence_features"):
        Ranker.load(tmp_path / "deciding.json")
    assert loaded.confidence([2.0] + [0.0] * (len(CONFIDENCE_FEATURES) - 1)) == pytest.approx(
        1 / (1 + np.exp(-2.0))
    )

    data = json.loads(path.read_text())
    data["features"] = [*data["features"][:-1], "something_else"]
    path.write_text(json.dumps(data))
    with pytest.raises(RankerFileError, match="python -m index tune"):
        Ranker.load(path)
    with pytest.raises(RankerFileError, match="cannot read"):
        Ranker.load(tmp_path / "missing.json")


def test_shipped_weights_fit_this_code() -> None:
    ranker = Ranker.load(RANKER_FILE)
    assert len(ranker.weights) == len(FEATURES)
    assert len(ranker.confidence_weights) == len(CONFIDENCE_FEATURES)
    assert 0.0 < ranker.threshold < 1.0
    assert ranker.fitted["questions"]
    # Fitted, not hand-set: holding the asked kind of answer helps, missing it hurts.
    assert ranker.weights[FEATURES.index("no_kind")] < 0
    assert ranker.confidence_layer is not None
    assert len(ranker.confidence_layer.mean) == len(CONFIDENCE_FEATURES)
    assert ranker.cross_weight is None  # the weights for TANYA_CROSS_ENCODER=false
    crossed = Ranker.load(CROSS_RANKER_FILE)
    # The same ranking and confidence; the cross-encoder's weight, chosen on questions its
    # adapter never read, is more than nothing.
    assert crossed.cross_weight is not None and crossed.cross_weight > 0
    # ... and a decision made once it has read, fitted like step 2's.
    assert crossed.cross_decision is not None and crossed.cross_decision.layer is not None
    assert len(crossed.cross_decision.weights) == len(CROSS_CONFIDENCE_FEATURES)
    assert 0.0 < crossed.cross_decision.threshold < 1.0
    plain = dataclasses.replace(
        crossed, cross_weight=None, cross_decision=None, fitted=ranker.fitted
    )
    assert plain == ranker
