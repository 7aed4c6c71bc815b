"""`steve brief`: pre-appointment briefings for one patient, or a physician's whole day."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer
from sqlmodel import Session

from agent.briefing.appointments import briefing_physician, briefing_time
from agent.briefing.graph import brief_day, run_briefing
from agent.briefing.keep import keep_briefing
from app import wiring
from app.cli.acting import act_as
from app.cli.common import (
    JSON_OPTION,
    emit_json,
    err_console,
    handle_errors,
    progress_bar,
    settings,
    today,
    transaction,
)
from db.models import Discipline
from tools.access import Category as C
from tools.errors import InvalidInput
from tools.registry import find_practitioner, resolve_patient

FORMATS = ("markdown", "html")


# What a briefing carries (the API's briefing policy): the whole clinical picture.
BRIEFING = {C.PROGRAMME, C.CLINICAL_SUMMARY, C.NOTES, C.LAB_VALUES, C.SUPPLEMENTS}


def _context(session: Session) -> Any:
    s = settings()
    return wiring.briefing_context(session, s, actor="cli", model=wiring.chat_model(s))


def _record(b: Any) -> dict[str, Any]:
    return dict(b.record(detail=True))


def _write(out: Path, day: date, b: Any, fmt: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    key = f"appointment-{b.appointment_id}" if b.appointment_id else f"patient-{b.patient_id}"
    path = out / f"briefing-{day.isoformat()}-{key}.{'html' if fmt == 'html' else 'md'}"
    path.write_text(b.html if fmt == "html" else b.markdown, encoding="utf-8")
    return path


@handle_errors
def brief(
    patient: str | None = typer.Argument(None, help="Patient id or name (omit with --day)."),
    on: str | None = typer.Option(None, "--date", help="Appointment date, YYYY-MM-DD."),
    day: str | None = typer.Option(
        None, "--day", help="Brief every appointment of --physician on this date."
    ),
    physician: str | None = typer.Option(None, "--physician", help="Physician id or name."),
    fmt: str = typer.Option("markdown", "--format", help="markdown or html."),
    out: Path | None = typer.Option(None, "--out", help="Write one file per briefing here."),
    as_json: bool = JSON_OPTION,
) -> None:
    """A pre-appointment briefing: decisions first, every sentence citing its record."""
    _check_arguments(patient=patient, on=on, day=day, physician=physician, fmt=fmt)
    when = today(day or on)
    with transaction() as session:
        doctor = find_practitioner(session=session, query=physician) if physician else None
        if doctor is not None and doctor.discipline != Discipline.PHYSICIAN:
            raise InvalidInput(f"practitioner {doctor.id} is not a physician")
        if physician is not None:  # a leaver or an external physician has no access
            act_as(session=session, who=physician, needs=BRIEFING, entity="briefing")
        context = _context(session)
        if day is not None:
            assert doctor is not None and doctor.id is not None
            briefings = _brief_day(context, doctor, when, quiet=as_json)
        else:
            assert patient is not None
            person = resolve_patient(session=session, query=patient)
            assert person.id is not None
            briefings = [_brief_patient(context, person.id, doctor.id if doctor else None, when)]
        for b in briefings:
            keep_briefing(session=session, briefing=b, day=when, actor="cli")
    _show(briefings, when, fmt=fmt, out=out, as_json=as_json)


def _check_arguments(
    *, patient: str | None, on: str | None, day: str | None, physician: str | None, fmt: str
) -> None:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; use markdown or html")
    if day is not None and (patient is not None or on is not None):
        raise InvalidInput("use either PATIENT [--date D] or --day D --physician P, not both")
    if day is None and patient is None:
        raise InvalidInput("name a patient, or use --day D --physician P")
    if day is not None and physician is None:
        raise InvalidInput("--day needs --physician")


def _brief_day(context: Any, doctor: Any, when: date, *, quiet: bool) -> list[Any]:
    """A briefing per appointment of the physician's day, with a progress bar."""
    with progress_bar(transient=quiet) as bar:
        task = bar.add_task("briefings", total=None)
        briefings = brief_day(
            context=context,
            physician_id=doctor.id,
            day=when,
            now=briefing_time(when, context.tz),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if not briefings:
        err_console.print(f"No appointments for {doctor.name} on {when.isoformat()}.")
    return briefings


def _brief_patient(context: Any, patient_id: int, physician_id: int | None, when: date) -> Any:
    """The patient's briefing for the physician it is for (agent.briefing.appointments)."""
    chosen, appointment = briefing_physician(
        session=context.session,
        patient_id=patient_id,
        day=when,
        tz=context.tz,
        physician_id=physician_id,
        name_one_with="--physician",
    )
    return run_briefing(
        context=context,
        patient_id=patient_id,
        physician_id=chosen,
        now=briefing_time(when, context.tz),
        appointment_id=appointment.id if appointment else None,
    )


def _show(briefings: list[Any], when: date, *, fmt: str, out: Path | None, as_json: bool) -> None:
    if as_json:
        emit_json([_record(b) for b in briefings])
        return
    if out is not None:
        for b in briefings:
            err_console.print(f"wrote {_write(out, when, b, fmt)}", highlight=False)
        return
    text = [b.html if fmt == "html" else b.markdown for b in briefings]
    print(("\n\n" if fmt == "markdown" else "\n").join(text))
