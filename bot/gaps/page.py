"""The gaps report as one self-contained HTML page (no scripts, inline styles, text escaped)."""

from __future__ import annotations

from html import escape

from bot.gaps.report import GapReport

STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem;
       color: #1f2328; background: #fff; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
.meta { color: #4b5563; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
th, td { text-align: left; vertical-align: top; padding: .5rem .6rem; border-bottom: 1px solid #d0d7de; }
th { background: #f6f8fa; font-weight: 600; }
td.n { font-variant-numeric: tabular-nums; white-space: nowrap; }
.bar { display: inline-block; height: .6rem; background: #1d4ed8; border-radius: 2px;
       margin-right: .4rem; vertical-align: middle; }
.topic { font-weight: 600; }
.kinds { color: #4b5563; font-size: .9rem; }
.example { font-style: italic; }
details { margin-top: .25rem; font-size: .9rem; color: #374151; }
.empty { padding: 2rem; background: #f6f8fa; border-radius: 6px; }
@media (max-width: 600px) { .when { display: none; } th, td { padding: .4rem .3rem; } }
"""


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def render_page(report: GapReport, *, retention_days: int) -> str:
    """The site owner's page: one row per topic, largest first, with an example question."""
    top = max((c.count for c in report.clusters), default=1)
    rows = []
    for c in report.clusters:
        kinds = ", ".join(
            f"{n} {'declined' if kind == 'abstain' else 'partly answered'}"
            for kind, n in sorted(c.kinds.items())
        )
        others = "".join(f"<li>{escape(q)}</li>" for q in c.questions if q != c.example)
        rows.append(
            "<tr>"
            f'<td class="topic">{escape(", ".join(c.topic) or "(no shared words)")}</td>'
            f'<td class="n"><span class="bar" style="width:{round(80 * c.count / top)}px"></span>'
            f"{c.count}</td>"
            f'<td><div class="example">&ldquo;{escape(c.example)}&rdquo;</div>'
            + (
                f"<details><summary>{len(c.questions) - 1} more</summary><ul>{others}</ul>"
                "</details>"
                if others
                else ""
            )
            + f'<div class="kinds">{escape(kinds)}</div></td>'
            f'<td class="n when">{_when(c.first_asked)}<br>{_when(c.last_asked)}</td>'
            "</tr>"
        )
    table = (
        "<table><thead><tr><th>Topic</th><th>Questions</th><th>Example (redacted)</th>"
        '<th class="when">First / last asked (UTC)</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
        if rows
        else '<p class="empty">No declined or partly answered questions in this period.</p>'
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>What patients asked that no doctor answered</title><style>{STYLE}</style>"
        "</head><body><h1>What patients asked that no doctor answered</h1>"
        f'<p class="meta">{_when(report.start)} to {_when(report.end)} UTC: {report.total} '
        f"question(s) the bot declined or answered only partly, in {len(report.clusters)} "
        f"topic(s). Questions are stored with personal details removed and deleted after "
        f"{retention_days} days.</p>{table}</body></html>"
    )
