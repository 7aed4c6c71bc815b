"""Every request to the EHR: a timeout, and bounded retries after 429, 5xx or no answer.

A 429 or 503 with `Retry-After` (seconds, or an HTTP date) waits that long, as the server
asked; a server asking for longer than `max_wait_s` fails the run instead of stalling it.
Without the header the wait doubles from `backoff_s`. Errors name the host and the status,
never the query (it may carry a token) nor any resource content.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from db.engine import utcnow
from tools.errors import Unavailable

if TYPE_CHECKING:
    import requests

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_S = 60.0


class SyncError(Unavailable):
    """The EHR could not be read: refused, unreachable, or it kept failing."""


@dataclass(frozen=True)
class RetryPolicy:
    timeout_s: float = 30.0
    max_retries: int = 4
    backoff_s: float = 1.0
    max_wait_s: float = 120.0


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """`Retry-After` as seconds from `now`: '120' or 'Fri, 31 Dec 1999 23:59:59 GMT'."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def host_of(url: str) -> str:
    return urlsplit(url).netloc or "the EHR"


@dataclass
class Transport:
    """A requests session with the policy's timeout and retries (sleep and clock injectable)."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = utcnow
    session: Any = None  # a requests.Session; made on first use
    requests_made: int = 0
    waited_s: float = 0.0

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """The server's answer (any status but the retried ones, or the last of those)."""
        import requests

        if self.session is None:
            self.session = requests.Session()
        attempt = 0
        while True:
            attempt += 1
            self.requests_made += 1
            try:
                reply = self.session.request(
                    method,
                    url,
                    headers=dict(headers or {}),
                    json=json,
                    data=form,
                    timeout=self.policy.timeout_s,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                if attempt > self.policy.max_retries:
                    raise SyncError(
                        f"{host_of(url)}: {_why(exc)} after {attempt} attempts"
                    ) from None
                self._wait(self._backoff(attempt))
                continue
            if reply.status_code not in RETRY_STATUSES:
                return reply
            if attempt > self.policy.max_retries:
                raise SyncError(
                    f"{host_of(url)}: HTTP {reply.status_code} after {attempt} attempts"
                )
            asked = retry_after_seconds(reply.headers.get("Retry-After"), now=self.clock())
            if asked is not None and asked > self.policy.max_wait_s:
                raise SyncError(
                    f"{host_of(url)}: HTTP {reply.status_code}, asked to wait {asked:g} s "
                    f"(more than max_wait_s {self.policy.max_wait_s:g}); try again later"
                )
            self._wait(asked if asked is not None else self._backoff(attempt))

    def _backoff(self, attempt: int) -> float:
        return min(MAX_BACKOFF_S, self.policy.backoff_s * 2 ** (attempt - 1))

    def _wait(self, seconds: float) -> None:
        self.waited_s += seconds
        if seconds > 0:
            self.sleep(seconds)


def _why(exc: Exception) -> str:
    import requests

    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__
