"""The manifest written beside each index generation: how it was built and what it holds."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

FORMAT_VERSION = 3  # 3: sentence vectors in sentence_vectors.sqlite3 (2: a Chroma collection)


@dataclass(frozen=True)
class Manifest:
    """Embedding model, dimension, chunking, a hash of the corpus (its sorted chunk ids), counts."""

    format_version: int
    embedding_model: str
    dimension: int
    question_context: bool
    max_words: int
    corpus_hash: str
    chunks: int
    answers: int
    files: int
    sentences: int = 0  # format 3: distinct sentence vectors in the file (2: sentence records)
    dense_dims: int = 0  # dimensions of the vectors in Chroma (0: the embedder's own)
    dense_projection: str = ""  # the projection they were made with (vectorstore/projection.py)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> str:
        """The manifest as indented JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Read a manifest; unknown keys from newer versions are ignored."""
        data = json.loads(text)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})
