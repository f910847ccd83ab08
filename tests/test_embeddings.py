"""The embedding backends: ONNX vectors match torch, the exported model is cached once, safely."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from vectorstore.embeddings import BACKENDS, DEFAULT_BACKEND, MODEL_ID, Embedder

# Mixed lengths on purpose: one batch then holds padded rows, which must not change the vectors.
SENTENCES = [
    "Is Botox permanent?",
    "Glaucoma is a group of eye diseases that damage the optic nerve and can cause blindness.",
    "Type 2 diabetes is treated with diet, exercise and medicines such as metformin; some "
    "people also need insulin to keep their blood sugar in a healthy range over the years.",
    "Call your doctor if the swelling after surgery gets worse.",
    "What are the symptoms of a heart attack in women?",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """A model cache private to this module (the first Embedder exports into it)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def fast(cache_dir) -> Embedder:
    """The default backend, its model exported into the module's cache."""
    embedder = Embedder(cache_dir=cache_dir)
    embedder.embed_query("warm up")
    return embedder


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    """The reference: sentence-transformers on PyTorch."""
    return np.asarray(Embedder(backend="torch").embed(SENTENCES))


def test_default_backend_is_close_to_torch_normalised_and_384_d(fast, torch_vectors):
    vectors = np.asarray(fast.embed(SENTENCES))
    assert vectors.shape == (len(SENTENCES), 384) == torch_vectors.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    cosines = (vectors * torch_vectors).sum(axis=1)
    assert cosines.min() > 0.99, cosines


def test_default_backend_is_deterministic(fast):
    assert fast.embed(SENTENCES) == fast.embed(SENTENCES)
    alone = np.asarray([fast.embed_query(s) for s in SENTENCES])
    batched = np.asarray(fast.embed(SENTENCES))
    # One text per ONNX run: a text's vector does not depend on what it is batched with.
    assert np.allclose(alone, batched, atol=1e-6)


def test_model_ids_refuse_mixing_changed_vectors():
    assert DEFAULT_BACKEND == "onnx-int8"
    assert Embedder().model_id == MODEL_ID + "+onnx-int8"
    assert Embedder(backend="torch").model_id == MODEL_ID
    assert Embedder(backend="onnx").model_id == MODEL_ID  # float32: same vectors as torch
    assert Embedder().dimension == 384


def test_unknown_backend_names_the_known_ones():
    with pytest.raises(ValueError, match="onnx-int8, onnx, torch"):
        Embedder(backend="tensorflow")


def test_duplicate_texts_are_embedded_once_but_counted(fast):
    calls = fast.calls
    vectors = fast.embed(["fever", "cough", "fever"])
    assert vectors[0] == vectors[2] and vectors[0] != vectors[1]
    assert fast.calls == calls + 3


def test_cache_is_built_once_and_reused(fast, cache_dir):
    assert fast.exported
    (folder,) = list(cache_dir.iterdir())
    model = folder / "model.onnx"
    before = model.stat().st_mtime_ns
    again = Embedder(cache_dir=cache_dir)
    assert again.embed_query("Is Botox permanent?") == fast.embed_query("Is Botox permanent?")
    assert not again.exported
    assert model.stat().st_mtime_ns == before
    assert list(cache_dir.iterdir()) == [folder]


def test_cache_dir_comes_from_bot_model_cache(fast, cache_dir, monkeypatch):
    monkeypatch.setenv("BOT_MODEL_CACHE", str(cache_dir))
    embedder = Embedder()
    embedder.embed_query("headache")
    assert not embedder.exported  # found the module's cache through the variable


@pytest.mark.slow
def test_float32_onnx_matches_torch(tmp_path, torch_vectors):
    vectors = np.asarray(Embedder(backend="onnx", cache_dir=tmp_path).embed(SENTENCES))
    assert (vectors * torch_vectors).sum(axis=1).min() > 0.9999


@pytest.mark.slow
def test_two_processes_building_the_cache_at_once_both_succeed(tmp_path):
    code = (
        "import sys; from vectorstore.embeddings import Embedder; "
        "e = Embedder(cache_dir=sys.argv[1]); print(len(e.embed_query('fever')), e.exported)"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all(out.split()[0] == "384" for out, _ in outputs)
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert len(folders) == 1 and not folders[0].startswith("."), folders  # no temp folder left
    assert (tmp_path / folders[0] / "model.onnx").is_file()


def test_backends_registry_lists_every_backend():
    assert set(BACKENDS) == {"onnx-int8", "onnx", "torch"}


def test_int8_export_is_deterministic_and_within_tolerance_of_the_packaged_float_model(
    tmp_path, torch_vectors
):
    # Two exports into two empty caches give the same model bytes, so every machine with the
    # same lock builds the same vectors. Tolerance against the packaged float model (torch):
    # cosine >= 0.99 for each text, >= 0.993 on average (measured 2026-12-01 with the lock: min
    # 0.9935, mean 0.9947).
    first = Embedder(cache_dir=tmp_path / "a")
    second = Embedder(cache_dir=tmp_path / "b")
    vectors = [np.asarray(e.embed(SENTENCES)) for e in (first, second)]
    models = [(e._onnx_folder() / "model.onnx").read_bytes() for e in (first, second)]
    assert first.exported and second.exported
    assert models[0] == models[1]
    assert np.array_equal(vectors[0], vectors[1])
    cosines = (vectors[0] * torch_vectors).sum(axis=1)
    assert cosines.min() >= 0.99 and cosines.mean() >= 0.993, cosines


def test_bulk_sessions_give_the_vectors_of_one_text_at_a_time(fast, cache_dir):
    # bulk_min=2 and slices of 2 texts force the per-core session pool on five texts.
    bulk = Embedder(cache_dir=cache_dir, bulk_min=2, slice_size=2, memo=0)
    alone = np.asarray([fast.embed_query(s) for s in SENTENCES])
    pooled = np.asarray(bulk.embed(SENTENCES))
    assert pooled.shape == (len(SENTENCES), 384)
    assert np.allclose(pooled, alone, atol=1e-6)
    assert bulk.encoded == len(SENTENCES)


def test_bulk_memo_embeds_no_text_twice_and_forgets_the_oldest(fast, cache_dir):
    bulk = Embedder(cache_dir=cache_dir, bulk_min=2, memo=3)
    first = bulk.embed(SENTENCES)  # 5 distinct texts; the memo keeps the last 3
    assert bulk.encoded == 5
    again = bulk.embed(SENTENCES[2:])
    assert bulk.encoded == 5  # all three remembered: nothing embedded
    assert again == first[2:]
    bulk.embed(SENTENCES[:2])
    assert bulk.encoded == 7  # the two oldest were forgotten
    assert bulk.embed(["a fever", "a fever", "a cough"])[0] == bulk.embed_query("a fever")


def test_small_calls_bypass_the_memo(cache_dir):
    bulk = Embedder(cache_dir=cache_dir, bulk_min=3, memo=10)
    bulk.embed(SENTENCES[:2])
    bulk.embed(SENTENCES[:2])
    assert bulk.encoded == 4  # below bulk_min: each call on its own (queries stay as they were)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"bulk_min": 0}, "bulk_min"), ({"memo": -1}, "memo size"), ({"slice_size": 0}, "slice")],
)
def test_bulk_limits_are_checked(cache_dir, options, message):
    with pytest.raises(ValueError, match=message):
        Embedder(cache_dir=cache_dir, **options).embed(SENTENCES)
