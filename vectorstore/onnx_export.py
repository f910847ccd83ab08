"""Export all-MiniLM-L6-v2 (transformer + mean pooling + normalisation) to ONNX, optionally with
int8 weights, once per machine, into a model cache shared by every process."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from vectorstore.errors import BotError

# Bump when the export or quantisation recipe changes, so old cached models are not reused.
RECIPE = 1


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
