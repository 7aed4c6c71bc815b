"""`steve tasks`: delegate, list and complete follow-up tasks.

Who acts (`--by`, `--as`) is checked by tools.access like an API user; what a task list shows
is what that person may read (tools.tasks.task_view: a clinical task's text for clinicians
only; without a known viewer, the neutral text).
"""

from __future__ import annotations

from datetime import date, timedelta

import typer
from sqlmodel import Session

from app.cli.acting import act_as, check
from app.cli.common import (
    DATE_OPTION,
    JSON_OPTION,
    console,
    emit_json,
    handle_errors,
    settings,
    table,
    today,
    transaction,
)
from db.models import Task, TaskCreate
from db.models.enums import OPEN_TASK_STATUSES
from tools.access import Actor, Category, patients_in_scope
from tools.clock import parse_date
from tools.errors import InvalidInput
from tools.registry import find_practitioner, resolve_patient
from tools.tasks import (
    assign_task,
    complete_task,
    create_task,
    get_task,
    open_tasks,
    overdue_tasks,
    task_view,
    tasks_for,
)

TASKS = {Category.TASKS}
ENTITY = "task"

app = typer.Typer(help="Follow-up tasks for the team.", no_args_is_help=True)


def _due(text: str | None) -> date | None:
    if text is None:
        return None
    day = today()
    words = {"today": day, "tomorrow": day + timedelta(days=1)}
    if text.strip().lower() in words:
        return words[text.strip().lower()]
    return parse_date(text, what="due date")


class Reader:
    """Who reads a task list: the person and their patients (None: everyone, or unknown)."""

    def __init__(self, session: Session, actor: Actor | None) -> None:
        self.actor = actor
        self.scope = None if actor is None else patients_in_scope(session=session, actor=actor)

    def sees(self, t: Task) -> bool:
        return self.scope is None or t.patient_id is None or t.patient_id in self.scope


def _row(t: Task, on: date, reader: Reader) -> dict[str, object]:
    text = task_view(task=t, viewer=reader.actor, scope=reader.scope)
    return {
        "id": t.id,
        "title": text.title,
        "details": text.details,
        "clinical": t.clinical,
        "assignee_id": t.assignee_id,
        "created_by_id": t.created_by_id,
        "patient_id": t.patient_id,
        "due_on": t.due_on.isoformat() if t.due_on else None,
        "status": str(t.status),
        "overdue": bool(t.due_on and t.due_on < on and t.status in OPEN_TASK_STATUSES),
    }


