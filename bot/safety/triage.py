"""Triage: spot an emergency, an urgent problem or a mental-health crisis before anything else.

Two layers. The red-flag catalogue (prompts/triage/catalogue/*.toml, bot/safety/catalogue.py)
read by the rules of bot/safety/rules.py (negation, past and resolved events, risk questions,
expected effects of the named treatment) over the normalised text of bot/safety/text.py decides
most messages. Embedding similarity to curated examples in prompts/triage/ catches paraphrases the
catalogue misses; a message fires by similarity only when it is clearly closer to the emergency or
crisis examples than to the ordinary ones, and never an impersonal question.

Tiers, as a nurse line grades them: crisis (suicidal thoughts, self-harm, methods, in the writer
or someone they write about; it wins over everything, because the crisis reply also says to call
the emergency number when something has already been taken or done), emergency (call 911 now),
urgent (get seen today, then the doctors' answers as usual), or None. A message that only
resembles the emergency examples is graded urgent; one that resembles the crisis examples gets the
crisis reply.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.safety.catalogue import TRIAGE_DIR
from bot.safety.rules import find, rules
from bot.safety.text import normalise

EXAMPLES_DIR = TRIAGE_DIR
KINDS = ("emergency", "crisis")  # the tiers the similarity layer knows

# Calibrated with `benchmarks/triage_eval.py --calibrate` on the default onnx-int8 embedder, never
# on the labelled test messages: each curated example line is scored against the other lines
# (leave-one-out), and 86 real consumer questions (TREC LiveQA 2017) serve as further non-urgent
# text. A unit (the whole message, or a sentence of MIN_UNIT_WORDS or more) fires for a kind when
# its best cosine to that kind's examples is at least MIN_SIMILARITY and beats its best cosine to
# the ordinary examples by MIN_MARGIN. Rule: the margin sits at least 0.04 above the highest
# margin any ordinary line reaches. Figures (79 emergency, 65 crisis, 107 ordinary lines):
# - emergency 0.55 / 0.18: 20/79 emergency lines found by similarity alone, 0/107 ordinary,
#   0/65 crisis, 0/86 LiveQA; highest ordinary margin +0.131 ("i feel a little tired after the
#   injection"). At 0.55 / 0.14 recall is 27/79 but a crisis line fires as an emergency.
# - crisis 0.55 / 0.18: 37/65 crisis lines, 0/107 ordinary, 0/79 emergency, 1/86 LiveQA (a real
#   "I took 25 iron pills... what do I do" that deserves the reply); highest ordinary margin
#   +0.136 ("i pick up my prescription pills from the pharmacy every month"). At 0.50 / 0.14
#   recall is 42/65 but an ordinary line fires.
MIN_SIMILARITY = {"emergency": 0.55, "crisis": 0.55}
MIN_MARGIN = {"emergency": 0.18, "crisis": 0.18}
_SENTENCE_END = re.compile(r" [.;!?\n](?: [.;!?\n])*")
MIN_UNIT_WORDS = 4  # shorter fragments ("plz reply") match examples on surface form alone


@dataclass(frozen=True)
class TriageResult:
    """What triage decided: kind is "emergency", "urgent", "crisis" or None."""

    kind: str | None
    reason: str  # short machine-readable why, e.g. "pattern:breathing", "similar:crisis:0.71"
    score: float
    lang: str = "en"  # the language of the cue that decided it (the safety reply's language)


def _strip(text: str, spans: list[tuple[int, int]]) -> str:
    """Text without the negated spans, so "no trouble breathing" adds no similarity either."""
    keep, at = [], 0
    for start, end in sorted(spans):
        if start > at:
            keep.append(text[at:start])
        at = max(at, end)
    keep.append(text[at:])
    return re.sub(r" {2,}", " ", "".join(keep)).strip()


def embedding_units(norm: str) -> list[str]:
    """What gets embedded for a normalised message: negated spans removed, whole and by sentence."""
    return _units(_strip(norm, find(norm).negated))


def _units(text: str) -> list[str]:
    """The whole text and each of its sentences of four words or more."""
    if not text:
        return []
    sentences = [s for s in (s.strip(" ,") for s in re.split(_SENTENCE_END, text)) if s]
    if len(sentences) <= 1:  # one sentence: "x ?" and "x" would be embedded for one meaning
        return [text]
    # Shorter fragments ("this was last night", "plz reply") match examples on surface form.
    units = [text] + [s for s in sentences if len(s.split()) >= MIN_UNIT_WORDS]
    return units[:30]


class Triage:
    """Classify a message as an emergency, urgent, a crisis or none of them."""

    def __init__(
        self,
        embedder=None,
        examples_dir: Path | None = None,
        *,
        embed_messages: Callable[[list[str]], list[list[float]]] | None = None,
    ) -> None:
        self._embedder = embedder
        # The messages' units may go through the chain's vector cache (shared with retrieval);
        # the example sets are embedded once, by the model itself.
        self._embed_messages = embed_messages
        self.examples_dir = Path(examples_dir) if examples_dir else EXAMPLES_DIR
        self._matrices: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def examples(self, name: str) -> list[str]:
        """The curated example lines of one set (emergency, crisis, ordinary), normalised."""
        path = self.examples_dir / f"{name}.txt"
        if not path.is_file():
            raise ValueError(f"no triage examples at {path}: expected one message per line")
        lines = path.read_text(encoding="utf-8").splitlines()
        found = [normalise(x) for x in lines if x.strip() and not x.lstrip().startswith("#")]
        if not found:
            raise ValueError(f"{path} holds no examples")
        return found

    @property
    def embedder(self):
        """The embedding model: the one given, else the process-wide shared one."""
        if self._embedder is None:
            from bot.resources import shared_embedder

            self._embedder = shared_embedder()
        return self._embedder

    def _message_vectors(self, units: list[str]) -> list[list[float]]:
        return self._embed_messages(units) if self._embed_messages else self.embedder.embed(units)

    def example_matrices(self) -> dict[str, np.ndarray]:
        """Embedded example sets by name, one normalised vector a row (embedded once, lazily)."""
        with self._lock:
            if self._matrices is None:
                names = (*KINDS, "ordinary")
                texts = {n: self.examples(n) for n in names}
                flat = [t for n in names for t in texts[n]]
                vectors = np.asarray(self.embedder.embed(flat), dtype=np.float32)
                matrices, at = {}, 0
                for n in names:
                    matrices[n] = vectors[at : at + len(texts[n])]
                    at += len(texts[n])
                self._matrices = matrices
            return self._matrices

    def _similar(self, vectors: np.ndarray) -> tuple[str | None, float]:
        """The kind whose examples the units (rows) resemble clearly more than ordinary ones."""
        matrices = self.example_matrices()
        ordinary = (vectors @ matrices["ordinary"].T).max(axis=1)
        best = 0.0
        for kind in ("crisis", "emergency"):  # crisis first: it wins a tie
            sims = (vectors @ matrices[kind].T).max(axis=1)
            fires = (sims >= MIN_SIMILARITY[kind]) & (sims - ordinary >= MIN_MARGIN[kind])
            if fires.any():
                return kind, float(sims[fires].max())
            best = max(best, float(sims.max()))
        return None, best

    def boundary_distances(self, text: str) -> dict[str, float]:
        """How far a message's similarity evidence is from firing, per kind (>= 0: it fires).

        Only the kinds similarity may decide for this message: none when a catalogue sign
        decides it or nothing is left to embed, crisis alone for an impersonal question or a
        sign the rules set aside. A unit's distance is the smaller of (cosine - MIN_SIMILARITY)
        and (cosine - ordinary cosine - MIN_MARGIN); a message takes its best unit.
        tests/test_triage_margin.py keeps labelled messages away from 0."""
        norm = normalise(text)
        finding = find(norm)
        units = _units(_strip(norm, finding.negated))
        if finding.tier in ("crisis", "emergency") or not units:
            return {}
        question = bool(rules()["any"].search(norm)) and not rules()["person"].search(norm)
        kinds = ("crisis",) if question or finding.discounted else KINDS
        vectors = np.asarray(self._message_vectors(units), dtype=np.float32)
        matrices = self.example_matrices()
        ordinary = (vectors @ matrices["ordinary"].T).max(axis=1)
        distances = {}
        for kind in kinds:
            sims = (vectors @ matrices[kind].T).max(axis=1)
            gap = np.minimum(sims - MIN_SIMILARITY[kind], sims - ordinary - MIN_MARGIN[kind])
            distances[kind] = float(gap.max())
        return distances

    def classify(self, text: str) -> TriageResult:
        """Decide whether a message is an emergency, a crisis, or neither."""
        return self.classify_many([text])[0]

    def classify_patterns(self, text: str) -> TriageResult:
        """The catalogue's decision alone: no embedding, so no model is needed or loaded."""
        if not isinstance(text, str):
            raise ValueError(f"triage needs a string, got {type(text).__name__}")
        finding = find(normalise(text))
        if finding.tier is None:
            return TriageResult(None, finding.discounted or "none", 0.0)
        return TriageResult(finding.tier, f"pattern:{finding.sign}", 1.0, finding.lang)

    def classify_many(self, texts: list[str]) -> list[TriageResult]:
        """classify() for many messages, embedding all that need it in one batch."""
        results: list[TriageResult | None] = []
        pending: list[tuple] = []  # index, units, question, pattern finding, why
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(f"triage needs a string, got {type(text).__name__}")
            norm = normalise(text)
            finding = find(norm) if norm else find("")
            personal = bool(rules()["person"].search(norm))
            question = bool(rules()["any"].search(norm)) and not personal
            remaining = _strip(norm, finding.negated)
            if not any(ch.isalnum() for ch in norm):
                results.append(TriageResult(None, "empty", 0.0))
            elif finding.tier in ("crisis", "emergency"):
                results.append(
                    TriageResult(finding.tier, f"pattern:{finding.sign}", 1.0, finding.lang)
                )
            elif not remaining:
                results.append(TriageResult(None, "negated", 0.0))
            else:
                results.append(None)
                why = finding.discounted or ("negated" if finding.negated else "none")
                pending.append((i, _units(remaining), question, finding, why))
        if pending:
            units = [u for _, unit_list, *_ in pending for u in unit_list]
            vectors = np.asarray(self._message_vectors(units), dtype=np.float32)
            at = 0
            for i, units, question, finding, why in pending:
                kind, score = self._similar(vectors[at : at + len(units)])
                at += len(units)
                if kind == "emergency" and (question or finding.discounted):
                    # An impersonal question, or a message whose signs the catalogue's rules
                    # judged past, hypothetical or expected: resemblance does not overrule that.
                    kind = None
                if kind:
                    # Resemblance is weaker evidence than a catalogue sign: an emergency by
                    # similarity alone gets the urgent reply, which still says when to call 911.
                    tier = "urgent" if kind == "emergency" else kind
                    results[i] = TriageResult(tier, f"similar:{kind}:{score:.2f}", score)
                elif finding.tier == "urgent":
                    results[i] = TriageResult(
                        "urgent", f"pattern:{finding.sign}", 1.0, finding.lang
                    )
                else:
                    results[i] = TriageResult(None, why, score)
        return [r if r is not None else TriageResult(None, "none", 0.0) for r in results]
