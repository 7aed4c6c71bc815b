"""Run the whole suite with the clock moved: `TEST_CLOCK_SHIFT_DAYS=365 pytest`.

A test that only passes near the day it was written (a demo built for a fixed date read with the
real clock, a literal date compared with "today") fails under a moved clock. time-machine moves
`datetime.now`, `date.today` and `time.time` in this process (the clock keeps ticking), and
`clock_shift_site/sitecustomize.py` does the same in every Python process a test starts.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

ENV = "TEST_CLOCK_SHIFT_DAYS"
SITE = Path(__file__).resolve().parent / "clock_shift_site"
ROOT = Path(__file__).resolve().parents[2]

_traveller = None


def shift_days() -> int:
    text = os.environ.get(ENV, "").strip()
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        raise SystemExit(f"{ENV} must be a whole number of days, not {text!r}") from None


def start_shift() -> None:
    """Move this process's clock by TEST_CLOCK_SHIFT_DAYS, ticking on from there."""
    global _traveller
    days = shift_days()
    if not days or _traveller is not None:
        return
    import time_machine

    _traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
    _traveller.start()


def configure() -> None:
    """At the start of a test run (the root conftest's pytest_configure)."""
    if not shift_days():
        return
    start_shift()
    # Processes the tests start (steve serve, steve chat, chroma) move with us.
    paths = [
        str(SITE),
        str(ROOT),
        *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)),
    ]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)


def report_header() -> str | None:
    days = shift_days()
    if not days:
        return None
    return f"clock moved {days} days: today is {datetime.now(UTC).date().isoformat()}"


def child_pythonpath() -> str:
    """PYTHONPATH for a Python process a test starts: this checkout first, then what we have
    (under a moved clock, that includes the folder that moves the child's clock too)."""
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join([str(ROOT), *[p for p in inherited if p != str(ROOT)]])
