"""The sliding window: a burst is cut off, and capacity returns as old hits leave the window."""

from portal.web.ratelimit import SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_slides() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(2, 60.0, clock)
    assert limiter.hit("a") is None
    clock.now += 30
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 30  # the first hit leaves the window in 30 s
    assert limiter.hit("b") is None  # per client
    clock.now += 30.5
    assert limiter.hit("a") is None
    assert limiter.hit("a") is not None


def test_refused_hits_do_not_extend_the_wait() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, 60.0, clock)
    limiter.hit("a")
    for _ in range(5):
        limiter.hit("a")
    clock.now += 60
    assert limiter.hit("a") is None
