"""Tasks, the practice's clinical protocols, the audit trail and practice metadata."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.engine import UTCDateTime, utcnow
from db.models.enums import TaskStatus, enum_column

# ------------------------------------------------------------------------ tasks


class TaskBase(SQLModel):
    title: str = Field(min_length=1, max_length=200)
    details: str | None = Field(default=None, max_length=4000)
    assignee_id: int = Field(foreign_key="practitioner.id", index=True)
    created_by_id: int | None = Field(
        default=None, foreign_key="practitioner.id", description="empty: created by the assistant"
    )
    patient_id: int | None = Field(
        default=None, foreign_key="patient.id", index=True, ondelete="CASCADE"
    )
    due_on: date | None = None


class TaskCreate(TaskBase):
    clinical: bool | None = Field(
        default=None,
        description=(
            "clinical text: only users who may read clinical notes (in scope) see the title and"
            " details; empty: decided by tools.tasks (about a patient and written by a clinician)"
        ),
    )


class Task(TaskBase, table=True):
    __table_args__ = (sa.Index("ix_task_status_due", "status", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    status: TaskStatus = Field(default=TaskStatus.OPEN, sa_type=enum_column(TaskStatus))
    # Title and details are clinical text: see tools.tasks.task_view for who reads them.
    clinical: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # What the task is about, for sweeps that must not duplicate (e.g. 'referral:31').
    source_ref: str | None = Field(default=None, max_length=60, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def created_by_assistant(self) -> bool:
        return self.created_by_id is None


class TaskPublic(TaskBase):
    id: int
    clinical: bool
    status: TaskStatus
    created_at: datetime
    completed_at: datetime | None = None


# -------------------------------------------------------------------- protocols


class ClinicalProtocol(SQLModel, table=True):
    __tablename__ = "clinical_protocol"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    condition: str = Field(max_length=200)
    keywords: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    mesh_terms: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    summary: str | None = None
    owner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    last_reviewed_on: date | None = None
    review_interval_days: int = Field(default=365, ge=1)


# ------------------------------------------------------------------ audit, meta


class AuditEvent(SQLModel, table=True):
    """Who read or changed which record, when and from where (no clinical content)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=60)
    entity: str = Field(max_length=60)
    entity_id: int | None = None
    patient_id: int | None = Field(default=None, index=True)
    origin: str = Field(default="cli", max_length=60)


class PracticeMeta(SQLModel, table=True):
    __tablename__ = "practice_meta"

    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=1000)
