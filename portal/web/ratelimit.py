"""A per-client sliding-window rate limiter, in process.

The anonymous check API needs a brake, not a distributed quota: one worker's memory is enough
and keeps the hot path free of network calls. Behind several workers each enforces its own
window; run a shared limiter (e.g. at the reverse proxy) if that matters.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most `limit` hits per `window` seconds for each key."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Record a hit; None when allowed, else the whole seconds to wait (for Retry-After)."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            if len(self._hits) > 10_000:
                self._forget_idle(now)
            return None

    def _forget_idle(self, now: float) -> None:
        # Bounds memory when many clients pass by once; called rarely, under the lock.
        idle = [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]
        for k in idle:
            del self._hits[k]
