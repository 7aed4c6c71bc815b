"""`steve patient find/show`: look patients up and read a whole programme in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.panel import Panel

from app.cli.common import (
    JSON_OPTION,
    console,
    emit_json,
    engine,
    handle_errors,
    settings,
    table,
    transaction,
)
from tools.clock import parse_date
from tools.errors import InvalidInput, NoMatch, Unavailable
from tools.programme import SECTIONS, ProgrammeView, Section, programme_view
from tools.registry import find_patients, resolve_patient

app = typer.Typer(help="Find patients and show their consolidated programme.", no_args_is_help=True)


@app.command()
@handle_errors
def find(
    query: str = typer.Argument("", help="Name fragment (any case, accents optional) or id."),
    dob: str | None = typer.Option(None, "--dob", help="Date of birth, YYYY-MM-DD."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Find patients by name fragment, date of birth or id."""
    born = parse_date(dob, what="date of birth") if dob else None
    query = query.strip()
    if not query and born is None:
        raise InvalidInput("give a name fragment, an id or --dob")
    with transaction() as session:
        if query.isdigit():
            found = find_patients(session=session, patient_id=int(query))
        else:
            found = find_patients(session=session, name=query or None, date_of_birth=born)
        if not found:
            raise NoMatch("patient", query or dob or "")
        rows = [
            [p.id, p.given_name, p.family_name, p.date_of_birth.isoformat(), p.email or ""]
            for p in found
        ]
    if as_json:
        emit_json(
            [
                dict(
                    zip(
                        ["id", "given_name", "family_name", "date_of_birth", "email"],
                        r,
                        strict=True,
                    )
                )
                for r in rows
            ]
        )
        return
    console.print(
        table(f"{len(rows)} patient(s)", ["id", "given", "family", "born", "email"], rows)
    )


