"""What went wrong with a database, in words a person can act on, for the CLI and the API.

"Unavailable" covered a lock held by another process, a full disk, a damaged file and a
server that is down; each needs a different answer (wait, free space, restore, start it).
The driver's own text is never shown or logged: it can quote SQL parameters (patient data).
Messages name the store (the database file, or the PostgreSQL database) and nothing else.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

# sysexits.h EX_TEMPFAIL: "try again later" for scripts; every other database failure is 3.
EXIT_BUSY = 75
EXIT_UNAVAILABLE = 3

# SQLite primary result codes (sqlite3.h).
_SQLITE_KINDS = {
    5: "busy",  # SQLITE_BUSY
    6: "busy",  # SQLITE_LOCKED
    8: "read_only",  # SQLITE_READONLY
    10: "io_error",  # SQLITE_IOERR
    11: "corrupt",  # SQLITE_CORRUPT
    13: "disk_full",  # SQLITE_FULL
    14: "unreachable",  # SQLITE_CANTOPEN
    26: "corrupt",  # SQLITE_NOTADB
}
# PostgreSQL SQLSTATE codes and classes.
_PG_KINDS = {
    "55P03": "busy",  # lock_not_available
    "40P01": "busy",  # deadlock_detected
    "40001": "busy",  # serialization_failure
    "57014": "busy",  # query_canceled: lock_timeout / statement_timeout
    "53100": "disk_full",
    "XX001": "corrupt",  # data_corrupted
    "XX002": "corrupt",  # index_corrupted
    "25006": "read_only",  # read_only_sql_transaction (a standby)
}
_PG_CLASSES = {"08": "unreachable", "57": "unreachable", "53": "disk_full", "58": "io_error"}


_CODES = {"busy": "database_busy", "disk_full": "disk_full", "corrupt": "database_corrupt"}


@dataclass(frozen=True)
class DbFailure:
    kind: str  # busy, disk_full, corrupt, unreachable, read_only, io_error, refused
    message: str

    @property
    def exit_code(self) -> int:
        return EXIT_BUSY if self.kind == "busy" else EXIT_UNAVAILABLE

    @property
    def status(self) -> int:
        return 503  # every kind is the server's state, not the request's fault

    @property
    def code(self) -> str:
        return {
            "busy": "database_busy",
            "disk_full": "disk_full",
            "corrupt": "database_corrupt",
        }.get(self.kind, "unavailable")


def store_name(db_url: str) -> str:
    """The practice database as a person knows it: its file, or its PostgreSQL name."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        return f"database file {url.database}"
    return f"PostgreSQL database {url.database!r} on {url.host or 'localhost'}"


def kind_of(exc: BaseException) -> str:
    """busy, disk_full, corrupt, unreachable, read_only, io_error or refused."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)  # Python 3.11+
        return _SQLITE_KINDS.get(code & 0xFF, "refused") if code is not None else "refused"
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        return _PG_KINDS.get(state) or _PG_CLASSES.get(state[:2], "refused")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "unreachable"
    if type(orig).__name__ in ("OperationalError", "InterfaceError"):  # no SQLSTATE: no server
        return "unreachable"
    return "refused"


def describe(exc: BaseException, *, store: str) -> DbFailure:
    """The failure as one line naming `store` (see store_name), with what to do about it."""
    kind = kind_of(exc)
    what = type(exc.orig if isinstance(exc, DBAPIError) else exc).__name__
    messages = {
        "busy": f"{store} is busy: another process holds the write lock; try again",
        "disk_full": f"disk full: {store} cannot grow; free space on its disk and try again",
        "corrupt": f"{store} is corrupt; restore it from a backup",
        "unreachable": f"{store} is unreachable ({what}); check it is there and running",
        "read_only": f"{store} is read-only; check its permissions (or that it is not a standby)",
        "io_error": f"{store} could not be read or written (disk I/O error); check the disk",
        "refused": f"{store} refused the operation ({what})",
    }
    return DbFailure(kind, messages[kind])


def chat_store_name(path: Path) -> str:
    return f"chat store {path}"
