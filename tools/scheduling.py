"""Scheduling: free slots, bookings, visit blocks, reschedules and cancellations.

Rules
- A practitioner works in `WorkingHours` windows (local wall-clock times in the practice zone
  `tz`); windows that touch or overlap on a day count as one. A booking lies inside one window.
- Booked, arrived and completed appointments hold their time; cancelled and no-show ones do
  not. Neither a practitioner nor a patient may have two that overlap (end == start is fine).
- Only active, in-house practitioners are booked here (the external network is seen by referral).
- Offered slots start on the step grid (minutes since local midnight a multiple of the step)
  and never before `now`.
- A visit block is one patient's same-day sequence of parts. The gap is a minimum: each later
  part starts at the first grid time at least `gap_minutes` after the previous part ends, so the
  patient waits at least the gap and less than gap + step, and all parts start at clock-friendly
  grid times. The block search tries every grid start for the first part.

Concurrency: bookings lock the practitioner rows (in id order), then the patient row, before
checking conflicts, so two concurrent bookings of the same time cannot both succeed; on SQLite
they take the database's write lock first instead. Nothing here commits: the caller does.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session, col, select

from tools import audit
from tools.clock import at_local, local_day_bounds, today_in
from tools.db import utcnow
from tools.errors import Conflict, InvalidInput, InvalidTransition, NotFound, SteveError
from tools.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Affiliation,
    Appointment,
    AppointmentStatus,
    BillingTrack,
    Patient,
    Practitioner,
    PractitionerStatus,
    WorkingHours,
)

MIN_DURATION, MAX_DURATION = 5, 480
MAX_GAP, MAX_STEP = 240, 240
CANCELLABLE = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)
_SQLITE_WRITE_LOCK = text("UPDATE practitioner SET name = name WHERE id = :id")


@dataclass(frozen=True)
class Slot:
    practitioner_id: int
    start: datetime  # aware UTC
    end: datetime


@dataclass(frozen=True)
class BlockPart:
    practitioner_id: int
    duration_minutes: int
    service_type: str = "consultation"


@dataclass(frozen=True)
class BlockOption:
    slots: tuple[Slot, ...]  # one per part, in order

    @property
    def start(self) -> datetime:
        return self.slots[0].start

    @property
    def end(self) -> datetime:
        return self.slots[-1].end


@dataclass
class BlockCancellation:
    cancelled: list[Appointment]
    rebook_options: list[BlockOption] = field(default_factory=list)
    parts: tuple[BlockPart, ...] = ()  # the block's shape, to pass to book_block with an option


# ------------------------------------------------------------------ validation


def _duration(minutes: int) -> timedelta:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidInput(f"duration {minutes!r} is not a whole number of minutes")
    if not MIN_DURATION <= minutes <= MAX_DURATION:
        raise InvalidInput(
            f"duration {minutes} minutes is not between {MIN_DURATION} and {MAX_DURATION}"
        )
    return timedelta(minutes=minutes)


def _bounded(value: int, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{what} {value!r} is not between {low} and {high}")
    return value


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{what} has no time zone; give an aware datetime")
    return value.astimezone(UTC)


def _service(text: str) -> str:
    text = (text or "").strip()
    if not 1 <= len(text) <= 100:
        raise InvalidInput("service type must be 1 to 100 characters")
    return text


def _billing(value: BillingTrack | str) -> BillingTrack:
    try:
        return BillingTrack(value)
    except ValueError:
        known = ", ".join(b.value for b in BillingTrack)
        raise InvalidInput(f"unknown billing track {value!r}; known: {known}") from None


def _hm(t: datetime, tz: ZoneInfo) -> str:
    return f"{t.astimezone(tz):%H:%M}"


def _span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    return f"{start.astimezone(tz):%Y-%m-%d} {_hm(start, tz)}-{_hm(end, tz)}"


def _bookable(session: Session, practitioner_id: int, *, lock: bool = False) -> Practitioner:
    p = session.get(Practitioner, practitioner_id, with_for_update=True if lock else None)
    if p is None:
        raise NotFound("practitioner", practitioner_id)
    if p.affiliation != Affiliation.IN_HOUSE:
        raise InvalidInput(
            f"practitioner {practitioner_id} is in the external network; "
            "they are seen by referral, not booked in the practice diary"
        )
    if p.status != PractitionerStatus.ACTIVE:
        state = PractitionerStatus(p.status).value.replace("_", " ")
        raise Conflict(f"practitioner {practitioner_id} is {state} and cannot be booked")
    return p


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


# ---------------------------------------------------------------------- diaries


@dataclass
class _Diary:
    """One practitioner's working windows and busy appointments on one local day."""

    windows: list[tuple[datetime, datetime]]
    busy: list[Appointment]  # sorted by start
    starts: list[datetime] = field(default_factory=list)
    max_ends: list[datetime] = field(default_factory=list)  # running max, for bisecting

    def __post_init__(self) -> None:
        self.starts = [a.starts_at for a in self.busy]
        for a in self.busy:
            self.max_ends.append(max(self.max_ends[-1], a.ends_at) if self.max_ends else a.ends_at)

    def inside(self, start: datetime, end: datetime) -> bool:
        return any(ws <= start and end <= we for ws, we in self.windows)

    def clash(self, start: datetime, end: datetime) -> Appointment | None:
        """The earliest-found appointment overlapping [start, end), in O(log n) when free."""
        j = bisect_left(self.starts, end) - 1
        while j >= 0 and self.max_ends[j] > start:
            if self.busy[j].ends_at > start:
                return self.busy[j]
            j -= 1
        return None


