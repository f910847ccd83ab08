"""A fair gate for answer computation: the chat page, the widget and the API take turns.

Answers are CPU work on a machine with few cores. Without a gate, 32 API clients run 32 answers
at once and a patient on the chat page waits behind all of them. The gate lets `slots` answers
run at once and, whenever a slot frees, gives it to the next channel in turn that has someone
waiting (round-robin), so a page question waits for at most one answer per other busy channel,
however many API clients are queued.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Iterator

CHANNELS = ("page", "widget", "api")


class FairGate:
    """At most `slots` holders at once; free slots go round-robin across channels' FIFO queues."""

    def __init__(self, slots: int, channels: tuple[str, ...] = CHANNELS) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self._free = slots
        self._waiting: dict[str, deque] = {name: deque() for name in channels}
        self._turns: deque[str] = deque()  # channels with someone waiting, next turn first
        self._cond = threading.Condition()

    def _next(self):
        """The ticket whose turn it is, or None when nobody waits."""
        while self._turns and not self._waiting[self._turns[0]]:
            self._turns.popleft()
        return self._waiting[self._turns[0]][0] if self._turns else None

    @contextlib.contextmanager
    def slot(self, channel: str) -> Iterator[None]:
        """Hold one slot for `channel` while the block runs (waits for its turn first)."""
        if channel not in self._waiting:
            raise ValueError(f"unknown channel {channel!r}; known: {', '.join(self._waiting)}")
        ticket = object()
        with self._cond:
            queue = self._waiting[channel]
            queue.append(ticket)
            if channel not in self._turns:
                self._turns.append(channel)
            try:
                while not (self._free > 0 and self._next() is ticket):
                    self._cond.wait()
            except BaseException:  # interrupted while waiting: leave the line, wake the next
                queue.remove(ticket)
                self._cond.notify_all()
                raise
            self._free -= 1
            queue.popleft()
            self._turns.popleft()  # this channel had the turn: it goes to the back
            if queue:
                self._turns.append(channel)
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._cond.notify_all()

    def waiting(self) -> dict[str, int]:
        """How many wait in each channel (for tests and diagnostics)."""
        with self._cond:
            return {name: len(queue) for name, queue in self._waiting.items()}
