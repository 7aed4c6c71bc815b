"""Care coordination: medication and supplement changes reach everyone in the programme.

Recording a change creates one care-team message per practitioner active in the patient's
programme (and the primary physician), so nobody treats from an outdated list.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar

from sqlmodel import Session, col, select

from db.engine import get_for_update, utcnow
from db.models import (
    CareMessage,
    MessageKind,
    PatientMedication,
    PractitionerStatus,
    ProgrammeElement,
    ProgrammeStatus,
    SupplementItem,
    SupplementStatus,
)
from tools import audit
from tools.errors import InvalidInput, InvalidTransition, NotFound
from tools.programme import working_elements
from tools.registry import get_patient, get_practitioner

T = TypeVar("T")

CHANGE_ACTIONS = ("start", "change", "stop")


def care_team(*, session: Session, patient_id: int) -> list[int]:
    """Practitioner ids active in the patient's programmes, plus the primary physician."""
    patient = get_patient(session=session, patient_id=patient_id)
    stmt = working_elements(
        ProgrammeElement.practitioner_id, programme_statuses=[ProgrammeStatus.ACTIVE]
    ).where(ProgrammeElement.patient_id == patient_id)
    team = set(session.exec(stmt).all())
    if patient.primary_physician_id:
        team.add(patient.primary_physician_id)
    return sorted(team)


def _held_by(
    session: Session, model: type[T], ident: int | None, patient_id: int, what: str, action: str
) -> T:
    """The patient's record `ident` of `model`, locked for the change."""
    if ident is None:
        raise InvalidInput(f"say which {what} to {action} (its id)")
    record = get_for_update(session, model, ident)
    if record is None or getattr(record, "patient_id", None) != patient_id:
        raise NotFound(f"{what} of this patient", ident)
    return record


# A recorded change: of what ('medication', 'supplement'), the record's id and name, the action.
_Change = tuple[str, int | None, str, str]
# What each kind of change is announced and audited as: message kind, subject, audit entity.
_CHANGES = {
    "medication": (MessageKind.MEDICATION_CHANGE, "Medication change", "patient_medication"),
    "supplement": (MessageKind.SUPPLEMENT_CHANGE, "Supplement change", "supplement_item"),
}


def _announce(
    session: Session,
    change: _Change,
    *,
    patient_id: int,
    sender_id: int | None,
    body: str,
    now: datetime,
    actor: str,
) -> list[CareMessage]:
    """Tell the care team (all but the sender and inactive people) about a recorded change
    of a medication or supplement, and audit it."""
    what, record_id, name, action = change
    kind, subject, entity = _CHANGES[what]
    messages = []
    for recipient in care_team(session=session, patient_id=patient_id):
        if recipient == sender_id:
            continue
        person = get_practitioner(session=session, practitioner_id=recipient)
        if person.status == PractitionerStatus.INACTIVE:
            continue
        msg = CareMessage(
            patient_id=patient_id,
            sender_id=sender_id,
            recipient_id=recipient,
            kind=kind,
            subject=f"{subject}: {name}",
            body=body,
            source_ref=f"{what}:{record_id}",
            created_at=now,
        )
        session.add(msg)
        messages.append(msg)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action=f"{what}:{action}",
        entity=entity,
        entity_id=record_id,
        patient_id=patient_id,
    )
    return messages


def _begin(
    session: Session, action: str, patient_id: int, by_id: int | None, now: datetime | None
) -> datetime:
    """Check a change before recording it: a known action, patient and practitioner; 'now'."""
    _check_action(action)
    now = now or utcnow()
    get_patient(session=session, patient_id=patient_id)
    if by_id is not None:
        get_practitioner(session=session, practitioner_id=by_id)
    return now


def _check_action(action: str) -> str:
    if action not in CHANGE_ACTIONS:
        raise InvalidInput(f"unknown change {action!r}; use one of {', '.join(CHANGE_ACTIONS)}")
    return action


