"""`GET /health`: is this process well, for monitors and load balancers. No login, and
nothing about patients: the scheduler's state in this process and whether it leads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from schedules import health

router = APIRouter(tags=["health"])


class SchedulerFailure(BaseModel):
    at: str
    reason: str | None


class SchedulerState(BaseModel):
    state: str  # off | standby | running | failed (see schedules.health)
    leader: bool
    since: str | None
    last_failure: SchedulerFailure | None


class Health(BaseModel):
    status: str  # ok | degraded
    scheduler: SchedulerState


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "the scheduler failed in this process"}},
)
def get_health() -> Any:
    """200 while this process is well (leading, standing by, or running no scheduler); 503
    while its scheduler has failed and it gave up the lead (a standby takes over)."""
    body = health.snapshot()
    return JSONResponse(body, status_code=503 if body["status"] == "degraded" else 200)
