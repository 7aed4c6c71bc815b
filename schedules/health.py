"""What this process's scheduler is doing, for `GET /health` and the log: one small record,
set by the serve loop, read by the HTTP API. No patient data: states, times, error classes.

States: 'off' (no scheduler in this process: `steve serve` is not running here), 'standby'
(waiting to lead), 'running' (the leader, jobs running), 'failed' (the scheduler stopped
working: this process gave up the leader lock so a standby can take over, and tries again
later).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from db.engine import utcnow


@dataclass(frozen=True)
class SchedulerHealth:
    state: str = "off"
    leader: bool = False
    since: datetime | None = None
    failure: str | None = None  # the last failure, kept after a recovery
    failed_at: datetime | None = None


_lock = threading.Lock()
_current = SchedulerHealth()


def report(state: str, *, leader: bool, failure: str | None = None) -> None:
    global _current
    with _lock:
        now = utcnow()
        _current = replace(_current, state=state, leader=leader, since=now)
        if failure is not None:
            _current = replace(_current, failure=failure, failed_at=now)


def reset() -> None:
    global _current
    with _lock:
        _current = SchedulerHealth()


def snapshot() -> dict[str, Any]:
    with _lock:
        h = _current
    return {
        "status": "degraded" if h.state == "failed" else "ok",
        "scheduler": {
            "state": h.state,
            "leader": h.leader,
            "since": h.since.isoformat() if h.since else None,
            "last_failure": (
                {"at": h.failed_at.isoformat(), "reason": h.failure}
                if h.failed_at is not None
                else None
            ),
        },
    }
