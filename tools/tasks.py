"""Tasks that people (or the assistant) delegate to each other.

Task text and the access matrix: a task flagged `clinical` has a title and details that are
clinical text. Its full text is shown only to users whose role may read clinical notes
(tools.access NOTES: physicians and in-house practitioners) for a patient in their scope,
to whoever wrote it and to its assignee (the author addressed it to them); everyone else
(staff, admin, an unknown viewer) sees a neutral title naming the patient's id and no
details. The flag is set when the task is created:
explicitly, or by default when it is about a patient and was written by a clinician or by
the assistant (the follow-up sweep's tasks carry record ids only and are not clinical).
`task_view` is the one place that decides what a viewer reads: the API, the web app, the
CLI and the chat tools render tasks through it (the morning email lists the recipient's
own tasks only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from db.engine import get_for_update, utcnow
from db.models import (
    Affiliation,
    Discipline,
    PractitionerStatus,
    Task,
    TaskCreate,
    TaskStatus,
)
from db.models.enums import OPEN_TASK_STATUSES
from tools import audit
from tools.access import AccessDenied, Actor, Category, categories_for, role_for
from tools.errors import InvalidInput, InvalidTransition, NotFound
from tools.limits import check_day, check_id, check_text
from tools.registry import get_patient, get_practitioner


def _assignable(session: Session, practitioner_id: int) -> None:
    """Tasks go to the practice's own active team: an external practitioner is reached by
    referral, not given work in Steve."""
    check_id(practitioner_id, "assignee_id")
    person = get_practitioner(session=session, practitioner_id=practitioner_id)
    if person.affiliation != Affiliation.IN_HOUSE:
        raise InvalidInput(
            f"practitioner {practitioner_id} is in the external network; tasks go to the "
            "practice's own team"
        )
    if person.status == PractitionerStatus.INACTIVE:
        raise InvalidInput(f"practitioner {practitioner_id} is inactive and cannot take tasks")


@dataclass(frozen=True)
class TaskText:
    """What a viewer may read of a task."""

    title: str
    details: str | None
    withheld: bool  # clinical text replaced by the neutral title


def neutral_title(task: Task) -> str:
    about = f"patient {task.patient_id}" if task.patient_id is not None else "a patient"
    return f"Clinical follow-up for {about} (details for clinicians)"


def task_view(*, task: Task, viewer: Actor | None, scope: set[int] | None) -> TaskText:
    """The task's text as `viewer` may read it; `scope` is the viewer's patients (None: all,
    as tools.access.patients_in_scope returns). No viewer: the neutral text."""
    full = TaskText(task.title, task.details, withheld=False)
    if not task.clinical:
        return full
    if viewer is not None and viewer.practitioner_id in (task.created_by_id, task.assignee_id):
        return full  # the author, and the person the author addressed it to
    in_scope = task.patient_id is None or scope is None or task.patient_id in scope
    if viewer is not None and viewer.can(Category.NOTES) and in_scope:
        return full
    return TaskText(neutral_title(task), None, withheld=True)


def _written_by_clinician(session: Session, created_by_id: int | None) -> bool:
    """The assistant (no creator) or someone whose role reads clinical notes."""
    if created_by_id is None:
        return True
    person = get_practitioner(session=session, practitioner_id=created_by_id)
    try:
        role = role_for(person)
    except AccessDenied:
        return False
    return Category.NOTES in categories_for(role, Discipline(person.discipline))


def _check_fields(data: TaskCreate) -> None:
    """What the database cannot store or a day's arithmetic cannot take, refused by name."""
    check_text(data.title, "title")
    if not data.title.strip():
        raise InvalidInput("a task needs a title")
    if data.details is not None:
        check_text(data.details, "details", multiline=True)
    if data.patient_id is not None:
        check_id(data.patient_id, "patient_id")
    if data.due_on is not None:
        check_day(data.due_on, "due_on")


