"""The errors every layer shares: the base class, and what the persistence layer raises.

Every message is one line and names what was wrong. `str(error)` carries no patient data
beyond record ids, so it is safe to log; `display()` may echo what the person typed.
The practice operations' own kinds (not found, ambiguous, invalid input...) are in
`tools.errors`, which re-exports these.
"""

from __future__ import annotations


class SteveError(Exception):
    """Base class: a clear, one-line problem with the caller's input or the data.

    `str(error)` is safe to log: record ids only. `display()` is for the person who asked,
    and may echo what they typed or list candidates by name.
    """

    exit_code = 1

    def display(self) -> str:
        return str(self)


class ConfigError(SteveError):
    """A setting is malformed (database URL, time zone, limits)."""

    exit_code = 2


class Unavailable(SteveError):
    """A service Steve depends on (the Chroma server or directory) failed while in use."""

    exit_code = 3
