"""`steve schedule`: free slots and visit blocks, booking, cancelling and moving appointments.

Times are read and printed in the practice's time zone (STEVE_TIMEZONE); people and patients
are named by id or by a name fragment.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import typer

from app.cli.common import (
    JSON_OPTION,
    console,
    emit_json,
    handle_errors,
    settings,
    table,
    transaction,
)
from db.engine import utcnow
from db.models import Appointment, BillingTrack, Practitioner
from tools import scheduling
from tools.clock import parse_date, parse_local_datetime
from tools.errors import InvalidInput, NotFound
from tools.registry import find_practitioner, get_practitioner, resolve_patient

app = typer.Typer(
    no_args_is_help=True,
    help="Free slots and visit blocks; book, cancel and reschedule appointments.",
)


def _local(t: datetime, tz: ZoneInfo) -> datetime:
    return t.astimezone(tz)


def _when(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    return f"{_local(start, tz):%a %d %b %Y %H:%M}-{_local(end, tz):%H:%M}"


def _hm(slot: scheduling.Slot, tz: ZoneInfo) -> str:
    return f"{_local(slot.start, tz):%H:%M}-{_local(slot.end, tz):%H:%M}"


def _slot_json(slot: scheduling.Slot, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "practitioner_id": slot.practitioner_id,
        "start": _local(slot.start, tz).isoformat(),
        "end": _local(slot.end, tz).isoformat(),
    }


def _appointment_json(a: Appointment, tz: ZoneInfo) -> dict[str, Any]:
    return {
        **a.model_dump(
            mode="json",
            include={
                "id",
                "practitioner_id",
                "patient_id",
                "service_type",
                "status",
                "billing_track",
                "visit_block_id",
                "cancel_reason",
            },
        ),
        "start": _local(a.starts_at, tz).isoformat(),
        "end": _local(a.ends_at, tz).isoformat(),
        "timezone": tz.key,
    }


def _durations(text: str | None, default: int, parts: int) -> list[int]:
    if text is None:
        return [default] * parts
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InvalidInput(
            f"invalid durations {text!r}; expected minutes such as 60,45,30"
        ) from None
    if len(values) != parts:
        raise InvalidInput(f"{parts} practitioners but {len(values)} durations in {text!r}")
    return values


def _billing(text: str) -> BillingTrack:
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return BillingTrack(key)
    except ValueError:
        known = ", ".join(b.value for b in BillingTrack)
        raise InvalidInput(f"unknown billing track {text!r}; use one of: {known}") from None


def _options_table(
    title: str, options: list[scheduling.BlockOption], people: list[Practitioner], tz: ZoneInfo
) -> Any:
    columns = ["#", "Day", *(p.name for p in people)]
    rows = [
        [i, f"{_local(o.start, tz):%a %d %b}", *(_hm(s, tz) for s in o.slots)]
        for i, o in enumerate(options, start=1)
    ]
    return table(title, columns, rows)


@app.command()
@handle_errors
def slots(
    practitioner: str = typer.Argument(..., help="Practitioner id or name fragment."),
    day: str = typer.Option(..., "--date", help="The day, YYYY-MM-DD."),
    duration: int = typer.Option(45, "--duration", help="Minutes (for every part of a block)."),
    others: list[str] | None = typer.Option(
        None, "--with", help="Another practitioner for a visit block, in order (repeatable)."
    ),
    durations: str | None = typer.Option(
        None, "--durations", help="Minutes of each block part, in order, e.g. 60,45,30."
    ),
    gap: int | None = typer.Option(
        None, "--gap", help="Least minutes between block parts [default: from settings]."
    ),
    limit: int | None = typer.Option(None, "--limit", help="Show at most this many."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Free slots of a practitioner on a day, or visit-block options with --with."""
    s = settings()
    tz, on = s.zone, parse_date(day)
    with transaction() as session:
        queries = [practitioner, *(others or [])]
        people = [find_practitioner(session=session, query=q) for q in queries]
        minutes = _durations(durations, duration, len(people))
        if len(people) == 1:
            found = scheduling.free_slots(
                session=session,
                practitioner_id=people[0].id or 0,
                day=on,
                duration_minutes=minutes[0],
                tz=tz,
                step_minutes=s.limits.slot_step_minutes,
            )
            _show_free(people[0], found[:limit], minutes[0], on, tz, as_json)
            return
        parts = [scheduling.BlockPart(p.id or 0, m) for p, m in zip(people, minutes, strict=True)]
        options = scheduling.block_slots(
            session=session,
            parts=parts,
            day=on,
            tz=tz,
            step_minutes=s.limits.slot_step_minutes,
            gap_minutes=s.limits.block_gap_minutes if gap is None else gap,
            limit=limit,
        )
        _show_block(people, minutes, options, on, tz, as_json)


def _show_free(
    who: Practitioner,
    found: list[scheduling.Slot],
    minutes: int,
    on: date,
    tz: ZoneInfo,
    as_json: bool,
) -> None:
    if as_json:
        emit_json(
            {
                "practitioner_id": who.id,
                "practitioner": who.name,
                "date": on.isoformat(),
                "timezone": tz.key,
                "duration_minutes": minutes,
                "slots": [_slot_json(x, tz) for x in found],
            }
        )
    elif not found:
        console.print(f"No free {minutes}-minute slots with {who.name} on {on:%a %d %b %Y}.")
    else:
        title = f"Free {minutes}-minute slots with {who.name}, {on:%a %d %b %Y} ({tz.key})"
        # The title goes above the table: a narrow table would wrap it.
        console.print(title, highlight=False)
        console.print(table(None, ["Start", "End"], [_hm(x, tz).split("-") for x in found]))


