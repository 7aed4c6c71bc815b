"""Errors raised by practice operations.

Every message is one line, names what was wrong, and carries no patient data
beyond record ids, so it is safe to print, return from an API or log.
"""

from __future__ import annotations

from collections.abc import Sequence


class SteveError(Exception):
    """Base class: a clear, one-line problem with the caller's input or the data."""

    exit_code = 1


class NotFound(SteveError):
    """A record the caller named does not exist."""

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"no {kind} with id {ident}")
        self.kind = kind
        self.ident = ident


class Ambiguous(SteveError):
    """A name fragment matched several records; the candidates go back to the person."""

    def __init__(self, kind: str, query: str, candidates: Sequence[tuple[int, str]]) -> None:
        listed = "; ".join(f"{cid}: {label}" for cid, label in candidates[:10])
        more = f" (and {len(candidates) - 10} more)" if len(candidates) > 10 else ""
        super().__init__(f"{len(candidates)} {kind}s match {query!r}; use an id: {listed}{more}")
        self.candidates = list(candidates)


class InvalidInput(SteveError):
    """A value is malformed or out of range (a date, a time zone, a duration...)."""


class Conflict(SteveError):
    """The operation would break a rule of the practice (double-booking, closed hours...)."""


class InvalidTransition(SteveError):
    """A lifecycle change that the lifecycle does not allow."""


class ConfigError(SteveError):
    """A setting is malformed (database URL, time zone, limits)."""

    exit_code = 2
