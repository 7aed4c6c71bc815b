"""Referrals: create, advance through the lifecycle, find overdue ones, judge the network.

Lifecycle:  draft -> sent -> accepted -> scheduled -> seen -> report_received -> closed
            sent/accepted -> declined;  any open state -> closed (withdrawn or finished)
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from db.engine import as_utc, get_for_update, utcnow
from db.models import (
    Affiliation,
    Discipline,
    Practitioner,
    PractitionerStatus,
    Referral,
    ReferralCreate,
    ReferralDirection,
    ReferralEvent,
    ReferralStatus,
    Urgency,
)
from tools import audit
from tools.errors import InvalidInput, InvalidTransition, NotFound
from tools.registry import OPEN_REFERRAL_STATUSES, get_patient, get_practitioner

S = ReferralStatus
TRANSITIONS: dict[ReferralStatus, tuple[ReferralStatus, ...]] = {
    S.DRAFT: (S.SENT, S.CLOSED),
    S.SENT: (S.ACCEPTED, S.DECLINED, S.CLOSED),
    S.ACCEPTED: (S.SCHEDULED, S.DECLINED, S.CLOSED),
    S.SCHEDULED: (S.SEEN, S.CLOSED),
    S.SEEN: (S.REPORT_RECEIVED, S.CLOSED),
    S.REPORT_RECEIVED: (S.CLOSED,),
    S.CLOSED: (),
    S.DECLINED: (),
}

# Days a referral may stay in a state before it is overdue (overridable in settings).
DEFAULT_OVERDUE_DAYS: dict[str, int] = {
    "draft": 3,
    "sent": 7,
    "accepted": 14,
    "scheduled": 30,
    "seen": 21,
    "report_received": 7,
}
# Urgent and soon referrals run on a shorter clock.
URGENCY_FACTOR = {Urgency.ROUTINE: 1.0, Urgency.SOON: 0.5, Urgency.URGENT: 0.25}

# Disciplines the practice refers out to; a gap is one of these with no active external.
NETWORK_DISCIPLINES = (
    Discipline.PSYCHOTHERAPY,
    Discipline.PHYSIOTHERAPY,
    Discipline.GASTROENTEROLOGY,
    Discipline.ENDOCRINOLOGY,
    Discipline.RHEUMATOLOGY,
    Discipline.GYNAECOLOGY,
    Discipline.NEUROLOGY,
    Discipline.DIETETICS,
    Discipline.MIND_BODY,
    Discipline.PAIN_MEDICINE,
)

# The column that stamps the moment a referral reaches each state.
STAMP_COLUMN = {
    S.SENT: "sent_at",
    S.ACCEPTED: "accepted_at",
    S.SCHEDULED: "scheduled_at",
    S.SEEN: "seen_at",
    S.REPORT_RECEIVED: "report_received_at",
    S.CLOSED: "closed_at",
    S.DECLINED: "declined_at",
}


def parse_status(text: str) -> ReferralStatus:
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return ReferralStatus(key)
    except ValueError:
        known = ", ".join(s.value for s in ReferralStatus)
        raise InvalidInput(f"unknown referral state {text!r}; known: {known}") from None


def create_referral(
    *,
    session: Session,
    data: ReferralCreate,
    now: datetime | None = None,
    actor: str = "system",
) -> Referral:
    """A new referral in the draft state (outbound: ours -> external; inbound: the reverse)."""
    now = now or utcnow()
    get_patient(session=session, patient_id=data.patient_id)
    source = get_practitioner(session=session, practitioner_id=data.from_practitioner_id)
    target = get_practitioner(session=session, practitioner_id=data.to_practitioner_id)
    if source.id == target.id:
        raise InvalidInput("a referral needs two different practitioners")
    if target.status == PractitionerStatus.INACTIVE:
        raise InvalidInput(f"practitioner {target.id} is inactive and takes no referrals")
    referral = Referral.model_validate(data)
    referral.created_at = referral.status_changed_at = now
    session.add(referral)
    session.flush()
    assert referral.id is not None
    session.add(ReferralEvent(referral_id=referral.id, from_status=None, to_status=S.DRAFT, at=now))
    audit.record(
        session=session,
        actor=actor,
        action="create",
        entity="referral",
        entity_id=referral.id,
        patient_id=referral.patient_id,
    )
    return referral


def advance_referral(
    *,
    session: Session,
    referral_id: int,
    to_status: ReferralStatus,
    now: datetime | None = None,
    outcome_rating: int | None = None,
    note: str | None = None,
    actor: str = "system",
) -> Referral:
    """Move a referral to its next state, stamping the time; refuse transitions that can't be."""
    now = now or utcnow()
    referral = get_for_update(session, Referral, referral_id)
    if referral is None:
        raise NotFound("referral", referral_id)
    current = ReferralStatus(referral.status)
    allowed = TRANSITIONS[current]
    if to_status not in allowed:
        options = ", ".join(s.value for s in allowed) or "none (it is finished)"
        raise InvalidTransition(
            f"referral {referral_id} is {current.value}; it cannot become {to_status.value} "
            f"(next: {options})"
        )
    if outcome_rating is not None:
        if to_status != S.CLOSED:
            raise InvalidInput("an outcome rating is given only when a referral is closed")
        if not 1 <= outcome_rating <= 5:
            raise InvalidInput(f"outcome rating {outcome_rating} is not between 1 and 5")
        referral.outcome_rating = outcome_rating
    if note and to_status == S.CLOSED:
        referral.outcome_note = note
    referral.status = to_status
    referral.status_changed_at = now
    setattr(referral, STAMP_COLUMN[to_status], now)
    session.add(referral)
    session.add(
        ReferralEvent(
            referral_id=referral_id, from_status=current, to_status=to_status, at=now, note=note
        )
    )
    audit.record(
        session=session,
        actor=actor,
        action=f"advance:{to_status.value}",
        entity="referral",
        entity_id=referral_id,
        patient_id=referral.patient_id,
    )
    session.flush()
    return referral


