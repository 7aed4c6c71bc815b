"""Diaries and free-slot search: working windows, existing bookings, visit-block options."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from db.engine import utcnow
from db.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Affiliation,
    Appointment,
    AppointmentStatus,
    BillingTrack,
    Practitioner,
    PractitionerStatus,
    WorkingHours,
)
from tools.clock import at_local, local_day_bounds
from tools.errors import Conflict, InvalidInput, NotFound

MIN_DURATION, MAX_DURATION = 5, 480
MAX_GAP, MAX_STEP = 240, 240
CANCELLABLE = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)


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
