"""Care-team messages between colleagues: who may receive them and what is refused."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from db.models import (
    Affiliation,
    AuditEvent,
    CareMessage,
    Discipline,
    PractitionerStatus,
)
from tests.support import factories as f
from tools.errors import InvalidInput, NotFound
from tools.messages import send_care_message


def test_a_message_about_a_patient_is_stored_and_audited(session: Session) -> None:
    doc = f.practitioner(session)
    coach = f.practitioner(session, discipline=Discipline.HEALTH_COACHING)
    pat = f.patient(session, physician=doc)
    msg = send_care_message(
        session=session,
        recipient_id=coach.id,
        sender_id=doc.id,
        patient_id=pat.id,
        subject="  Magnesium  ",
        body="Started 200 mg at night; please ask about cramps.",
        actor="practitioner:1",
    )
    assert (msg.subject, msg.recipient_id, msg.patient_id) == ("Magnesium", coach.id, pat.id)
    audit = session.exec(select(AuditEvent).where(AuditEvent.entity == "care_message")).one()
    assert (audit.action, audit.entity_id, audit.patient_id) == ("send", msg.id, pat.id)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"subject": " "}, "needs a subject and a body"),
        ({"body": ""}, "needs a subject and a body"),
        ({"body": "x" * 4001}, "at most 200 characters of subject and 4000 of body"),
        ({"to": "external"}, "is external"),
        ({"to": "inactive"}, "is inactive"),
        ({"to": "self"}, "goes to someone else"),
    ],
)
def test_bad_messages_are_refused_and_nothing_is_written(
    session: Session, change: dict[str, str], error: str
) -> None:
    doc = f.practitioner(session)
    recipients = {
        "colleague": f.practitioner(session, discipline=Discipline.ACUPUNCTURE),
        "external": f.practitioner(
            session, discipline=Discipline.GASTROENTEROLOGY, affiliation=Affiliation.EXTERNAL
        ),
        "inactive": f.practitioner(session, discipline=Discipline.MASSAGE),
        "self": doc,
    }
    recipients["inactive"].status = PractitionerStatus.INACTIVE
    session.add(recipients["inactive"])
    session.flush()
    args = {"subject": "Plan", "body": "Weekly sessions"} | {
        k: v for k, v in change.items() if k != "to"
    }
    with pytest.raises(InvalidInput, match=error):
        send_care_message(
            session=session,
            recipient_id=recipients[change.get("to", "colleague")].id,
            sender_id=doc.id,
            **args,
        )
    assert session.exec(select(CareMessage)).all() == []


def test_unknown_people_are_not_found(session: Session) -> None:
    doc = f.practitioner(session)
    with pytest.raises(NotFound):
        send_care_message(session=session, recipient_id=9999, subject="a", body="b")
    colleague = f.practitioner(session, discipline=Discipline.NURSE)
    with pytest.raises(NotFound):
        send_care_message(
            session=session,
            recipient_id=colleague.id,
            sender_id=doc.id,
            patient_id=9999,
            subject="a",
            body="b",
        )
