"""The bulk embedding helpers: the memo's limit and copies, and the pool's order of results."""

from __future__ import annotations

import numpy as np
import pytest

from vectorstore.bulk_embed import Memo, SessionPool, embed_distinct


def _vector(text: str) -> np.ndarray:
    return np.asarray([len(text), sum(map(ord, text)) % 97, 1.0], dtype=np.float32)


class Recorder:
    """Encodes texts by a fixed rule and records which texts it was given."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return np.stack([_vector(t) for t in texts])


def test_each_distinct_text_is_encoded_once_and_the_oldest_is_forgotten():
    memo, recorder = Memo(2), Recorder()
    out = embed_distinct(["a", "bb", "a", "ccc"], memo, recorder.encode)
    assert recorder.seen == ["a", "bb", "ccc"]
    assert np.array_equal(out[0], out[2]) and out.shape == (4, 3)
    assert len(memo) == 2  # "a" was forgotten, "bb" and "ccc" kept
    embed_distinct(["ccc", "bb", "a"], memo, recorder.encode)
    assert recorder.seen == ["a", "bb", "ccc", "a"]


def test_remembered_rows_are_copies_not_views_of_the_batch():
    memo = Memo(10)
    embed_distinct(["x", "yy"], memo, Recorder().encode)
    assert memo.get("x").base is None and memo.get("yy").base is None


def test_a_memo_of_size_zero_remembers_nothing():
    memo, recorder = Memo(0), Recorder()
    embed_distinct(["a"], memo, recorder.encode)
    embed_distinct(["a"], memo, recorder.encode)
    assert recorder.seen == ["a", "a"] and len(memo) == 0


def test_the_pool_returns_rows_in_the_order_given_whoever_encoded_them():
    workers = [Recorder() for _ in range(3)]
    texts = [f"text {'x' * (i % 7)} {i}" for i in range(50)]
    out = SessionPool(workers, slice_size=4).encode(texts, 3)
    assert np.array_equal(out, np.stack([_vector(t) for t in texts]))
    assert sorted(t for w in workers for t in w.seen) == sorted(texts)


def test_pool_limits_are_checked():
    with pytest.raises(ValueError, match="at least one"):
        SessionPool([])
    with pytest.raises(ValueError, match="slice_size"):
        SessionPool([Recorder()], slice_size=0)
    with pytest.raises(ValueError, match="memo size"):
        Memo(-1)
