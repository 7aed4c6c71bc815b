"""Booking, rescheduling and cancelling, with locks so two bookings cannot take one slot."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session, col, select

from db.engine import utcnow
from db.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentStatus,
    BillingTrack,
    Patient,
)
from tools import audit
from tools.clock import today_in
from tools.errors import Conflict, InvalidInput, InvalidTransition, NotFound, SteveError
from tools.scheduling.search import (
    CANCELLABLE,
    MAX_GAP,
    MAX_STEP,
    BlockOption,
    BlockPart,
    Slot,
    _aware,
    _billing,
    _bookable,
    _bounded,
    _diaries,
    _duration,
    _hm,
    _service,
    _span,
    block_slots,
)

_SQLITE_WRITE_LOCK = text("UPDATE practitioner SET name = name WHERE id = :id")


@dataclass
class BlockCancellation:
    cancelled: list[Appointment]
    rebook_options: list[BlockOption] = field(default_factory=list)
    parts: tuple[BlockPart, ...] = ()  # the block's shape, to pass to book_block with an option


def _lock(session: Session, practitioner_ids: Sequence[int], patient_id: int) -> None:
    """Lock practitioners in id order, then the patient: one order everywhere, no deadlocks."""
    ids = sorted(set(practitioner_ids))
    if ids and session.get_bind().dialect.name == "sqlite":
        # pysqlite begins a transaction only at the first write and ignores FOR UPDATE: take
        # SQLite's single write lock now, so no booking can commit between check and insert.
        session.connection().execute(_SQLITE_WRITE_LOCK, {"id": ids[0]})
    for pid in ids:
        _bookable(session, pid, lock=True)
    if session.get(Patient, patient_id, with_for_update=True) is None:
        raise NotFound("patient", patient_id)


# ---------------------------------------------------------------------- booking


def _check_time(
    session: Session,
    practitioner_id: int,
    patient_id: int,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    now: datetime | None,
    exclude_id: int | None = None,
) -> None:
    """Refuse a time in the past, outside hours, or overlapping the practitioner or patient."""
    if now is not None and start < _aware(now, "now"):
        raise Conflict(f"{_span(start, end, tz)} ({tz.key}) is in the past")
    day = start.astimezone(tz).date()
    diary = _diaries(session, [practitioner_id], day, tz, exclude_id)[practitioner_id]
    if not diary.inside(start, end):
        if not diary.windows:
            raise Conflict(f"practitioner {practitioner_id} does not work on {day:%A %Y-%m-%d}")
        hours = ", ".join(f"{_hm(s, tz)}-{_hm(e, tz)}" for s, e in diary.windows)
        raise Conflict(
            f"{_span(start, end, tz)} is outside the working hours of practitioner "
            f"{practitioner_id} on {day:%A} ({hours}, {tz.key})"
        )
    clash = diary.clash(start, end)
    if clash is not None:
        raise Conflict(
            f"practitioner {practitioner_id} already has appointment {clash.id} at "
            f"{_span(clash.starts_at, clash.ends_at, tz)}"
        )
    stmt = select(Appointment).where(
        Appointment.patient_id == patient_id,
        col(Appointment.status).in_(ACTIVE_APPOINTMENT_STATUSES),
        col(Appointment.starts_at) < end,
        col(Appointment.ends_at) > start,
    )
    if exclude_id is not None:
        stmt = stmt.where(col(Appointment.id) != exclude_id)
    other = session.exec(stmt.order_by(col(Appointment.starts_at)).limit(1)).first()
    if other is not None:
        raise Conflict(
            f"patient {patient_id} already has appointment {other.id} at "
            f"{_span(other.starts_at, other.ends_at, tz)} (practitioner {other.practitioner_id})"
        )


def _audit(session: Session, actor: str, action: str, appointment: Appointment) -> None:
    audit.record(session=session, actor=actor, action=action, entity="appointment",
                 entity_id=appointment.id, patient_id=appointment.patient_id)  # fmt: skip


def _insert(session: Session, actor: str, appointments: list[Appointment]) -> list[Appointment]:
    session.add_all(appointments)
    session.flush()
    for appointment in appointments:
        _audit(session, actor, "book", appointment)
    return appointments


def book(
    *,
    session: Session,
    practitioner_id: int,
    patient_id: int,
    service_type: str,
    starts_at: datetime,
    duration_minutes: int,
    tz: ZoneInfo,
    billing_track: BillingTrack = BillingTrack.DIRECT_PAY,
    visit_block_id: str | None = None,
    actor: str = "system",
    now: datetime | None = None,
) -> Appointment:
    """Book one appointment. Given `now`, a start before it is refused (interactive callers);
    without it past times are allowed (recording history, imports)."""
    start = _aware(starts_at, "start time")
    end = start + _duration(duration_minutes)
    service, billing = _service(service_type), _billing(billing_track)
    if visit_block_id is not None and not 1 <= len(visit_block_id) <= 36:
        raise InvalidInput("visit block id must be 1 to 36 characters")
    _lock(session, [practitioner_id], patient_id)
    _check_time(session, practitioner_id, patient_id, start, end, tz, now)
    appointment = Appointment(
        practitioner_id=practitioner_id, patient_id=patient_id, service_type=service,
        starts_at=start, ends_at=end, billing_track=billing, visit_block_id=visit_block_id,
    )  # fmt: skip
    return _insert(session, actor, [appointment])[0]


def book_block(
    *,
    session: Session,
    patient_id: int,
    option: BlockOption,
    parts: Sequence[BlockPart],
    tz: ZoneInfo,
    billing_track: BillingTrack = BillingTrack.DIRECT_PAY,
    actor: str = "system",
    now: datetime | None = None,
) -> list[Appointment]:
    """Book every part of a block option under one new visit block id, or none of them."""
    if not parts or len(parts) != len(option.slots):
        raise InvalidInput(f"the option has {len(option.slots)} slots for {len(parts)} parts")
    slots = [
        Slot(s.practitioner_id, _aware(s.start, "slot start"), _aware(s.end, "slot end"))
        for s in option.slots
    ]
    for i, (part, slot) in enumerate(zip(parts, slots, strict=True), start=1):
        length = _duration(part.duration_minutes)
        if slot.practitioner_id != part.practitioner_id or slot.end - slot.start != length:
            raise InvalidInput(f"slot {i} of the option does not match part {i} of the block")
        _service(part.service_type)
    if any(b.start < a.end for a, b in pairwise(slots)):
        raise InvalidInput("the parts of a visit block must follow one another without overlap")
    if len({s.start.astimezone(tz).date() for s in slots}) > 1:
        raise InvalidInput("the parts of a visit block must fall on the same day")
    billing = _billing(billing_track)
    _lock(session, [p.practitioner_id for p in parts], patient_id)
    # Check every part before adding any, so a refusal writes nothing.
    for slot in slots:
        _check_time(session, slot.practitioner_id, patient_id, slot.start, slot.end, tz, now)
    block_id = str(uuid.uuid4())
    return _insert(session, actor, [
        Appointment(
            practitioner_id=slot.practitioner_id, patient_id=patient_id,
            service_type=_service(part.service_type), starts_at=slot.start, ends_at=slot.end,
            billing_track=billing, visit_block_id=block_id,
        )
        for part, slot in zip(parts, slots, strict=True)
    ])  # fmt: skip


def _get_locked(session: Session, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id, with_for_update=True)
    if appointment is None:
        raise NotFound("appointment", appointment_id)
    return appointment


def reschedule(
    *,
    session: Session,
    appointment_id: int,
    new_start: datetime,
    tz: ZoneInfo,
    actor: str = "system",
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment, keeping its length, under the same checks as a booking."""
    start = _aware(new_start, "new start time")
    appt = _get_locked(session, appointment_id)
    if appt.status != AppointmentStatus.BOOKED:
        state = AppointmentStatus(appt.status).value
        raise InvalidTransition(
            f"appointment {appointment_id} is {state}; only booked appointments can be moved"
        )
    end = start + (appt.ends_at - appt.starts_at)
    _lock(session, [appt.practitioner_id], appt.patient_id)
    _check_time(session, appt.practitioner_id, appt.patient_id, start, end, tz, now, appt.id)
    appt.starts_at, appt.ends_at, appt.updated_at = start, end, utcnow()
    session.add(appt)
    session.flush()
    _audit(session, actor, "reschedule", appt)
    return appt


