"""Security middleware and helpers: headers, request size limit, a catch-all for errors,
request logging without patient data, and an in-memory rate limiter.

Pure ASGI middleware (not BaseHTTPMiddleware) so streaming responses (SSE) pass through.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import body as error_body

log = logging.getLogger("steve.api")

# Everything is served by us: no inline script, no third-party origin, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
# /docs and /redoc (app.api.docs): Swagger UI and ReDoc from our own files; ReDoc writes
# its styles into <style> elements, hence 'unsafe-inline' for styles (never for scripts).
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


def _json(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, json.dumps(error_body(code, message)).encode()


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    status, payload = _json(status, code, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Receive, limit: int) -> list[Message] | None:
    """The request's messages up to the end of its body, or None once it passes `limit`."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":  # the client went away
            return messages
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive() giving the buffered messages, then the client's (e.g. a disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class SecurityMiddleware:
    """Headers on every response, 413 for large bodies, 500 without details for bugs, and
    one log line per request naming the route template (ids and names never logged)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        larger_bodies: dict[str, int] | None = None,
        hsts: bool = False,
    ) -> None:
        self.app, self.default_max_body, self.hsts = app, max_body, hsts
        self.larger_bodies = dict(larger_bodies or {})  # path prefix -> its own limit

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.larger_bodies.items():
            if path.startswith(prefix):
                return limit
        return self.default_max_body

    def _headers(self, path: str) -> list[tuple[bytes, bytes]]:
        csp = DOCS_CSP if path.startswith(DOCS_PATHS) else CSP
        out = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"content-security-policy", csp.encode()),
        ]
        if not path.startswith("/static/"):
            out.append((b"cache-control", b"no-store"))  # patient data stays off disk caches
        if self.hsts:
            out.append((b"strict-transport-security", b"max-age=31536000"))
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        max_body = self.limit_for(path)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            await _send_error(send, 413, "too_large", f"request body over {max_body} bytes")
            return
        # The body is read here, before any route: a chunked body (no Content-Length) over the
        # limit is a 413 too, not whatever the route's body parser makes of an error.
        buffered = await _read_body(receive, max_body)
        if buffered is None:
            await _send_error(send, 413, "too_large", f"request body over {max_body} bytes")
            return
        limited_receive = _replay(buffered, receive)

        started, status = time.perf_counter(), 0
        response_started = False
        extra = self._headers(path)

        async def send_with_headers(message: Message) -> None:
            nonlocal response_started, status
            if message["type"] == "http.response.start":
                response_started, status = True, message["status"]
                names = {k.lower() for k, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers += [(k, v) for k, v in extra if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except Exception as exc:  # the text may hold patient data: log the type only
            log.error("unhandled %s in request", type(exc).__name__)
            if not response_started:
                await _send_error(
                    send_with_headers,
                    500,
                    "internal",
                    "an internal error occurred; nothing was changed",
                )
        route = scope.get("route")
        template = getattr(route, "path", None) or (
            "/static" if path.startswith("/static/") else "?"
        )
        log.info(
            "%s %s %s %.1fms",
            scope.get("method"),
            template,
            status,
            (time.perf_counter() - started) * 1000,
        )


class RateLimiter:
    """At most `limit` events per key in any `window` seconds (one process's memory: with
    several `steve serve` processes each enforces its own share)."""

    def __init__(self, limit: int, window: float = 60.0, clock: Any = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Record an event; None when allowed, else seconds until the next is allowed."""
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and now - events[0] >= self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(0.0, self.window - (now - events[0]))
            events.append(now)
            if len(self._events) > 10_000:  # forget idle keys so memory stays bounded
                for k in [k for k, v in self._events.items() if not v][:5000]:
                    del self._events[k]
            return None
