"""A thread-safe limiter that spaces calls to at most N per second.

Elhub allows 5 requests per second per IP. Spacing requests evenly (rather
than allowing bursts) keeps every one-second window under the limit, even
when several threads share one client.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Blocks in `acquire()` until the caller may send its next request."""

    def __init__(
        self,
        max_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_per_second <= 0:
            raise ValueError("max_per_second must be positive")
        self.interval_s = 1.0 / max_per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = float("-inf")

    def acquire(self) -> float:
        """Reserve the next free slot and wait for it; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval_s
        # Sleep outside the lock so other threads can reserve later slots meanwhile.
        wait_s = slot - now
        if wait_s > 0:
            self._sleep(wait_s)
        return wait_s
