"""Right to erasure across every store Steve writes: one call, done or a list of what was not.

In order, so that a failure never leaves the patient's identifying strings lost while their
text survives somewhere (a rerun needs the patient's row to know what to look for):

1. read the patient's identifying strings (name, email, phone, address);
2. the chat checkpoints (SQLite file or the PostgreSQL saver's tables): every thread whose
   tools touched the patient or whose state names them is deleted;
3. the outbox folder: every .eml file (also in sub-folders) naming the patient is deleted;
   if 2 or 3 fails, nothing more is done and the practice database still has the patient;
4. one transaction on the practice database: the patient and every row about them
   (cascade), outbox emails naming them (unsent: withdrawn; sent: blanked), the thread
   rows of 2, and their name etc. in every other text column (tools.erasure); once it has
   committed, their stored document files (imported attachments) that no other patient's
   document shares are deleted;
5. long-term memory: the patient's vectors, then (embedded store) the text Chroma's log
   and full-text index keep after a delete;
6. the SQLite files are rewritten so deleted rows leave no bytes in free pages or the WAL;
   the outbox folder is searched again (a sender may have written an email meanwhile).

Steps 5 and 6 report what they could not do (e.g. another process kept a file busy);
`steve memory sync` retries the memory part (vectors and Chroma's log) from the change log.
A Chroma server's own log is compacted by the server: that is said, not counted as failed.
PostgreSQL keeps deleted rows' bytes in its files until its VACUUM reuses the space; those
files are the database server's, outside the data directory.
"""

from __future__ import annotations

import email
import email.policy
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from agent.chat.checkpoint import compact_sqlite, erase_threads, is_postgres
from app.settings import Settings
from app.wiring import checkpoint_path
from tools.erasure import (
    TextErasure,
    document_files,
    erase_outbox,
    erase_thread_rows,
    patient_marks,
    remove_document_files,
    scrub_text,
    threads_about,
    unreferenced_files,
)
from tools.errors import SteveError
from tools.interop.fhir.mapping.documents import documents_dir
from tools.registry import erase_patient


@dataclass
class ErasureReport:
    patient_id: int
    text: TextErasure = field(default_factory=TextErasure)
    threads: set[str] = field(default_factory=set)
    eml_files: int = 0
    document_files: int = 0
    erased: bool = False  # the practice database part committed
    vectors: int | None = None  # None: no memory store
    problems: list[str] = field(default_factory=list)  # what could not be reached
    notes: list[str] = field(default_factory=list)  # what the operator should know


def outbox_dirs(s: Settings) -> list[Path]:
    """Where .eml files are written (the outbox folder, sub-folders included)."""
    return [s.data_dir / "outbox"]


def erase_everywhere(
    *, settings: Settings, engine: Engine, patient_id: int, actor: str
) -> ErasureReport:
    report = ErasureReport(patient_id)
    with Session(engine) as session:
        marks = patient_marks(session=session, patient_id=patient_id)
        about = threads_about(session=session, patient_id=patient_id)
    try:
        report.threads = erase_threads(
            db_url=settings.db_url,
            sqlite_path=checkpoint_path(settings),
            threads=about,
            marks=marks,
        )
        report.eml_files = _erase_eml(outbox_dirs(settings), marks)
    except (OSError, sqlite3.Error, SteveError) as exc:
        report.problems.append(f"chat threads or outbox folder ({type(exc).__name__})")
        return report
    except Exception as exc:  # the PostgreSQL driver's errors: the type only
        report.problems.append(f"chat threads ({type(exc).__name__})")
        return report
    with Session(engine) as session:
        files = document_files(session=session, patient_id=patient_id)
        erase_patient(session=session, patient_id=patient_id, actor=actor)
        files = unreferenced_files(session=session, stored=files)
        erase_outbox(session=session, marks=marks, out=report.text)
        erase_thread_rows(session=session, threads=report.threads)
        scrub_text(session=session, marks=marks, out=report.text)
        session.commit()
    report.erased = True
    try:
        report.document_files = remove_document_files(
            folder=documents_dir(settings.data_dir), stored=files
        )
    except OSError as exc:
        report.problems.append(f"stored document files ({type(exc).__name__})")
    try:  # an email about them a sender wrote out while we worked
        report.eml_files += _erase_eml(outbox_dirs(settings), marks)
    except OSError as exc:
        report.problems.append(f"outbox folder ({type(exc).__name__})")
    _erase_memory(settings, patient_id, report)
    _compact_practice_db(settings, engine, report)
    return report


def _erase_eml(folders: list[Path], marks: list[str]) -> int:
    removed = 0
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.eml")):
            if _eml_mentions(path, marks):
                path.unlink()
                removed += 1
    return removed


def _eml_mentions(path: Path, marks: list[str]) -> bool:
    """Whether the file names the patient, in its raw bytes or any decoded part (base64 and
    quoted-printable bodies hide the name from a byte search)."""
    raw = path.read_bytes()
    texts = [raw.decode("utf-8", "replace")]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    texts.append(str(message.get("subject", "")))
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    lowered = [t.lower() for t in texts]
    return any(m.lower() in t for m in marks for t in lowered)


def _erase_memory(s: Settings, patient_id: int, report: ErasureReport) -> None:
    from app.wiring import memory_configured, open_memory_store

    if not memory_configured(s):
        return
    try:
        store = open_memory_store(s)
        report.vectors = store.erase_patient(patient_id)
        if not store.purge_deleted_text():
            report.notes.append(
                "The Chroma server's own log is compacted by the server, not from here."
            )
    except SteveError as exc:
        report.problems.append(f"long-term memory ({exc}); `steve memory sync` retries")


def _compact_practice_db(s: Settings, engine: Engine, report: ErasureReport) -> None:
    """SQLite keeps deleted rows' bytes in free pages and the WAL until rewritten."""
    if is_postgres(s.db_url):
        return
    database = engine.url.database
    if not database or database == ":memory:":
        return
    engine.dispose()  # our pooled connections would keep the WAL from being emptied
    try:
        conn = sqlite3.connect(database, timeout=10.0, isolation_level=None)
        try:
            compact_sqlite(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        report.problems.append(
            f"practice database file not compacted ({type(exc).__name__}); deleted rows may "
            "linger in its free pages: stop `steve serve` and run `sqlite3 steve.db VACUUM`"
        )