def _show_block(
    people: list[Practitioner],
    minutes: list[int],
    options: list[scheduling.BlockOption],
    on: date,
    tz: ZoneInfo,
    as_json: bool,
) -> None:
    if as_json:
        parts = [
            {"practitioner_id": p.id, "practitioner": p.name, "duration_minutes": m}
            for p, m in zip(people, minutes, strict=True)
        ]
        options_json = [[_slot_json(x, tz) for x in o.slots] for o in options]
        emit_json(
            {"date": on.isoformat(), "timezone": tz.key, "parts": parts, "options": options_json}
        )
    elif not options:
        console.print(f"No visit block fits on {on:%a %d %b %Y}; try another day.")
    else:
        lengths = "/".join(map(str, minutes))
        title = f"Visit block options ({lengths} min), {on:%a %d %b %Y} ({tz.key})"
        console.print(_options_table(title, options, people, tz))


@app.command()
@handle_errors
def book(
    patient: str = typer.Option(..., "--patient", help="Patient id or name fragment."),
    practitioner: str = typer.Option(..., "--practitioner", help="Practitioner id or name."),
    start: str = typer.Option(..., "--start", help='Local start, "YYYY-MM-DD HH:MM".'),
    duration: int = typer.Option(45, "--duration", help="Minutes."),
    service: str = typer.Option("consultation", "--service", help="Service type."),
    billing: str = typer.Option("direct_pay", "--billing", help="insurance or direct_pay."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Book an appointment (refused if it clashes, is outside hours or in the past)."""
    tz = settings().zone
    starts_at, track = parse_local_datetime(start, tz), _billing(billing)
    with transaction() as session:
        who = resolve_patient(session=session, query=patient)
        pr = find_practitioner(session=session, query=practitioner)
        appt = scheduling.book(
            session=session,
            practitioner_id=pr.id or 0,
            patient_id=who.id or 0,
            service_type=service,
            starts_at=starts_at,
            duration_minutes=duration,
            tz=tz,
            billing_track=track,
            actor="cli",
            now=utcnow(),
        )
    if as_json:
        emit_json(_appointment_json(appt, tz))
        return
    console.print(
        f"Booked appointment {appt.id}: {who.full_name} with {pr.name}, "
        f"{_when(appt.starts_at, appt.ends_at, tz)} ({tz.key}), {appt.service_type}, "
        f"{track.value.replace('_', ' ')}."
    )


@app.command()
@handle_errors
def cancel(
    appointment: str = typer.Argument(
        ..., help="Appointment id (or a visit block id with --block)."
    ),
    block: bool = typer.Option(
        False, "--block", help="Cancel the whole visit block and list rebooking options."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept on the appointment)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Cancel an appointment, or with --block every part of its visit block."""
    tz, ident = settings().zone, appointment.strip()
    if block:
        _cancel_block(ident, reason, tz, as_json)
        return
    if not ident.isdigit():
        raise InvalidInput(f"appointment id {appointment!r} is not a number")
    with transaction() as session:
        done = scheduling.cancel(
            session=session, appointment_id=int(ident), reason=reason, actor="cli"
        )
    if as_json:
        emit_json(_appointment_json(done, tz))
    else:
        when = _when(done.starts_at, done.ends_at, tz)
        console.print(f"Cancelled appointment {done.id} ({when}, {tz.key}).")


def _cancel_block(ident: str, reason: str | None, tz: ZoneInfo, as_json: bool) -> None:
    s = settings()
    with transaction() as session:
        block_id = ident
        if ident.isdigit():  # an appointment of the block rather than the block's own id
            part = session.get(Appointment, int(ident))
            if part is None:
                raise NotFound("appointment", ident)
            if part.visit_block_id is None:
                raise InvalidInput(f"appointment {ident} is not part of a visit block")
            block_id = part.visit_block_id
        result = scheduling.cancel_block(
            session=session,
            visit_block_id=block_id,
            reason=reason,
            tz=tz,
            actor="cli",
            gap_minutes=s.limits.block_gap_minutes,
            step_minutes=s.limits.slot_step_minutes,
        )
        people = [
            get_practitioner(session=session, practitioner_id=p.practitioner_id)
            for p in result.parts
        ]
    if as_json:
        emit_json(
            {
                "visit_block_id": block_id,
                "cancelled": [_appointment_json(a, tz) for a in result.cancelled],
                "rebook_options": [
                    [_slot_json(x, tz) for x in o.slots] for o in result.rebook_options
                ],
            }
        )
        return
    ids = ", ".join(str(a.id) for a in result.cancelled)
    console.print(f"Cancelled visit block {block_id}: appointments {ids}.")
    if result.rebook_options:
        title = f"Rebooking options ({tz.key})"
        console.print(_options_table(title, result.rebook_options, people, tz))
    else:
        console.print("No rebooking options in the next two weeks.")


@app.command()
@handle_errors
def reschedule(
    appointment_id: int = typer.Argument(..., help="Appointment id."),
    start: str = typer.Option(..., "--start", help='New local start, "YYYY-MM-DD HH:MM".'),
    as_json: bool = JSON_OPTION,
) -> None:
    """Move a booked appointment to a new start, keeping its length."""
    tz = settings().zone
    new_start = parse_local_datetime(start, tz)
    with transaction() as session:
        appt = scheduling.reschedule(
            session=session,
            appointment_id=appointment_id,
            new_start=new_start,
            tz=tz,
            actor="cli",
            now=utcnow(),
        )
    if as_json:
        emit_json(_appointment_json(appt, tz))
    else:
        console.print(
            f"Moved appointment {appt.id} to {_when(appt.starts_at, appt.ends_at, tz)} ({tz.key})."
        )
