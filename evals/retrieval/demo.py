"""The demo practice the labelled set was written against, built into a temporary database.

The demo generator is deterministic for a seed, date and patient count, so record ids (and
texts) are stable: `note:123` in the labels is the same note every time. `fingerprint`
lets the runner notice when a change to the generator has moved them.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from db.engine import make_engine, migrate
from db.models import Article, CareMessage, ClinicalNote
from demo import generate_demo
from demo.literature import ingest_demo_literature
from memory.documents import MemoryDocument, from_article, from_message, from_note

SEED = 7
PATIENTS = 300
TODAY = date(2026, 11, 23)
TIMEZONE = "Europe/London"
# The literature is ingested as if fetched at 08:00 UTC on `today`.
INGESTED_AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def parameters() -> dict[str, object]:
    return {
        "seed": SEED,
        "patients": PATIENTS,
        "today": TODAY.isoformat(),
        "timezone": TIMEZONE,
        "literature": "demo/literature",
    }


def text_hash(text: str) -> str:
    """A short digest of a document's text, recorded with each label to detect drift."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class DemoCorpus:
    documents: dict[str, MemoryDocument]  # by id: notes, messages and articles

    def fingerprint(self, doc_id: str) -> str | None:
        doc = self.documents.get(doc_id)
        return text_hash(doc.text) if doc else None


def load_documents(session: Session) -> dict[str, MemoryDocument]:
    docs: list[MemoryDocument] = []
    docs += [from_note(n) for n in session.exec(select(ClinicalNote)).all()]
    docs += [from_message(m) for m in session.exec(select(CareMessage)).all()]
    docs += [from_article(a) for a in session.exec(select(Article)).all()]
    return {d.id: d for d in docs}


@contextmanager
def demo_session() -> Iterator[Session]:
    """A session on a freshly generated demo practice in a temporary SQLite file."""
    with tempfile.TemporaryDirectory(prefix="steve-eval-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'steve.db'}")
        try:
            migrate(engine)
            generate_demo(
                engine=engine, patients=PATIENTS, seed=SEED, today=TODAY, tz=ZoneInfo(TIMEZONE)
            )
            with Session(engine, expire_on_commit=False) as session:
                ingest_demo_literature(session=session, now=INGESTED_AT)
                session.commit()
                yield session
        finally:
            engine.dispose()


def build_corpus() -> DemoCorpus:
    with demo_session() as session:
        return DemoCorpus(load_documents(session))
