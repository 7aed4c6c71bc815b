"""A held HL7 lab message imported once a person has decided whose it is (`steve import
review --merge`): stored for that patient, who gains the message's PID-3 identifiers so the
lab's next message matches by identifier. `--create` is refused: a lab message is not enough
to open a patient record (add the patient, then merge, or reject the held message)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from db.engine import utcnow
from tools.errors import InvalidInput
from tools.interop.hl7.importing import import_held_message

if TYPE_CHECKING:
    from tools.interop.review import Replay


def replay_held(replay: Replay) -> dict[str, Any]:
    """Import a decided review's held message; its counts (never values)."""
    if replay.patient_id is None:
        raise InvalidInput(
            "held lab results cannot open a new patient record: add the patient, then merge, "
            "or reject the held message"
        )
    now = utcnow()
    with Session(replay.engine, expire_on_commit=False) as session:
        imported = import_held_message(
            session=session,
            payload=replay.review.payload,
            patient_id=replay.patient_id,
            today=now.date(),
            now=now,
            source=replay.review.source_system,
        )
        if not imported.keep:
            session.rollback()
            problem = str(imported.problems[0]) if imported.problems else "not an ORU^R01"
            raise InvalidInput(f"the held message could not be imported: {problem}")
        session.commit()
    return dict(imported.counts)
