"""Thumbs up/down feedback on replies, kept in SQLite under the data folder, redacted first."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.reply import Reply
from bot.retained import RetainedTable
from bot.safety.redact import redact
from webapp.render_actions import FEEDBACK_REASONS

FILE_NAME = "feedback.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    reply_id TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    reason TEXT,
    kind TEXT NOT NULL,
    question TEXT NOT NULL,
    reply_text TEXT NOT NULL,
    citations TEXT NOT NULL
)
"""


class FeedbackStore(RetainedTable):
    """Appends one row per rating; e-mail addresses and phone numbers never reach the file."""

    FILE_NAME, TABLE, SCHEMA = FILE_NAME, "feedback", SCHEMA

    def record(
        self, reply: Reply, rating: str, reason: str | None = None, question: str = ""
    ) -> int:
        """Save a rating of a reply; returns the row id. Refuses unknown ratings and reasons."""
        if rating not in {"up", "down"}:
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        if reason is not None and reason not in FEEDBACK_REASONS:
            raise ValueError(f"reason must be one of {', '.join(FEEDBACK_REASONS)}")
        citations = [
            {
                "marker": c.marker,
                "page_id": c.page_id,
                "answer_id": c.answer_id,
                "attribution": c.attribution,
                "quote": [redact(q) for q in c.quote],
                "url": c.url,
            }
            for c in reply.citations
        ]
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            reply.id,
            rating,
            reason,
            reply.kind,
            redact(question or reply.question),
            redact(reply.text),
            json.dumps(citations, ensure_ascii=False),
        )
        with self._lock, self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO feedback (created_at, reply_id, rating, reason, kind, question,"
                " reply_text, citations) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            row_id = int(cursor.lastrowid or 0)
        conn.close()
        self.purge()  # stored conversations never outlive the retention setting
        return row_id
