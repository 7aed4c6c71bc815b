"""A read ORU^R01 message (`records.LabMessage`) turned into what every lab format becomes
(`lab_results.incoming`): the patient's identity for matching, and each OBR as an order with
its OBX results. What cannot be stored as sent is a `Problem` naming segment and field
(a code longer than the database keeps), never the value."""

from __future__ import annotations

from dataclasses import dataclass, field

from db.models import LabFlag
from tools.interop.hl7.records import (
    CodedValue,
    LabMessage,
    LabOrder,
    LabResult,
    NumericValue,
    ObservationValue,
    Problem,
    Severity,
    StructuredNumeric,
    TextValue,
)
from tools.interop.lab_results.incoming import (
    IncomingOrder,
    IncomingResult,
    Orderer,
    code_system,
    flag_for,
    parse_range,
    read_flag,
    read_status,
)
from tools.interop.matching import Identifier, Identity

MAX_TEXT = 200
MAX_CODE = 40
MAX_UNIT = 40


class Unstorable(Exception):
    """A part of the message Steve cannot keep as sent (carries the problem, no values)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def identity_of(*, message: LabMessage, default_system: str) -> Identity:
    """PID as matching reads it: each PID-3 identifier with its assigning authority as the
    system (the sending lab's own name when PID-3 names none), name and birth date."""
    patient = message.patient
    return Identity(
        identifiers=[
            Identifier(
                system=i.assigning_authority or default_system,
                value=i.value,
                kind=i.identifier_type or None,
            )
            for i in patient.identifiers
        ],
        given_name=patient.given_names[0] if patient.given_names else None,
        family_name=patient.family_name or None,
        birth_date=patient.birth_date,
    )


@dataclass
class _Counter:
    obx: int = 0
    shortened: int = 0
    keys: dict[str, int] = field(default_factory=dict)

    def unique(self, key: str) -> str:
        seen = self.keys.get(key, 0) + 1
        self.keys[key] = seen
        return key if seen == 1 else f"{key}#{seen}"


def orders_of(*, message: LabMessage) -> tuple[list[IncomingOrder], int]:
    """Every OBR as an incoming order; and how many text values were shortened to fit."""
    counter = _Counter()
    orders = []
    for number, order in enumerate(message.orders, start=1):
        orders.append(_order(order=order, number=number, message=message, counter=counter))
    return orders, counter.shortened


def _order(
    *, order: LabOrder, number: int, message: LabMessage, counter: _Counter
) -> IncomingOrder:
    base = order.filler_order_number or order.placer_order_number
    key = counter.unique(
        f"order:{base}" if base else f"message:{message.header.control_id}/{number}"
    )
    results_counter = _Counter()
    results = []
    for result in order.results:
        counter.obx += 1
        results.append(
            _result(
                result=result,
                occurrence=counter.obx,
                order=order,
                message=message,
                keys=results_counter,
                counter=counter,
            )
        )
    provider = order.ordering_provider
    sent = message.header.sent_at
    observed = order.observed_at or sent
    return IncomingOrder(
        key=key,
        where=f"OBR {number}",
        placer_number=(order.placer_order_number[:100] or None),
        filler_number=(order.filler_order_number[:100] or None),
        panel=(order.service.text or order.service.code)[:MAX_TEXT],
        panel_code=order.service.code or None,
        ordered_on=observed.date() if observed else None,
        orderer=(
            Orderer(provider.identifier, provider.family_name, provider.given_name)
            if provider
            else None
        ),
        results=tuple(results),
    )


def _result(
    *,
    result: LabResult,
    occurrence: int,
    order: LabOrder,
    message: LabMessage,
    keys: _Counter,
    counter: _Counter,
) -> IncomingResult:
    coded = result.observation
    if len(coded.code) > MAX_CODE:
        raise Unstorable(_problem(occurrence, 3, 102, "observation code longer than Steve keeps"))
    number, text = _value(result.value)
    if text is not None and len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
        counter.shortened += 1
    low, high, ref_text = parse_range(result.reference_range)
    flag = read_flag(list(result.abnormal_flags))
    status = read_status(result.status.value)
    assert status is not None  # every table 0085 code is mapped
    system = code_system(coded.system)
    base = f"{system or ''}^{coded.code or coded.text}" + (
        f"/{result.sub_id}" if result.sub_id else ""
    )
    issued = order.results_reported_at or message.header.sent_at
    return IncomingResult(
        key=keys.unique(base),
        analyte=(coded.text or coded.code)[:MAX_TEXT],
        code=coded.code or None,
        code_system=system[:100] if system else None,
        value=number,
        value_text=text,
        unit=(result.units[:MAX_UNIT] or None),
        ref_low=low,
        ref_high=high,
        ref_text=ref_text[:MAX_TEXT] if ref_text else None,
        # A flag Steve does not know is shown as abnormal, never quietly normal.
        flag=flag_for(
            given=flag if flag is not None else LabFlag.ABNORMAL,
            sent=bool(result.abnormal_flags),
            value=number,
            low=low,
            high=high,
        ),
        status=status,
        resulted_on=issued.date() if issued else None,
        issued_at=issued,
    )


def _problem(occurrence: int, fld: int, code: int, reason: str) -> Problem:
    return Problem(Severity.ERROR, "OBX", occurrence, fld, code, reason)


def _value(value: ObservationValue | None) -> tuple[float | None, str | None]:
    """OBX-5 as a number, or as text when it is not a plain number."""
    if value is None:
        return None, None
    if isinstance(value, NumericValue):
        return float(value.number), None
    if isinstance(value, StructuredNumeric):
        plain = value.comparator in ("", "=") and not value.separator and value.second is None
        if plain and value.first is not None:
            return float(value.first), None
        first = "" if value.first is None else str(value.first)
        second = "" if value.second is None else str(value.second)
        return None, f"{value.comparator}{first}{value.separator}{second}"
    if isinstance(value, CodedValue):
        return None, value.coded.text or value.coded.code
    assert isinstance(value, TextValue)
    return None, value.text
