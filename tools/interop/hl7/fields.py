"""Reading the fields of a segment parsed by hl7apy as text: repetitions, components and
subcomponents by position, escape sequences undone, and HL7 dates and times (DT, TS/DTM)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hl7apy.core import Segment

_ESCAPE_BODY = re.compile(r"\\([^\\]*)\\")
_TIMESTAMP = re.compile(
    r"^(?P<year>\d{4})(?P<month>\d{2})?(?P<day>\d{2})?(?P<hour>\d{2})?(?P<minute>\d{2})?"
    r"(?P<second>\d{2})?(?:\.(?P<fraction>\d{1,4}))?(?P<offset>[+-]\d{4})?$"
)


class BadDate(ValueError):
    """A DT or TS value that is not an HL7 date or time (the value is not in the message)."""


def repetitions(*, segment: Segment, field: int) -> list[Any]:
    """The repetitions of `segment`-`field` (empty when the field is absent)."""
    try:
        return list(getattr(segment, f"{segment.name.lower()}_{field}"))
    except (AttributeError, IndexError):
        return []


def component(*, element: Any, position: int) -> str:
    """Component `position` (from 1) of a field or component, as raw (still escaped) text."""
    if element is None:
        return ""
    children = list(getattr(element, "children", []) or [])
    for child in children:
        suffix = child.name.rsplit("_", 1)[-1]
        if suffix.isdigit() and int(suffix) == position:
            return str(child.to_er7())
    if position == 1 and not any(c.name.rsplit("_", 1)[-1].isdigit() for c in children):
        return str(element.to_er7())  # a primitive field: the field is its own first component
    return ""


def first_subcomponent(*, text: str, subcomponent_separator: str) -> str:
    """The first subcomponent of a component's raw text."""
    return text.split(subcomponent_separator, 1)[0]


def field_text(*, segment: Segment, field: int) -> str:
    """The first repetition of a field as raw text ("" when absent)."""
    reps = repetitions(segment=segment, field=field)
    return str(reps[0].to_er7()) if reps else ""


def unescape(*, text: str, encoding_chars: dict[str, str]) -> str:
    """`text` with HL7 escape sequences undone (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\ \\.br\\ \\Xhh\\);
    formatting escapes it does not know are dropped."""
    escape = encoding_chars["ESCAPE"]
    if escape not in text:
        return text
    pattern = (
        _ESCAPE_BODY
        if escape == "\\"
        else re.compile(rf"{re.escape(escape)}([^{re.escape(escape)}]*){re.escape(escape)}")
    )
    named = {
        "F": encoding_chars["FIELD"],
        "S": encoding_chars["COMPONENT"],
        "T": encoding_chars["SUBCOMPONENT"],
        "R": encoding_chars["REPETITION"],
        "E": escape,
        ".br": "\n",
    }

    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        if body in named:
            return named[body]
        if body.startswith("X") and re.fullmatch(r"X(?:[0-9A-Fa-f]{2})+", body):
            return bytes.fromhex(body[1:]).decode("latin-1")
        return ""

    return pattern.sub(replace, text)


def parse_date(*, text: str) -> date | None:
    """An HL7 DT (YYYY[MM[DD]]; the first 8 digits of a TS also do), None when empty."""
    if not text:
        return None
    moment = parse_timestamp(text=text[:8])
    return moment.date() if moment else None


def parse_timestamp(*, text: str) -> datetime | None:
    """An HL7 TS/DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]), None when empty; aware when it
    carries an offset. Only the first component counts (TS-2, the precision, is ignored)."""
    value = text.split("^", 1)[0].strip()
    if not value:
        return None
    match = _TIMESTAMP.match(value)
    if not match:
        raise BadDate("not an HL7 date/time")
    parts = match.groupdict()
    fraction = parts["fraction"] or ""
    zone = None
    if parts["offset"]:
        sign = -1 if parts["offset"][0] == "-" else 1
        hours, minutes = int(parts["offset"][1:3]), int(parts["offset"][3:5])
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(
            int(parts["year"]),
            int(parts["month"] or 1),
            int(parts["day"] or 1),
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int(fraction.ljust(6, "0")) if fraction else 0,
            tzinfo=zone,
        )
    except ValueError as error:
        raise BadDate("not an HL7 date/time") from error
