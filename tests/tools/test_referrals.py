"""Referrals: the lifecycle, overdue detection, network statistics and gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from db.models import (
    Affiliation,
    Discipline,
    PractitionerStatus,
    Referral,
    ReferralCreate,
    ReferralDirection,
    ReferralEvent,
    ReferralStatus,
    Urgency,
)
from tests.support import factories
from tools.errors import InvalidInput, InvalidTransition, NotFound
from tools.referrals import (
    NETWORK_DISCIPLINES,
    TRANSITIONS,
    advance_referral,
    create_referral,
    network_gaps,
    outcome_statistics,
    overdue_referrals,
    parse_status,
)

S = ReferralStatus
T0 = datetime(2026, 10, 1, 9, tzinfo=UTC)
HAPPY_PATH = [S.SENT, S.ACCEPTED, S.SCHEDULED, S.SEEN, S.REPORT_RECEIVED, S.CLOSED]


def _setup(session: Session, urgency: Urgency = Urgency.ROUTINE):
    doc = factories.practitioner(session)
    ext = factories.practitioner(
        session,
        name="Dr Gut",
        discipline=Discipline.GASTROENTEROLOGY,
        affiliation=Affiliation.EXTERNAL,
    )
    pat = factories.patient(session, physician=doc)
    ref = create_referral(
        session=session,
        data=ReferralCreate(
            direction=ReferralDirection.OUTBOUND,
            patient_id=pat.id,
            from_practitioner_id=doc.id,
            to_practitioner_id=ext.id,
            reason="persistent bloating",
            urgency=urgency,
        ),
        now=T0,
    )
    session.commit()
    return doc, ext, pat, ref


def test_full_lifecycle_stamps_every_transition(session: Session) -> None:
    _, _, _, ref = _setup(session)
    for day, state in enumerate(HAPPY_PATH, start=1):
        rating = 4 if state == S.CLOSED else None
        advance_referral(
            session=session,
            referral_id=ref.id,
            to_status=state,
            now=T0 + timedelta(days=day),
            outcome_rating=rating,
        )
    session.commit()
    session.expunge_all()
    done = session.get(Referral, ref.id)
    assert done.status == S.CLOSED and done.outcome_rating == 4
    stamps = [
        done.sent_at,
        done.accepted_at,
        done.scheduled_at,
        done.seen_at,
        done.report_received_at,
        done.closed_at,
    ]
    assert stamps == [T0 + timedelta(days=d) for d in range(1, 7)]
    history = session.exec(
        select(ReferralEvent).where(ReferralEvent.referral_id == ref.id).order_by(ReferralEvent.id)
    ).all()
    assert [h.to_status for h in history] == [S.DRAFT, *HAPPY_PATH]
    assert history[1].from_status == S.DRAFT


@pytest.mark.parametrize("current", list(S))
def test_every_invalid_transition_is_refused_and_changes_nothing(
    session: Session, current: ReferralStatus
) -> None:
    _, _, _, ref = _setup(session)
    session.exec(select(Referral)).one().status = current
    session.commit()
    for target in S:
        if target in TRANSITIONS[current]:
            continue
        with pytest.raises(InvalidTransition) as info:
            advance_referral(session=session, referral_id=ref.id, to_status=target)
        assert f"is {current.value}; it cannot become {target.value}" in str(info.value)
        session.rollback()
    assert session.get(Referral, ref.id).status == current
    assert session.exec(select(func.count()).select_from(ReferralEvent)).one() == 1


def test_rating_only_when_closing_and_in_range(session: Session) -> None:
    _, _, _, ref = _setup(session)
    with pytest.raises(InvalidInput, match="only when a referral is closed"):
        advance_referral(session=session, referral_id=ref.id, to_status=S.SENT, outcome_rating=3)
    session.rollback()
    with pytest.raises(InvalidInput, match="between 1 and 5"):
        advance_referral(session=session, referral_id=ref.id, to_status=S.CLOSED, outcome_rating=9)
    session.rollback()
    assert session.get(Referral, ref.id).status == S.DRAFT


def test_unknown_ids(session: Session) -> None:
    doc, _, pat, _ = _setup(session)
    with pytest.raises(NotFound, match="referral"):
        advance_referral(session=session, referral_id=999, to_status=S.SENT)
    with pytest.raises(NotFound, match="practitioner"):
        create_referral(
            session=session,
            data=ReferralCreate(
                direction=ReferralDirection.OUTBOUND,
                patient_id=pat.id,
                from_practitioner_id=doc.id,
                to_practitioner_id=777,
                reason="x",
            ),
        )
    with pytest.raises(InvalidInput, match="two different"):
        create_referral(
            session=session,
            data=ReferralCreate(
                direction=ReferralDirection.OUTBOUND,
                patient_id=pat.id,
                from_practitioner_id=doc.id,
                to_practitioner_id=doc.id,
                reason="x",
            ),
        )


def test_parse_status_names_known_states() -> None:
    assert parse_status("Report received") == S.REPORT_RECEIVED
    with pytest.raises(InvalidInput, match="known: draft"):
        parse_status("lost")


def test_overdue_uses_per_state_limits_and_urgency(session: Session) -> None:
    _, _, _, routine = _setup(session)
    _, _, _, urgent = _setup(session, urgency=Urgency.URGENT)
    for ref in (routine, urgent):
        advance_referral(session=session, referral_id=ref.id, to_status=S.SENT, now=T0)
    session.commit()
    limits = {"sent": 8}
    # Day 3: the urgent one (8 * 0.25 = 2 days) is overdue, the routine one is not.
    found = overdue_referrals(session=session, limits=limits, now=T0 + timedelta(days=3))
    assert [(o.referral.id, o.limit_days) for o in found] == [(urgent.id, 2)]
    found = overdue_referrals(session=session, limits=limits, now=T0 + timedelta(days=9))
    assert {o.referral.id for o in found} == {routine.id, urgent.id}
    # Moving on resets the clock.
    advance_referral(
        session=session, referral_id=routine.id, to_status=S.ACCEPTED, now=T0 + timedelta(days=9)
    )
    found = overdue_referrals(session=session, limits=limits, now=T0 + timedelta(days=10))
    assert routine.id not in {o.referral.id for o in found}


def test_outcome_statistics_and_gaps(session: Session) -> None:
    _, ext, _, ref = _setup(session)
    for day, state in enumerate(HAPPY_PATH, start=1):
        advance_referral(
            session=session,
            referral_id=ref.id,
            to_status=state,
            now=T0 + timedelta(days=day * 2),
            outcome_rating=5 if state == S.CLOSED else None,
        )
    factories.practitioner(
        session,
        name="Dr Away",
        discipline=Discipline.NEUROLOGY,
        affiliation=Affiliation.EXTERNAL,
        status=PractitionerStatus.ON_LEAVE,
    )
    session.commit()
    stats = {s.practitioner_id: s for s in outcome_statistics(session=session)}
    gut = stats[ext.id]
    assert (gut.referrals, gut.closed, gut.mean_rating, gut.report_rate) == (1, 1, 5.0, 1.0)
    assert gut.median_days_to_seen == 6.0  # sent day 2, seen day 8
    gaps = network_gaps(session=session)
    assert Discipline.GASTROENTEROLOGY not in gaps
    assert Discipline.NEUROLOGY in gaps  # only an on-leave practitioner
    assert set(gaps) == set(NETWORK_DISCIPLINES) - {Discipline.GASTROENTEROLOGY}


def test_concurrent_advances_move_a_referral_once(session: Session, engine) -> None:
    """Two people accept the same referral at once: one wins, the other is told it moved on."""
    import threading
    import time

    _, _, _, ref = _setup(session)
    advance_referral(session=session, referral_id=ref.id, to_status=S.SENT)
    session.commit()
    locked = threading.Event()
    outcomes: list[str] = []

    def first() -> None:
        with Session(engine) as s:
            advance_referral(session=s, referral_id=ref.id, to_status=S.ACCEPTED)
            locked.set()
            time.sleep(0.3)  # hold the lock while the second one tries
            s.commit()
            outcomes.append("first ok")

    def second() -> None:
        locked.wait(5)
        with Session(engine) as s:
            try:
                advance_referral(session=s, referral_id=ref.id, to_status=S.ACCEPTED)
                s.commit()
                outcomes.append("second ok")
            except InvalidTransition:
                outcomes.append("second refused")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(outcomes) == ["first ok", "second refused"]
    events = session.exec(select(ReferralEvent).where(ReferralEvent.to_status == S.ACCEPTED)).all()
    assert len(events) == 1
