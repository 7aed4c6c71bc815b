"""A tiny injectable HTTP layer for literature sources (PubMed, journal feeds).

Sources take an `HttpClient` so tests can script every response without a network.
`UrllibClient` is the real one, on the standard library only. It returns every HTTP status
as a response (callers decide what to retry) and turns timeouts and connection failures into
`TransportError`, whose message names the host only: query strings may carry API keys.
"""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from tools.errors import SteveError

USER_AGENT = "steve/0.1 (integrative-practice research tracking)"


class TransportError(SteveError):
    """No HTTP response at all: timeout, refused or dropped connection, DNS failure."""


class Headers(Mapping[str, str]):
    """Response headers with case-insensitive lookup; repeated headers joined by ', '."""

    def __init__(self, items: Mapping[str, str] | list[tuple[str, str]] | None = None) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items or [])
        for name, value in pairs:
            key = name.lower()
            if key in self._items:
                value = f"{self._items[key][1]}, {value}"
            self._items[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __repr__(self) -> str:
        return f"Headers({dict(self._items.values())!r})"


@dataclass
class HttpResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=Headers)
    body: bytes = b""
    url: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            self.headers = Headers(self.headers)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class HttpClient(Protocol):
    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float,
    ) -> HttpResponse: ...


def build_url(url: str, params: Mapping[str, str] | None) -> str:
    """`url` with `params` appended as a query string (commas kept readable for id lists)."""
    if not params:
        return url
    query = urllib.parse.urlencode(list(params.items()), safe=",")
    return f"{url}{'&' if '?' in url else '?'}{query}"


class UrllibClient:
    """The real client on urllib.request. Non-2xx statuses come back as responses (redirects
    are followed); `max_bytes` stops a runaway body from filling memory."""

    def __init__(self, *, user_agent: str = USER_AGENT, max_bytes: int = 64 * 1024 * 1024):
        self.user_agent = user_agent
        self.max_bytes = max_bytes

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float,
    ) -> HttpResponse:
        full_url = build_url(url, params)
        host = urllib.parse.urlsplit(url).netloc or url
        request = urllib.request.Request(
            full_url, headers={"User-Agent": self.user_agent, **(headers or {})}, method="GET"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                body = reply.read(self.max_bytes + 1)
                status, reply_headers, final_url = reply.status, reply.headers, reply.url
        except urllib.error.HTTPError as exc:  # a real response with a non-2xx status
            try:
                body = exc.read(self.max_bytes + 1)
            except (OSError, http.client.HTTPException):
                body = b""
            return HttpResponse(exc.code, Headers(list(exc.headers.items())), body, full_url)
        except TimeoutError:
            raise TransportError(f"{host}: no response within {timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise TransportError(f"{host}: no response within {timeout:g} s") from None
            raise TransportError(f"{host}: connection failed ({_reason(exc.reason)})") from None
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"{host}: connection failed ({_reason(exc)})") from None
        if len(body) > self.max_bytes:
            raise TransportError(f"{host}: response larger than {self.max_bytes} bytes")
        return HttpResponse(status, Headers(list(reply_headers.items())), body, final_url)


def _reason(error: object) -> str:
    """A one-line reason without URLs (they may carry keys)."""
    text = re.sub(r"\?\S*", "?...", str(error) or type(error).__name__)
    return " ".join(text.split())[:200]
