"""MEDIQA 2021 multi-answer summarisation (validation split): the composer's quoted text at a word
budget, ROUGE-1/2/L F1 against the experts' extractive summary, beside two baselines in one run.

    .venv/bin/python benchmarks/mediqa_mas.py [--data ../shared/data/mediqa2021_mas_validation.jsonl]
        [--words 150] [--write]

For each question its answers become LangChain Documents (one per answer, no index, no gate) and
go straight into the extractive composer's sentence selection, embedded with the real embedder.
Systems, all truncated to the same budget and scored with benchmarks/rouge.py:
- composer: the quoted sentences of `ExtractiveComposer.compose`, in reply order, no framing words;
- lead: the first sentence of each answer in turn, then the second of each, ... (round-robin);
- mmr: maximal marginal relevance over all sentences (cosine to the question, lambda 0.7).
Answer text is cleaned the same way for every system: HTML tags become spaces, and a full stop
glued to the next sentence ("pain.The") gets its space back so sentences can be split.
`--write` replaces the MEDIQA section of BENCHMARKS.md with the table.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from rouge import rouge  # noqa: E402

from bot.answer.compose import ExtractiveComposer  # noqa: E402
from bot.answer.quotable import quotable, refers_back  # noqa: E402
from bot.resources import shared_embedder  # noqa: E402
from vectorstore.sentences import split_sentences  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "mediqa2021_mas_validation.jsonl"
_TAG = re.compile(r"<[^>]+>")
_GLUED = re.compile(r"(?<=[a-z0-9)][.!?])(?=[A-Z])")
SECTION = "## MEDIQA-MAS validation: ROUGE of the quoted text"


def clean(text: str) -> str:
    """Answer text without HTML tags and with glued sentences split."""
    return _GLUED.sub(" ", _TAG.sub(" ", text))


def truncate(sentences: list[str], words: int) -> str:
    """The sentences joined, cut at `words` words."""
    return " ".join(" ".join(sentences).split()[:words])


def lead(answers: list[str], words: int) -> str:
    """First sentence of each answer in turn, then the second of each, ... up to the budget."""
    split = [split_sentences(a) for a in answers]
    chosen: list[str] = []
    depth = 0
    while sum(len(s.split()) for s in chosen) < words and any(depth < len(s) for s in split):
        chosen += [s[depth] for s in split if depth < len(s)]
        depth += 1
    return truncate(chosen, words)


def mmr(question_vec: np.ndarray, answers: list[str], embed, words: int, lam: float = 0.7) -> str:
    """Maximal marginal relevance over every quotable sentence, up to the budget."""
    pool = [s for a in answers for s in split_sentences(a) if quotable(s)]
    if not pool:
        return ""
    vecs = np.asarray(embed(pool), dtype=np.float32)
    rel = vecs @ question_vec
    chosen: list[int] = []
    total = 0
    while total < words and len(chosen) < len(pool):
        best, best_score = None, -1e9
        for i in range(len(pool)):
            if i in chosen:
                continue
            redundancy = max((float(vecs[i] @ vecs[j]) for j in chosen), default=0.0)
            score = lam * rel[i] - (1 - lam) * redundancy
            if score > best_score:
                best, best_score = i, score
        chosen.append(best)
        total += len(pool[best].split())
    return truncate([pool[i] for i in chosen], words)


def composer_text(composer: ExtractiveComposer, row: dict, answers: list[str], qvec) -> list[str]:
    """The composer's quotes for one question, in reply order."""
    docs = [
        Document(
            page_content=text,
            metadata={"answer_id": a["answer_id"], "page_id": row["qid"], "organisation": "NLM"},
            id=a["answer_id"],
        )
        for a, text in zip(row["answers"], answers, strict=True)
    ]
    composition = composer.compose(row["question"], docs, qvec)
    return [s.quote for s in composition.statements]


def run(path: Path, words: int) -> dict:
    """Mean ROUGE F1 of each system over the split, and the composer's median length."""
    embedder = shared_embedder()
    composer = ExtractiveComposer(
        embedder.embed,
        max_words=words,
        framing_words=0,
        fit_length=False,
        min_relevance=0.0,
        max_candidates=400,
        per_chunk=400,
        max_sentence_words=120,
    )
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    scores: dict[str, list[dict]] = {"composer": [], "lead": [], "mmr": []}
    lengths = []
    quoted = back_references = 0  # quotes, and those that open by pointing back ("It ...")
    for row in rows:
        answers = [clean(a["text"]) for a in row["answers"]]
        qvec = np.asarray(embedder.embed_query(row["question"]), dtype=np.float32)
        reference = row["extractive_summary"]
        quotes = composer_text(composer, row, answers, qvec)
        ours = truncate(quotes, composer.max_words)
        quoted += len(quotes)
        back_references += sum(map(refers_back, quotes))
        lengths.append(len(ours.split()))
        scores["composer"].append(rouge(ours, reference))
        scores["lead"].append(rouge(lead(answers, words), reference))
        scores["mmr"].append(rouge(mmr(qvec, answers, embedder.embed, words), reference))
    table = {
        name: {k: statistics.mean(s[k] for s in rows_) for k in ("rouge1", "rouge2", "rougeL")}
        for name, rows_ in scores.items()
    }
    return {
        "n": len(rows),
        "words": words,
        "table": table,
        "composer_median_words": lengths,
        "quotes": quoted,
        "back_references": back_references,
    }


def markdown(result: dict, command: str) -> str:
    """The BENCHMARKS.md section."""
    lines = [
        SECTION,
        "",
        f"`{command}` on {platform.node()} ({platform.machine()}, {datetime.now(UTC):%Y-%m-%d}): "
        f"{result['n']} questions of `../shared/data/mediqa2021_mas_validation.jsonl`, budget "
        f"{result['words']} words, mean F1 against `extractive_summary` (recipe in "
        "`benchmarks/rouge.py`: lower-cased alphanumeric tokens, Porter stem for tokens longer "
        "than 3 characters, ROUGE-L over the whole text). The composer's median length was "
        f"{statistics.median(result['composer_median_words']):.0f} words; "
        f"{result['back_references']} of its {result['quotes']} quotes open with a word that "
        'points back to the sentence before (bot/wordlists/back_references.txt: "It ...").',
        "",
        "| system | ROUGE-1 | ROUGE-2 | ROUGE-L |",
        "|---|---|---|---|",
    ]
    for name, row in result["table"].items():
        lines.append(
            f"| {name} | {row['rouge1']:.3f} | {row['rouge2']:.3f} | {row['rougeL']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    """Replace (or append) the MEDIQA section of BENCHMARKS.md."""
    path = ROOT / "BENCHMARKS.md"
    doc = path.read_text(encoding="utf-8")
    start = doc.find(SECTION)
    if start < 0:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        end = doc.find("\n## ", start + len(SECTION))
        doc = doc[:start] + text + ("" if end < 0 else doc[end:])
    path.write_text(doc, encoding="utf-8")


def main() -> None:
    """Run, print the table, optionally write it into BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--words", type=int, default=150)
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    result = run(args.data, args.words)
    text = markdown(result, "python benchmarks/mediqa_mas.py" + (" --write" if args.write else ""))
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
