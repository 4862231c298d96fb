"""Rate limits shared by every worker and instance, on the `limits` library.

With `PORTAL_REDIS_URL` set, every process counts in the same Redis, so N workers or N instances
enforce one quota; without it the counts live in this process's memory (the embedded default,
one process). The moving window cuts a burst off at the limit and gives capacity back as old
hits leave the window.
"""

from __future__ import annotations

import math
from datetime import UTC

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from portal.clock import Clock

_WALL = Clock(UTC)


class SlidingWindowLimiter:
    """At most `limit` hits per `window` seconds for each key, in `storage_uri`."""

    def __init__(
        self, limit: int, window: float = 60.0, *, storage_uri: str = "memory://", name: str = "portal"
    ) -> None:
        self.limit = limit
        self.window = window
        self._item = RateLimitItemPerSecond(limit, max(1, round(window)), namespace=name)
        self._strategy = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def hit(self, key: str) -> int | None:
        """Record a hit; None when allowed, else the whole seconds to wait (for Retry-After)."""
        if self._strategy.hit(self._item, key):
            return None
        reset_at = self._strategy.get_window_stats(self._item, key).reset_time
        # The window's reset is wall-clock epoch seconds (the limits library's), never pinned.
        return max(1, math.ceil(reset_at - _WALL.real_now().timestamp()))

    def clear(self, key: str) -> None:
        """Forget `key`'s hits (an administrator lifted a block)."""
        self._strategy.clear(self._item, key)
