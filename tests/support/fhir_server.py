"""A loopback FHIR R4 server with real search semantics, for the EHR sync's tests.

No complete FHIR server installs from the registries this machine reaches (HAPI's JPA
server is not published as a runnable artifact; npm has frameworks, not servers), so the
tests run against this one, on 127.0.0.1 and a free port, in a thread:

- resources stored per type with `meta.versionId` (1, 2, ...) and `meta.lastUpdated` (the
  server's clock, injectable);
- `GET /fhir/{type}?_lastUpdated=[gt|ge|lt|le|eq]INSTANT&_count=N&_sort=[-]_lastUpdated`
  answers a `searchset` Bundle with `total`, `self` and `next` links; `next` is an opaque
  page token over the result ids as they were when the search ran (as HAPI's `_getpages`);
  `_count` above `max_page_size` is cut to it; unknown parameters are a 400;
- bearer tokens: with `require_token` set, a request without a valid one gets a 401;
- SMART backend services: `POST /auth/token` checks the client assertion's signature with
  the client's registered public key (RS384/ES384), its iss/sub/aud/exp/jti, and issues a
  token with `expires_in`;
- faults: `fail_next(k, status, retry_after)` answers the next k requests with 429/5xx;
- every request is logged (method, path, query, Authorization) for the tests to read.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

PREFIXES = ("gt", "ge", "lt", "le", "eq")
SKEW_S = 30  # clock difference allowed between client and server, as real servers allow
SEARCH_PARAMS = {"_lastUpdated", "_count", "_sort", "_total", "_format"}


def instant(when: datetime) -> str:
    """As the server writes meta.lastUpdated: milliseconds, UTC, 'Z'."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _parse_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None


@dataclass
class Fault:
    status: int
    retry_after: str | None


