"""Dates, times and zones at the edges: parse what people type, convert local <-> UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from db.engine import utcnow
from tools.errors import InvalidInput
from tools.limits import check_day


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {name!r} (use an IANA name such as Europe/London)"
        ) from None


def parse_date(text: str, *, what: str = "date") -> date:
    """A date from ISO text (YYYY-MM-DD), 1900 to 2100; 'today'/'tomorrow' are not guessed."""
    try:
        day = date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InvalidInput(f"invalid {what} {text!r}; expected YYYY-MM-DD") from None
    return check_day(day, what)


def parse_local_datetime(text: str, tz: ZoneInfo, *, what: str = "start time") -> datetime:
    """'YYYY-MM-DD HH:MM' (or ISO with offset) read in the practice zone, returned as UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except (ValueError, AttributeError):
        raise InvalidInput(f"invalid {what} {text!r}; expected YYYY-MM-DD HH:MM") from None
    check_day(value.date(), what)
    if value.tzinfo is None:
        value = localise(value, tz)
    return value.astimezone(UTC)


def localise(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach a zone to a wall-clock time, refusing times that do not exist (DST gap)."""
    aware = naive.replace(tzinfo=tz)
    round_trip = aware.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != naive:
        raise InvalidInput(f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key} (clocks change)")
    return aware


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar day starts and ends (InvalidInput for a
    day outside 1900..2100, where the next day or a zone offset could overflow)."""
    check_day(day)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def at_local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """A local wall-clock time on a day, as UTC (a DST-gap time moves forward, as clocks do)."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def today_in(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(tz).date()


def as_of(day: date, tz: ZoneInfo, now: datetime | None = None) -> datetime:
    """The instant that stands for `day` when asking "what is late as of that day?".

    Today is now; another day is the same local time of day on that day, so a day's view
    moves by whole days and `--date` of today gives exactly what no `--date` gives.
    """
    current = (now or utcnow()).astimezone(tz)
    if current.date() == day:
        return current.astimezone(UTC)
    moved = datetime.combine(day, current.timetz().replace(tzinfo=None))
    return datetime.combine(moved.date(), moved.time(), tzinfo=tz).astimezone(UTC)
