"""Tasks: create, assign, complete, list by assignee, list overdue."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, func, select

from db.models import Discipline, PractitionerStatus, Task, TaskCreate, TaskStatus
from tests.support import factories
from tools.errors import InvalidInput, InvalidTransition, NotFound
from tools.tasks import (
    assign_task,
    complete_task,
    create_task,
    open_tasks,
    overdue_tasks,
    tasks_for,
)

TODAY = date(2026, 11, 23)


def test_create_assign_complete(session: Session) -> None:
    doc = factories.practitioner(session)
    admin = factories.practitioner(session, discipline=Discipline.ADMIN)
    nurse = factories.practitioner(session, discipline=Discipline.NURSE)
    pat = factories.patient(session)
    task = create_task(
        session=session,
        data=TaskCreate(
            title="Book colonoscopy follow-up",
            assignee_id=admin.id,
            created_by_id=doc.id,
            patient_id=pat.id,
            due_on=date(2026, 11, 25),
        ),
    )
    by_steve = create_task(
        session=session, data=TaskCreate(title="Chase labs", assignee_id=admin.id)
    )
    session.commit()
    assert by_steve.created_by_assistant and not task.created_by_assistant
    assert [t.id for t in tasks_for(session=session, assignee_id=admin.id)] == [
        task.id,
        by_steve.id,
    ]
    assign_task(session=session, task_id=task.id, assignee_id=nurse.id)
    complete_task(session=session, task_id=task.id)
    session.commit()
    assert tasks_for(session=session, assignee_id=nurse.id) == []
    assert [
        t.status for t in tasks_for(session=session, assignee_id=nurse.id, include_done=True)
    ] == [TaskStatus.DONE]
    with pytest.raises(InvalidTransition, match="already done"):
        complete_task(session=session, task_id=task.id)
    with pytest.raises(InvalidTransition, match="only open tasks"):
        assign_task(session=session, task_id=task.id, assignee_id=admin.id)


def test_overdue_and_open_lists(session: Session) -> None:
    admin = factories.practitioner(session, discipline=Discipline.ADMIN)
    late = create_task(
        session=session, data=TaskCreate(title="a", assignee_id=admin.id, due_on=date(2026, 11, 20))
    )
    create_task(session=session, data=TaskCreate(title="b", assignee_id=admin.id, due_on=TODAY))
    create_task(session=session, data=TaskCreate(title="c", assignee_id=admin.id))
    done = create_task(
        session=session, data=TaskCreate(title="d", assignee_id=admin.id, due_on=date(2026, 11, 1))
    )
    complete_task(session=session, task_id=done.id)
    session.commit()
    assert [t.id for t in overdue_tasks(session=session, today=TODAY)] == [late.id]
    assert [t.title for t in open_tasks(session=session)] == ["a", "b", "c"]


def test_bad_input_writes_nothing(session: Session) -> None:
    admin = factories.practitioner(session, discipline=Discipline.ADMIN)
    gone = factories.practitioner(session, status=PractitionerStatus.INACTIVE)
    session.commit()
    cases = [
        (TaskCreate(title="x", assignee_id=9999), NotFound),
        (TaskCreate(title="x", assignee_id=gone.id), InvalidInput),
        (TaskCreate(title="x", assignee_id=admin.id, patient_id=9999), NotFound),
        (TaskCreate(title="   ", assignee_id=admin.id), InvalidInput),
    ]
    for data, error in cases:
        with pytest.raises(error):
            create_task(session=session, data=data)
        session.rollback()
    assert session.exec(select(func.count()).select_from(Task)).one() == 0
    with pytest.raises(NotFound):
        complete_task(session=session, task_id=1234)
