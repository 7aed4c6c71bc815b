"""Right to erasure beyond the cascade: the practice database's free text about a patient.

`tools.registry.erase_patient` deletes the patient and every row that points at them. What
remains is text that names them without pointing at them; this module finds and removes it:

- outbox emails (the morning agenda lists several patients by name, a briefing inside it
  quotes their notes): an email not yet sent is withdrawn (deleted), since a line-by-line
  redaction could leave clinical text that does not carry the name; a sent one keeps its
  row (its key stops a rerun from sending it again) with subject and bodies replaced by a
  notice. The physician's next agenda is made from the records, without the patient.
- every other text column (task titles, other patients' notes, chat thread titles, stored
  tool results...): the patient's name, email, phone and address are replaced by a mark.
- chat threads that used the patient's records (tool_call_audit) or name them: their rows
  go (the checkpoints themselves are the caller's: agent.chat.checkpoint.erase_threads).

The patient's identifying strings are read before the patient is deleted (`patient_marks`).

Stored document files (imported attachments, content-addressed so two rows may share one):
`document_files` lists the patient's before the delete, `unreferenced_files` keeps those no
remaining row points at once the patient's rows are gone (same transaction), and the caller
removes them with `remove_document_files` after the commit (a rolled-back erasure keeps them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from db.models import (
    ChatThread,
    OutboxMessage,
    OutboxState,
    Patient,
    PatientDocument,
    ToolCallAudit,
)
from tools.errors import NotFound

WITHDRAWN_NOTICE = "This email mentioned a patient whose records were erased on request."
# Identity tables (another patient or a staff member may share the erased patient's name;
# the erased patient's own row is gone) and service tables without patient text.
_NOT_SCRUBBED = frozenset(
    {
        "patient",
        "practitioner",
        "user",
        "api_token",
        "web_session",
        "alembic_version",
        "practice_meta",
    }
)
_MIN_MARK = 4  # shorter strings are not identifying and would hit unrelated text


@dataclass
class TextErasure:
    """What the database part of an erasure touched (counts and keys only, never text)."""

    outbox_withdrawn: list[str] = field(default_factory=list)  # keys of deleted emails
    outbox_redacted: list[str] = field(default_factory=list)  # keys of sent emails blanked
    threads: set[str] = field(default_factory=set)
    scrubbed: dict[str, int] = field(default_factory=dict)  # table.column -> rows changed


def patient_marks(*, session: Session, patient_id: int) -> list[str]:
    """The strings that identify the patient in free text (longest first)."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("patient", patient_id)
    given, family = patient.given_name.strip(), patient.family_name.strip()
    found = {
        f"{given} {family}",
        f"{family}, {given}",
        f"{family} {given}",
        patient.full_name,
        patient.email or "",
        patient.phone or "",
        patient.address or "",
    }
    return sorted((m for m in found if len(m.strip()) >= _MIN_MARK), key=len, reverse=True)


def threads_about(*, session: Session, patient_id: int) -> set[str]:
    """Chat threads whose tools read or wrote the patient's records."""
    stmt = select(ToolCallAudit.thread_id).where(
        col(ToolCallAudit.patient_id) == patient_id, col(ToolCallAudit.thread_id).is_not(None)
    )
    return {t for t in session.exec(stmt).all() if t}


def _mentions(column: Any, marks: list[str]) -> sa.ColumnElement[bool]:
    return sa.or_(*(sa.func.lower(column).contains(m.lower(), autoescape=True) for m in marks))


def erase_outbox(*, session: Session, marks: list[str], out: TextErasure) -> None:
    if not marks:
        return
    stmt = select(OutboxMessage).where(
        sa.or_(
            _mentions(col(OutboxMessage.subject), marks),
            _mentions(col(OutboxMessage.text_body), marks),
            _mentions(col(OutboxMessage.html_body), marks),
        )
    )
    for row in session.exec(stmt).all():
        if row.state == OutboxState.SENT:
            row.subject = "(removed: about an erased patient)"
            row.text_body = WITHDRAWN_NOTICE
            row.html_body = f"<p>{WITHDRAWN_NOTICE}</p>"
            session.add(row)
            out.outbox_redacted.append(row.key)
        else:
            session.delete(row)
            out.outbox_withdrawn.append(row.key)
    session.flush()


def erase_thread_rows(*, session: Session, threads: set[str]) -> None:
    if threads:
        session.execute(sa.delete(ChatThread).where(col(ChatThread.id).in_(sorted(threads))))


def _replacement(mark: str) -> str:
    # Never longer than the mark: a bounded column keeps fitting.
    return "[erased]" if len(mark) >= len("[erased]") else "*" * len(mark)


def _is_text(column: sa.Column[object]) -> bool:
    """VARCHAR and TEXT columns (SQLModel's AutoString wraps a String), not enums."""
    kind = column.type
    kind = getattr(kind, "impl", kind)
    return isinstance(kind, sa.String) and not isinstance(column.type, sa.Enum | sa.JSON)


def _any_row_mentions(
    session: Session, table: sa.Table, column: sa.Column[str], marks: list[str]
) -> bool:
    found = session.execute(
        sa.select(sa.func.count()).select_from(table).where(_mentions(column, marks))
    )
    return bool(found.scalar())


def scrub_text(*, session: Session, marks: list[str], out: TextErasure) -> None:
    """Replace the marks in every text column of every practice table."""
    for table in SQLModel.metadata.sorted_tables:
        if table.name in _NOT_SCRUBBED:
            continue
        for column in table.columns:
            if not _is_text(column):
                continue
            if column.primary_key or not _any_row_mentions(session, table, column, marks):
                continue
            changed = 0
            for mark in marks:
                for variant in {mark, mark.lower(), mark.upper()}:
                    result = session.execute(
                        sa.update(table)
                        .where(column.contains(variant, autoescape=True))
                        .values({column.name: sa.func.replace(column, variant, _replacement(mark))})
                    )
                    changed += int(getattr(result, "rowcount", 0) or 0)
            if changed:
                out.scrubbed[f"{table.name}.{column.name}"] = changed


def document_files(*, session: Session, patient_id: int) -> set[str]:
    """The stored files (paths relative to the documents folder) of the patient's documents."""
    stmt = select(PatientDocument.stored_as).where(
        PatientDocument.patient_id == patient_id, col(PatientDocument.stored_as).is_not(None)
    )
    return {s for s in session.exec(stmt).all() if s}


def unreferenced_files(*, session: Session, stored: Iterable[str]) -> set[str]:
    """Of these files, those no patient_document row still points at."""
    wanted = set(stored)
    if not wanted:
        return set()
    stmt = select(PatientDocument.stored_as).where(col(PatientDocument.stored_as).in_(wanted))
    return wanted - set(session.exec(stmt).all())


def remove_document_files(*, folder: Path, stored: Iterable[str]) -> int:
    """Delete these files from the documents folder (never a path outside it)."""
    root = folder.resolve()
    removed = 0
    for relative in sorted(set(stored)):
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            continue
        path.unlink()
        removed += 1
    return removed
