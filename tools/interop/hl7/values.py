"""OBX-5 read by its value type (OBX-2): NM a number, SN a structured numeric, ST/TX/FT text,
CE/CWE a coded element; any other type is kept as text. A value that does not fit its type
raises `BadValue`, whose reason never holds the value."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from tools.interop.hl7.fields import component, unescape
from tools.interop.hl7.records import (
    Coded,
    CodedValue,
    NumericValue,
    ObservationValue,
    StructuredNumeric,
    TextValue,
)

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
SN_COMPARATORS = frozenset({"", ">", "<", ">=", "<=", "=", "<>"})
SN_SEPARATORS = frozenset({"", "-", "+", "/", ".", ":"})
TEXT_TYPES = frozenset({"ST", "TX", "FT"})
CODED_TYPES = frozenset({"CE", "CWE", "CNE"})


class BadValue(ValueError):
    """OBX-5 does not fit OBX-2 (the reason names the type, never the value)."""


def parse_number(*, text: str) -> Decimal:
    """An HL7 NM: optional sign, digits, optional decimal point (no exponent, no commas)."""
    stripped = text.strip()
    if not _NUMBER.match(stripped):
        raise InvalidOperation
    return Decimal(stripped)


def read_value(
    *, value_type: str, repetitions: list[Any], encoding_chars: dict[str, str]
) -> ObservationValue | None:
    """OBX-5 as `value_type` says, None when the field is empty."""
    texts = [str(rep.to_er7()) for rep in repetitions]
    if not any(texts):
        return None
    if value_type == "NM":
        try:
            return NumericValue(number=parse_number(text=texts[0]))
        except InvalidOperation:
            raise BadValue("not a number for value type NM") from None
    if value_type == "SN":
        return _structured_numeric(element=repetitions[0])
    if value_type in CODED_TYPES:
        return CodedValue(coded=coded(element=repetitions[0], encoding_chars=encoding_chars))
    if value_type in TEXT_TYPES:
        lines = [unescape(text=text, encoding_chars=encoding_chars) for text in texts]
        return TextValue(text="\n".join(lines))
    return TextValue(text=unescape(text=texts[0], encoding_chars=encoding_chars))


def coded(*, element: Any, encoding_chars: dict[str, str]) -> Coded:
    """A CE/CWE field or component: identifier, text, coding system."""

    def part(position: int) -> str:
        return unescape(
            text=component(element=element, position=position), encoding_chars=encoding_chars
        )

    return Coded(code=part(1), text=part(2), system=part(3))


def _structured_numeric(*, element: Any) -> StructuredNumeric:
    comparator, first, separator, second = (
        component(element=element, position=position).strip() for position in (1, 2, 3, 4)
    )
    if comparator not in SN_COMPARATORS:
        raise BadValue("not a comparator for value type SN (SN-1)")
    if separator not in SN_SEPARATORS:
        raise BadValue("not a separator for value type SN (SN-3)")
    try:
        first_number = parse_number(text=first) if first else None
        second_number = parse_number(text=second) if second else None
    except InvalidOperation:
        raise BadValue("not a number for value type SN") from None
    if first_number is None and second_number is None:
        raise BadValue("no number for value type SN")
    return StructuredNumeric(
        comparator=comparator, first=first_number, separator=separator, second=second_number
    )
