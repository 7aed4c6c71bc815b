"""Tasks: create, assign or reassign, complete; mine, the team's, overdue.

A person's own writes here need no approval (they are the person); the access policy
still applies, and practitioners see and change only tasks about patients in their scope.
A clinical task's title and details reach only clinicians (tools.tasks.task_view).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictBool
from sqlmodel import col, func, or_, select

from app.api import adapters, policy
from app.api.deps import Ctx, CurrentCtx, PageParams
from app.api.errors import responses
from app.api.params import IdPath, IdQuery
from db.models import Task, TaskCreate
from db.models.enums import OPEN_TASK_STATUSES
from tools.access import patients_in_scope
from tools.clock import today_in
from tools.limits import Day, FilledLine, RecordId, Text
from tools.tasks import assign_task, complete_task, create_task, get_task

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


class NewTask(BaseModel):
    title: FilledLine = Field(min_length=1, max_length=200)
    details: Text | None = Field(default=None, max_length=4000)
    clinical: StrictBool | None = Field(
        default=None,
        description="title and details are clinical text (default: about a patient and "
        "written by a clinician); only clinicians in the patient's scope read them",
    )
    assignee_id: RecordId = Field(description="An active in-house practitioner.")
    patient_id: RecordId | None = None
    due_on: Day | None = None


class Assign(BaseModel):
    assignee_id: RecordId = Field(description="An active in-house practitioner.")


def _page(ctx: Ctx, page: Any, stmt: Any) -> dict[str, Any]:
    """A page of tasks, paged in SQL; practitioners get only their patients' tasks (and
    tasks about no patient)."""
    scope = patients_in_scope(session=ctx.session, actor=ctx.actor)
    if scope is not None:
        stmt = stmt.where(or_(col(Task.patient_id).is_(None), col(Task.patient_id).in_(scope)))
    total = ctx.session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    items = list(ctx.session.exec(stmt.offset(page.offset).limit(page.limit)).all())
    ctx.audit_reads("task", (t.patient_id for t in items))
    return page.envelope([adapters.task_record(t, ctx.actor, scope) for t in items], int(total))


def _record(ctx: Ctx, task: Task) -> dict[str, Any]:
    """One task as the user may read it."""
    scope = patients_in_scope(session=ctx.session, actor=ctx.actor)
    return adapters.task_record(task, ctx.actor, scope)


def _query(status: str, assignee_id: int | None, patient_id: int | None) -> Any:
    stmt = select(Task)
    if status == "open":
        stmt = stmt.where(col(Task.status).in_(OPEN_TASK_STATUSES))
    elif status != "all":
        stmt = stmt.where(Task.status == status)
    if assignee_id is not None:
        stmt = stmt.where(Task.assignee_id == assignee_id)
    if patient_id is not None:
        stmt = stmt.where(Task.patient_id == patient_id)
    return stmt.order_by(col(Task.due_on).is_(None), col(Task.due_on), col(Task.id))


Status = Annotated[
    Literal["open", "all", "done", "cancelled", "in_progress"],
    Query(description="open: open or in progress; all: any state."),
]


@router.get("/mine", responses=responses(403, 422))
def my_tasks(ctx: CurrentCtx, page: PageParams, status: Status = "open") -> dict[str, Any]:
    """Tasks assigned to you, soonest due first."""
    ctx.require(*policy.TASKS, entity="task")
    return _page(ctx, page, _query(status, ctx.actor.practitioner_id, None))


@router.get("", responses=responses(403, 422))
def team_tasks(
    ctx: CurrentCtx,
    page: PageParams,
    status: Status = "open",
    assignee_id: IdQuery = None,
    patient_id: IdQuery = None,
) -> dict[str, Any]:
    """The team's tasks, filtered by state, assignee or patient."""
    ctx.require(*policy.TASKS, patient_id=patient_id, entity="task")
    return _page(ctx, page, _query(status, assignee_id, patient_id))


@router.get("/overdue", responses=responses(403, 422))
def overdue(ctx: CurrentCtx, page: PageParams) -> dict[str, Any]:
    """Open tasks past their due date, oldest first."""
    ctx.require(*policy.TASKS, entity="task")
    today = today_in(ctx.settings.zone)
    stmt = (
        select(Task)
        .where(col(Task.status).in_(OPEN_TASK_STATUSES), col(Task.due_on) < today)
        .order_by(col(Task.due_on), col(Task.id))
    )
    return _page(ctx, page, stmt)


@router.post("", status_code=201, responses=responses(403, 404, 413, 422))
def create(ctx: CurrentCtx, body: NewTask) -> dict[str, Any]:
    """Delegate a task (to yourself or a colleague)."""
    ctx.require(*policy.TASKS, patient_id=body.patient_id, entity="task")
    data = TaskCreate(**body.model_dump(), created_by_id=ctx.actor.practitioner_id)
    task = create_task(session=ctx.session, data=data, actor=ctx.label)
    return _record(ctx, task)


def _task_for_change(ctx: Ctx, task_id: int) -> Task:
    task = get_task(session=ctx.session, task_id=task_id)
    ctx.require(*policy.TASKS, patient_id=task.patient_id, entity="task")
    return task


@router.post("/{task_id}/assign", responses=responses(403, 404, 409, 413, 422))
def assign(ctx: CurrentCtx, task_id: IdPath, body: Assign) -> dict[str, Any]:
    """Assign or reassign an open task."""
    _task_for_change(ctx, task_id)
    task = assign_task(
        session=ctx.session, task_id=task_id, assignee_id=body.assignee_id, actor=ctx.label
    )
    return _record(ctx, task)


@router.post("/{task_id}/complete", responses=responses(403, 404, 409, 422))
def complete(ctx: CurrentCtx, task_id: IdPath) -> dict[str, Any]:
    """Mark an open task done."""
    _task_for_change(ctx, task_id)
    task = complete_task(session=ctx.session, task_id=task_id, actor=ctx.label)
    return _record(ctx, task)
