"""The Chroma client: opening an embedded directory or a server, what its failures mean,
and scrubbing deleted text from an embedded directory's files.

Chroma is imported only here and only when a store is opened: commands that never touch
memory do not pay for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from memory import store_format
from tools.errors import ConfigError, SteveError, Unavailable

DEFAULT_TIMEOUT_SECONDS = 20.0  # as STEVE_HTTP_TIMEOUT_SECONDS


def _settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


def persistent_client(directory: Path) -> Any:
    """The embedded client over a directory, once it has listed its collections."""
    import chromadb

    client = chromadb.PersistentClient(path=str(directory), settings=_settings())
    client.list_collections()
    return client


@dataclass(frozen=True)
class Server:
    """Where a Chroma server listens, and how long each request may take."""

    scheme: str
    host: str
    port: int
    timeout_seconds: float

    @property
    def location(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def server(url: str, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> Server:
    """A Chroma server's address from its URL, or ConfigError naming what is wrong."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"Chroma URL must look like http://host:port; got {url!r}")
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    except ValueError:
        raise ConfigError(f"Chroma URL has an invalid port: {url!r}") from None
    if isinstance(timeout_seconds, bool) or not (
        isinstance(timeout_seconds, int | float) and 0 < timeout_seconds < math.inf
    ):
        raise ConfigError(f"Chroma timeout must be a positive number; got {timeout_seconds!r}")
    return Server(parsed.scheme, parsed.hostname, port, timeout_seconds)


def http_client(to: Server) -> Any:
    """The HTTP client of a server that answered its heartbeat within the timeout."""
    import chromadb
    import httpx

    # chromadb's HTTP client has no timeout (httpx timeout=None) and its constructor
    # already talks to the server, so a server that accepts and never answers would
    # hang it: ask once ourselves with a timeout, then give its session the same one.
    httpx.get(f"{to.location}/api/v2/heartbeat", timeout=to.timeout_seconds).raise_for_status()
    client = chromadb.HttpClient(
        host=to.host, port=to.port, ssl=to.scheme == "https", settings=_settings()
    )
    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):  # chromadb changed inside: fail loudly
        raise ConfigError("this chromadb's HTTP client cannot be given a timeout")
    session.timeout = httpx.Timeout(to.timeout_seconds)
    client.heartbeat()
    return client


def failure(
    exc: Exception, action: str | None, *, location: str, local: bool, timeout: float | None
) -> SteveError:
    """Chroma's failure as one line naming the store and the error type, never the data:
    ConfigError while opening (`action` None), Unavailable after."""
    import httpx

    why = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        why = f"{why} after {timeout:g} s"
    if local:
        if action is None:
            return ConfigError(
                f"Chroma directory {location} cannot be opened ({why}); it may be "
                f"corrupt or from another Chroma version: {store_format.FIX}"
            )
        return Unavailable(
            f"Chroma directory {location} failed to {action} ({why}); if this "
            f"persists, {store_format.FIX}"
        )
    if action is None:
        return ConfigError(f"Chroma server at {location} is not reachable ({why})")
    if isinstance(exc, httpx.TransportError):
        return Unavailable(f"Chroma server at {location} stopped answering ({why})")
    return Unavailable(f"Chroma server at {location} failed to {action} ({why})")


# Writes (add, update, upsert) of an id the log later deletes: their document text goes.
_REDACT_DELETED_WRITES = """
UPDATE embeddings_queue SET metadata = '{}'
WHERE operation <> 3 AND metadata IS NOT NULL AND metadata <> '{}'
  AND EXISTS (
    SELECT 1 FROM embeddings_queue AS later
    WHERE later.topic = embeddings_queue.topic AND later.id = embeddings_queue.id
      AND later.operation = 3 AND later.seq_id > embeddings_queue.seq_id
  )
"""


def purge_deleted_text(location: str) -> None:
    """Leave no text of deleted records in an embedded Chroma directory (erasure).

    Chroma keeps every write in its log table (`embeddings_queue`) after applying it,
    document text included, and its full-text index and free pages keep deleted text
    until rewritten. A logged write of a record since deleted is replayed, if ever, only
    to be deleted again, so its text is removed from the log; then the full-text index
    is merged and the file rewritten. Raises Unavailable when Chroma is too busy.
    """
    import sqlite3

    path = Path(location) / "chroma.sqlite3"
    if not path.exists():
        return
    try:
        conn = sqlite3.connect(str(path), timeout=10.0, isolation_level=None)
        try:
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_REDACT_DELETED_WRITES)
            conn.execute(
                "INSERT INTO embedding_fulltext_search(embedding_fulltext_search) "
                "VALUES('optimize')"
            )
            conn.execute("COMMIT")
            conn.execute("VACUUM")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise Unavailable(
            f"memory store at {location}: cannot purge deleted text "
            f"({type(exc).__name__}); retry when no other process uses it"
        ) from None
