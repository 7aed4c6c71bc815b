"""Appointments; a visit block groups same-day sequential appointments with several people."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.engine import UTCDateTime, utcnow
from db.models.enums import AppointmentStatus, BillingTrack, enum_column

ACTIVE_APPOINTMENT_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.COMPLETED,
)


class AppointmentBase(SQLModel):
    practitioner_id: int = Field(foreign_key="practitioner.id")
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    service_type: str = Field(max_length=100)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    status: AppointmentStatus = Field(
        default=AppointmentStatus.BOOKED, sa_type=enum_column(AppointmentStatus)
    )
    billing_track: BillingTrack = Field(
        default=BillingTrack.DIRECT_PAY, sa_type=enum_column(BillingTrack)
    )
    visit_block_id: str | None = Field(default=None, max_length=36, index=True)


class Appointment(AppointmentBase, table=True):
    __table_args__ = (
        sa.Index("ix_appointment_practitioner_start", "practitioner_id", "starts_at"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_appointment_ends_after_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cancel_reason: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppointmentPublic(AppointmentBase):
    id: int
