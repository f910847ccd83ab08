"""A SQLite table under the data folder whose rows are deleted after a retention period (the
feedback records and the gaps log: what patients typed is never kept longer than the setting)."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Self


class RetainedTable:
    """One table (`TABLE`, created by `SCHEMA`) in `FILE_NAME`; rows carry `created_at`."""

    FILE_NAME: ClassVar[str]
    TABLE: ClassVar[str]
    SCHEMA: ClassVar[str]

    def __init__(self, path: Path, *, retention_days: int = 30) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._ready = False

    @classmethod
    def in_folder(cls, data_dir: Path, *, retention_days: int = 30) -> Self:
        """The table kept in the data folder (created on the first write, not before)."""
        return cls(Path(data_dir) / cls.FILE_NAME, retention_days=retention_days)

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        if not self._ready:
            conn.execute(self.SCHEMA)
            self._ready = True
        return conn

    def purge(self, now: datetime | None = None) -> int:
        """Delete rows older than the retention period; returns how many went."""
        if not self.path.exists():
            return 0
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.retention_days)
        with self._lock, self._connect() as conn:
            gone = conn.execute(
                f"DELETE FROM {self.TABLE} WHERE created_at < ?",
                (cutoff.isoformat(timespec="seconds"),),
            ).rowcount
        conn.close()
        return int(gone)
