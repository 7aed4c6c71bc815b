"""What long-term memory is built from beyond notes and articles, and the change log it follows.

- `Preference`: a physician's standing instruction to Steve ("labs first", "no more than one
  page"); the database is the source of truth, memory holds its vector.
- `GeneratedDocument`: a briefing, digest or summary Steve wrote, one row per (kind, key), so
  writing the same briefing again replaces it.
- `MemoryChange`: one row per write to a record memory indexes, added in the same transaction
  as the write (db.changelog), drained into Chroma by memory.sync. A crash between the
  database commit and the vector write therefore loses nothing: the row is still there.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.engine import UTCDateTime, utcnow

# ----------------------------------------------------------------- preferences


class PreferenceBase(SQLModel):
    practitioner_id: int = Field(foreign_key="practitioner.id", index=True, ondelete="CASCADE")
    text: str = Field(min_length=1, max_length=500)


class PreferenceCreate(PreferenceBase):
    pass


class Preference(PreferenceBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PreferencePublic(PreferenceBase):
    id: int
    created_at: datetime


# ---------------------------------------------------------- generated documents


class GeneratedDocumentBase(SQLModel):
    kind: str = Field(max_length=40, description="briefing, digest, summary, review, ...")
    key: str = Field(max_length=120, description="stable within a kind, e.g. '2026-11-23:412'")
    title: str = Field(max_length=300)
    markdown: str = Field(min_length=1)
    patient_id: int | None = Field(
        default=None, foreign_key="patient.id", index=True, ondelete="CASCADE"
    )
    practitioner_id: int | None = Field(
        default=None, foreign_key="practitioner.id", ondelete="SET NULL"
    )
    for_date: date | None = None


class GeneratedDocument(GeneratedDocumentBase, table=True):
    __tablename__ = "generated_document"
    __table_args__ = (sa.UniqueConstraint("kind", "key", name="uq_generated_document_kind_key"),)

    id: int | None = Field(default=None, primary_key=True)
    written_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def ref(self) -> str:
        return f"document:{self.kind}:{self.key}"


class GeneratedDocumentPublic(GeneratedDocumentBase):
    id: int
    written_at: datetime


# ------------------------------------------------------------------ change log


class MemoryChange(SQLModel, table=True):
    """A record memory indexes was written ('upsert') or removed ('delete', 'erase')."""

    __tablename__ = "memory_change"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=80, description="'note:87', 'article:5', 'patient:12'")
    op: str = Field(max_length=10)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
