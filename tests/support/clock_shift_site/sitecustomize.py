"""Moves the clock of a Python process the test suite starts, like the suite's own clock.

The suite's `tests/support/clock_shift.py` puts this folder on PYTHONPATH when
TEST_CLOCK_SHIFT_DAYS is set, so `steve serve`, `steve chat` and other processes a test starts
live on the same (moved) calendar as the test that checks them.
"""

from __future__ import annotations

import os

if os.environ.get("TEST_CLOCK_SHIFT_DAYS", "").strip() not in ("", "0"):
    from tests.support.clock_shift import start_shift

    start_shift()