# ------------------------------------------------------------------ cancelling


def _reason(reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > 300:
        raise InvalidInput("cancellation reason is longer than 300 characters")
    return reason


def _cancel_one(session: Session, appointment: Appointment, reason: str | None, actor: str) -> None:
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancel_reason = reason
    appointment.updated_at = utcnow()
    session.add(appointment)
    _audit(session, actor, "cancel", appointment)


def cancel(
    *, session: Session, appointment_id: int, reason: str | None = None, actor: str = "system"
) -> Appointment:
    """Cancel a booked (or arrived) appointment, freeing its time."""
    reason = _reason(reason)
    appointment = _get_locked(session, appointment_id)
    if appointment.status not in CANCELLABLE:
        state = AppointmentStatus(appointment.status).value
        raise InvalidTransition(f"appointment {appointment_id} is {state} and cannot be cancelled")
    _cancel_one(session, appointment, reason, actor)
    session.flush()
    return appointment


def cancel_block(
    *,
    session: Session,
    visit_block_id: str,
    reason: str | None = None,
    tz: ZoneInfo,
    offer_rebook: bool = True,
    search_days: int = 14,
    actor: str = "system",
    gap_minutes: int | None = None,
    step_minutes: int = 15,
    rebook_limit: int = 3,
    now: datetime | None = None,
) -> BlockCancellation:
    """Cancel every booked part of a visit block and offer the same block on later days.

    Rebook options (for the parts just cancelled, same practitioners and durations): the
    earliest option on each of the next `search_days` days (from the day after the block, or
    today if later), at most `rebook_limit`, found after cancelling so the freed time counts.
    The gap defaults to the smallest gap between the parts. No options if someone is now
    unbookable (on leave, say): the cancellation itself still stands.
    """
    reason = _reason(reason)
    _bounded(search_days, "search days", 0, 90)
    _bounded(rebook_limit, "rebook limit", 0, 50)
    _bounded(step_minutes, "step (minutes)", 1, MAX_STEP)
    if gap_minutes is not None:
        _bounded(gap_minutes, "gap (minutes)", 0, MAX_GAP)
    rows = list(
        session.exec(
            select(Appointment)
            .where(Appointment.visit_block_id == visit_block_id)
            .order_by(col(Appointment.starts_at))
            .with_for_update()
        ).all()
    )
    if not rows:
        raise NotFound("visit block", visit_block_id)
    live = [a for a in rows if a.status in CANCELLABLE]
    if not live:
        raise InvalidTransition(f"visit block {visit_block_id} has no booked parts to cancel")
    for appointment in live:
        _cancel_one(session, appointment, reason, actor)
    session.flush()
    parts = tuple(
        BlockPart(
            a.practitioner_id, int((a.ends_at - a.starts_at).total_seconds() // 60), a.service_type
        )
        for a in live  # parts cancelled earlier on their own are not offered again
    )
    result = BlockCancellation(cancelled=live, parts=parts)
    if not offer_rebook or not search_days or not rebook_limit:
        return result
    if gap_minutes is None:
        gaps = [int((b.starts_at - a.ends_at).total_seconds() // 60) for a, b in pairwise(live)]
        gap_minutes = min(max(min(gaps, default=0), 0), MAX_GAP)
    now = _aware(now, "now") if now else utcnow()
    first_day = max(live[0].starts_at.astimezone(tz).date() + timedelta(days=1), today_in(tz, now))
    try:
        for offset in range(search_days):
            day = first_day + timedelta(days=offset)
            found = block_slots(session=session, parts=parts, day=day, tz=tz, limit=1, now=now,
                                gap_minutes=gap_minutes, step_minutes=step_minutes)  # fmt: skip
            result.rebook_options.extend(found)
            if len(result.rebook_options) >= rebook_limit:
                break
    except SteveError:
        # A practitioner now on leave (or an odd legacy part) means no offer, not a failed cancel.
        result.rebook_options.clear()
    return result
