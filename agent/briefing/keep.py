"""Keep a finished briefing as a generated document: re-readable, mailable and remembered.

One row per appointment (or per patient and day when there is no appointment); briefing the
same appointment again replaces it, so memory never holds two versions.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from agent.briefing.graph import Briefing
from db.models import GeneratedDocument
from tools.generated_documents import save_document


def briefing_key(briefing: Briefing, day: date) -> str:
    who = (
        f"appointment-{briefing.appointment_id}"
        if briefing.appointment_id
        else f"patient-{briefing.patient_id}"
    )
    return f"{day.isoformat()}:{who}"


def keep_briefing(
    *, session: Session, briefing: Briefing, day: date, actor: str = "system"
) -> GeneratedDocument:
    return save_document(
        session=session,
        kind="briefing",
        key=briefing_key(briefing, day),
        # Ids only: titles appear in lists and logs where names do not belong.
        title=f"Briefing {day.isoformat()}, patient {briefing.patient_id}",
        markdown=briefing.markdown,
        patient_id=briefing.patient_id,
        practitioner_id=briefing.physician_id,
        for_date=day,
        actor=actor,
    )
