"""Errors raised by practice operations (the base class and the config and availability
errors are `db.errors`, re-exported here).

Every message is one line and names what was wrong. `str(error)` carries no patient data
beyond record ids, so it is safe to log; `display()` may echo what the person typed.
"""

from __future__ import annotations

from collections.abc import Sequence

from db.errors import ConfigError, SteveError, Unavailable

__all__ = [
    "Ambiguous",
    "ConfigError",
    "Conflict",
    "InvalidInput",
    "InvalidTransition",
    "NoMatch",
    "NotFound",
    "SteveError",
    "Unavailable",
]


class NotFound(SteveError):
    """A record the caller named does not exist."""

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"no {kind} with id {ident}")
        self.kind = kind
        self.ident = ident


class NoMatch(SteveError):
    """A name (or other search) matched nothing; only the person who typed it sees it echoed."""

    def __init__(self, kind: str, query: str) -> None:
        super().__init__(f"no {kind} matches the name given")
        self.kind = kind
        self.query = query

    def display(self) -> str:
        return f"no {self.kind} matches {self.query!r}"


class Ambiguous(SteveError):
    """A name fragment matched several records; the candidates go back to the person."""

    def __init__(self, kind: str, query: str, candidates: Sequence[tuple[int, str]]) -> None:
        ids = ", ".join(str(cid) for cid, _ in candidates[:10])
        super().__init__(f"{len(candidates)} {kind}s match the name given; use an id: {ids}")
        self.kind = kind
        self.query = query
        self.candidates = list(candidates)

    def display(self) -> str:
        listed = "; ".join(f"{cid}: {label}" for cid, label in self.candidates[:10])
        more = f" (and {len(self.candidates) - 10} more)" if len(self.candidates) > 10 else ""
        n = len(self.candidates)
        return f"{n} {self.kind}s match {self.query!r}; use an id: {listed}{more}"


class InvalidInput(SteveError):
    """A value is malformed or out of range (a date, a time zone, a duration...)."""


class Conflict(SteveError):
    """The operation would break a rule of the practice (double-booking, closed hours...)."""


class InvalidTransition(SteveError):
    """A lifecycle change that the lifecycle does not allow."""
