"""Referrals in and out of the practice, with a timestamp per lifecycle transition."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.engine import UTCDateTime, utcnow
from db.models.enums import ReferralDirection, ReferralStatus, Urgency, enum_column


class ReferralBase(SQLModel):
    direction: ReferralDirection = Field(sa_type=enum_column(ReferralDirection))
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    from_practitioner_id: int = Field(foreign_key="practitioner.id", index=True)
    to_practitioner_id: int = Field(foreign_key="practitioner.id", index=True)
    reason: str = Field(min_length=1, max_length=1000)
    urgency: Urgency = Field(default=Urgency.ROUTINE, sa_type=enum_column(Urgency))


class ReferralCreate(ReferralBase):
    pass


class Referral(ReferralBase, table=True):
    __table_args__ = (
        sa.CheckConstraint(
            "outcome_rating IS NULL OR outcome_rating BETWEEN 1 AND 5",
            name="ck_referral_outcome_rating",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    status: ReferralStatus = Field(
        default=ReferralStatus.DRAFT, sa_type=enum_column(ReferralStatus), index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    report_received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    declined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome_rating: int | None = Field(default=None, ge=1, le=5)
    outcome_note: str | None = Field(default=None, max_length=1000)


class ReferralPublic(ReferralBase):
    id: int
    status: ReferralStatus
    created_at: datetime
    status_changed_at: datetime
    outcome_rating: int | None = None


class ReferralEvent(SQLModel, table=True):
    """The history of a referral: one row per transition."""

    __tablename__ = "referral_event"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True, ondelete="CASCADE")
    from_status: ReferralStatus | None = Field(default=None, sa_type=enum_column(ReferralStatus))
    to_status: ReferralStatus = Field(sa_type=enum_column(ReferralStatus))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=1000)
