"""A thread-safe sliding-window rate limiter shared by every request to one service.

NCBI allows 3 requests per second without an API key and 10 with one, per key or IP, so one
limiter must be shared by all PubMed requests in the process: `for_ncbi` hands out one
instance per kind (with or without a key). Tests inject their own with a fake clock.

Each caller reserves the earliest start time that keeps at most `max_requests` starts in any
1-second window, then sleeps until it outside the lock. Reserving (rather than sleeping under
the lock and re-checking) gives first-come-first-served order and waits no longer than needed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

NCBI_RATE_WITHOUT_KEY = 3
NCBI_RATE_WITH_KEY = 10


class RateLimiter:
    """At most `max_requests` request starts in any `window`-second interval."""

    def __init__(
        self,
        *,
        max_requests: int,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_requests < 1:
            raise ValueError("max_requests must be at least 1")
        if window <= 0:
            raise ValueError("window must be positive")
        self.max_requests = max_requests
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self._starts: deque[float] = deque(maxlen=max_requests)  # the last N reserved starts
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        return self.max_requests / self.window

    def reserve(self) -> tuple[float, float]:
        """Book the next start: (start time on `clock`, seconds to wait from now)."""
        with self._lock:
            now = self.clock()
            start = now
            if len(self._starts) == self.max_requests:
                # The N-th previous start must be at least one window earlier.
                start = max(start, self._starts[0] + self.window)
            if self._starts:
                start = max(start, self._starts[-1])  # keep starts ordered
            self._starts.append(start)
            return start, start - now

    def acquire(self) -> float:
        """Wait until a request may start; returns its start time on `clock`."""
        start, wait = self.reserve()
        if wait > 0:
            self.sleep(wait)
        return start


_shared: dict[bool, RateLimiter] = {}
_shared_lock = threading.Lock()


NCBI_WINDOW = 1.05


def for_ncbi(api_key: str | None) -> RateLimiter:
    """The process-wide NCBI limiter: 3/s without an API key, 10/s with one."""
    keyed = bool(api_key)
    with _shared_lock:
        if keyed not in _shared:
            rate = NCBI_RATE_WITH_KEY if keyed else NCBI_RATE_WITHOUT_KEY
            # A 50 ms margin: threads wake late and the network adds jitter, so NCBI could
            # otherwise see N+1 requests inside its one-second window.
            _shared[keyed] = RateLimiter(max_requests=rate, window=NCBI_WINDOW)
        return _shared[keyed]
