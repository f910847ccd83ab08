"""A circuit breaker for a store that hangs: after a few timeouts in a row, fail at once a while.

Why: with a stopped or overloaded Chroma server every call waits for its full timeout, and
questions pile up behind one another. Once `failures` calls in a row have timed out, calls are
refused without touching the network for `cooldown` seconds; then one trial call is let through,
and its outcome closes the breaker or opens it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class BreakerOpen(Exception):
    """Raised by `CircuitBreaker.before` while calls are refused; carries the seconds left."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"refused for another {retry_in:.0f} s")
        self.retry_in = retry_in


class CircuitBreaker:
    """Counts timeouts in a row; open (refusing) for `cooldown` seconds after `failures` of them."""

    def __init__(
        self,
        failures: int = 3,
        cooldown: float = 10.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1:
            raise ValueError("failures must be at least 1")
        if cooldown < 0:
            raise ValueError("cooldown must not be negative")
        self.failures = failures
        self.cooldown = cooldown
        self.clock = clock
        self._count = 0
        self._opened_at: float | None = None
        self._trial = False  # a call is testing the store after the cooldown
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """True while calls are being refused (a trial may be running)."""
        with self._lock:
            return self._opened_at is not None

    def before(self) -> bool:
        """Call before using the store: raises BreakerOpen while open; True for the trial call."""
        with self._lock:
            if self._opened_at is None:
                return False
            left = self._opened_at + self.cooldown - self.clock()
            if left > 0 or self._trial:
                raise BreakerOpen(max(left, 0.0))
            self._trial = True
            return True

    def success(self) -> None:
        """The store answered: close the breaker."""
        with self._lock:
            self._count = 0
            self._opened_at = None
            self._trial = False

    def failure(self) -> None:
        """A call timed out: count it, and open (again) once there are `failures` in a row."""
        with self._lock:
            self._count += 1
            self._trial = False
            if self._count >= self.failures or self._opened_at is not None:
                self._opened_at = self.clock()
