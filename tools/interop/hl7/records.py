"""What an ORU^R01 lab-result message says, as plain dataclasses: the header, the patient's
identity (PID), each order (OBR) with its results (OBX) and comments (NTE), and the problems
that stop a message from being taken (segment and field named, never the value)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True)
class Coded:
    """A coded element (CE/CWE): code, text and coding system (LN for LOINC, ...)."""

    code: str
    text: str = ""
    system: str = ""


@dataclass(frozen=True)
class NumericValue:
    """OBX-5 of value type NM."""

    number: Decimal


@dataclass(frozen=True)
class StructuredNumeric:
    """OBX-5 of value type SN: `>` 200, 1 `:` 128, 10 `-` 20, ..."""

    comparator: str
    first: Decimal | None
    separator: str = ""
    second: Decimal | None = None


@dataclass(frozen=True)
class TextValue:
    """OBX-5 of value type ST, TX or FT (repetitions joined by line breaks), or of a type
    kept as text (DT, TS, ...)."""

    text: str


@dataclass(frozen=True)
class CodedValue:
    """OBX-5 of value type CE or CWE."""

    coded: Coded


ObservationValue = NumericValue | StructuredNumeric | TextValue | CodedValue


class ResultStatus(StrEnum):
    """OBX-11, HL7 table 0085."""

    CORRECTED = "C"
    DELETED = "D"
    FINAL = "F"
    NOT_OBTAINED = "X"
    SPECIMEN_IN_LAB = "I"
    NOT_VERIFIED = "N"
    ORDER_DETAIL = "O"
    PRELIMINARY = "P"
    RESULTS_ENTERED = "R"
    PARTIAL = "S"
    UNVERIFIED = "U"
    WRONG = "W"


@dataclass(frozen=True)
class Comment:
    """An NTE segment: its text (repetitions joined by line breaks) and source (NTE-2)."""

    text: str
    source: str = ""


@dataclass(frozen=True)
class PatientIdentifier:
    """One PID-3 repetition: the value, its assigning authority and identifier type (MR, ...)."""

    value: str
    assigning_authority: str = ""
    identifier_type: str = ""


@dataclass(frozen=True)
class PatientIdentity:
    """PID as the lab sent it; matching it to a practice patient is the caller's."""

    identifiers: tuple[PatientIdentifier, ...]
    family_name: str = ""
    given_names: tuple[str, ...] = ()
    birth_date: date | None = None
    sex: str = ""


@dataclass(frozen=True)
class Provider:
    """An XCN: identifier and name of a clinician (OBR-16 ordering provider)."""

    identifier: str = ""
    family_name: str = ""
    given_name: str = ""


@dataclass(frozen=True)
class LabResult:
    """One OBX."""

    set_id: int | None
    value_type: str
    observation: Coded
    sub_id: str
    value: ObservationValue | None
    units: str
    reference_range: str
    abnormal_flags: tuple[str, ...]
    status: ResultStatus
    observed_at: datetime | None
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True)
class LabOrder:
    """One OBR with the OBX and NTE segments that follow it."""

    placer_order_number: str
    filler_order_number: str
    service: Coded
    observed_at: datetime | None
    results_reported_at: datetime | None
    ordering_provider: Provider | None
    result_status: str
    results: tuple[LabResult, ...] = ()
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True)
class MessageHeader:
    """What the ACK needs of MSH; fields the sender left out are empty strings."""

    control_id: str
    version: str
    message_type: str
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    processing_id: str
    sent_at: datetime | None = None


@dataclass(frozen=True)
class LabMessage:
    """A whole ORU^R01 message that read without problems."""

    header: MessageHeader
    patient: PatientIdentity
    orders: tuple[LabOrder, ...]


class Severity(StrEnum):
    """REJECT: the message is not one we take (ACK AR); ERROR: it is, but is wrong (ACK AE)."""

    REJECT = "reject"
    ERROR = "error"


@dataclass(frozen=True)
class Problem:
    """Why a message is not taken, naming segment and field and never the value.

    `occurrence` counts segments of that name from 1 (OBX 3 is the message's third OBX),
    0 for the message's single MSH and PID;
    `code` is from HL7 table 0357 (100 segment sequence, 101 required field missing,
    102 data type error, 103 table value not found, 200 unsupported message type,
    203 unsupported version).
    """

    severity: Severity
    segment: str
    occurrence: int
    field: int | None
    code: int
    reason: str

    @property
    def location(self) -> str:
        """`OBX-5 of OBX 3`, `OBR 2`, `PID-3`, `MSH-12`."""
        if self.field is None:
            return f"{self.segment} {self.occurrence}" if self.occurrence else self.segment
        named = f"{self.segment}-{self.field}"
        return f"{named} of {self.segment} {self.occurrence}" if self.occurrence else named

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass(frozen=True)
class ReadOutcome:
    """One message of a file or stream: the message, or the problems that stop it (never
    both). `index` counts messages from 1; `header` is None only when MSH is unreadable."""

    index: int
    header: MessageHeader | None
    message: LabMessage | None
    problems: tuple[Problem, ...] = field(default=())

    @property
    def rejected(self) -> bool:
        return any(problem.severity is Severity.REJECT for problem in self.problems)