def record_medication_change(
    *,
    session: Session,
    patient_id: int,
    action: str,
    name: str,
    dose: str | None = None,
    frequency: str | None = None,
    recorded_by_id: int | None = None,
    medication_id: int | None = None,
    on: date | None = None,
    now: datetime | None = None,
    actor: str = "system",
) -> tuple[PatientMedication, list[CareMessage]]:
    """Start, change or stop a medication and tell the care team; returns both."""
    now = _begin(session, action, patient_id, recorded_by_id, now)
    on = on or now.date()
    if action == "start":
        if not name.strip():
            raise InvalidInput("a medication needs a name")
        med = PatientMedication(
            patient_id=patient_id, name=name.strip(), dose=dose, frequency=frequency, started_on=on
        )
        session.add(med)
        session.flush()
        summary = f"Started {med.name} {dose or ''} {frequency or ''}".strip()
    else:
        med = _held_by(session, PatientMedication, medication_id, patient_id, "medication", action)
        if med.stopped_on is not None:
            raise InvalidTransition(f"medication {medication_id} was already stopped")
        if action == "stop":
            med.stopped_on = on
            summary = f"Stopped {med.name}"
        else:
            old = f"{med.dose or '?'} {med.frequency or ''}".strip()
            med.dose = dose or med.dose
            med.frequency = frequency or med.frequency
            summary = f"Changed {med.name} from {old} to {med.dose or '?'} {med.frequency or ''}"
        session.add(med)
        session.flush()
    body = f"{summary.strip()} (effective {on.isoformat()})."
    change = ("medication", med.id, med.name, action)
    messages = _announce(
        session,
        change,
        patient_id=patient_id,
        sender_id=recorded_by_id,
        body=body,
        now=now,
        actor=actor,
    )
    return med, messages


def record_supplement_change(
    *,
    session: Session,
    patient_id: int,
    action: str,
    product: str | None = None,
    dose: str | None = None,
    frequency: str | None = None,
    supplement_id: int | None = None,
    prescriber_id: int | None = None,
    supplier: str | None = None,
    on: date | None = None,
    now: datetime | None = None,
    actor: str = "system",
) -> tuple[SupplementItem, list[CareMessage]]:
    """Start, change or stop a supplement protocol item and tell the care team."""
    now = _begin(session, action, patient_id, prescriber_id, now)
    on = on or now.date()
    if action == "start":
        if not product or not dose or not frequency:
            raise InvalidInput("starting a supplement needs a product, a dose and a frequency")
        item = SupplementItem(
            patient_id=patient_id,
            product=product,
            dose=dose,
            frequency=frequency,
            started_on=on,
            prescriber_id=prescriber_id,
            supplier=supplier,
        )
        session.add(item)
        session.flush()
        summary = f"Started {product} {dose} {frequency}"
    else:
        item = _held_by(session, SupplementItem, supplement_id, patient_id, "supplement", action)
        if item.status == SupplementStatus.STOPPED:
            raise InvalidTransition(f"supplement {supplement_id} was already stopped")
        if action == "stop":
            item.status = SupplementStatus.STOPPED
            item.stopped_on = on
            summary = f"Stopped {item.product}"
        else:
            old = f"{item.dose} {item.frequency}"
            item.dose = dose or item.dose
            item.frequency = frequency or item.frequency
            summary = f"Changed {item.product} from {old} to {item.dose} {item.frequency}"
        item.updated_at = now
        session.add(item)
        session.flush()
    body = f"{summary} (effective {on.isoformat()})."
    change = ("supplement", item.id, item.product, action)
    messages = _announce(
        session,
        change,
        patient_id=patient_id,
        sender_id=prescriber_id,
        body=body,
        now=now,
        actor=actor,
    )
    return item, messages


def unacknowledged_messages(
    *,
    session: Session,
    recipient_id: int | None = None,
    older_than: datetime | None = None,
    limit: int = 500,
) -> list[CareMessage]:
    """Care-team messages nobody has acknowledged yet (optionally for one person / older)."""
    stmt = select(CareMessage).where(col(CareMessage.acknowledged_at).is_(None))
    if recipient_id is not None:
        stmt = stmt.where(CareMessage.recipient_id == recipient_id)
    if older_than is not None:
        stmt = stmt.where(col(CareMessage.created_at) < older_than)
    return list(session.exec(stmt.order_by(col(CareMessage.created_at)).limit(limit)).all())


def acknowledge_message(
    *,
    session: Session,
    message_id: int,
    by_id: int,
    now: datetime | None = None,
    actor: str = "system",
) -> CareMessage:
    """Only the recipient acknowledges a message, once."""
    msg = get_for_update(session, CareMessage, message_id)
    if msg is None:
        raise NotFound("care-team message", message_id)
    if msg.recipient_id != by_id:
        raise InvalidInput(f"message {message_id} is addressed to someone else")
    if msg.acknowledged_at is not None:
        raise InvalidTransition(f"message {message_id} was already acknowledged")
    msg.acknowledged_at = now or utcnow()
    session.add(msg)
    audit.record(
        session=session,
        actor=actor,
        action="acknowledge",
        entity="care_message",
        entity_id=message_id,
        patient_id=msg.patient_id,
    )
    session.flush()
    return msg
