"""benchmarks/scale.py's synthetic embedder is used from several threads at once, as the chain
embeds triage's text beside the question's: each text must get the vector it gets alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from benchmarks.scale import HashEmbedder


def test_concurrent_embedding_gives_each_text_its_own_vector():
    texts = [f"word{i} other{i % 7} shared{i % 3} new{i * 13}" for i in range(400)]
    alone = np.asarray(HashEmbedder().embed(texts))
    together = HashEmbedder()
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda t: together.embed([t])[0], texts))
    assert np.allclose(np.asarray(got), alone, atol=1e-6)
