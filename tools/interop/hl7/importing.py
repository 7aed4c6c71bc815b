"""One read ORU^R01 message taken into the practice database.

- Not readable as one we take (ACK AR) or with a malformed segment (ACK AE, naming segment
  and field): nothing is written.
- PID matched by identifier (each PID-3 identifier, its assigning authority as the system)
  to one patient: every order and result is stored (`lab_results.storing`), ACK AA.
- Matched by name and birth date only, identifiers pointing at two patients, or nobody on
  file: the message is held whole in the review queue (`ImportReview`, format hl7, the raw
  message as payload) for a person to decide, and answered AA with MSA-3 "held for review".
  AA, not AE: the message was received and kept safely; an AE would make the lab's engine
  resend or alarm over a decision that is the practice's, not the lab's. Patients are never
  created from lab messages: a lab knows too little of a person (no contact details, no
  physician), and a typo in a name would open a second record.
- Storing fails on something the message says (an order number of another patient's order,
  a code too long): ACK AE naming segment and field; the caller rolls the message back.

The caller owns the transaction: it commits when `ImportedMessage.keep` is true and rolls
back otherwise (and always under --dry-run), one transaction per message. Nothing here logs
or returns a patient value: counts, control ids, and problems naming segment and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Session

from db.models import ImportFormat, Patient
from tools.interop.hl7.ack import build_ack
from tools.interop.hl7.converting import Unstorable, identity_of, orders_of
from tools.interop.hl7.records import LabMessage, Problem, ReadOutcome, Severity
from tools.interop.lab_results.orders import NoOrderer, OrderConflict
from tools.interop.lab_results.storing import store_orders
from tools.interop.matching import (
    Identifier,
    Match,
    MatchKind,
    add_identifiers,
    hold_for_review,
    match_patient,
)
from tools.interop.provenance import Provenance

ACTOR = "steve-lab-import"
HELD_NOTE = "held for review: patient not matched by identifier"


class MessageOutcome(StrEnum):
    STORED = "stored"  # results written (or already there: every count unchanged)
    HELD = "held"  # in the review queue
    ERROR = "error"  # AE: nothing stored
    REJECTED = "rejected"  # AR: nothing stored


@dataclass(frozen=True)
class ImportedMessage:
    """One message's fate, in counts (never values)."""

    index: int
    control_id: str
    outcome: MessageOutcome
    counts: dict[str, int] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    review_id: int | None = None
    read: ReadOutcome | None = None

    @property
    def keep(self) -> bool:
        """Commit this message's transaction (else roll it back)."""
        return self.outcome in (MessageOutcome.STORED, MessageOutcome.HELD)

    @property
    def ack_code(self) -> str:
        return {
            MessageOutcome.STORED: "AA",
            MessageOutcome.HELD: "AA",
            MessageOutcome.ERROR: "AE",
            MessageOutcome.REJECTED: "AR",
        }[self.outcome]


def source_of(*, read: ReadOutcome, override: str | None = None) -> str:
    """The source system: the override, else MSH-4's namespace id, else MSH-3's, else 'hl7'."""
    if override:
        return override
    header = read.header
    for text in (header.sending_facility, header.sending_application) if header else ():
        if name := text.split("^", 1)[0].strip():
            return name
    return "hl7"


def import_message(
    *,
    session: Session,
    read: ReadOutcome,
    raw: str,
    today: date,
    now: datetime,
    source: str | None = None,
    lab: str | None = None,
) -> ImportedMessage:
    """Take one read message (module doc); `raw` is its text as received (kept when held)."""
    control_id = read.header.control_id if read.header else ""
    if read.message is None:
        outcome = MessageOutcome.REJECTED if read.rejected else MessageOutcome.ERROR
        return ImportedMessage(read.index, control_id, outcome, problems=read.problems, read=read)
    system = source_of(read=read, override=source)
    message = read.message
    identity = identity_of(message=message, default_system=system)
    match = match_patient(session=session, identity=identity)
    if match.kind != MatchKind.IDENTIFIER or match.patient_id is None:
        held = (
            match
            if match.kind == MatchKind.REVIEW
            else Match(MatchKind.NEW, None, "no patient on file with these identifiers")
        )
        review = hold_for_review(
            session=session,
            format=ImportFormat.HL7,
            source_system=system,
            source_ref=control_id,
            match=held,
            payload=raw,
        )
        return ImportedMessage(
            read.index, control_id, MessageOutcome.HELD, {"held": 1}, review_id=review.id, read=read
        )
    return _store(
        session=session,
        read=read,
        message=message,
        patient_id=match.patient_id,
        system=system,
        lab=lab or system,
        identity_identifiers=list(identity.identifiers),
        today=today,
        now=now,
    )


