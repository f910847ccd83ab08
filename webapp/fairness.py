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
    """At most `slots` holders at once; free slots go round-robin across channels' FIFO queues.

    `caps` limits what one channel may hold at once (the app keeps one slot out of the API's
    reach, so a person on the page or the widget never waits for a whole API answer)."""

    def __init__(
        self,
        slots: int,
        channels: tuple[str, ...] = CHANNELS,
        *,
        caps: dict[str, int] | None = None,
    ) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        caps = dict(caps or {})
        if set(caps) - set(channels) or any(c < 1 for c in caps.values()):
            raise ValueError("caps must name known channels, each with at least 1 slot")
        self.slots = slots
        self._free = slots
        self._caps = {name: min(slots, caps.get(name, slots)) for name in channels}
        self._held = dict.fromkeys(channels, 0)
        self._waiting: dict[str, deque] = {name: deque() for name in channels}
        self._turns: deque[str] = deque()  # channels with someone waiting, next turn first
        self._cond = threading.Condition()

    def _next(self):
        """The ticket whose turn it is (its channel under its cap), or None."""
        if self._free <= 0:
            return None
        for channel in self._turns:
            if self._waiting[channel] and self._held[channel] < self._caps[channel]:
                return self._waiting[channel][0]
        return None

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
                while self._next() is not ticket:
                    self._cond.wait()
            except BaseException:  # interrupted while waiting: leave the line, wake the next
                queue.remove(ticket)
                if not queue:
                    self._turns.remove(channel)
                self._cond.notify_all()
                raise
            self._free -= 1
            self._held[channel] += 1
            queue.popleft()
            self._turns.remove(channel)  # this channel had the turn: it goes to the back
            if queue:
                self._turns.append(channel)
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._held[channel] -= 1
                self._cond.notify_all()

    def waiting(self) -> dict[str, int]:
        """How many wait in each channel (for tests and diagnostics)."""
        with self._cond:
            return {name: len(queue) for name, queue in self._waiting.items()}
