"""The fixed MedQuAD question sample every retrieval benchmark uses (same questions, same order).

MedQuAD: Ben Abacha & Demner-Fushman, "A question-entailment approach to question answering",
BMC Bioinformatics 20:511 (2019), CC BY 4.0.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

MEDQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "medquad_answers.jsonl.gz"


def medquad_records(path: Path = MEDQUAD) -> list[dict]:
    """Every MedQuAD record, sorted by id."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    return sorted(records, key=lambda r: r["id"])


def medquad_sample(n: int = 1000, seed: int = 2017) -> list[tuple[str, str]]:
    """(question, record id) for n records drawn with random.Random(seed) from the sorted records."""
    records = medquad_records()
    return [(r["question"], r["id"]) for r in random.Random(seed).sample(records, n)]
