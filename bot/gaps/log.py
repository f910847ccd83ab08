"""The gaps log: questions the bot declined or answered only partly, redacted, in SQLite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.reply import Reply
from bot.retained import RetainedTable
from bot.safety.redact import redact

FILE_NAME = "gaps.sqlite3"
GAP_KINDS = ("abstain", "partial")  # declined, or the answers found do not mention what was asked
SCHEMA = """
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('abstain', 'partial')),
    question TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Gap:
    """One stored question: when it was asked, the reply kind, the redacted text."""

    asked_at: datetime
    kind: str
    question: str


class GapLog(RetainedTable):
    """Appends a redacted row for each declined or partial reply; forgets rows past retention."""

    FILE_NAME, TABLE, SCHEMA = FILE_NAME, "gaps", SCHEMA

    def record(self, reply: Reply, question: str, now: datetime | None = None) -> bool:
        """Keep the question (redacted) if the reply declined it or was partial; True if kept."""
        if reply.kind not in GAP_KINDS or not question.strip():
            return False
        when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        with self._lock, self._connect() as conn:
            conn.execute(
                "INSERT INTO gaps (created_at, kind, question) VALUES (?, ?, ?)",
                (when, reply.kind, redact(" ".join(question.split()))),
            )
        conn.close()
        self.purge(now)
        return True

    def since(self, start: datetime, now: datetime | None = None) -> list[Gap]:
        """The rows asked at or after `start`, oldest first (expired rows are purged first)."""
        if not self.path.exists():
            return []
        self.purge(now)
        with self._lock, self._connect() as conn:
            rows = conn.execute(
                "SELECT created_at, kind, question FROM gaps WHERE created_at >= ? ORDER BY id",
                (start.isoformat(timespec="seconds"),),
            ).fetchall()
        conn.close()
        return [Gap(datetime.fromisoformat(at), kind, text) for at, kind, text in rows]
