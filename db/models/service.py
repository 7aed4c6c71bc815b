"""The service's tables: the email outbox, the history of job runs, APScheduler's job store.

The outbox holds every email before it is delivered, so a crash never loses one and the
idempotency key (unique) means a rerun of a job never makes a second. The job-run history
says what each scheduled or manual run did (counts and reasons only, never patient data).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.engine import UTCDateTime, utcnow
from db.models.enums import enum_column


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt (next_attempt_at)
    SENDING = "sending"  # claimed by a sender until lease_until; after that, retried
    SENT = "sent"
    FAILED = "failed"  # gave up (permanent error or attempts used up): visible, never silent


class RunOutcome(StrEnum):
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # some items failed, the rest were done
    FAILED = "failed"
    SKIPPED = "skipped"  # on purpose, with the reason (e.g. a briefing missed its window)
    ABANDONED = "abandoned"  # its process died before it finished
    MISSED = "missed"  # too late to be of use (a briefing after the first appointment)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.UniqueConstraint("key", name="uq_outbox_message_key"),
        sa.Index("ix_outbox_message_state_next", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # e.g. 'briefing:12:2026-11-23', 'digest:12:2026-W48': one email per key, ever.
    key: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    recipient_id: int | None = Field(
        default=None, foreign_key="practitioner.id", index=True, ondelete="SET NULL"
    )
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    text_body: str = Field(sa_type=sa.Text)
    html_body: str = Field(sa_type=sa.Text)
    message_id: str = Field(max_length=300)
    state: OutboxState = Field(default=OutboxState.PENDING, sa_type=enum_column(OutboxState))
    attempts: int = Field(default=0, ge=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=120)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    __table_args__ = (sa.Index("ix_job_run_job_started", "job", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=120)  # the job id, e.g. 'morning-briefing:12'
    scheduled_for: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: RunOutcome = Field(default=RunOutcome.RUNNING, sa_type=enum_column(RunOutcome))
    # 'serve:host:pid' or 'cli:host:pid': which process ran it (manual runs say cli).
    instance: str = Field(max_length=120)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    detail: str | None = Field(default=None, max_length=500)  # reasons; never patient data


# APScheduler's SQLAlchemyJobStore creates this table itself when missing; it is declared
# here (exactly as APScheduler 3.x declares it) so that the migrations make it and the
# schema check sees it, instead of a table appearing outside Alembic's knowledge.
apscheduler_jobs = sa.Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary, nullable=False),
)
