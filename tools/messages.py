"""Care-team messages that one person sends another (changes are announced by tools.care)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from db.engine import utcnow
from db.models import Affiliation, CareMessage, MessageKind, PractitionerStatus
from tools import audit
from tools.errors import InvalidInput
from tools.registry import get_patient, get_practitioner

MAX_SUBJECT, MAX_BODY = 200, 4000


def send_care_message(
    *,
    session: Session,
    recipient_id: int,
    subject: str,
    body: str,
    sender_id: int | None = None,
    patient_id: int | None = None,
    now: datetime | None = None,
    actor: str = "system",
) -> CareMessage:
    """One message to an active in-house colleague, optionally about a patient."""
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise InvalidInput("a care-team message needs a subject and a body")
    if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
        raise InvalidInput(
            f"a care-team message has at most {MAX_SUBJECT} characters of subject "
            f"and {MAX_BODY} of body"
        )
    recipient = get_practitioner(session=session, practitioner_id=recipient_id)
    if recipient.affiliation != Affiliation.IN_HOUSE:
        raise InvalidInput(
            f"practitioner {recipient_id} is external; care-team messages stay inside the practice"
        )
    if recipient.status == PractitionerStatus.INACTIVE:
        raise InvalidInput(f"practitioner {recipient_id} is inactive")
    if sender_id is not None:
        get_practitioner(session=session, practitioner_id=sender_id)
        if sender_id == recipient_id:
            raise InvalidInput("a care-team message goes to someone else")
    if patient_id is not None:
        get_patient(session=session, patient_id=patient_id)
    message = CareMessage(
        patient_id=patient_id,
        sender_id=sender_id,
        recipient_id=recipient_id,
        kind=MessageKind.GENERAL,
        subject=subject,
        body=body,
        created_at=now or utcnow(),
    )
    session.add(message)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="send",
        entity="care_message",
        entity_id=message.id,
        patient_id=patient_id,
    )
    return message