@dataclass(frozen=True)
class OverdueReferral:
    referral: Referral
    days_in_state: int
    limit_days: int


def overdue_limit(status: ReferralStatus, urgency: Urgency, limits: dict[str, int]) -> int:
    base = limits.get(status.value, DEFAULT_OVERDUE_DAYS.get(status.value, 0))
    return max(1, math.ceil(base * URGENCY_FACTOR[Urgency(urgency)])) if base else 0


def referral_overdue(
    referral: Referral, limits: dict[str, int], now: datetime
) -> OverdueReferral | None:
    """The referral, if it has stayed in its state longer than its limit (else None)."""
    limit = overdue_limit(ReferralStatus(referral.status), referral.urgency, limits)
    days = (now - as_utc(referral.status_changed_at)).days
    if limit and days > limit:
        return OverdueReferral(referral=referral, days_in_state=days, limit_days=limit)
    return None


def overdue_referrals(
    *,
    session: Session,
    limits: dict[str, int] | None = None,
    now: datetime | None = None,
) -> list[OverdueReferral]:
    """Open referrals that have stayed in their state longer than its limit, longest first."""
    now = now or utcnow()
    limits = {**DEFAULT_OVERDUE_DAYS, **(limits or {})}
    # The shortest limit bounds the query; the exact per-urgency check is done below.
    shortest = (
        min(overdue_limit(S(s), u, limits) for s in limits for u in Urgency if limits[s] > 0)
        if any(limits.values())
        else 0
    )
    stmt = select(Referral).where(
        col(Referral.status).in_([S(s) for s in limits if limits[s] > 0]),
        col(Referral.status_changed_at) <= now - timedelta(days=shortest),
    )
    out = [
        late
        for referral in session.exec(stmt).all()
        if (late := referral_overdue(referral, limits, now)) is not None
    ]
    out.sort(key=lambda o: (o.limit_days - o.days_in_state, o.referral.id or 0))
    return out


@dataclass(frozen=True)
class NetworkStats:
    practitioner_id: int
    name: str
    discipline: str
    referrals: int
    open: int
    declined: int
    closed: int
    mean_rating: float | None
    median_days_to_seen: float | None
    report_rate: float | None


def outcome_statistics(*, session: Session) -> list[NetworkStats]:
    """Per external practitioner: outbound referrals, declines, ratings, time to be seen."""
    externals = session.exec(
        select(Practitioner).where(Practitioner.affiliation == Affiliation.EXTERNAL)
    ).all()
    referrals = session.exec(
        select(Referral).where(
            Referral.direction == ReferralDirection.OUTBOUND,
            col(Referral.to_practitioner_id).in_([p.id for p in externals]),
        )
    ).all()
    by_target: dict[int, list[Referral]] = {}
    for r in referrals:
        by_target.setdefault(r.to_practitioner_id, []).append(r)
    stats = []
    for p in externals:
        rs = by_target.get(p.id or 0, [])
        ratings = [r.outcome_rating for r in rs if r.outcome_rating is not None]
        waits = [
            (as_utc(r.seen_at) - as_utc(r.sent_at)).total_seconds() / 86400
            for r in rs
            if r.seen_at and r.sent_at
        ]
        seen = [r for r in rs if r.seen_at is not None]
        stats.append(
            NetworkStats(
                practitioner_id=p.id or 0,
                name=p.name,
                discipline=str(p.discipline),
                referrals=len(rs),
                open=sum(r.status in OPEN_REFERRAL_STATUSES for r in rs),
                declined=sum(r.status == S.DECLINED for r in rs),
                closed=sum(r.status == S.CLOSED for r in rs),
                mean_rating=round(statistics.fmean(ratings), 2) if ratings else None,
                median_days_to_seen=round(statistics.median(waits), 1) if waits else None,
                report_rate=(
                    round(sum(r.report_received_at is not None for r in seen) / len(seen), 2)
                    if seen
                    else None
                ),
            )
        )
    stats.sort(key=lambda s: (-s.referrals, s.name))
    return stats


def network_gaps(*, session: Session) -> list[Discipline]:
    """Disciplines the practice refers to that have no active external practitioner."""
    rows = session.exec(
        select(Practitioner.discipline, func.count())
        .where(
            Practitioner.affiliation == Affiliation.EXTERNAL,
            Practitioner.status == PractitionerStatus.ACTIVE,
        )
        .group_by(Practitioner.discipline)
    ).all()
    covered = {Discipline(d) for d, n in rows if n}
    return [d for d in NETWORK_DISCIPLINES if d not in covered]
