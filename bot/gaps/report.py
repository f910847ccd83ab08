"""Group the logged questions by topic: clusters of similar questions, counts, one example each."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from bot.gaps.log import Gap
from bot.prompts import wordlist
from bot.words import content_words

# Two questions share a topic when their vectors' mean cosine (average linkage) is at least this.
SAME_TOPIC = 0.55
MAX_QUESTIONS = 5000  # the most recent ones in the window: average linkage needs n*n memory
COMMON_SHARE = 0.4  # a word in this share of all questions ("botox") names no topic
_SINCE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Cluster:
    """Questions on one topic: how many, of which kinds, an example, when first and last asked."""

    topic: tuple[str, ...]
    count: int
    kinds: dict[str, int]
    example: str
    first_asked: datetime
    last_asked: datetime
    questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class GapReport:
    """The report for one window: its clusters, largest first."""

    start: datetime
    end: datetime
    total: int
    clusters: tuple[Cluster, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """A JSON-ready dict (`python -m bot gaps --json`)."""
        return {
            "start": self.start.isoformat(timespec="seconds"),
            "end": self.end.isoformat(timespec="seconds"),
            "total": self.total,
            "clusters": [
                {
                    "topic": list(c.topic),
                    "count": c.count,
                    "kinds": c.kinds,
                    "example": c.example,
                    "first_asked": c.first_asked.isoformat(timespec="seconds"),
                    "last_asked": c.last_asked.isoformat(timespec="seconds"),
                    "questions": list(c.questions),
                }
                for c in self.clusters
            ],
        }


def parse_since(text: str) -> timedelta:
    """`30d`, `12h` or `2w` as a time span; anything else is a clear error."""
    match = _SINCE.match(text or "")
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"--since {text!r}: expected a number and h, d or w, e.g. 30d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _labels(vectors: np.ndarray) -> np.ndarray:
    """Average-linkage clusters of unit vectors, cut where the mean cosine drops below SAME_TOPIC."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=1 - SAME_TOPIC
    )
    return model.fit_predict(vectors)


def _topic(texts: Sequence[str], common: set[str]) -> tuple[str, ...]:
    """Up to three words most of the cluster's questions share (question words left out)."""
    asking = set(wordlist("question_words"))
    counts = Counter(
        w for text in texts for w in content_words(text) if w not in asking and w not in common
    )
    ranked = sorted(counts, key=lambda w: (-counts[w], w))  # ties alphabetical: stable output
    shared = [w for w in ranked if counts[w] * 2 >= len(texts)]
    return tuple((shared or ranked)[:3])


def build_report(
    gaps: Sequence[Gap],
    embed: Callable[[list[str]], Sequence[Sequence[float]]],
    *,
    start: datetime,
    end: datetime | None = None,
) -> GapReport:
    """Cluster the questions of the window with the embedding model; largest topic first."""
    end = end or datetime.now(UTC)
    gaps = [g for g in gaps if start <= g.asked_at <= end][-MAX_QUESTIONS:]
    if not gaps:
        return GapReport(start=start, end=end, total=0)
    texts = [g.question for g in gaps]
    vectors = np.asarray(embed(texts), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    labels = _labels(vectors)
    per_word = Counter(w for text in texts for w in set(content_words(text)))
    common = {w for w, n in per_word.items() if len(texts) >= 5 and n > COMMON_SHARE * len(texts)}
    clusters = []
    for label in sorted(set(labels.tolist())):
        members = [i for i, lab in enumerate(labels) if lab == label]
        sims = vectors[members] @ vectors[members].T
        example = texts[members[int(sims.mean(axis=1).argmax())]]  # the most central question
        asked = [gaps[i].asked_at for i in members]
        clusters.append(
            Cluster(
                topic=_topic([texts[i] for i in members], common),
                count=len(members),
                kinds=dict(Counter(gaps[i].kind for i in members)),
                example=example,
                first_asked=min(asked),
                last_asked=max(asked),
                questions=tuple(dict.fromkeys(texts[i] for i in members)),
            )
        )
    clusters.sort(key=lambda c: (-c.count, -c.last_asked.timestamp(), c.example))
    return GapReport(start=start, end=end, total=len(gaps), clusters=tuple(clusters))
