"""The agent's records: every tool call (audited), approved writes done once, token usage."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.engine import UTCDateTime, utcnow


class ToolCallAudit(SQLModel, table=True):
    """One row per tool call the agent made or refused: who, which tool, which patient,
    what was decided. Arguments are kept only as a digest (they may hold patient data)."""

    __tablename__ = "tool_call_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int = Field(foreign_key="practitioner.id", index=True)
    role: str = Field(max_length=20)
    tool: str = Field(max_length=60)
    kind: str = Field(max_length=5, description="read or write")
    patient_id: int | None = Field(default=None, index=True)
    args_digest: str = Field(max_length=64, description="sha256 of the canonical JSON arguments")
    # not_needed (reads, own tasks), approved, edited, rejected
    decision: str = Field(max_length=20)
    # done, replayed (already done before a restart), denied, error, rejected, unknown_tool
    outcome: str = Field(max_length=20)
    thread_id: str | None = Field(default=None, max_length=100)
    tool_call_id: str | None = Field(default=None, max_length=100)


class ToolExecution(SQLModel, table=True):
    """An approved write that ran: its key is claimed in the same transaction as the write,
    so a graph re-run after a crash finds it and replays the stored result instead."""

    __tablename__ = "tool_execution"

    key: str = Field(primary_key=True, max_length=220, description="thread id : tool call id")
    tool: str = Field(max_length=60)
    actor_id: int = Field(foreign_key="practitioner.id")
    # Erasing a patient erases the stored results about them too.
    patient_id: int | None = Field(
        default=None, foreign_key="patient.id", index=True, ondelete="CASCADE"
    )
    result: str = Field(default="", sa_type=sa.Text)
    executed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TokenUsage(SQLModel, table=True):
    """Tokens one model call used, for the per-user daily budget (one row per call)."""

    __tablename__ = "token_usage"
    __table_args__ = (sa.Index("ix_token_usage_user_day", "practitioner_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int = Field(foreign_key="practitioner.id")
    day: date = Field(description="the practice-local day of the call")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    total_tokens: int = Field(default=0, ge=0)