@app.command()
@handle_errors
def show(
    query: str = typer.Argument(..., help="Patient id or a name fragment that matches one."),
    dob: str | None = typer.Option(None, "--dob", help="Date of birth to tell namesakes apart."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a patient's whole programme across modalities."""
    born = parse_date(dob, what="date of birth") if dob else None
    with transaction() as session:
        patient = resolve_patient(session=session, query=query, date_of_birth=born)
        assert patient.id is not None
        view = programme_view(session=session, patient_id=patient.id, actor="cli")
        if as_json:
            emit_json(view.to_dict())
            return
        render_view(view, settings().zone)


# The CLI shows the next appointments right below the programmes.
_OTHERS = tuple(s for s in SECTIONS if s not in ("patient", "programmes", "appointments"))
CLI_ORDER: tuple[Section, ...] = ("patient", "programmes", "appointments", *_OTHERS)


def render_view(view: ProgrammeView, tz: ZoneInfo) -> None:
    view.render(_ConsoleSections(tz), CLI_ORDER)


def _show_table(title: str, cols: list[str], rows: list[list[Any]]) -> None:
    if rows:
        console.print(table(title, cols, rows))
    else:
        console.print(f"[dim]{title}: none[/]")


def _day(when: datetime | None) -> str | None:
    return f"{when:%Y-%m-%d}" if when else None


class _ConsoleSections:
    """The programme view as a panel and tables on the console, a section at a time."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def patient(self, view: ProgrammeView) -> None:
        p = view.patient
        head = [
            f"[bold]{p.full_name}[/]  id {p.id}  born {p.date_of_birth.isoformat()}  ({p.sex})",
            f"Primary physician: {view.practitioner_name(p.primary_physician_id)}",
            "Conditions: " + (", ".join(c.name for c in view.conditions) or "none recorded"),
            "Allergies: " + (", ".join(a.substance for a in view.allergies) or "none recorded"),
            "Medications: "
            + (", ".join(f"{m.name} {m.dose or ''}".strip() for m in view.medications) or "none"),
        ]
        console.print(Panel("\n".join(head), title="Patient", expand=False))

    def programmes(self, view: ProgrammeView) -> None:
        name = view.practitioner_name
        for prog in view.programmes:
            _show_table(
                f"Programme: {prog.title} ({prog.status}, since {prog.started_on})",
                ["element", "modality", "practitioner", "goal", "cadence", "status"],
                [
                    [e.id, e.modality, name(e.practitioner_id), e.goal, e.cadence, e.status]
                    for e in view.elements_of(prog)
                ],
            )

    def appointments(self, view: ProgrammeView) -> None:
        tz = self.tz
        _show_table(
            "Next appointments",
            ["id", f"when ({tz.key})", "with", "service", "block"],
            [
                [
                    a.id,
                    f"{a.starts_at.astimezone(tz):%a %Y-%m-%d %H:%M}",
                    view.practitioner_name(a.practitioner_id),
                    a.service_type,
                    "yes" if a.visit_block_id else "",
                ]
                for a in view.next_appointments
            ],
        )

    def notes(self, view: ProgrammeView) -> None:
        _show_table(
            "Recent notes",
            ["id", "written", "by", "modality", "note"],
            [
                [
                    n.id,
                    _day(n.written_at),
                    view.practitioner_name(n.practitioner_id),
                    n.modality,
                    (n.title or n.body)[:70],
                ]
                for n in view.notes_in_order()
            ],
        )

    def supplements(self, view: ProgrammeView) -> None:
        _show_table(
            "Current supplements",
            ["id", "product", "dose", "frequency", "reorder"],
            [[s.id, s.product, s.dose, s.frequency, s.reorder_on] for s in view.supplements],
        )

    def labs(self, view: ProgrammeView) -> None:
        _show_table(
            "Pending labs",
            ["id", "lab", "panel", "ordered", "expected", "status"],
            [
                [o.id, o.lab, o.panel, o.ordered_on, o.expected_on, o.status]
                for o in view.pending_labs
            ],
        )
        _show_table(
            "Recent lab results",
            ["order", "panel", "analyte", "value", "range", "flag"],
            [
                [
                    o.id,
                    o.panel,
                    r.analyte,
                    f"{r.value if r.value is not None else r.value_text} {r.unit or ''}",
                    r.ref_text or f"{r.ref_low}-{r.ref_high}",
                    r.flag if r.flag == "normal" else f"[bold red]{r.flag}[/]",
                ]
                for o in view.recent_labs
                for r in view.results_of(o)
            ],
        )

    def referrals(self, view: ProgrammeView) -> None:
        name = view.practitioner_name
        _show_table(
            "Open referrals",
            ["id", "direction", "from", "to", "status", "urgency"],
            [
                [
                    r.id,
                    r.direction,
                    name(r.from_practitioner_id),
                    name(r.to_practitioner_id),
                    r.status,
                    r.urgency,
                ]
                for r in view.open_referrals
            ],
        )

    def tasks(self, view: ProgrammeView) -> None:
        _show_table(
            "Open tasks",
            ["id", "task", "assignee", "due"],
            [
                [t.id, t.title, view.practitioner_name(t.assignee_id), t.due_on]
                for t in view.open_tasks
            ],
        )

    def messages(self, view: ProgrammeView) -> None:
        _show_table(
            "Unacknowledged care-team messages",
            ["id", "to", "subject", "sent"],
            [
                [m.id, view.practitioner_name(m.recipient_id), m.subject, _day(m.created_at)]
                for m in view.unacknowledged_messages
            ],
        )

    def intake(self, view: ProgrammeView) -> None:
        _show_table(
            "Intake forms",
            ["id", "form", "sent", "received", "reviewed"],
            [
                [f.id, f.form_type, _day(f.sent_at), _day(f.received_at), _day(f.reviewed_at)]
                for f in view.intake_forms
            ],
        )


@app.command()
@handle_errors
def erase(
    patient_id: int = typer.Argument(..., help="The patient's id (names are not accepted here)."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: this cannot be undone."),
) -> None:
    """Right to erasure: the patient, every record, email, chat thread and memory about them."""
    if not yes:
        raise InvalidInput("erasing a patient cannot be undone; repeat with --yes to confirm")
    from app.erasure import erase_everywhere

    eng = engine()
    try:
        report = erase_everywhere(
            settings=settings(), engine=eng, patient_id=patient_id, actor="cli"
        )
    finally:
        eng.dispose()
    _show_erasure(report)
    if report.problems:
        raise Unavailable("not everything was reached: " + "; ".join(report.problems))


def _show_erasure(report: Any) -> None:
    t = report.text
    console.print(
        f"Patient {report.patient_id}: {len(report.threads)} chat thread(s) deleted, "
        f"{report.eml_files} .eml file(s) deleted."
    )
    if not report.erased:
        console.print(f"Patient {report.patient_id} is still in the practice database.")
        return
    console.print(
        f"Patient {report.patient_id} erased from the practice database; "
        f"{report.document_files} stored document file(s) deleted."
    )
    console.print(
        f"{len(t.outbox_withdrawn)} unsent email(s) withdrawn, {len(t.outbox_redacted)} sent "
        f"email(s) blanked, {sum(t.scrubbed.values())} mention(s) elsewhere removed."
    )
    if t.outbox_withdrawn:
        console.print(
            "Withdrawn emails are not resent by themselves: `steve jobs run` the morning "
            "briefing again to send the others' agenda."
        )
    if report.vectors is not None:
        console.print(f"{report.vectors} memory vector(s) about them removed.")
    for line in report.notes:
        console.print(line)
