"""Where imported records came from: provenance, patient identifiers, the review queue, runs.

Every row an import writes has a `RecordSource` naming the system, the resource type, its id
and version there; re-importing finds the row through it instead of adding another. A patient
is matched by a shared identifier (`PatientIdentifier`); a match on name and birth date alone
waits in `ImportReview` for a person to decide. `SyncCursor` is how far a FHIR server has
been read.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.engine import UTCDateTime, utcnow
from db.models.enums import ImportFormat, ImportReviewStatus, enum_column


class RecordSource(SQLModel, table=True):
    """One Steve row and the outside record it was imported from.

    `part` tells rows one record became apart (a CarePlan's activities, a DiagnosticReport's
    order and results): "" for the record's main row, else e.g. "activity/2".
    """

    __tablename__ = "record_source"
    __table_args__ = (
        sa.UniqueConstraint(
            "source_system",
            "resource_type",
            "resource_id",
            "table_name",
            "part",
            name="uq_record_source_identity",
        ),
        # A row may have several sources (an order is a ServiceRequest and a DiagnosticReport).
        sa.Index("ix_record_source_row", "table_name", "row_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_system: str = Field(max_length=300, description="base URL or name of the system")
    resource_type: str = Field(max_length=60)
    resource_id: str = Field(max_length=200)
    version_id: str | None = Field(default=None, max_length=64)
    last_updated: datetime | None = Field(default=None, sa_type=UTCDateTime)
    content_hash: str = Field(max_length=64, description="sha256 of the record as imported")
    table_name: str = Field(max_length=60)
    row_id: int
    part: str = Field(default="", max_length=60)
    patient_id: int | None = Field(
        default=None, foreign_key="patient.id", index=True, ondelete="CASCADE"
    )
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PatientIdentifier(SQLModel, table=True):
    """An identifier another system gives the patient (MRN, national number, lab id)."""

    __tablename__ = "patient_identifier"
    __table_args__ = (sa.UniqueConstraint("system", "value", name="uq_patient_identifier"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    system: str = Field(max_length=300, description="the identifier's namespace URI or name")
    value: str = Field(max_length=200)
    kind: str | None = Field(default=None, max_length=40, description="e.g. MR, SS, lab")


class ImportReview(SQLModel, table=True):
    """An incoming patient that may be an existing one: held until a person decides."""

    __tablename__ = "import_review"

    id: int | None = Field(default=None, primary_key=True)
    format: ImportFormat = Field(sa_type=enum_column(ImportFormat))
    source_system: str = Field(max_length=300)
    source_ref: str = Field(max_length=300, description="e.g. 'Patient/123' or an HL7 control id")
    candidate_patient_id: int | None = Field(
        default=None, foreign_key="patient.id", index=True, ondelete="CASCADE"
    )
    reason: str = Field(max_length=300)
    # The held records, as received (JSON for FHIR, the message for HL7): patient data.
    payload: str = Field(sa_type=sa.Text)
    status: ImportReviewStatus = Field(
        default=ImportReviewStatus.OPEN, sa_type=enum_column(ImportReviewStatus), index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class ImportRun(SQLModel, table=True):
    """One import or sync: what it read and wrote, in counts only (never values)."""

    __tablename__ = "import_run"

    id: int | None = Field(default=None, primary_key=True)
    format: ImportFormat = Field(sa_type=enum_column(ImportFormat))
    source_system: str = Field(max_length=300)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dry_run: bool = False
    # {"created": {...by table}, "updated": ..., "unchanged": ..., "unmapped": {...by type}}
    counts: str = Field(default="{}", sa_type=sa.Text)
    problems: int = 0
    user_id: int | None = Field(default=None, foreign_key="app_user.id")


class SyncCursor(SQLModel, table=True):
    """How far one FHIR server's resources of one type have been read (`_lastUpdated`)."""

    __tablename__ = "sync_cursor"
    __table_args__ = (sa.UniqueConstraint("source_system", "resource_type", name="uq_sync_cursor"),)

    id: int | None = Field(default=None, primary_key=True)
    source_system: str = Field(max_length=300)
    resource_type: str = Field(max_length=60)
    last_updated: str = Field(max_length=40, description="the server's instant, as it wrote it")
    saved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
