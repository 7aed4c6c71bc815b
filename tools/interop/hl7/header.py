"""The MSH segment of an HL7 v2 message read, and judged: is this a message we take (an
ORU^R01 of version 2.3 to 2.5.1 with a control id)? A message that is not gets REJECT
problems, answered by an AR."""

from __future__ import annotations

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Segment
from hl7apy.parser import parse_segment

from tools.interop.hl7.fields import BadDate, component, field_text, parse_timestamp, repetitions
from tools.interop.hl7.records import MessageHeader, Problem, Severity

SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1")
#: Version used to read the MSH of a message whose own version is not supported (for the AR).
FALLBACK_VERSION = "2.5"


def _reject(field: int | None, code: int, reason: str) -> Problem:
    return Problem(
        severity=Severity.REJECT, segment="MSH", occurrence=0, field=field, code=code, reason=reason
    )


def encoding_chars_of(*, msh: str) -> dict[str, str] | None:
    """The separators MSH-1 and MSH-2 declare, None when MSH cannot declare them."""
    if len(msh) < 8 or not msh.startswith("MSH"):
        return None
    field_sep = msh[3]
    declared = msh[4:].split(field_sep, 1)[0]
    if (
        len(declared) < 3
        or field_sep.isalnum()
        or len(set(declared + field_sep)) != len(declared) + 1
    ):
        return None
    subcomponent = declared[3] if len(declared) > 3 else "&"
    return {
        "FIELD": field_sep,
        "COMPONENT": declared[0],
        "REPETITION": declared[1],
        "ESCAPE": declared[2],
        "SUBCOMPONENT": subcomponent,
        "GROUP": "\r",
        "SEGMENT": "\r",
    }


def read_header(*, msh: str) -> tuple[MessageHeader | None, Segment | None, list[Problem]]:
    """MSH read into a header, with the problems that make the message one we reject."""
    chars = encoding_chars_of(msh=msh)
    if chars is None:
        return None, None, [_reject(None, 100, "not an MSH segment with its separators")]
    declared_version = msh.split(chars["FIELD"])[11:12]
    version = declared_version[0].split(chars["COMPONENT"])[0] if declared_version else ""
    # Only MSH-1 to MSH-12 are read: later fields are cut before hl7apy parses the segment.
    kept = chars["FIELD"].join(msh.split(chars["FIELD"])[:12])
    try:
        segment = parse_segment(
            kept,
            version=version if version in SUPPORTED_VERSIONS else FALLBACK_VERSION,
            encoding_chars=chars,
            validation_level=VALIDATION_LEVEL.TOLERANT,
        )
    except Exception:  # hl7apy raises many kinds; none may escape with message text
        return None, None, [_reject(None, 100, "MSH could not be read")]
    problems: list[Problem] = []
    try:
        sent_at = parse_timestamp(text=field_text(segment=segment, field=7))
    except BadDate:
        sent_at = None
    message_type = _message_type(segment=segment)
    header = MessageHeader(
        control_id=field_text(segment=segment, field=10),
        version=version,
        message_type=message_type,
        sending_application=field_text(segment=segment, field=3),
        sending_facility=field_text(segment=segment, field=4),
        receiving_application=field_text(segment=segment, field=5),
        receiving_facility=field_text(segment=segment, field=6),
        processing_id=field_text(segment=segment, field=11),
        sent_at=sent_at,
    )
    if not header.control_id:
        problems.append(_reject(10, 101, "no message control id"))
    if message_type != "ORU^R01":
        problems.append(_reject(9, 200, "not an ORU^R01 message"))
    if not version:
        problems.append(_reject(12, 101, "no version id"))
    elif version not in SUPPORTED_VERSIONS:
        problems.append(_reject(12, 203, "unsupported version (2.3 to 2.5.1 are read)"))
    return header, segment, problems


def _message_type(*, segment: Segment) -> str:
    reps = repetitions(segment=segment, field=9)
    if not reps:
        return ""
    code = component(element=reps[0], position=1)
    event = component(element=reps[0], position=2)
    return f"{code}^{event}" if event else code
