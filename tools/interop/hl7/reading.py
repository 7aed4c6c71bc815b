"""ORU^R01 lab-result messages read into `LabMessage`s: PID, each OBR with its OBX results and
NTE comments. A message with any problem is reported whole (its problems, no partial
message); problems name segment and field, never the value. Versions 2.3 to 2.5.1 as labs
send them: hl7apy reads each segment with its version's datatypes, but its strict message
validation is not used (it refuses 2.3 messages without OBR-27, which labs leave out)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Segment
from hl7apy.parser import parse_segment

from tools.interop.hl7.fields import (
    BadDate,
    component,
    field_text,
    first_subcomponent,
    parse_date,
    parse_timestamp,
    repetitions,
    unescape,
)
from tools.interop.hl7.header import encoding_chars_of, read_header
from tools.interop.hl7.records import (
    Coded,
    Comment,
    LabMessage,
    LabOrder,
    LabResult,
    MessageHeader,
    PatientIdentifier,
    PatientIdentity,
    Problem,
    Provider,
    ReadOutcome,
    ResultStatus,
    Severity,
)
from tools.interop.hl7.splitting import decode_payload, split_messages
from tools.interop.hl7.values import BadValue, coded, read_value

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{2}$")
#: The last field read of each segment taken; later fields are cut before hl7apy parses the
#: segment (hl7apy builds an object per component: a full PID costs it ~3 ms).
_LAST_FIELD_READ = {"PID": 8, "OBR": 25, "OBX": 14, "NTE": 3}


class _Stop(Exception):
    """A problem found in a segment (carried, never shown with values)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class _Reader:
    """One message's segments walked in order."""

    chars: dict[str, str]
    version: str
    counts: dict[str, int] = field(default_factory=dict)
    patient: PatientIdentity | None = None
    orders: list[LabOrder] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    last: str = ""

    def error(self, segment: str, fld: int | None, code: int, reason: str) -> Problem:
        return Problem(
            severity=Severity.ERROR,
            segment=segment,
            occurrence=0 if segment == "PID" else self.counts.get(segment, 0),
            field=fld,
            code=code,
            reason=reason,
        )

    def text(self, raw: str) -> str:
        return unescape(text=raw, encoding_chars=self.chars)

    def stamp(self, segment: Segment, fld: int) -> datetime | None:
        try:
            return parse_timestamp(text=field_text(segment=segment, field=fld))
        except BadDate:
            raise _Stop(self.error(segment.name, fld, 102, "not an HL7 date/time")) from None


def read_messages(*, text: str) -> list[ReadOutcome]:
    """Every message of a file or payload, in order (indexes from 1)."""
    return [
        read_message(segments=segments, index=index)
        for index, segments in enumerate(split_messages(text=text), start=1)
    ]


def read_payload(*, data: bytes) -> list[ReadOutcome]:
    """Every message of a file's or MLLP frame's bytes, decoded as MSH-18 declares."""
    return read_messages(text=decode_payload(data=data))


def read_message(*, segments: list[str], index: int = 1) -> ReadOutcome:
    """One message (its segments, MSH first) read, or its problems."""
    header, _, problems = read_header(msh=segments[0])
    if header is None or problems:
        return ReadOutcome(index=index, header=header, message=None, problems=tuple(problems))
    chars = encoding_chars_of(msh=segments[0])
    assert chars is not None  # read_header succeeded
    reader = _Reader(chars=chars, version=header.version)
    for line_number, line in enumerate(segments[1:], start=2):
        try:
            _read_segment(reader=reader, line=line, line_number=line_number)
        except _Stop as stop:
            reader.problems.append(stop.problem)
    return _finish(reader=reader, header=header, index=index)


def _finish(*, reader: _Reader, header: MessageHeader, index: int) -> ReadOutcome:
    if reader.patient is None:
        reader.problems.append(reader.error("PID", None, 100, "no PID segment"))
    if not reader.orders and not reader.counts.get("OBR"):
        reader.problems.append(reader.error("OBR", None, 100, "no OBR segment"))
    if reader.problems or reader.patient is None:
        return ReadOutcome(
            index=index, header=header, message=None, problems=tuple(reader.problems)
        )
    message = LabMessage(header=header, patient=reader.patient, orders=tuple(reader.orders))
    return ReadOutcome(index=index, header=header, message=message)


def _read_segment(*, reader: _Reader, line: str, line_number: int) -> None:
    name = line[:3]
    if not _SEGMENT_ID.match(name) or line[3:4] not in ("", reader.chars["FIELD"]):
        raise _Stop(
            Problem(Severity.ERROR, f"segment {line_number}", 0, None, 100, "not a segment")
        )
    reader.counts[name] = reader.counts.get(name, 0) + 1
    if name not in _LAST_FIELD_READ:
        return  # PD1, PV1, ORC, SPM, Z segments...: not needed to take the results
    kept = reader.chars["FIELD"].join(
        line.split(reader.chars["FIELD"])[: _LAST_FIELD_READ[name] + 1]
    )
    try:
        segment = parse_segment(
            kept,
            version=reader.version,
            encoding_chars=reader.chars,
            validation_level=VALIDATION_LEVEL.TOLERANT,
        )
    except Exception:  # hl7apy raises many kinds; none may escape with message text
        raise _Stop(reader.error(name, None, 100, "segment could not be read")) from None
    if name == "PID":
        _read_pid(reader=reader, segment=segment)
    elif name == "OBR":
        reader.orders.append(_read_obr(reader=reader, segment=segment))
    elif name == "OBX":
        _read_obx(reader=reader, segment=segment)
    else:
        _read_nte(reader=reader, segment=segment)
    reader.last = name


