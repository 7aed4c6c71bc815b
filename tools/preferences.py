"""A physician's standing preferences for what Steve writes ("labs first", "one page at most")."""

from __future__ import annotations

from sqlmodel import Session, col, select

from db.engine import utcnow
from db.models import Preference
from tools.errors import InvalidInput, NotFound
from tools.registry import get_practitioner

MAX_PER_PERSON = 50


def add_preference(*, session: Session, practitioner_id: int, text: str) -> Preference:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("a preference needs some text")
    if len(text) > 500:
        raise InvalidInput(f"a preference is at most 500 characters; got {len(text)}")
    get_practitioner(session=session, practitioner_id=practitioner_id)
    if len(list_preferences(session=session, practitioner_id=practitioner_id)) >= MAX_PER_PERSON:
        # Every briefing carries them all; past this they would crowd out the facts.
        raise InvalidInput(
            f"practitioner {practitioner_id} already has {MAX_PER_PERSON} preferences; "
            "remove one first"
        )
    pref = Preference(practitioner_id=practitioner_id, text=text)
    session.add(pref)
    session.flush()
    return pref


def list_preferences(*, session: Session, practitioner_id: int) -> list[Preference]:
    return list(
        session.exec(
            select(Preference)
            .where(Preference.practitioner_id == practitioner_id)
            .order_by(col(Preference.id))
        ).all()
    )


def update_preference(*, session: Session, preference_id: int, text: str) -> Preference:
    pref = session.get(Preference, preference_id)
    if pref is None:
        raise NotFound("preference", preference_id)
    text = (text or "").strip()
    if not text or len(text) > 500:
        raise InvalidInput("a preference needs 1 to 500 characters of text")
    pref.text = text
    pref.updated_at = utcnow()
    session.add(pref)
    session.flush()
    return pref


def remove_preference(*, session: Session, preference_id: int) -> None:
    pref = session.get(Preference, preference_id)
    if pref is None:
        raise NotFound("preference", preference_id)
    session.delete(pref)
    session.flush()