@app.command()
@handle_errors
def add(
    title: str = typer.Argument(..., help="What needs doing."),
    assignee: str = typer.Option(
        ..., "--assignee", "--assign", "-a", help="Who does it (id or name)."
    ),
    by: str | None = typer.Option(None, "--by", help="Who asks (id or name); default Steve."),
    patient: str | None = typer.Option(None, "--patient", help="Patient id or name fragment."),
    due: str | None = typer.Option(None, "--due", help="YYYY-MM-DD, today or tomorrow."),
    details: str | None = typer.Option(None, "--details", help="More detail."),
    clinical: bool | None = typer.Option(
        None,
        "--clinical/--not-clinical",
        help="Title and details are clinical text (default: about a patient, by a clinician).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a task for someone."""
    due_on = _due(due)
    with transaction() as session:
        patient_id = resolve_patient(session=session, query=patient).id if patient else None
        actor = (
            act_as(session=session, who=by, needs=TASKS, patient_id=patient_id, entity=ENTITY)
            if by
            else None
        )
        task = create_task(
            session=session,
            data=TaskCreate(
                title=title,
                details=details,
                clinical=clinical,
                assignee_id=find_practitioner(session=session, query=assignee).id or 0,
                created_by_id=actor.practitioner_id if actor else None,
                patient_id=patient_id,
                due_on=due_on,
            ),
            actor=actor.label if actor else "cli",
        )
        out = _row(task, today(), Reader(session, actor))
    if as_json:
        emit_json(out)
    else:
        console.print(f"Task {out['id']} created for practitioner {out['assignee_id']}.")


@app.command("list")
@handle_errors
def list_tasks(
    assignee: str | None = typer.Option(None, "--assignee", "-a", help="Id or name."),
    overdue: bool = typer.Option(False, "--overdue", help="Only tasks past their due date."),
    include_done: bool = typer.Option(False, "--all", help="Include done and cancelled tasks."),
    who: str | None = typer.Option(
        None, "--as", help="You (id or name; default STEVE_USER): clinical text if you may read it."
    ),
    day: str | None = DATE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List tasks: everyone's open tasks, one person's, or the overdue ones."""
    on = today(day)
    me = who or settings().practice.user
    with transaction() as session:
        actor = act_as(session=session, who=me, needs=TASKS, entity=ENTITY) if me else None
        reader = Reader(session, actor)
        if assignee:
            person = find_practitioner(session=session, query=assignee)
            found = tasks_for(
                session=session, assignee_id=person.id or 0, include_done=include_done
            )
            if overdue:
                found = [t for t in found if t.due_on and t.due_on < on]
        elif overdue:
            found = overdue_tasks(session=session, today=on)
        else:
            found = open_tasks(session=session)
        rows = [_row(t, on, reader) for t in found if reader.sees(t)]
    if as_json:
        emit_json(rows)
        return
    console.print(
        table(
            f"{len(rows)} task(s)",
            ["id", "task", "assignee", "patient", "due", "status"],
            [
                [
                    r["id"],
                    r["title"],
                    r["assignee_id"],
                    r["patient_id"],
                    f"[bold red]{r['due_on']}[/]" if r["overdue"] else r["due_on"],
                    r["status"],
                ]
                for r in rows
            ],
        )
    )


def _acting_on_task(session: Session, by: str | None, task_id: int) -> Actor | None:
    """The person changing a task, checked for tasks and for the task's patient."""
    if by is None:
        return None
    actor = act_as(session=session, who=by, needs=TASKS, entity=ENTITY)
    task = get_task(session=session, task_id=task_id)
    check(session=session, actor=actor, needs=TASKS, patient_id=task.patient_id, entity=ENTITY)
    return actor


@app.command()
@handle_errors
def done(
    task_id: int = typer.Argument(..., help="The task's id."),
    by: str | None = typer.Option(None, "--by", help="Who did it (id or name)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Mark a task done."""
    with transaction() as session:
        actor = _acting_on_task(session, by, task_id)
        task = complete_task(
            session=session, task_id=task_id, actor=actor.label if actor else "cli"
        )
        out = _row(task, today(), Reader(session, actor))
    if as_json:
        emit_json(out)
    else:
        console.print(f"Task {task_id} done.")


@app.command()
@handle_errors
def assign(
    task_id: int = typer.Argument(..., help="The task's id."),
    to: str = typer.Option(..., "--to", help="New assignee (id or name)."),
    by: str | None = typer.Option(None, "--by", help="Who hands it on (id or name)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Hand a task to someone else."""
    with transaction() as session:
        actor = _acting_on_task(session, by, task_id)
        person = find_practitioner(session=session, query=to)
        task = assign_task(
            session=session,
            task_id=task_id,
            assignee_id=person.id or 0,
            actor=actor.label if actor else "cli",
        )
        out = _row(task, today(), Reader(session, actor))
    if as_json:
        emit_json(out)
    else:
        console.print(f"Task {task_id} is now with practitioner {out['assignee_id']}.")


@app.command()
@handle_errors
def mine(
    who: str | None = typer.Option(
        None, "--as", help="You (id or name); default the STEVE_USER setting."
    ),
    day: str | None = DATE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Your open tasks, soonest due first (the same list your morning email carries)."""
    me = who or settings().practice.user
    if not me:
        raise InvalidInput("say who you are: --as NAME, or set STEVE_USER")
    on = today(day)
    with transaction() as session:
        actor = act_as(session=session, who=me, needs=TASKS, entity=ENTITY)
        person = find_practitioner(session=session, query=me)
        reader = Reader(session, actor)
        found = tasks_for(session=session, assignee_id=actor.practitioner_id)
        rows = [_row(t, on, reader) for t in found if reader.sees(t)]
    if as_json:
        emit_json(rows)
        return
    console.print(
        table(
            f"{len(rows)} open task(s) for {person.name}",
            ["id", "task", "patient", "due", "from"],
            [
                [
                    r["id"],
                    r["title"],
                    r["patient_id"],
                    f"[bold red]{r['due_on']}[/]" if r["overdue"] else r["due_on"],
                    r["created_by_id"] or "Steve",
                ]
                for r in rows
            ],
        )
    )
