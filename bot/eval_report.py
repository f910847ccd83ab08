"""The evaluation report: one self-contained HTML file with hand-made inline SVG charts."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from bot.eval_case_view import case_rows

COLOURS = {"ok": "#2e7d32", "bad": "#c62828", "bar": "#3f6fb5", "mark": "#e69500"}
CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:24px;margin-bottom:4px} h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:13px} .grid{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.card{border:1px solid #e3e3e3;border-radius:8px;padding:10px 14px}
.card h3{margin:0 0 6px;font-size:15px} .note{color:#666;font-size:12px;margin:4px 0 0}
table{border-collapse:collapse;width:100%;font-size:13px} td,th{padding:4px 8px;text-align:left;
border-bottom:1px solid #eee;vertical-align:top} th{background:#f6f6f6}
.kpis{display:flex;flex-wrap:wrap;gap:10px} .kpi{border:1px solid #e3e3e3;border-radius:8px;
padding:8px 12px;min-width:120px} .kpi b{display:block;font-size:20px} .kpi span{color:#666;
font-size:12px} .pass{color:#2e7d32;font-weight:600} .fail{color:#c62828;font-weight:600}
.text{min-width:300px;color:#444;overflow-wrap:break-word} .text p{margin:0 0 6px}
.q{min-width:160px;max-width:240px} table.narrow{width:auto} td.exp{min-width:220px}
ul.exp{margin:0;padding-left:0;list-style:none} mark{background:#fff1a8}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _svg_open(width: int, height: int) -> str:
    return f'<svg width="{width}" height="{height}" role="img" xmlns="http://www.w3.org/2000/svg">'


def _ms(value) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def bar_chart(rows: Sequence[tuple[str, float, str]], *, width: int = 500, top: float = 1.0) -> str:
    """Horizontal bars: (label, value in 0..top, text shown after the bar)."""
    if not rows:
        return '<p class="note">nothing to show</p>'
    label_w, row_h, bar_w = 150, 26, width - 150 - 90
    height = row_h * len(rows) + 10
    parts = [_svg_open(width, height)]
    for i, (label, value, note) in enumerate(rows):
        y = 5 + i * row_h
        w = 0 if top <= 0 else max(0.0, min(1.0, value / top)) * bar_w
        share = value / top if top > 0 else 0.0
        colour = (
            COLOURS["ok"] if share >= 0.999 else COLOURS["bad"] if share < 0.5 else COLOURS["bar"]
        )
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12">{_e(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 8}" fill="#f0f0f0"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{colour}">'
            f"<title>{_e(label)}: {_e(note)}</title></rect>"
            f'<text x="{label_w + bar_w + 6}" y="{y + 16}" font-size="12">{_e(note)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    counts: Sequence[int],
    labels: Sequence[str],
    *,
    width: int = 500,
    height: int = 200,
    marks: Sequence[tuple[float, str]] = (),
    colours: Sequence[str] | None = None,
) -> str:
    """Vertical bars with a label under each; marks are (x in bar units, text) vertical lines."""
    if not counts or not any(counts):
        return '<p class="note">nothing to show</p>'
    left, bottom, top_pad = 36, 34, 18
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    peak = max(counts)
    step = plot_w / len(counts)
    parts = [_svg_open(width, height)]
    for tick in sorted({0, math.ceil(peak / 2), peak}):
        y = top_pad + plot_h - plot_h * tick / peak
        parts.append(
            f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{tick}</text>'
        )
    every = max(1, math.ceil(len(labels) / 10))  # keep the axis labels from overlapping
    for i, (count, label) in enumerate(zip(counts, labels, strict=True)):
        h = plot_h * count / peak
        x = left + i * step
        colour = colours[i] if colours else COLOURS["bar"]
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{top_pad + plot_h - h:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{_e(label)}: {count}</title></rect>'
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="11">{_e(label)}</text>'
            )
    for pos, text in marks:
        x = left + pos * step
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top_pad}" y2="{top_pad + plot_h}" '
            f'stroke="{COLOURS["mark"]}" stroke-dasharray="4 3"/>'
            f'<text x="{x + 3:.1f}" y="{top_pad - 5}" font-size="11" fill="#a76b00">{_e(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _bins(values: Sequence[float], low: float, high: float, n: int) -> list[int]:
    counts = [0] * n
    for v in values:
        i = int((v - low) / (high - low) * n) if high > low else 0
        counts[min(max(i, 0), n - 1)] += 1
    return counts


def latency_chart(latencies: Sequence[float], p50: float | None, p95: float | None) -> str:
    """Histogram of total reply latency with the p50 and p95 marked."""
    if not latencies:
        return histogram([], [])
    high = max(latencies) * 1.0001 or 1.0
    n = 20
    width = high / n
    labels = [f"{i * width:.0f}" for i in range(n)]
    marks = [(v / width, f"{name} {v:.0f} ms") for name, v in (("p50", p50), ("p95", p95)) if v]
    return histogram(_bins(latencies, 0.0, high, n), labels, marks=marks)


def rank_chart(ranks: Sequence[int | None]) -> str:
    """How far down the citations the expected page came (or that it was not cited)."""
    names = ["1", "2", "3", "4", "5", ">5", "not cited"]
    counts = [0] * len(names)
    for rank in ranks:
        counts[6 if rank is None else min(rank, 6) - 1] += 1
    colours = [COLOURS["ok"]] + [COLOURS["bar"]] * 5 + [COLOURS["bad"]]
    return histogram(counts, names, colours=colours)


def support_chart(scores: Sequence[float]) -> str:
    """Histogram of the support score (cosine) of every citation shown."""
    n = 20
    labels = [f"{i / n:.2f}" for i in range(n)]
    return histogram(_bins(scores, 0.0, 1.0, n), labels)


def _kpis(m: dict) -> str:
    items = [
        ("cases", m["n"]),
        ("pass rate", m["pass_rate"]),
        ("expectation accuracy", m["expectation_accuracy"]),
        ("disclaimer rate", m["disclaimer_rate"]),
        (f"source hit@{m['source_k']}", m["source_hit_at_k"]),
        ("MRR", m["mrr"]),
        ("citation precision", m["citation_precision"]),
        ("abstention P / R", f"{_fmt(m['abstention_precision'])} / {_fmt(m['abstention_recall'])}"),
        ("triage P / R", f"{_fmt(m['triage_precision'])} / {_fmt(m['triage_recall'])}"),
        ("latency p95 (ms)", _ms(m["latency_ms"]["p95"])),
    ]
    if m.get("quality_cases") or m.get("uncovered_cases"):
        items += [
            ("first statement answers", m["first_statement_answers"]),
            ("nugget recall", m["nugget_recall"]),
            ("redundant pairs", m["redundant_pairs"]),
            ("uncovered answered honestly", m["uncovered_honest"]),
            ('false "not covered"', m["false_not_covered"]),
        ]
    return "".join(
        f'<div class="kpi"><b>{_e(_fmt(v))}</b><span>{_e(k)}</span></div>' for k, v in items
    )


def render_report(results: Sequence[dict], m: dict) -> str:
    """The whole report page."""
    run = m.get("run", {})
    categories = [
        (name, row["pass_rate"] or 0.0, f"{row['passed']}/{row['n']}")
        for name, row in m["by_category"].items()
    ]
    latencies = [float(r["latency_ms"]) for r in results if r.get("latency_ms") is not None]
    ranks = [r["flags"]["source_rank"] for r in results if r["flags"]["source"] is not None]
    scores = [float(c.get("support", 0)) for r in results for c in r["reply"].get("citations", [])]
    lat = m["latency_ms"]
    cards = [
        (
            "Pass rate per category",
            bar_chart(categories),
            "passed / cases; green: all, red: under half",
        ),
        (
            "Latency of the whole reply",
            latency_chart(latencies, lat["p50"], lat["p95"]),
            f"ms per case; p50 {_ms(lat['p50'])}, p95 {_ms(lat['p95'])}, max {_ms(lat['max'])}",
        ),
        (
            "Rank of the expected source among the citations",
            rank_chart(ranks),
            f"{len(ranks)} answer cases with a source_doc; MRR {_fmt(m['mrr'])}",
        ),
        (
            "Citation support scores",
            support_chart(scores),
            f"{len(scores)} citations; cosine of the best supporting sentence",
        ),
    ]
    grid = "".join(
        f'<div class="card"><h3>{_e(t)}</h3>{svg}<p class="note">{_e(n)}</p></div>'
        for t, svg, n in cards
    )
    by_expect = "".join(
        f"<tr><td>{_e(k)}</td><td>{row['n']}</td><td>{row['expectation_met']}</td>"
        f"<td>{_e(_fmt(row['accuracy']))}</td><td>{_e(_fmt(row['pass_rate']))}</td></tr>"
        for k, row in m["by_expect"].items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Evaluation report</title><style>{CSS}</style></head><body>"
        "<h1>Evaluation report</h1>"
        f'<p class="meta">cases {_e(run.get("cases_file", ""))} · backend '
        f"{_e(run.get('backend', ''))} · started {_e(run.get('started', ''))} · "
        f"{_e(run.get('reused', 0))} results reused</p>"
        f'<div class="kpis">{_kpis(m)}</div>'
        f'<h2>Charts</h2><div class="grid">{grid}</div>'
        "<h2>By expected outcome</h2><table class='narrow'><tr><th>expect</th><th>cases</th><th>met</th>"
        f"<th>accuracy</th><th>pass rate</th></tr>{by_expect}</table>"
        f"<h2>Cases (failures first)</h2>{case_rows(results)}"
        "</body></html>\n"
    )
