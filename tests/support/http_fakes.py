"""Test doubles for `tools.literature.sources.http`: a fake clock and a scripted HTTP client.

Nothing here opens a socket. `FakeHttpClient` answers from scripts keyed by URL and a subset
of the query parameters, and records every request with the fake clock's time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tests.support import paths
from tools.literature.sources.http import HttpResponse, TransportError

FIXTURES = paths.FIXTURES / "pubmed"


class FakeClock:
    """A clock that only moves when someone sleeps on it; records each sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@dataclass
class Request:
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    timeout: float
    at: float  # the fake clock's time when the request was sent


@dataclass
class Hang:
    """The server never answers: the clock moves on by the timeout, then the client gives up."""


Reply = HttpResponse | Hang | Exception | Callable[[Request], HttpResponse]


@dataclass
class _Route:
    url: str
    params: dict[str, str]
    replies: list[Reply]
    served: int = 0


@dataclass
class FakeHttpClient:
    clock: FakeClock = field(default_factory=FakeClock)
    requests: list[Request] = field(default_factory=list)
    _routes: list[_Route] = field(default_factory=list)

    def script(self, url: str, *replies: Reply, **params: str) -> None:
        """Answer requests to `url` whose params include `params` with `replies` in order;
        the last reply repeats. Later scripts win over earlier ones for the same request."""
        self._routes.insert(0, _Route(url, dict(params), list(replies)))

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float,
    ) -> HttpResponse:
        request = Request(url, dict(params or {}), dict(headers or {}), timeout, self.clock())
        self.requests.append(request)
        for route in self._routes:
            if route.url == url and all(
                request.params.get(k) == v for k, v in route.params.items()
            ):
                reply = route.replies[min(route.served, len(route.replies) - 1)]
                route.served += 1
                break
        else:
            raise AssertionError(f"unscripted request {url} {request.params}")
        if isinstance(reply, Hang):
            self.clock.advance(timeout)
            raise TransportError(f"eutils.ncbi.nlm.nih.gov: no response within {timeout:g} s")
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply


def ok(body: bytes, content_type: str = "text/xml; charset=UTF-8") -> HttpResponse:
    return HttpResponse(200, {"Content-Type": content_type}, body)


def status(code: int, body: bytes = b"", **headers: str) -> HttpResponse:
    return HttpResponse(code, {k.replace("_", "-"): v for k, v in headers.items()}, body)


def html_error(code: int = 503) -> HttpResponse:
    body = (FIXTURES / "ncbi_error.html").read_bytes()
    return HttpResponse(code, {"Content-Type": "text/html"}, body)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