def import_held_message(
    *,
    session: Session,
    payload: str,
    patient_id: int,
    today: date,
    now: datetime,
    source: str | None = None,
    lab: str | None = None,
) -> ImportedMessage:
    """A held message (an `ImportReview` payload of format hl7) stored for the patient a
    person decided it is (`steve import review` merging it): its PID-3 identifiers are added
    to that patient, so the lab's next message matches by identifier."""
    from tools.interop.hl7.reading import read_messages

    reads = read_messages(text=payload)
    read = reads[0] if reads else None
    if read is None or read.message is None:
        problems = read.problems if read is not None else ()
        control_id = read.header.control_id if read and read.header else ""
        return ImportedMessage(1, control_id, MessageOutcome.ERROR, problems=problems, read=read)
    system = source_of(read=read, override=source)
    identity = identity_of(message=read.message, default_system=system)
    return _store(
        session=session,
        read=read,
        message=read.message,
        patient_id=patient_id,
        system=system,
        lab=lab or system,
        identity_identifiers=list(identity.identifiers),
        today=today,
        now=now,
    )


def _store(
    *,
    session: Session,
    read: ReadOutcome,
    message: LabMessage,
    patient_id: int,
    system: str,
    lab: str,
    identity_identifiers: list[Identifier],
    today: date,
    now: datetime,
) -> ImportedMessage:
    control_id = message.header.control_id
    patient = session.get(Patient, patient_id)
    assert patient is not None
    try:
        orders, shortened = orders_of(message=message)
        conflicts = add_identifiers(
            session=session, patient_id=patient_id, identifiers=identity_identifiers
        )
        stored = store_orders(
            session=session,
            provenance=Provenance(session=session, source_system=system),
            patient=patient,
            orders=orders,
            lab=lab,
            today=today,
            sent_at=message.header.sent_at,
            now=now,
            actor=ACTOR,
        )
    except Unstorable as bad:
        return _error(read, bad.problem)
    except OrderConflict as conflict:
        where = str(conflict).split(":", 1)[0]  # "OBR 2"
        occurrence = int(where.split()[-1]) if where.split()[-1].isdigit() else 0
        return _error(
            read,
            Problem(Severity.ERROR, "OBR", occurrence, 2, 103, "order number of another patient"),
        )
    except NoOrderer:
        return _error(
            read, Problem(Severity.ERROR, "OBR", 1, 16, 103, "no practitioner to route to")
        )
    counts = dict(stored.counts)
    if shortened:
        counts["values shortened"] = shortened
    if conflicts:
        counts["identifiers held by another patient"] = len(conflicts)
    return ImportedMessage(read.index, control_id, MessageOutcome.STORED, counts, read=read)


def _error(read: ReadOutcome, problem: Problem) -> ImportedMessage:
    control_id = read.header.control_id if read.header else ""
    return ImportedMessage(
        read.index, control_id, MessageOutcome.ERROR, problems=(problem,), read=read
    )


def ack_for(
    *, imported: ImportedMessage, control_id: str, sent_at: datetime, facility: str = ""
) -> str:
    """The ER7 ACK answering `imported`: AA (with MSA-3 'held for review' when held), AE or
    AR naming segment and field."""
    read = imported.read
    assert read is not None
    answered = ReadOutcome(
        index=read.index, header=read.header, message=read.message, problems=imported.problems
    )
    note = HELD_NOTE if imported.outcome == MessageOutcome.HELD else ""
    return build_ack(
        outcome=answered, control_id=control_id, sent_at=sent_at, facility=facility, note=note
    )
