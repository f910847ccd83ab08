"""The content-addressed sentence vector file: round trip, bounded cache, model stamp."""

import numpy as np
import pytest

from vectorstore.sentence_vectors import SentenceVectors


def _unit(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, dim)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_vectors_round_trip_within_float16_and_missing_lists_only_new(tmp_path):
    store = SentenceVectors(tmp_path / "v.sqlite3", "model-a", 8)
    texts = ["Botox lasts 3 months.", "Fillers last longer."]
    vectors = _unit(2)
    assert store.missing([*texts, texts[0]]) == texts
    store.put_many(texts, vectors)
    assert store.missing([*texts, "A new sentence."]) == ["A new sentence."]
    reader = SentenceVectors(tmp_path / "v.sqlite3", "model-a", 8)
    got = reader.get_many([*texts, "unknown"])
    assert set(got) == set(texts)
    for i, t in enumerate(texts):
        cosine = float(got[t] @ vectors[i]) / float(np.linalg.norm(got[t]))
        assert cosine > 0.99999
    assert reader.count() == 2


def test_cache_is_bounded_and_a_small_cache_still_answers_every_lookup(tmp_path):
    store = SentenceVectors(tmp_path / "v.sqlite3", "model-a", 8, cache_size=3)
    texts = [f"Sentence {i}." for i in range(10)]
    store.put_many(texts, _unit(10))
    for _ in range(2):
        assert set(store.get_many(texts)) == set(texts)
        assert store.cached() == 3


def test_a_reader_of_another_models_file_finds_nothing_and_a_writer_resets_it(tmp_path):
    path = tmp_path / "v.sqlite3"
    SentenceVectors(path, "model-a", 8).put_many(["One."], _unit(1))
    assert SentenceVectors(path, "model-b", 8).get_many(["One."]) == {}
    writer = SentenceVectors(path, "model-b", 8)
    assert writer.missing(["One."]) == ["One."]
    assert writer.count() == 0


def test_a_missing_file_reads_as_empty_and_wrong_dimensions_are_refused(tmp_path):
    assert SentenceVectors(tmp_path / "none.sqlite3", "m", 8).get_many(["x"]) == {}
    assert not (tmp_path / "none.sqlite3").exists()
    with pytest.raises(ValueError, match="dimensions"):
        SentenceVectors(tmp_path / "v.sqlite3", "m", 8).put_many(["x"], _unit(1, dim=4))
