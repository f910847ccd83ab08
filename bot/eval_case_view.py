"""One case of the evaluation report: the whole reply, what was expected, and what matched."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.eval_metrics import mention_matches
from bot.eval_quality import nugget_match, quoted_statements

CASE_COLUMNS = (
    *("", "id", "category", "expect", "got", "failed", "rank", "ms", "quality", "question"),
    *("expected / matched", "reply"),
)
CHECKS = ("expectation", "disclaimer", "mention", "source", "first_answers")
YES, NO = '<span class="pass">✓</span>', '<span class="fail">✗</span>'


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _quality(flags: dict) -> str:
    """One case's quality flags in a few words ("" when the case has none)."""
    parts = []
    if flags.get("first_answers") is not None:
        parts.append("first answers" if flags["first_answers"] else "first does not answer")
    if flags.get("nugget_recall") is not None:
        parts.append(f"nuggets {flags['nugget_recall']:.2f}")
    if flags.get("redundant_pairs"):
        parts.append(f"{len(flags['redundant_pairs'])} redundant pair(s)")
    if flags.get("honest") is not None:
        parts.append("honest" if flags["honest"] else "answered anyway")
    return "; ".join(parts)


def _wordings(nugget: Sequence[str], matched: str | None) -> str:
    return " / ".join(f"<mark>{_e(alt)}</mark>" if alt == matched else _e(alt) for alt in nugget)


def expected_html(case: dict, reply: dict, flags: dict) -> str:
    """Each thing the case expected, marked ✓ or ✗, with the words that matched highlighted."""
    items = []
    if case.get("source_doc"):
        rank = flags.get("source_rank")
        where = f"cited at {rank}" if rank else "not cited"
        mark = YES if flags.get("source") else NO if flags.get("source") is False else ""
        items.append(f"{mark} page {_e(case['source_doc'])} ({where})")
    found, forbidden = mention_matches(case, reply)
    if case.get("must_mention_any"):
        words = ", ".join(
            f"<mark>{_e(s)}</mark>" if s in found else f"&ldquo;{_e(s)}&rdquo;"
            for s in case["must_mention_any"]
        )
        items.append(f"{YES if found else NO} mentions one of: {words}")
    for word in case.get("must_not_mention") or []:
        said = word in forbidden
        items.append(f"{NO if said else YES} never mentions &ldquo;{_e(word)}&rdquo;")
    nuggets = case.get("nuggets") or []
    if nuggets:
        statements = quoted_statements(reply.get("text") or "")
        quoted = " ".join(statements)
        direct = int(case.get("direct", 0))
        for i, nugget in enumerate(nuggets):
            matched = nugget_match(quoted, nugget)
            line = f"{YES if matched else NO} fact: {_wordings(nugget, matched)}"
            if i == direct:
                first = bool(statements) and nugget_match(statements[0], nugget) is not None
                line += f" (the direct answer: {'in' if first else 'not in'} the first statement)"
            items.append(line)
    if not items:
        return ""
    return "<ul class='exp'>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def reply_html(reply: dict) -> str:
    """The whole reply: its text by paragraph, then its sources (doctor and quoted words)."""
    paragraphs = [p for p in (reply.get("text") or "").split("\n\n") if p.strip()]
    body = "".join(f"<p>{_e(' '.join(p.split()))}</p>" for p in paragraphs)
    cites = reply.get("citations") or []
    if cites:
        rows = "".join(
            f"<li>[{_e(c.get('marker'))}] {_e(c.get('attribution') or c.get('doctor') or '')}"
            f" ({_e(c.get('page_id'))}): "
            + " ".join(f"&ldquo;{_e(q)}&rdquo;" for q in c.get("quote") or [])
            + "</li>"
            for c in cites
        )
        body += f"<details><summary>{len(cites)} source(s)</summary><ul>{rows}</ul></details>"
    if not (reply.get("disclaimer") or "").strip():
        body += f"<p>{NO} no disclaimer</p>"
    return body


def case_rows(results: Sequence[dict]) -> str:
    """The cases table, failures first."""
    rows = []
    ordered = sorted(results, key=lambda r: bool(r["flags"]["passed"]))
    for r in ordered:
        f, case, reply = r["flags"], r["case"], r["reply"]
        ok = '<span class="pass">pass</span>' if f["passed"] else '<span class="fail">fail</span>'
        failed = [k for k in CHECKS if f.get(k) is False]
        rank = "n/a" if f.get("source_rank") is None else f["source_rank"]
        ms = r.get("latency_ms")
        rows.append(
            f"<tr><td>{ok}</td><td>{_e(r['id'])}</td><td>{_e(case['category'])}</td>"
            f"<td>{_e(case['expect'])}</td><td>{_e(f['outcome'])}</td>"
            f"<td>{_e(', '.join(failed))}</td><td>{_e(rank)}</td>"
            f"<td>{'n/a' if ms is None else f'{ms:.0f}'}</td><td>{_e(_quality(f))}</td>"
            f"<td class='q'>{_e(case['question'])}</td>"
            f"<td class='exp'>{expected_html(case, reply, f)}</td>"
            f'<td class="text">{reply_html(reply)}</td></tr>'
        )
    head = "".join(f"<th>{h}</th>" for h in CASE_COLUMNS)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"
