"""Fault injection for the kill-and-restart tests. TEST-ONLY: never set this in production.

With `STEVE_FAULT_POINT=<point>` in its environment, a process SIGKILLs itself when it
reaches that point, so a test can stop `steve serve` at an exact step and check what a
restart does. Unset (always, outside tests), `fault()` is one dictionary lookup.

Points, in the order an email passes them:
  after_enqueue     the email's outbox row is committed, nothing sent
  after_claim       the row is claimed ('sending', lease taken), no connection made
  after_rcpt        SMTP MAIL and RCPT accepted, DATA not started
  mid_data          half of the message's bytes written inside DATA
  after_smtp_data   the server answered 250 to DATA (or the .eml file is in place),
                    'sent' not yet recorded: the one window where a duplicate is possible
  after_mark_sent   'sent' committed

Points that fail rather than kill (`failing()`): the caller raises its real error there.
  jobstore_full     the scheduler's job store cannot write ('database or disk is full'),
                    while the file named by STEVE_FAULT_WHILE exists (if set): remove the
                    file and the disk has space again
"""

from __future__ import annotations

import os
import signal
from typing import Any

from db.faults import FAULT_ENV, active, fault

__all__ = ["FAULT_ENV", "POINTS", "active", "arm_mid_data", "failing", "fault"]
WHILE_ENV = "STEVE_FAULT_WHILE"

POINTS = (
    "after_enqueue",
    "after_claim",
    "after_rcpt",
    "mid_data",
    "after_smtp_data",
    "after_mark_sent",
)


def failing(point: str) -> bool:
    """True where a test asked this point to fail (and, with STEVE_FAULT_WHILE, while that
    file exists). Unset, outside tests: always False."""
    if active() != point:
        return False
    marker = os.environ.get(WHILE_ENV)
    return marker is None or os.path.exists(marker)


class _HalfThenDie:
    """A socket stand-in that writes half of the first large payload, then kills the process."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def sendall(self, data: bytes, *args: Any) -> None:
        if len(data) > 256:  # commands are short; the message body is not
            self._inner.sendall(data[: len(data) // 2], *args)
            os.kill(os.getpid(), signal.SIGKILL)
        self._inner.sendall(data, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def arm_mid_data(smtp: Any) -> None:
    """Called just before DATA: with the `mid_data` point set, cut the body in half."""
    if active() == "mid_data" and getattr(smtp, "sock", None) is not None:
        smtp.sock = _HalfThenDie(smtp.sock)