@dataclass
class FhirState:
    clock: Callable[[], datetime]
    max_page_size: int = 100
    require_token: bool = False
    tokens: set[str] = field(default_factory=set)
    clients: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (public PEM, alg)
    token_lifetime_s: int = 300
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    searches: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    used_jti: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FhirServer:
    """The server; `base_url` ends in /fhir, `token_url` is its token endpoint."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None, max_page_size: int = 100):
        self.state = FhirState(clock=clock or (lambda: datetime.now(UTC)))
        self.state.max_page_size = max_page_size
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/fhir"
        self.token_url = f"http://127.0.0.1:{self.port}/auth/token"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> FhirServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # ------------------------------------------------------------------ the data

    def put(self, resource: dict[str, Any], *, at: datetime | None = None) -> dict[str, Any]:
        """Create or update a resource (as a PUT would): a new version, lastUpdated `at`."""
        s = self.state
        with s.lock:
            kind, rid = resource["resourceType"], resource["id"]
            old = s.resources.setdefault(kind, {}).get(rid)
            version = int(old["meta"]["versionId"]) + 1 if old else 1
            stored = json.loads(json.dumps(resource))
            stored["meta"] = {
                **stored.get("meta", {}),
                "versionId": str(version),
                "lastUpdated": instant(at or s.clock()),
            }
            s.resources[kind][rid] = stored
            return stored

    # ---------------------------------------------------------------- behaviour

    def fail_next(self, count: int, status: int = 429, retry_after: str | None = None) -> None:
        with self.state.lock:
            self.state.faults.extend(Fault(status, retry_after) for _ in range(count))

    def require_bearer(self, *tokens: str) -> None:
        self.state.require_token = True
        self.state.tokens.update(tokens)

    def register_client(self, client_id: str, public_pem: str, algorithm: str = "RS384") -> None:
        self.state.require_token = True
        self.state.clients[client_id] = (public_pem, algorithm)

    def expire_tokens(self) -> None:
        with self.state.lock:
            self.state.tokens.clear()

    @property
    def requests(self) -> list[Request]:
        return list(self.state.requests)

    def searches_of(self, resource_type: str) -> list[Request]:
        """The requests that started a search of the type (not page fetches)."""
        return [r for r in self.requests if r.path == f"/fhir/{resource_type}"]


@contextmanager
def running_fhir_server(**kwargs: Any) -> Iterator[FhirServer]:
    server = FhirServer(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()


# ----------------------------------------------------------------------- HTTP


def _outcome(code: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }


def _handler(state: FhirState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _send(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            content = "application/json" if "access_token" in body else "application/fhir+json"
            self.send_header("Content-Type", content)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _start(self, method: str) -> tuple[str, dict[str, list[str]]] | None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            auth = self.headers.get("Authorization")
            with state.lock:
                state.requests.append(Request(method, parts.path, query, auth))
                fault = state.faults.pop(0) if state.faults else None
            if fault is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(fault.status, _outcome("throttled", "try later"), headers)
                return None
            return parts.path, query

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            started = self._start("POST")
            if started is None:
                return
            if started[0] != "/auth/token":
                self._send(405, _outcome("not-supported", "read only"))
                return
            status, body = _token(state, parse_qs(raw), f"http://{self.headers['Host']}/auth/token")
            self._send(status, body)

        def do_GET(self) -> None:
            started = self._start("GET")
            if started is None:
                return
            path, query = started
            if state.require_token and not _authorised(state, self.headers.get("Authorization")):
                self._send(401, _outcome("login", "a valid bearer token is required"))
                return
            base = f"http://{self.headers['Host']}/fhir"
            status, body = _get(state, path, query, base)
            self._send(status, body)

    return Handler


def _authorised(state: FhirState, header: str | None) -> bool:
    if not header or not header.startswith("Bearer "):
        return False
    with state.lock:
        return header.removeprefix("Bearer ") in state.tokens


def _token(state: FhirState, form: dict[str, list[str]], audience: str) -> tuple[int, Any]:
    import jwt

    def one(name: str) -> str:
        return (form.get(name) or [""])[0]

    if one("grant_type") != "client_credentials":
        return 400, {"error": "unsupported_grant_type"}
    if one("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
        return 400, {"error": "invalid_request"}
    assertion = one("client_assertion")
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
        client = state.clients[unverified["iss"]]
        claims = jwt.decode(
            assertion,
            client[0],
            algorithms=[client[1]],
            audience=audience,
            issuer=unverified["iss"],
            options={"require": ["exp", "jti", "sub", "iss", "aud"]},
            leeway=SKEW_S,
        )
    except (jwt.PyJWTError, KeyError):
        return 401, {"error": "invalid_client"}
    latest = state.clock() + timedelta(minutes=5, seconds=SKEW_S)
    if claims["sub"] != claims["iss"] or claims["exp"] > latest.timestamp():
        return 401, {"error": "invalid_client"}
    with state.lock:
        if claims["jti"] in state.used_jti:
            return 401, {"error": "invalid_client"}
        state.used_jti.add(claims["jti"])
        token = uuid.uuid4().hex
        state.tokens.add(token)
    return 200, {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": state.token_lifetime_s,
        "scope": one("scope"),
    }


def _get(state: FhirState, path: str, query: dict[str, list[str]], base: str) -> tuple[int, Any]:
    if path == "/fhir" and "_getpages" in query:
        return _page(state, query, base)
    parts = path.strip("/").split("/")
    if len(parts) != 2 or parts[0] != "fhir":
        return 404, _outcome("not-found", "no such path")
    kind = parts[1]
    unknown = set(query) - SEARCH_PARAMS
    if unknown:
        return 400, _outcome("not-supported", f"unknown search parameter {sorted(unknown)[0]}")
    try:
        ids = _search(state, kind, query)
        count = _count(state, query)
    except ValueError as exc:
        return 400, _outcome("invalid", str(exc))
    token = uuid.uuid4().hex
    with state.lock:
        state.searches[token] = (kind, ids)
    return _page(
        state, {"_getpages": [token], "_getpagesoffset": ["0"], "_count": [str(count)]}, base
    )


def _count(state: FhirState, query: dict[str, list[str]]) -> int:
    text = (query.get("_count") or [str(state.max_page_size)])[0]
    if not text.isdigit():
        raise ValueError("_count must be a number")
    return max(1, min(int(text), state.max_page_size))


def _search(state: FhirState, kind: str, query: dict[str, list[str]]) -> list[str]:
    with state.lock:
        stored = list(state.resources.get(kind, {}).values())
    for value in query.get("_lastUpdated", []):
        prefix, text = (value[:2], value[2:]) if value[:2] in PREFIXES else ("eq", value)
        try:
            bound = _parse_instant(text)
        except ValueError:
            raise ValueError(f"_lastUpdated {value!r} is not a date") from None
        stored = [
            r for r in stored if _matches(_parse_instant(r["meta"]["lastUpdated"]), prefix, bound)
        ]
    sort = (query.get("_sort") or [""])[0]
    if sort not in ("", "_lastUpdated", "-_lastUpdated"):
        raise ValueError(f"cannot sort by {sort}")
    if sort:
        stored.sort(key=lambda r: (r["meta"]["lastUpdated"], r["id"]), reverse=sort.startswith("-"))
    else:
        stored.sort(key=lambda r: r["id"])
    return [r["id"] for r in stored]


def _matches(when: datetime, prefix: str, bound: datetime) -> bool:
    return {
        "gt": when > bound,
        "ge": when >= bound,
        "lt": when < bound,
        "le": when <= bound,
        "eq": when == bound,
    }[prefix]


def _page(state: FhirState, query: dict[str, list[str]], base: str) -> tuple[int, Any]:
    token = (query.get("_getpages") or [""])[0]
    with state.lock:
        found = state.searches.get(token)
    if found is None:
        return 410, _outcome("not-found", "search expired")
    kind, ids = found
    offset = int((query.get("_getpagesoffset") or ["0"])[0])
    count = _count(state, query)
    chunk = ids[offset : offset + count]
    with state.lock:
        entries = [
            {
                "fullUrl": f"{base}/{kind}/{rid}",
                "resource": state.resources[kind][rid],
                "search": {"mode": "match"},
            }
            for rid in chunk
            if rid in state.resources.get(kind, {})
        ]

    def link(at: int) -> str:
        return base + "?" + urlencode({"_getpages": token, "_getpagesoffset": at, "_count": count})

    links = [{"relation": "self", "url": link(offset)}]
    if offset + count < len(ids):
        links.append({"relation": "next", "url": link(offset + count)})
    bundle = {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "type": "searchset",
        "total": len(ids),
        "link": links,
        "entry": entries,
    }
    return 200, bundle
