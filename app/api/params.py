"""Path and query parameters shared by the API's routes, with the bounds they document.

Ids are whole numbers from 1 to 2**31-1 (tools.limits.MAX_ID). Path and query values
arrive as text, so these are bounded rather than strict; JSON bodies use the strict
tools.limits.RecordId.
Days are ISO dates from 1900-01-01 to 2100-12-31 (tools.limits.Day).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from tools.limits import MAX_ID, Day

_ID = f"A record id: a whole number from 1 to {MAX_ID}."

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description=_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description=_ID)]
DayQuery = Annotated[
    Day | None,
    Query(alias="date", description="YYYY-MM-DD, 1900-01-01 to 2100-12-31. Default: today."),
]
# A chat thread id as the API hands them out (secrets.token_urlsafe).
ThreadPath = Annotated[str, Path(min_length=1, max_length=64, pattern="^[A-Za-z0-9_-]+$")]
