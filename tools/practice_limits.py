"""The practice's limits: how long things may wait before they are overdue, how far back and
ahead the briefings and searches look. Declared once: the settings' `limits` section, the
chat tools' runtime, the briefing run context and the service all carry this one value."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.referrals import DEFAULT_OVERDUE_DAYS


class PracticeLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    slot_step_minutes: int = Field(
        default=15, ge=5, le=120, description="Granularity of free-slot search, in minutes."
    )
    block_gap_minutes: int = Field(
        default=10,
        ge=0,
        le=240,
        description="Default gap between the parts of a visit block, in minutes.",
    )
    referral_overdue_days: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_OVERDUE_DAYS),
        description=(
            "Days a referral may stay in each state before it is overdue, as JSON, e.g. "
            '{"sent": 10, "accepted": 14}. States not named keep their defaults.'
        ),
    )
    lab_overdue_grace_days: int = Field(
        default=2,
        ge=0,
        description="Days after the expected date before a lab result counts as overdue.",
    )
    reorder_lead_days: int = Field(
        default=7, ge=0, description="Supplements whose reorder date falls within this many days."
    )
    briefing_lookback_days: int = Field(
        default=90,
        ge=1,
        le=730,
        description=(
            "Briefings: how far back 'what changed' reaches at a first visit with a physician, "
            "and the window in which conflicting guidance between practitioners is looked for."
        ),
    )
    briefing_evidence_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Briefings: new evidence is what matched the patient's protocols in the "
        "last this-many days, or since the last visit when that is longer ago.",
    )

    @field_validator("referral_overdue_days")
    @classmethod
    def _merge_defaults(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - set(DEFAULT_OVERDUE_DAYS)
        if unknown:
            raise ValueError(
                f"unknown referral states {sorted(unknown)}; known: {sorted(DEFAULT_OVERDUE_DAYS)}"
            )
        if any(v < 0 for v in value.values()):
            raise ValueError("referral overdue limits must be zero or more days")
        return {**DEFAULT_OVERDUE_DAYS, **value}
