"""What a laboratory sent about one patient, in the shape every lab format is read into:
orders (one per HL7 OBR, or per order number in a CSV file) with their results. Also the
small readings both formats share: a reference range into low/high/text, abnormal flags
(HL7 table 0078) into a `LabFlag`, result statuses (table 0085) into a `ResultStatus`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime

from db.models import LabFlag, ResultStatus

#: Coding systems as HL7 v2 names them -> the URIs FHIR (and the rest of Steve) uses.
CODE_SYSTEMS = {
    "LN": "http://loinc.org",
    "LOINC": "http://loinc.org",
    "SCT": "http://snomed.info/sct",
    "SNM": "http://snomed.info/sct",
    "UCUM": "http://unitsofmeasure.org",
}


@dataclass(frozen=True)
class IncomingResult:
    """One result (an OBX, a CSV row). `key` tells results of one order apart, stably
    across re-sends (the code, with the sub-id when there is one)."""

    key: str
    analyte: str
    code: str | None
    code_system: str | None
    value: float | None
    value_text: str | None
    unit: str | None
    ref_low: float | None
    ref_high: float | None
    ref_text: str | None
    flag: LabFlag
    status: ResultStatus
    resulted_on: date | None
    issued_at: datetime | None


@dataclass(frozen=True)
class Orderer:
    """Who ordered the tests, as the lab names them (HL7 OBR-16)."""

    identifier: str = ""
    family_name: str = ""
    given_name: str = ""


@dataclass(frozen=True)
class IncomingOrder:
    """One order (an OBR, a CSV order number). `key` is the lab's stable name for it (the
    filler order number, else the placer's); `where` names it in problems ("OBR 2", "row 5")."""

    key: str
    where: str
    placer_number: str | None
    filler_number: str | None
    panel: str
    panel_code: str | None
    ordered_on: date | None
    orderer: Orderer | None
    results: tuple[IncomingResult, ...]


def fitted_id(text: str, limit: int = 200) -> str:
    """A record id that fits `record_source.resource_id`: as is, or cut with a hash of the
    whole so two long ids never collide."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return f"{text[: limit - 17]}#{digest}"


def code_system(name: str) -> str | None:
    """A coding system's URI when Steve knows the HL7 name, else the name ("" -> None)."""
    name = name.strip()
    return CODE_SYSTEMS.get(name.upper(), name) or None


_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_BETWEEN = re.compile(rf"^\s*({_NUMBER})\s*(?:-|\u2013|to)\s*({_NUMBER})\s*$")
_BOUND = re.compile(rf"^\s*(<=|>=|<|>|≤|≥)\s*({_NUMBER})\s*$")


def parse_range(text: str) -> tuple[float | None, float | None, str | None]:
    """'70-99' -> (70, 99), '<150' -> (None, 150), '>40' -> (40, None); anything else (a
    titre '<1:80', 'negative') is kept as text only. The text is always kept as sent."""
    text = text.strip()
    if not text:
        return None, None, None
    if match := _BETWEEN.match(text):
        return float(match.group(1)), float(match.group(2)), text
    if match := _BOUND.match(text):
        bound = float(match.group(2))
        return (None, bound, text) if match.group(1) in ("<", "<=", "≤") else (bound, None, text)
    return None, None, text


#: HL7 table 0078 (abnormal flags) -> Steve's flag. Critical: the "panic" flags HH, LL, AA.
FLAGS = {
    "": LabFlag.NORMAL,
    "N": LabFlag.NORMAL,
    "NEG": LabFlag.NORMAL,
    "NR": LabFlag.NORMAL,
    "H": LabFlag.HIGH,
    "HU": LabFlag.HIGH,
    ">": LabFlag.HIGH,
    "L": LabFlag.LOW,
    "LU": LabFlag.LOW,
    "<": LabFlag.LOW,
    "A": LabFlag.ABNORMAL,
    "POS": LabFlag.ABNORMAL,
    "DET": LabFlag.ABNORMAL,
    "RR": LabFlag.ABNORMAL,
    "HH": LabFlag.CRITICAL,
    "LL": LabFlag.CRITICAL,
    "AA": LabFlag.CRITICAL,
    "CRITICAL": LabFlag.CRITICAL,
    "C": LabFlag.CRITICAL,
    "HIGH": LabFlag.HIGH,
    "LOW": LabFlag.LOW,
    "ABNORMAL": LabFlag.ABNORMAL,
    "NORMAL": LabFlag.NORMAL,
}
_SEVERITY = [LabFlag.NORMAL, LabFlag.LOW, LabFlag.HIGH, LabFlag.ABNORMAL, LabFlag.CRITICAL]


def read_flag(codes: tuple[str, ...] | list[str]) -> LabFlag | None:
    """The most severe of the flags given; None when one is not a flag Steve knows. No flag
    at all is NORMAL here (`flag_for` then looks at the range)."""
    flags = []
    for code in codes:
        flag = FLAGS.get(code.strip().upper())
        if flag is None:
            return None
        flags.append(flag)
    return max(flags, key=_SEVERITY.index, default=LabFlag.NORMAL)


def flag_for(
    *, given: LabFlag, sent: bool, value: float | None, low: float | None, high: float | None
) -> LabFlag:
    """The lab's flag when it sent one; else low/high when a number is outside its range
    (a lab that leaves OBX-8 empty does not make an out-of-range value normal)."""
    if sent or value is None:
        return given
    if low is not None and value < low:
        return LabFlag.LOW
    if high is not None and value > high:
        return LabFlag.HIGH
    return given


#: HL7 table 0085 (observation result status) -> Steve's result status.
STATUSES = {
    "F": ResultStatus.FINAL,
    "C": ResultStatus.CORRECTED,
    "P": ResultStatus.PRELIMINARY,
    "R": ResultStatus.PRELIMINARY,
    "S": ResultStatus.PRELIMINARY,
    "I": ResultStatus.PRELIMINARY,
    "N": ResultStatus.PRELIMINARY,
    "U": ResultStatus.PRELIMINARY,
    "O": ResultStatus.PRELIMINARY,
    "X": ResultStatus.CANCELLED,
    "D": ResultStatus.CANCELLED,
    "W": ResultStatus.CANCELLED,
    "FINAL": ResultStatus.FINAL,
    "CORRECTED": ResultStatus.CORRECTED,
    "AMENDED": ResultStatus.CORRECTED,
    "PRELIMINARY": ResultStatus.PRELIMINARY,
    "CANCELLED": ResultStatus.CANCELLED,
}


def read_status(code: str) -> ResultStatus | None:
    """A result status from an HL7 code or its word; '' is final (a CSV without statuses)."""
    if not code.strip():
        return ResultStatus.FINAL
    return STATUSES.get(code.strip().upper())


def shown_value(value: float | None, text: str | None, unit: str | None) -> str:
    """A result's value as the history shows it ('245 mg/dL', 'Positive', 'no value')."""
    if value is None:
        return text or "no value"
    number = f"{value:g}"
    return f"{number} {unit}" if unit else number
