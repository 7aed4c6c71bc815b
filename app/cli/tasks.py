"""`steve tasks`: delegate, list and complete follow-up tasks."""

from __future__ import annotations

from datetime import date, timedelta

import typer

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
from tools.clock import parse_date
from tools.errors import InvalidInput
from tools.models import Task, TaskCreate
from tools.models.enums import OPEN_TASK_STATUSES
from tools.registry import find_practitioner, resolve_patient
from tools.tasks import (
    assign_task,
    complete_task,
    create_task,
    open_tasks,
    overdue_tasks,
    tasks_for,
)

app = typer.Typer(help="Follow-up tasks for the team.", no_args_is_help=True)


def _due(text: str | None) -> date | None:
    if text is None:
        return None
    day = today()
    words = {"today": day, "tomorrow": day + timedelta(days=1)}
    if text.strip().lower() in words:
        return words[text.strip().lower()]
    return parse_date(text, what="due date")


def _row(t: Task, on: date) -> dict[str, object]:
    return {
        "id": t.id,
        "title": t.title,
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
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a task for someone."""
    due_on = _due(due)
    with transaction() as session:
        task = create_task(
            session=session,
            data=TaskCreate(
                title=title,
                details=details,
                assignee_id=find_practitioner(session=session, query=assignee).id or 0,
                created_by_id=find_practitioner(session=session, query=by).id if by else None,
                patient_id=resolve_patient(session=session, query=patient).id if patient else None,
                due_on=due_on,
            ),
            actor="cli",
        )
        out = _row(task, today())
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
    day: str | None = DATE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List tasks: everyone's open tasks, one person's, or the overdue ones."""
    on = today(day)
    with transaction() as session:
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
        rows = [_row(t, on) for t in found]
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


@app.command()
@handle_errors
def done(
    task_id: int = typer.Argument(..., help="The task's id."), as_json: bool = JSON_OPTION
) -> None:
    """Mark a task done."""
    with transaction() as session:
        task = complete_task(session=session, task_id=task_id, actor="cli")
        out = _row(task, today())
    if as_json:
        emit_json(out)
    else:
        console.print(f"Task {task_id} done.")


@app.command()
@handle_errors
def assign(
    task_id: int = typer.Argument(..., help="The task's id."),
    to: str = typer.Option(..., "--to", help="New assignee (id or name)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Hand a task to someone else."""
    with transaction() as session:
        person = find_practitioner(session=session, query=to)
        task = assign_task(
            session=session, task_id=task_id, assignee_id=person.id or 0, actor="cli"
        )
        out = _row(task, today())
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
    me = who or settings().user
    if not me:
        raise InvalidInput("say who you are: --as NAME, or set STEVE_USER")
    on = today(day)
    with transaction() as session:
        person = find_practitioner(session=session, query=me)
        rows = [_row(t, on) for t in tasks_for(session=session, assignee_id=person.id or 0)]
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
