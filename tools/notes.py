"""Clinical notes: write, correct and remove them (memory follows through the change log)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from db.engine import get_for_update, utcnow
from db.models import ClinicalNote, Discipline, NoteOrigin
from tools import audit
from tools.errors import InvalidInput, NotFound
from tools.registry import get_patient, get_practitioner


def _text(body: str) -> str:
    if not body or not body.strip():
        raise InvalidInput("a note needs some text")
    return body


def add_note(
    *,
    session: Session,
    patient_id: int,
    practitioner_id: int,
    body: str,
    title: str | None = None,
    modality: Discipline | None = None,
    origin: NoteOrigin = NoteOrigin.INTERNAL,
    written_at: datetime | None = None,
    actor: str = "system",
) -> ClinicalNote:
    """A new note; the modality defaults to the author's discipline."""
    get_patient(session=session, patient_id=patient_id)
    author = get_practitioner(session=session, practitioner_id=practitioner_id)
    note = ClinicalNote(
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        modality=modality or author.discipline,
        title=title,
        body=_text(body),
        origin=origin,
        written_at=written_at or utcnow(),
    )
    session.add(note)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="create",
        entity="note",
        entity_id=note.id,
        patient_id=patient_id,
    )
    return note


def get_note(*, session: Session, note_id: int, actor: str = "system") -> ClinicalNote:
    note = session.get(ClinicalNote, note_id)
    if note is None:
        raise NotFound("note", note_id)
    audit.record(
        session=session,
        actor=actor,
        action="read",
        entity="note",
        entity_id=note_id,
        patient_id=note.patient_id,
    )
    return note


def _locked(session: Session, note_id: int) -> ClinicalNote:
    note = get_for_update(session, ClinicalNote, note_id)
    if note is None:
        raise NotFound("note", note_id)
    return note


def correct_note(
    *,
    session: Session,
    note_id: int,
    body: str | None = None,
    title: str | None = None,
    actor: str = "system",
) -> ClinicalNote:
    """Change a note's text or title (a correction by its author or the physician)."""
    if body is None and title is None:
        raise InvalidInput("nothing to change: give a new body or title")
    note = _locked(session, note_id)
    if body is not None:
        note.body = _text(body)
    if title is not None:
        note.title = title or None
    note.updated_at = utcnow()
    session.add(note)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="update",
        entity="note",
        entity_id=note_id,
        patient_id=note.patient_id,
    )
    return note


def delete_note(*, session: Session, note_id: int, actor: str = "system") -> None:
    """Remove a note written in error (its memory entry goes with it)."""
    note = _locked(session, note_id)
    patient_id = note.patient_id
    session.delete(note)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="delete",
        entity="note",
        entity_id=note_id,
        patient_id=patient_id,
    )
