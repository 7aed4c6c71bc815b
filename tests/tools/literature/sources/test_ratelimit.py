"""The shared sliding-window rate limiter, on a fake clock."""

from __future__ import annotations

import threading

import pytest

from tests.support.http_fakes import FakeClock
from tools.literature.sources import ratelimit
from tools.literature.sources.ratelimit import RateLimiter, for_ncbi


def assert_windows(starts: list[float], limit: int, window: float = 1.0) -> None:
    """No `window`-second interval [t, t + window) holds more than `limit` starts."""
    ordered = sorted(starts)
    for t in ordered:
        inside = [s for s in ordered if t <= s < t + window]
        assert len(inside) <= limit, f"{len(inside)} starts in [{t}, {t + window})"


def test_burst_from_many_threads_never_exceeds_the_window() -> None:
    clock = FakeClock(start=0.0)  # time stands still: every thread arrives at once
    limiter = RateLimiter(max_requests=3, clock=clock, sleep=lambda _: None)
    starts: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(5):
            start = limiter.acquire()
            with lock:
                starts.append(start)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(starts) == 40
    assert_windows(starts, 3)
    # ...and no later than needed: three per second, back to back.
    assert sorted(starts) == [float(i // 3) for i in range(40)]


@pytest.mark.parametrize(("api_key", "rate"), [(None, 3), ("", 3), ("abc123", 10)])
def test_ncbi_rates(api_key: str | None, rate: int) -> None:
    limiter = for_ncbi(api_key)
    assert limiter.max_requests == rate
    assert limiter.window == 1.05  # a margin over NCBI's one-second window
    assert for_ncbi(api_key) is limiter  # one shared instance per kind in the process


def test_keyed_and_unkeyed_limiters_are_separate() -> None:
    assert for_ncbi(None) is not for_ncbi("key")
    assert for_ncbi("key") is for_ncbi("another-key")
    assert set(ratelimit._shared) == {False, True}


@pytest.mark.parametrize("rate", [3, 10])
def test_burst_at_ncbi_rates(rate: int) -> None:
    clock = FakeClock(start=50.0)
    limiter = RateLimiter(max_requests=rate, clock=clock, sleep=clock.sleep)
    starts = [limiter.acquire() for _ in range(2 * rate + 1)]
    assert_windows(starts, rate)
    assert starts[:rate] == [50.0] * rate
    assert starts[rate : 2 * rate] == [51.0] * rate
    assert starts[-1] == 52.0
    assert clock.now == 52.0


def test_waits_only_as_long_as_needed() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(max_requests=3, clock=clock, sleep=clock.sleep)
    arrivals = [0.0, 0.1, 0.2, 0.3, 1.05, 2.5, 2.6, 2.7, 2.8]
    starts = []
    for arrival in arrivals:
        clock.now = max(clock.now, arrival)
        starts.append(limiter.acquire())
    # 4th waits for the 1st to leave the window (0.0 + 1), 5th for the 2nd (0.1 + 1);
    # at 2.5 the window is empty again, and the 9th waits for 2.5 + 1.
    assert starts == pytest.approx([0.0, 0.1, 0.2, 1.0, 1.1, 2.5, 2.6, 2.7, 3.5])
    assert clock.sleeps == pytest.approx([0.7, 0.05, 0.7])
    assert_windows(starts, 3)


def test_no_wait_when_under_the_limit() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(max_requests=10, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        limiter.acquire()
        clock.advance(0.1)
    assert clock.sleeps == []


def test_reserve_reports_the_wait_without_sleeping() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(max_requests=1, clock=clock, sleep=clock.sleep)
    assert limiter.reserve() == (0.0, 0.0)
    assert limiter.reserve() == (1.0, 1.0)
    assert clock.sleeps == []
    assert limiter.rate == 1.0


@pytest.mark.parametrize(("max_requests", "window"), [(0, 1.0), (3, 0.0)])
def test_rejects_nonsense_limits(max_requests: int, window: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(max_requests=max_requests, window=window)
