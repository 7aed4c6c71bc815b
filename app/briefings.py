"""The briefing graph's run context from the settings: one place for `steve brief` and the API
(the service builds its own from ServiceConfig, which carries the same values)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.settings import Settings


def briefing_context(session: Session, s: Settings, *, actor: str, model: Any) -> Any:
    from agent.briefing.gather import DatabasePreferences
    from agent.briefing.state import BriefingContext

    return BriefingContext(
        session=session,
        tz=s.zone,
        model=model,
        memory=DatabasePreferences(session),
        lab_grace_days=s.lab_overdue_grace_days,
        lookback_days=s.briefing_lookback_days,
        evidence_days=s.briefing_evidence_days,
        referral_overdue_days=dict(s.referral_overdue_days),
        actor=actor,
    )
