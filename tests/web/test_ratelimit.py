"""The limits-backed window: a burst is cut off per key, and with Redis every process shares it."""

import uuid

import pytest

from portal.web.ratelimit import SlidingWindowLimiter

REDIS = "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize("storage", ["memory://", REDIS])
def test_a_burst_is_cut_off_at_the_limit_per_key(storage: str) -> None:
    limiter = SlidingWindowLimiter(3, 60.0, storage_uri=storage, name=f"t-{uuid.uuid4().hex}")
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    wait = limiter.hit("a")
    assert wait is not None and 1 <= wait <= 60
    assert limiter.hit("b") is None  # per key
    limiter.clear("a")
    assert limiter.hit("a") is None


def test_two_processes_on_one_redis_share_the_quota() -> None:
    name = f"t-{uuid.uuid4().hex}"
    # Two limiters stand for two instances: each has its own client, the counts are Redis's.
    first = SlidingWindowLimiter(4, 60.0, storage_uri=REDIS, name=name)
    second = SlidingWindowLimiter(4, 60.0, storage_uri=REDIS, name=name)
    allowed = sum(limiter.hit("bank-key") is None for limiter in (first, second) * 5)
    assert allowed == 4
