"""A best-effort writer lease on a Chroma server: one record with an owner and an expiry.

Chroma has no compare-and-swap, so two ingests that start in the same instant can both believe
they hold the lease; the store also checks, just before it switches the pointer, that the live
generation is still the one it started from, so such a race fails loudly instead of losing an
update. Readers never touch the lease, and an ingest that changes nothing never writes it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from vectorstore.errors import StoreUnavailableError

log = logging.getLogger(__name__)

TTL_SECONDS = 60.0  # a killed ingest blocks the next one for at most this long


class Lease:
    """One writer at a time across processes and machines, renewed by a background thread."""

    def __init__(
        self,
        meta: Callable[[bool], Any],
        record_id: str,
        *,
        ttl: float = TTL_SECONDS,
        poll: float = 0.5,
        settle: float = 0.25,
    ) -> None:
        self._meta = meta  # meta(create) -> the bot_meta collection, or None if absent
        self._id = record_id
        self._ttl = ttl
        self._poll = poll
        self._settle = settle
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost: BaseException | None = None

    def holder(self) -> dict | None:
        """The lease record (owner, expires), or None when there is none."""
        meta = self._meta(False)
        if meta is None:
            return None
        got = meta.get(ids=[self._id], include=["metadatas"])
        return got["metadatas"][0] if got["ids"] else None

    def wait_until_free(self) -> None:
        """Block while another process holds an unexpired lease; only reads."""
        told = False
        while True:
            record = self.holder()
            if record is None or record["owner"] == self.owner or record["expires"] <= time.time():
                return
            if not told:
                log.warning("waiting for another ingest (%s) to finish", record["owner"])
                told = True
            time.sleep(self._poll)

    def acquire(self) -> None:
        """Take the lease (after any other holder) and keep renewing it until release()."""
        if self.held:
            return
        while True:
            self.wait_until_free()
            self._write()
            # Two writers that both saw it free both wrote; the later record wins and the
            # other one, reading it back, goes back to waiting.
            time.sleep(self._settle)
            record = self.holder()
            if record is not None and record["owner"] == self.owner:
                break
        self.held = True
        self._lost = None
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew, name="chroma-lease", daemon=True)
        self._thread.start()

    def check(self) -> None:
        """Raise StoreUnavailableError if the lease lapsed or another process took it."""
        record = self.holder()
        if self._lost is not None or record is None or record["owner"] != self.owner:
            raise StoreUnavailableError(
                "this ingest lost its write lease on the Chroma server (it could not renew it, "
                "or another ingest took it over); nothing was switched: run the ingest again"
            )

    def release(self) -> None:
        """Stop renewing and delete the lease record if it is still ours."""
        if not self.held:
            return
        self.held = False
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        record = self.holder()
        if record is not None and record["owner"] == self.owner:
            self._meta(True).delete(ids=[self._id])

    def _write(self) -> None:
        self._meta(True).upsert(
            ids=[self._id],
            embeddings=[[0.0]],
            documents=[self.owner],
            metadatas=[{"owner": self.owner, "expires": time.time() + self._ttl}],
        )

    def _renew(self) -> None:
        while not self._stop.wait(self._ttl / 6):
            try:
                self._write()
            except Exception as err:  # remembered: check() then fails the commit
                self._lost = err
                log.warning("could not renew the ingest lease: %s", err)
                return