def create_task(
    *,
    session: Session,
    data: TaskCreate,
    source_ref: str | None = None,
    now: datetime | None = None,
    actor: str = "system",
) -> Task:
    """A new open task; `created_by_id` empty means the assistant created it."""
    _check_fields(data)
    _assignable(session, data.assignee_id)
    if data.created_by_id is not None:
        get_practitioner(session=session, practitioner_id=data.created_by_id)
    if data.patient_id is not None:
        get_patient(session=session, patient_id=data.patient_id)
    task = Task.model_validate(data.model_dump(exclude={"clinical"}))
    task.clinical = (
        data.clinical
        if data.clinical is not None
        else data.patient_id is not None and _written_by_clinician(session, data.created_by_id)
    )
    task.source_ref = source_ref
    task.created_at = now or utcnow()
    session.add(task)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="create",
        entity="task",
        entity_id=task.id,
        patient_id=task.patient_id,
    )
    return task


def get_task(*, session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("task", task_id)
    return task


def _open_task(session: Session, task_id: int, refusal: str) -> Task:
    """The task, locked for a change, refused with `refusal` unless it is still open."""
    task = get_for_update(session, Task, task_id)
    if task is None:
        raise NotFound("task", task_id)
    if task.status not in OPEN_TASK_STATUSES:
        raise InvalidTransition(refusal.format(id=task_id, status=task.status))
    return task


def _changed(session: Session, task: Task, action: str, actor: str) -> Task:
    session.add(task)
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity="task",
        entity_id=task.id,
        patient_id=task.patient_id,
    )
    session.flush()
    return task


def assign_task(*, session: Session, task_id: int, assignee_id: int, actor: str = "system") -> Task:
    task = _open_task(session, task_id, "task {id} is {status}; only open tasks can be reassigned")
    _assignable(session, assignee_id)
    task.assignee_id = assignee_id
    return _changed(session, task, "assign", actor)


def _close(
    session: Session, task_id: int, status: TaskStatus, now: datetime | None, actor: str
) -> Task:
    task = _open_task(session, task_id, "task {id} is already {status}")
    task.status = status
    task.completed_at = now or utcnow()
    return _changed(session, task, "complete" if status == TaskStatus.DONE else "cancel", actor)


def complete_task(
    *, session: Session, task_id: int, now: datetime | None = None, actor: str = "system"
) -> Task:
    return _close(session, task_id, TaskStatus.DONE, now, actor)


def cancel_task(*, session: Session, task_id: int, actor: str = "system") -> Task:
    return _close(session, task_id, TaskStatus.CANCELLED, None, actor)


def tasks_for(
    *, session: Session, assignee_id: int, include_done: bool = False, limit: int = 200
) -> list[Task]:
    """A person's tasks, open first, soonest due first (undated last)."""
    get_practitioner(session=session, practitioner_id=assignee_id)
    stmt = select(Task).where(Task.assignee_id == assignee_id)
    if not include_done:
        stmt = stmt.where(col(Task.status).in_(OPEN_TASK_STATUSES))
    stmt = stmt.order_by(col(Task.due_on).is_(None), col(Task.due_on), col(Task.id)).limit(limit)
    return list(session.exec(stmt).all())


def open_tasks(*, session: Session, limit: int = 500) -> list[Task]:
    stmt = (
        select(Task)
        .where(col(Task.status).in_(OPEN_TASK_STATUSES))
        .order_by(col(Task.due_on).is_(None), col(Task.due_on), col(Task.id))
        .limit(limit)
    )
    return list(session.exec(stmt).all())


def overdue_tasks(*, session: Session, today: date) -> list[Task]:
    """Open tasks whose due date has passed, oldest first."""
    stmt = (
        select(Task)
        .where(col(Task.status).in_(OPEN_TASK_STATUSES), col(Task.due_on) < today)
        .order_by(col(Task.due_on), col(Task.id))
    )
    return list(session.exec(stmt).all())
