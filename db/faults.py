"""Fault injection for kill-and-restart tests. TEST-ONLY: never set this in production.

With `STEVE_FAULT_POINT=<point>` in its environment, a process SIGKILLs itself when it
reaches that point, so a test can stop a real process at an exact step and check what a
restart does. Unset (always, outside tests), `fault()` is one dictionary lookup. The points
are named where they are placed: schedules.email.smtp_faults lists the delivery ones; the agent has
`after_tool_commit` (an approved write committed, the graph's checkpoint not yet saved).
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "STEVE_FAULT_POINT"


def active() -> str | None:
    return os.environ.get(FAULT_ENV) or None


def fault(point: str) -> None:
    """Die here (SIGKILL: no cleanup, no atexit, like a power cut) if the test asked for it."""
    if active() == point:
        os.kill(os.getpid(), signal.SIGKILL)