def _windows(
    rows: Sequence[WorkingHours], day: date, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    spans = sorted((at_local(day, r.start, tz), at_local(day, r.end, tz)) for r in rows)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _diaries(
    session: Session,
    practitioner_ids: Sequence[int],
    day: date,
    tz: ZoneInfo,
    exclude_id: int | None = None,
) -> dict[int, _Diary]:
    """Every practitioner's diary for the day in two queries, whatever the number of people."""
    ids = sorted(set(practitioner_ids))
    day_start, day_end = local_day_bounds(day, tz)
    hours = session.exec(
        select(WorkingHours).where(
            col(WorkingHours.practitioner_id).in_(ids), WorkingHours.weekday == day.weekday()
        )
    ).all()
    appointments = session.exec(
        select(Appointment)
        .where(
            col(Appointment.practitioner_id).in_(ids),
            col(Appointment.status).in_(ACTIVE_APPOINTMENT_STATUSES),
            col(Appointment.starts_at) < day_end,
            col(Appointment.ends_at) > day_start,
        )
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    ).all()
    return {
        pid: _Diary(
            windows=_windows([h for h in hours if h.practitioner_id == pid], day, tz),
            busy=[a for a in appointments if a.practitioner_id == pid and a.id != exclude_id],
        )
        for pid in ids
    }


def _align_up(t: datetime, tz: ZoneInfo, step: int) -> datetime:
    """The first instant at or after t whose local minute of the day is a multiple of step."""
    t = t.astimezone(UTC)
    if t.second or t.microsecond:
        t = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
    local = t.astimezone(tz)
    return t + timedelta(minutes=-(local.hour * 60 + local.minute) % step)


def _grid(
    diary: _Diary, length: timedelta, tz: ZoneInfo, step: int, now: datetime
) -> Iterator[datetime]:
    for ws, we in diary.windows:
        t = _align_up(max(ws, now), tz, step)
        while t + length <= we:
            yield t
            t += timedelta(minutes=step)


# ------------------------------------------------------------------------ search


def free_slots(
    *,
    session: Session,
    practitioner_id: int,
    day: date,
    duration_minutes: int,
    tz: ZoneInfo,
    step_minutes: int = 15,
    now: datetime | None = None,
) -> list[Slot]:
    """Free, bookable slots of one practitioner on a local day, earliest first."""
    length = _duration(duration_minutes)
    step = _bounded(step_minutes, "step (minutes)", 1, MAX_STEP)
    now = _aware(now, "now") if now else utcnow()
    _bookable(session, practitioner_id)
    diary = _diaries(session, [practitioner_id], day, tz)[practitioner_id]
    return [
        Slot(practitioner_id, t, t + length)
        for t in _grid(diary, length, tz, step, now)
        if diary.clash(t, t + length) is None
    ]


def block_slots(
    *,
    session: Session,
    parts: Sequence[BlockPart],
    day: date,
    tz: ZoneInfo,
    gap_minutes: int = 10,
    step_minutes: int = 15,
    now: datetime | None = None,
    limit: int | None = None,
) -> list[BlockOption]:
    """Ways to fit a visit block (parts in order, same day) into the diaries, earliest first."""
    if not parts:
        raise InvalidInput("a visit block needs at least one part")
    lengths = [_duration(p.duration_minutes) for p in parts]
    gap = timedelta(minutes=_bounded(gap_minutes, "gap (minutes)", 0, MAX_GAP))
    step = _bounded(step_minutes, "step (minutes)", 1, MAX_STEP)
    if limit is not None:
        _bounded(limit, "limit", 1, 10_000)
    now = _aware(now, "now") if now else utcnow()
    for pid in dict.fromkeys(p.practitioner_id for p in parts):
        _bookable(session, pid)
    diaries = _diaries(session, [p.practitioner_id for p in parts], day, tz)
    options: list[BlockOption] = []
    for first in _grid(diaries[parts[0].practitioner_id], lengths[0], tz, step, now):
        slots: list[Slot] = []
        start = first
        for part, length in zip(parts, lengths, strict=True):
            diary = diaries[part.practitioner_id]
            if not diary.inside(start, start + length) or diary.clash(start, start + length):
                break
            slots.append(Slot(part.practitioner_id, start, start + length))
            start = _align_up(start + length + gap, tz, step)
        else:
            options.append(BlockOption(tuple(slots)))
            if limit is not None and len(options) >= limit:
                break
    return options


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
