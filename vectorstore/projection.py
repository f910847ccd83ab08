"""Smaller vectors in Chroma's HNSW, full ones beside it: what lets a large index fit in memory.

Chroma's local HNSW keeps every vector in RAM as float32 (384 dimensions: 1.5 KB a chunk, 1.5 GB
at a million chunks) and has no quantisation. An index created with `dense_dims` (`python -m bot
ingest --dense-dims 128`) stores in Chroma each chunk vector projected onto the top principal
directions of the corpus's vectors (a fixed orthonormal matrix, fitted once from the vectors of the
first part written), re-normalised, so HNSW searches a third of the memory. The full vectors are
kept on disk in the sentence vector file, keyed by chunk id (an id is a hash of the embedded text
and metadata, so a key never goes stale), and the candidates HNSW returns are rescored with them:
the order retrieval sees is the full vectors' cosine, as before; what the projection can cost is
only a true neighbour HNSW did not return (measured: benchmarks/hnsw_recall.py --dims).

The matrix is saved content-addressed (`projections/<digest>.npy` beside the generations) and the
manifest names it, so a rebuild with other settings never changes what a live generation reads.
"""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

PROJECTIONS = "projections"  # folder of the index root holding the matrices
MIN_FIT_VECTORS = 1  # one vector still gives a basis: itself first, then any orthonormal rest
# Chunk vectors a new index's projection is fitted on (benchmarks/hnsw_recall.py --dims: on
# MedQuAD, 128 dimensions fitted on 4,000 chunks kept 0.971 of the exact top 10 among 50
# rescored candidates, fitted on all 27,631 0.986).
FIT_SAMPLE = 20_000
CHUNK_KEY = "\x00chunk\x00"  # prefix of a full chunk vector's key in the sentence vector file


def chunk_key(chunk_id: str) -> str:
    """The sentence vector file's key of a chunk's full vector (no sentence starts with NUL)."""
    return CHUNK_KEY + chunk_id


class DenseProjection:
    """An orthonormal `dims x dimension` matrix: vectors in, unit vectors of `dims` out."""

    def __init__(self, matrix: np.ndarray) -> None:
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        if matrix.ndim != 2 or not 0 < matrix.shape[0] <= matrix.shape[1]:
            raise ValueError(f"a projection is dims x dimension, not {matrix.shape}")
        self.matrix = matrix

    @property
    def dims(self) -> int:
        """Dimensions stored in Chroma."""
        return int(self.matrix.shape[0])

    @property
    def dimension(self) -> int:
        """Dimensions of the embedder's vectors."""
        return int(self.matrix.shape[1])

    @classmethod
    def fit(cls, vectors: np.ndarray, dims: int) -> DenseProjection:
        """The `dims` directions that keep the most of the vectors' inner products: the top
        eigenvectors of their second-moment matrix (not centred: cosine is about the origin).
        Each direction's sign is fixed (its largest entry positive), so the same vectors give
        the same matrix."""
        x = np.asarray(vectors, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] < MIN_FIT_VECTORS:
            raise ValueError(f"fitting a projection needs {MIN_FIT_VECTORS} vectors or more")
        if not 0 < dims <= x.shape[1]:
            raise ValueError(f"dims must be between 1 and {x.shape[1]}, not {dims}")
        _, vecs = np.linalg.eigh(x.T @ x)
        top = vecs[:, ::-1][:, :dims].T
        signs = np.sign(top[np.arange(dims), np.abs(top).argmax(axis=1)])
        return cls(top * signs[:, None])

    def project(self, vectors) -> np.ndarray:
        """Projected, re-normalised rows (float32); a zero row stays zero."""
        x = np.asarray(vectors, dtype=np.float32)
        single = x.ndim == 1
        x = x.reshape(-1, self.dimension) @ self.matrix.T
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
        return x[0] if single else x

    def digest(self) -> str:
        """A short content hash of the matrix: its file name."""
        return hashlib.sha256(self.matrix.tobytes()).hexdigest()[:16]

    def save(self, root: Path) -> str:
        """Write the matrix under `root/projections/` (atomically) and return its name."""
        name = self.digest()
        folder = Path(root) / PROJECTIONS
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.npy"
        if not path.exists():
            buffer = io.BytesIO()
            np.save(buffer, self.matrix, allow_pickle=False)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(buffer.getvalue())
            tmp.replace(path)
        return name

    def to_dict(self) -> dict:
        """The matrix as JSON-able data (float32 bytes in base64)."""
        return {
            "shape": list(self.matrix.shape),
            "float32": base64.b64encode(self.matrix.tobytes()).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict) -> DenseProjection:
        """The matrix `to_dict` wrote."""
        raw = np.frombuffer(base64.b64decode(data["float32"]), dtype=np.float32)
        return cls(raw.reshape(tuple(data["shape"])))

    @classmethod
    def load(cls, root: Path, name: str) -> DenseProjection:
        """The matrix a manifest names; FileNotFoundError with what to do when it is missing."""
        path = Path(root) / PROJECTIONS / f"{name}.npy"
        if not path.exists():
            raise FileNotFoundError(
                f"the index stores projected vectors but its projection {path} is missing "
                "(copy it from the data folder the index was built in, or rebuild: "
                "`python -m bot ingest --rebuild`)"
            )
        projection = cls(np.load(path, allow_pickle=False))
        if projection.digest() != name:
            raise ValueError(f"{path} is not the projection {name}: the file was changed")
        return projection


class ProjectionSlot:
    """The projection an ingest writes with: the index's own, or, for a new index that asks for
    `dims`, one fitted on the first `fit_sample` chunk vectors it writes."""

    def __init__(
        self, dims: int, projection: DenseProjection | None = None, *, fit_sample: int = FIT_SAMPLE
    ) -> None:
        if fit_sample < 1:
            raise ValueError(f"fit_sample must be 1 or more, not {fit_sample}")
        self.dims = dims
        self.projection = projection
        self.fit_sample = fit_sample

    @property
    def ready(self) -> bool:
        """Whether the projection is known (given, or fitted already)."""
        return self.projection is not None

    def fit(self, vectors: np.ndarray) -> None:
        """Fit the projection on these chunk vectors (at most `dims` of the embedder's)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        self.projection = DenseProjection.fit(vectors, min(self.dims, vectors.shape[1]))

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """The chunk vectors as Chroma stores them."""
        if self.projection is None:
            raise RuntimeError("the projection is not fitted yet")
        return self.projection.project(vectors)


class ProjectedEmbeddings(Embeddings):
    """An embedder whose vectors are projected: what a LangChain store over a projected
    collection must search with (its cosines are then those of the projected vectors)."""

    def __init__(self, embedder: Embeddings, projection: DenseProjection) -> None:
        self.embedder = embedder
        self.projection = projection

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Projected document vectors."""
        return self.projection.project(self.embedder.embed_documents(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        """The projected query vector."""
        return self.projection.project(self.embedder.embed_query(text)).tolist()
