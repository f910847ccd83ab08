"""Projected vectors in Chroma (ingest --dense-dims): less memory per chunk, the same ranking.

A real persistent Chroma in tmp_path and the real embedding model throughout; the projection is
fitted from the index's own chunk vectors (forced small with `fit_sample` where the path that
holds parts until it is fitted must run)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, SEEDS
from vectorstore.errors import IndexMismatchError
from vectorstore.projection import PROJECTIONS, DenseProjection, ProjectionSlot, chunk_key

QUESTIONS = [
    "How long does Botox last?",
    "Can a droopy eyelid after Botox be fixed?",
    "Is it safe to exercise after Botox?",
    "Why can't I move my face after Botox?",
]


def _index(path, embedder, **options):
    from vectorstore.index import Index

    return Index(path, embedder=embedder, **options)


def _stored_vectors(index) -> np.ndarray:
    gen = index.current_generation()
    pages = list(index.store.record_pages(gen))
    return np.concatenate([np.asarray(v, dtype=np.float32) for _, _, _, v in pages])


def test_a_fitted_projection_is_orthonormal_repeatable_and_keeps_the_main_directions():
    rng = np.random.default_rng(7)
    basis = np.linalg.qr(rng.normal(size=(64, 64)))[0][:, :4]  # data living in 4 directions
    data = rng.normal(size=(300, 4)) @ basis.T + 0.01 * rng.normal(size=(300, 64))
    projection = DenseProjection.fit(data, 4)
    assert projection.matrix.shape == (4, 64)
    assert np.allclose(projection.matrix @ projection.matrix.T, np.eye(4), atol=1e-5)
    assert np.array_equal(DenseProjection.fit(data, 4).matrix, projection.matrix)
    # the 4 directions span the data's: projecting back loses almost nothing
    kept = np.linalg.norm(data @ projection.matrix.T, axis=1) / np.linalg.norm(data, axis=1)
    assert kept.mean() > 0.99  # 4 random directions would keep about 0.25
    out = projection.project(data)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert projection.project(np.zeros(64)).tolist() == [0.0] * 4
    with pytest.raises(ValueError, match="dims must be between 1 and 64"):
        DenseProjection.fit(data, 65)


def test_a_saved_projection_is_named_by_its_content(tmp_path):
    projection = DenseProjection.fit(np.random.default_rng(1).normal(size=(20, 8)), 3)
    name = projection.save(tmp_path)
    assert (tmp_path / PROJECTIONS / f"{name}.npy").exists()
    assert np.array_equal(DenseProjection.load(tmp_path, name).matrix, projection.matrix)
    with pytest.raises(FileNotFoundError, match="rebuild"):
        DenseProjection.load(tmp_path, "0" * 16)
    np.save(tmp_path / PROJECTIONS / f"{name}.npy", projection.matrix * 2)
    with pytest.raises(ValueError, match="was changed"):
        DenseProjection.load(tmp_path, name)


def test_an_index_with_projected_vectors_ranks_as_the_full_one(tmp_path, embedder):
    full = _index(tmp_path / "full", embedder)
    full.sync([SEEDS])
    small = _index(tmp_path / "small", embedder, dense_dims=24)
    small.sync([SEEDS])
    manifest = small.manifest()
    assert manifest.dense_dims == 24 and manifest.dense_projection
    assert full.manifest().dense_dims == 0
    # Chroma holds 24-dimension unit vectors; the sentence file the full ones, by chunk id
    stored = _stored_vectors(small)
    assert stored.shape[1] == 24
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-4)
    ids = [cid for cid, _ in full.dense_search([np.ones(384, np.float32) / 384**0.5], 100)]
    kept = small._sentence_file().get_many(chunk_key(c) for c in ids)
    assert len(kept) == len(ids) == manifest.chunks
    for question in QUESTIONS:
        q = np.asarray(embedder.embed_query(question), dtype=np.float32)
        # every chunk a candidate: the order is the full vectors' cosine, exactly
        want = full.dense_search([q], manifest.chunks)
        got = small.dense_search([q], manifest.chunks)
        assert [c for c, _ in got] == [c for c, _ in want]
        assert np.allclose([s for _, s in got], [s for _, s in want], atol=2e-3)
        # and what a reader is given is the full vector (the BM25-only candidates' cosine)
        records = small.chunk_records(c for c, _ in got[:3])
        assert all(v.shape == (384,) for _, v in records.values())
        # the LangChain store over the projected collection searches with projected queries
        hits = small.vectorstore().similarity_search(question, k=3)
        assert len(hits) == 3 and all(h.page_content for h in hits)


def test_a_projection_is_fitted_on_the_first_chunks_and_kept_by_later_ingests(tmp_path, embedder):
    """fit_sample forced small: the parts written before the projection is known are held, then
    written projected; a later ingest (another page) keeps the same projection."""
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(SEEDS / "000_674dcb4655ddd097.txt", pages)
    index = _index(tmp_path / "data", embedder, dense_dims=16, write_part=2)
    slots = []
    original = ProjectionSlot.__init__

    def small_sample(self, dims, projection=None, *, fit_sample=5):
        slots.append(self)
        original(self, dims, projection, fit_sample=fit_sample)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ProjectionSlot, "__init__", small_sample)
        report = index.sync([pages])
        first = index.manifest()
        assert report.embedded == first.chunks == len(_stored_vectors(index)) == 10
        assert slots[0].projection.dims == 16
        shutil.copy(SEEDS / "001_3189914d5f52dce4.txt", pages)
        index.sync([pages])
    second = index.manifest()
    assert second.dense_projection == first.dense_projection
    assert second.chunks == 15
    assert _stored_vectors(index).shape == (15, 16)
    assert len(list((index.root / PROJECTIONS).iterdir())) == 1
    q = np.asarray(embedder.embed_query(QUESTIONS[0]), dtype=np.float32)
    assert len(index.dense_search([q], 5)) == 5


def test_the_size_of_stored_vectors_changes_only_with_a_rebuild(tmp_path, embedder):
    index = _index(tmp_path / "data", embedder)
    index.sync([SEEDS])
    with pytest.raises(
        IndexMismatchError, match=r"stores 384-dimension vectors, not 32.*--rebuild"
    ):
        _index(tmp_path / "data", embedder, dense_dims=32).sync([SEEDS])
    assert index.manifest().dense_dims == 0  # nothing was written
    rebuilt = _index(tmp_path / "data", embedder, dense_dims=32)
    rebuilt.sync([SEEDS], rebuild=True)
    assert rebuilt.manifest().dense_dims == 32
    # no setting: an ingest keeps what the index has, and so does a rebuild (fitted again)
    _index(tmp_path / "data", embedder).sync([SEEDS])
    assert _index(tmp_path / "data", embedder).manifest().dense_dims == 32
    _index(tmp_path / "data", embedder).sync([SEEDS], rebuild=True)
    assert _index(tmp_path / "data", embedder).manifest().dense_dims == 32
    _index(tmp_path / "data", embedder, dense_dims=0).sync([SEEDS], rebuild=True)
    assert _index(tmp_path / "data", embedder).manifest().dense_dims == 0
    with pytest.raises(ValueError, match="more than the embedder's 384"):
        _index(tmp_path / "other", embedder, dense_dims=500)


def test_a_missing_projection_file_says_what_to_do(tmp_path, embedder):
    index = _index(tmp_path / "data", embedder, dense_dims=16)
    index.sync([SEEDS])
    shutil.rmtree(index.root / PROJECTIONS)
    reader = _index(tmp_path / "data", embedder)
    q = np.asarray(embedder.embed_query(QUESTIONS[0]), dtype=np.float32)
    with pytest.raises(FileNotFoundError, match=r"projection .* is missing .*rebuild"):
        reader.dense_search([q], 5)


def test_the_ingest_command_takes_dense_dims_and_refuses_a_wrong_value(tmp_path):
    data = tmp_path / "data"
    run = [sys.executable, "-m", "bot", "--data-dir", str(data), "ingest", str(SEEDS)]
    bad = subprocess.run([*run, "--dense-dims", "many"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2
    assert "'many' is not a number of dimensions" in bad.stderr
    assert not (data / "index").exists()
    done = subprocess.run([*run, "--dense-dims", "48"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    asked = subprocess.run(
        [sys.executable, "-m", "bot", "--data-dir", str(data), "ask", QUESTIONS[0]],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert asked.returncode == 0, asked.stderr
    assert "months" in asked.stdout and "Sources:" in asked.stdout
