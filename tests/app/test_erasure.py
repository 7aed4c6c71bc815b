"""Right to erasure reaches every store Steve writes (issue 11, item 6).

A patient with a unique name is planted in each store: the practice tables, outbox emails
(sent, unsent and one listing several patients), .eml files (the outbox folder and a
sub-folder), the chat checkpoints (SQLite file or PostgreSQL saver tables), long-term
memory (Chroma, whose log keeps written text) and generated documents. After
`steve patient erase ID --yes`, no file under the data directory (bytes) and no column of
any table (SQLite and PostgreSQL, the saver's schema included) holds the name.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

import app.cli.chat as chat_cli
from agent.chat.checkpoint import SCHEMA
from db.models import ClinicalNote, Discipline, OutboxMessage, OutboxState, Patient, Task
from memory.store import MemoryStore
from schedules.email import outbox
from schedules.email.delivery import EmlTransport
from schedules.email.mime import build_message
from tests.support import factories
from tests.support.cli import run
from tests.support.fake_models import ToolCallingChatModel
from tests.support.memory_fakes import WordHash, note
from tools.generated_documents import save_document

FROM = "Steve <steve@practice.test>"


def _marker() -> tuple[str, str]:
    """A given and a family name no other text can contain by chance."""
    tail = uuid.uuid4().hex[:8]
    return "Zebulon", "Quaxworth" + "".join(chr(ord("a") + int(c, 16) % 26) for c in tail)


def _plant(engine: Any, data_dir: Path, given: str, family: str) -> dict[str, int]:
    name = f"{given} {family}"
    with Session(engine, expire_on_commit=False) as s:
        doc = factories.practitioner(s, name="Dr Ward", discipline=Discipline.PHYSICIAN)
        doc.email = "ward@practice.test"
        s.add(doc)
        patient = factories.patient(s, given=given, family=family, physician=doc)
        other = factories.patient(s, given="Bea", family="Keeping", physician=doc)
        assert doc.id and patient.id and other.id
        s.add(
            ClinicalNote(
                patient_id=patient.id,
                practitioner_id=doc.id,
                modality=Discipline.PHYSICIAN,
                body=f"{name} reports gout flares.",
            )
        )
        # Not linked to the patient, but naming them: free text elsewhere.
        s.add(Task(title=f"Call {name} back", assignee_id=doc.id))
        s.add(
            ClinicalNote(
                patient_id=other.id,
                practitioner_id=doc.id,
                modality=Discipline.PHYSICIAN,
                body=f"Came with her neighbour {name}.",
            )
        )
        save_document(
            session=s,
            kind="briefing",
            key=f"2030-01-08:patient-{patient.id}",
            title=f"Briefing 2030-01-08, patient {patient.id}",
            markdown=f"# {name}\n\nGout.",
            patient_id=patient.id,
            practitioner_id=doc.id,
        )
        rows = []
        for key, text in (
            ("briefing:1:2030-01-08", f"09:00 {name}\n09:30 Bea Keeping"),  # several patients
            ("briefing:1:2030-01-09", f"09:00 {name}"),
            ("briefing:1:2030-01-10", "09:00 Bea Keeping"),  # not about them: stays
        ):
            email = outbox.Email(key, "briefing", doc.id, "ward@practice.test", "Agenda", text, "")
            row, _ = outbox.enqueue(session=s, email=email, mail_from=FROM)
            rows.append(row)
        rows[0].state = OutboxState.SENT
        s.commit()
        transport = EmlTransport(data_dir / "outbox")
        transport.send(build_message(rows[0], mail_from=FROM), key=rows[0].key)
        EmlTransport(data_dir / "outbox" / "sent").send(
            build_message(rows[1], mail_from=FROM), key=rows[1].key
        )
        return {"patient": patient.id, "other": other.id, "doc": doc.id}


def _plant_memory(data_dir: Path, patient_id: int, name: str) -> None:
    store = MemoryStore.persistent(data_dir / "chroma", WordHash())
    store.upsert([note(1, f"{name} has gout.", patient_id), note(2, "Unrelated note.", 999)])


def _plant_chat(monkeypatch: pytest.MonkeyPatch, doc_id: int, name: str) -> None:
    model = ToolCallingChatModel.scripted([f"{name} is booked for Tuesday."])
    monkeypatch.setattr(chat_cli, "chat_model", lambda: model)
    result = run("chat", "--as", str(doc_id), "--no-memory", "-m", f"When is {name} due?")
    assert result.exit_code == 0, result.output


def _files_holding(data_dir: Path, needle: str) -> list[str]:
    wanted = needle.lower().encode()
    return [
        str(p.relative_to(data_dir))
        for p in data_dir.rglob("*")
        if p.is_file() and wanted in p.read_bytes().lower()
    ]


def _columns_holding(engine: Any, needle: str) -> list[str]:
    """Every text or binary column of every table, in every schema Steve uses."""
    found = []
    inspector = sa.inspect(engine)
    schemas: list[str | None] = [None]
    if engine.dialect.name == "postgresql" and SCHEMA in inspector.get_schema_names():
        schemas.append(SCHEMA)
    with engine.connect() as conn:
        for schema in schemas:
            for table in inspector.get_table_names(schema=schema):
                t = sa.Table(table, sa.MetaData(), schema=schema, autoload_with=conn)
                for c in t.columns:
                    if isinstance(c.type, sa.LargeBinary):
                        hit = sa.func.lower(sa.cast(c, sa.LargeBinary)).contains(
                            needle.lower().encode()
                        )
                        if engine.dialect.name == "postgresql":
                            hit = (
                                sa.func.position(
                                    sa.literal(needle.encode(), sa.LargeBinary).op("IN")(c)
                                )
                                > 0
                            )
                    else:
                        hit = sa.func.lower(sa.cast(c, sa.Text)).contains(needle.lower())
                    if conn.execute(sa.select(sa.func.count()).select_from(t).where(hit)).scalar():
                        found.append(f"{schema or ''}.{table}.{c.name}")
    return found


def test_erasure_leaves_no_trace_in_any_store(
    engine, db_url, monkeypatch: pytest.MonkeyPatch, _isolated_data_dir: Path
) -> None:
    data_dir = _isolated_data_dir
    monkeypatch.setenv("STEVE_DATABASE_URL", db_url)
    given, family = _marker()
    name = f"{given} {family}"
    assert run("init", "--no-admin").exit_code == 0
    ids = _plant(engine, data_dir, given, family)
    _plant_memory(data_dir, ids["patient"], name)
    _plant_chat(monkeypatch, ids["doc"], name)
    # Planted everywhere: the check below would see a store the erasure missed.
    # The store's embedding model is the test's (erasure itself embeds nothing).
    monkeypatch.setattr("memory.embeddings.make_embedder", lambda _config: WordHash())
    planted = _files_holding(data_dir, family)
    assert any(p.startswith("outbox") for p in planted)
    assert any(p.startswith("chroma") for p in planted)
    columns = _columns_holding(engine, family)
    assert "chat.sqlite" in planted or f"{SCHEMA}.checkpoint_blobs.blob" in columns
    assert ".outbox_message.text_body" in columns and ".task.title" in columns
    engine.dispose()

    result = run("patient", "erase", str(ids["patient"]), "--yes")
    assert result.exit_code == 0, result.output

    assert _files_holding(data_dir, family) == []
    assert _columns_holding(engine, family) == []
    with Session(engine) as s:
        left = s.exec(select(OutboxMessage).order_by(OutboxMessage.key)).all()
        # Sent: kept blank (its key still stops a resend); unsent: withdrawn; others: kept.
        assert [(m.key, m.state) for m in left] == [
            ("briefing:1:2030-01-08", OutboxState.SENT),
            ("briefing:1:2030-01-10", OutboxState.PENDING),
        ]
        assert "Bea Keeping" in left[1].text_body
        other_note = s.exec(
            select(ClinicalNote).where(ClinicalNote.patient_id == ids["other"])
        ).one()
        assert other_note.body == "Came with her neighbour [erased]."
    store = MemoryStore.persistent(data_dir / "chroma", WordHash())
    assert store.count("notes") == 1  # the other patient's note is still searchable


def test_erasing_an_already_erased_patient_says_not_found(engine, db_url, monkeypatch) -> None:
    monkeypatch.setenv("STEVE_DATABASE_URL", db_url)
    assert run("init", "--no-admin").exit_code == 0
    with Session(engine) as s:
        p = factories.patient(s, given="Kept", family="Safe")
        s.commit()
        pid = p.id
    result = run("patient", "erase", str(pid), "--yes")
    assert result.exit_code == 0, result.output
    again = run("patient", "erase", str(pid), "--yes")
    assert again.exit_code != 0 and "no patient with id" in again.output


def test_a_store_out_of_reach_is_reported_and_the_patient_kept(
    engine, db_url, monkeypatch: pytest.MonkeyPatch, _isolated_data_dir: Path
) -> None:
    """A chat file that cannot be read: erasure says so, exits non-zero, and keeps the
    patient (whose name a rerun needs to find their text)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the chat threads live in the SQLite file only on SQLite")
    monkeypatch.setenv("STEVE_DATABASE_URL", db_url)
    assert run("init", "--no-admin").exit_code == 0
    with Session(engine) as s:
        pid = factories.patient(s, given="Kept", family="Forlater").id
        s.commit()
    (_isolated_data_dir / "chat.sqlite").write_bytes(b"not a database" * 100)
    result = run("patient", "erase", str(pid), "--yes")
    assert result.exit_code == 3
    assert "chat threads or outbox folder (DatabaseError)" in result.output
    assert "is still in the practice database" in result.output
    assert "Forlater" not in result.output
    with Session(engine) as s:
        assert s.get(Patient, pid) is not None
