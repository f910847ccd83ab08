"""A per-client token bucket: each client may ask `per_minute` questions a minute, in bursts."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

BUSY_MESSAGE = "The service is busy, please try again in a moment."
MAX_CLIENTS = 10_000  # forget idle clients beyond this, so memory stays bounded


class RateLimiter:
    """Token buckets keyed by client (IP address); thread-safe, shared by every channel."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be a positive number of requests")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens added per second
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._lock = threading.Lock()

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - last) * self.rate)

    def allow(self, key: str) -> bool:
        """Take one token for this client; False when the client has none left."""
        with self._lock:
            now = self.clock()
            tokens = self._tokens(key, now)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > MAX_CLIENTS:
                self._forget_idle(now)
            return True

    def retry_after(self, key: str) -> int:
        """Whole seconds until this client has a token again (0 when it has one now)."""
        with self._lock:
            tokens = self._tokens(key, self.clock())
        return 0 if tokens >= 1.0 else math.ceil((1.0 - tokens) / self.rate)

    def _forget_idle(self, now: float) -> None:
        # A bucket that has refilled completely carries no information: drop it.
        full = [k for k in self._buckets if self._tokens(k, now) >= self.capacity]
        for key in full:
            del self._buckets[key]
