"""Does batching make ingest embedding faster, and how far does it move the vectors?

On one single-threaded ONNX session (what each core runs during an ingest), for MedQuAD
sentences and chunks: texts per CPU-second and the cosine of each vector to the same text's
vector embedded alone (batch 1, int8: what the index stores and what queries use), for
- int8 at batch 1 (today), padded batches (texts sorted by token count, the shorter ones padded)
  and length-bucketed batches (only texts of the same token count together: no padding);
- float32 ONNX at batch 1 and length-bucketed (batching a float32 model moves nothing).
CPU time, not wall time: the machine is shared.

    .venv/bin/python benchmarks/embed_batching.py [--records 400] [--sentences 3000] [--chunks 400]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.medquad_sample import MEDQUAD  # noqa: E402


def bucketed(encoder, texts: list[str], batch: int) -> np.ndarray:
    """Batches of texts with exactly the same token count (no padding row in any batch)."""
    encodings = encoder.tokenizer.encode_batch(texts)
    out = np.zeros((len(texts), 384), dtype=np.float32)
    by_length: dict[int, list[int]] = {}
    for i, encoding in enumerate(encodings):
        by_length.setdefault(len(encoding.ids), []).append(i)
    for rows in by_length.values():
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            ids = np.asarray([encodings[i].ids for i in part], dtype=np.int64)
            feed = {
                "input_ids": ids,
                "attention_mask": np.ones_like(ids),
                "token_type_ids": np.zeros_like(ids),
            }
            out[part] = encoder.session.run(None, feed)[0]
    return out


def padded(encoder, texts: list[str], batch: int) -> np.ndarray:
    """The encoder's own batching: sorted by token count, shorter texts padded."""
    encoder.batch_size = batch
    try:
        return encoder.encode(texts)
    finally:
        encoder.batch_size = 1


def timed(run, *args) -> tuple[np.ndarray, float]:
    """(run(*args), CPU seconds)."""
    started = time.process_time()
    result = run(*args)
    return result, time.process_time() - started


def texts(records: int, sentences: int, chunks: int) -> dict[str, list[str]]:
    """Distinct chunk and sentence texts of the first MedQuAD records."""
    from vectorstore.chunking import chunk_page
    from vectorstore.corpus import read_corpus

    pages = read_corpus(MEDQUAD).pages[:records]
    parts = [c for p in pages for c in chunk_page(p, question_context=False)]
    return {
        "sentences": list(dict.fromkeys(s.text for c in parts for s in c.sentences()))[:sentences],
        "chunks": list(dict.fromkeys(c.text for c in parts))[:chunks],
    }


def main() -> None:
    """Print one table row per kind of text and way of batching."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--sentences", type=int, default=3000)
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--batches", default="8,32", help="batch sizes, comma-separated")
    args = parser.parse_args()
    from vectorstore.embeddings import Embedder

    int8 = Embedder(threads=1).model
    fp32 = Embedder(backend="onnx", threads=1).model
    batches = [int(b) for b in args.batches.split(",")]
    print(f"load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC')}")
    print(
        "| texts | model, batching | texts per CPU-s | x int8 batch 1 | cosine to int8 batch 1: "
        "min / 1st pct / mean | min cosine to the same model at batch 1 |"
    )
    print("|---|---|---|---|---|---|")
    for kind, items in texts(args.records, args.sentences, args.chunks).items():
        int8.encode(items[:20])  # warm up
        reference, base = timed(int8.encode, items)
        runs = [("int8, batch 1", reference, base, reference)]
        for b in batches:
            runs.append((f"int8, padded {b}", *timed(padded, int8, items, b), reference))
            runs.append((f"int8, same length {b}", *timed(bucketed, int8, items, b), reference))
        own, seconds = timed(fp32.encode, items)
        runs.append(("float32, batch 1", own, seconds, own))
        for b in batches:
            runs.append((f"float32, same length {b}", *timed(bucketed, fp32, items, b), own))
        for label, vectors, seconds, same in runs:
            cos = (vectors * reference).sum(axis=1)
            print(
                f"| {len(items)} {kind} | {label} | {len(items) / seconds:.0f} | "
                f"{base / seconds:.2f} | {cos.min():.4f} / {np.percentile(cos, 1):.4f} / "
                f"{cos.mean():.4f} | {(vectors * same).sum(axis=1).min():.6f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