def _read_pid(*, reader: _Reader, segment: Segment) -> None:
    if reader.patient is not None:
        raise _Stop(reader.error("PID", None, 100, "more than one PID segment"))
    identifiers = []
    for rep in repetitions(segment=segment, field=3):
        value = reader.text(component(element=rep, position=1))
        if not value:
            continue
        authority = component(element=rep, position=4)
        parts = authority.split(reader.chars["SUBCOMPONENT"])
        identifiers.append(
            PatientIdentifier(
                value=value,
                assigning_authority=reader.text(parts[0] or (parts[1] if len(parts) > 1 else "")),
                identifier_type=reader.text(component(element=rep, position=5)),
            )
        )
    if not identifiers:
        raise _Stop(reader.error("PID", 3, 101, "no patient identifier"))
    names = repetitions(segment=segment, field=5)
    name = names[0] if names else None
    family = first_subcomponent(
        text=component(element=name, position=1),
        subcomponent_separator=reader.chars["SUBCOMPONENT"],
    )
    given = [reader.text(component(element=name, position=p)) for p in (2, 3)]
    try:
        birth = parse_date(text=field_text(segment=segment, field=7))
    except BadDate:
        raise _Stop(reader.error("PID", 7, 102, "not an HL7 date")) from None
    reader.patient = PatientIdentity(
        identifiers=tuple(identifiers),
        family_name=reader.text(family),
        given_names=tuple(g for g in given if g),
        birth_date=birth,
        sex=reader.text(field_text(segment=segment, field=8)),
    )


def _read_obr(*, reader: _Reader, segment: Segment) -> LabOrder:
    if reader.patient is None:
        raise _Stop(reader.error("OBR", None, 100, "OBR before PID"))
    services = repetitions(segment=segment, field=4)
    service = coded(element=services[0], encoding_chars=reader.chars) if services else Coded("")
    if not service.code and not service.text:
        raise _Stop(reader.error("OBR", 4, 101, "no universal service identifier"))
    providers = repetitions(segment=segment, field=16)
    provider = None
    if providers and providers[0].to_er7():
        sub = reader.chars["SUBCOMPONENT"]
        provider = Provider(
            identifier=reader.text(component(element=providers[0], position=1)),
            family_name=reader.text(
                first_subcomponent(
                    text=component(element=providers[0], position=2), subcomponent_separator=sub
                )
            ),
            given_name=reader.text(component(element=providers[0], position=3)),
        )
    return LabOrder(
        placer_order_number=reader.text(_first_component(segment, 2)),
        filler_order_number=reader.text(_first_component(segment, 3)),
        service=service,
        observed_at=reader.stamp(segment, 7),
        results_reported_at=reader.stamp(segment, 22),
        ordering_provider=provider,
        result_status=reader.text(field_text(segment=segment, field=25)),
    )


def _first_component(segment: Segment, fld: int) -> str:
    reps = repetitions(segment=segment, field=fld)
    return component(element=reps[0], position=1) if reps else ""


def _read_obx(*, reader: _Reader, segment: Segment) -> None:
    if not reader.orders:
        raise _Stop(reader.error("OBX", None, 100, "OBX before any OBR"))
    value_type = field_text(segment=segment, field=2).split(reader.chars["COMPONENT"])[0]
    identifiers = repetitions(segment=segment, field=3)
    observation = (
        coded(element=identifiers[0], encoding_chars=reader.chars) if identifiers else Coded("")
    )
    if not observation.code and not observation.text:
        raise _Stop(reader.error("OBX", 3, 101, "no observation identifier"))
    status_text = field_text(segment=segment, field=11)
    try:
        status = ResultStatus(status_text)
    except ValueError:
        reason = "no result status" if not status_text else "not a result status (table 0085)"
        raise _Stop(reader.error("OBX", 11, 101 if not status_text else 103, reason)) from None
    values = repetitions(segment=segment, field=5)
    if not value_type and any(rep.to_er7() for rep in values):
        raise _Stop(reader.error("OBX", 2, 101, "a value without a value type"))
    try:
        value = read_value(value_type=value_type, repetitions=values, encoding_chars=reader.chars)
    except BadValue as bad:
        raise _Stop(reader.error("OBX", 5, 102, str(bad))) from None
    set_id_text = field_text(segment=segment, field=1)
    units = repetitions(segment=segment, field=6)
    result = LabResult(
        set_id=int(set_id_text) if set_id_text.isdigit() else None,
        value_type=value_type,
        observation=observation,
        sub_id=reader.text(field_text(segment=segment, field=4)),
        value=value,
        units=reader.text(component(element=units[0], position=1)) if units else "",
        reference_range=reader.text(field_text(segment=segment, field=7)),
        abnormal_flags=tuple(
            flag for rep in repetitions(segment=segment, field=8) if (flag := str(rep.to_er7()))
        ),
        status=status,
        observed_at=reader.stamp(segment, 14),
    )
    order = reader.orders[-1]
    reader.orders[-1] = replace(order, results=(*order.results, result))


def _read_nte(*, reader: _Reader, segment: Segment) -> None:
    lines = [reader.text(str(rep.to_er7())) for rep in repetitions(segment=segment, field=3)]
    comment = Comment(text="\n".join(lines), source=field_text(segment=segment, field=2))
    if not reader.orders:
        return  # a comment on the patient or message: not part of a result
    order = reader.orders[-1]
    if reader.last in ("OBX", "NTE") and order.results:
        last = order.results[-1]
        results = (*order.results[:-1], replace(last, comments=(*last.comments, comment)))
        reader.orders[-1] = replace(order, results=results)
    else:
        reader.orders[-1] = replace(order, comments=(*order.comments, comment))
