"""Protocol-review prompts: when a protocol is due, the review lifecycle, and the prompt text."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from db.models import (
    AuditEvent,
    EvidenceGrade,
    ProtocolReview,
    ReviewReason,
    ReviewStatus,
)
from tests.support import factories
from tests.support import literature_factories as lf
from tools.errors import InvalidInput, InvalidTransition, NotFound
from tools.literature.reviews import (
    acknowledge_review,
    due_reviews,
    open_reviews,
    review_prompts,
    snooze_review,
)

TODAY = date(2025, 3, 10)
AFTER_REVIEW = datetime(2025, 3, 3, 9, tzinfo=UTC)


def _at(day: int, month: int = 3, year: int = 2025) -> datetime:
    return datetime(year, month, day, 9, tzinfo=UTC)


def test_interval_due(session: Session) -> None:
    overdue = lf.protocol(session, title="Overdue", last_reviewed_on=date(2024, 3, 1))
    exactly = lf.protocol(session, title="Exactly", last_reviewed_on=date(2024, 3, 10))
    never = lf.protocol(session, title="Never")
    lf.protocol(session, title="Fresh", last_reviewed_on=date(2025, 1, 1))
    lf.protocol(session, title="Short", last_reviewed_on=date(2025, 3, 1), interval_days=10)
    due = {d.protocol.title: d for d in due_reviews(session=session, today=TODAY)}
    assert set(due) == {"Overdue", "Exactly", "Never"}
    assert due["Overdue"].due_on == date(2025, 3, 1) and due["Never"].due_on is None
    assert all(d.reasons == [ReviewReason.INTERVAL] for d in due.values())
    assert {overdue.id, exactly.id, never.id} == {d.protocol.id for d in due.values()}


def test_evidence_due_only_for_strong_relevant_new_unretracted(session: Session) -> None:
    doc = factories.practitioner(session)
    p = lf.protocol(session, last_reviewed_on=date(2025, 1, 1))
    t = lf.topic(session, protocol=p, terms=["low-FODMAP", "IBS"])
    rct = lf.article(session, grade=EvidenceGrade.RCT)
    review = lf.article(session, grade=EvidenceGrade.SYSTEMATIC_REVIEW)
    for a, score in ((rct, 0.82), (review, 0.6)):
        lf.match(session, article=a, topic=t, score=score, terms=["IBS"], at=AFTER_REVIEW)
    skipped = [
        (lf.article(session, grade=EvidenceGrade.OBSERVATIONAL), 0.95, AFTER_REVIEW),
        (lf.article(session, grade=EvidenceGrade.RCT, retracted=True), 0.9, AFTER_REVIEW),
        (lf.article(session, grade=EvidenceGrade.RCT), 0.3, AFTER_REVIEW),  # not relevant
        (lf.article(session, grade=EvidenceGrade.RCT, first_seen_at=_at(1, 12, 2024)), 0.9, None),
        (lf.article(session, grade=EvidenceGrade.RCT), 0.9, _at(20)),  # after "today"
    ]
    for a, score, at in skipped:
        lf.match(session, article=a, topic=t, score=score, at=at)
    # Strong evidence on an inactive topic, or on a physician's interest, is not the protocol's.
    idle = lf.topic(session, protocol=p, active=False)
    interest = lf.topic(session, physician=doc)
    lf.match(session, article=lf.article(session), topic=idle, score=0.9, at=AFTER_REVIEW)
    lf.match(session, article=lf.article(session), topic=interest, score=0.9, at=AFTER_REVIEW)

    (due,) = due_reviews(session=session, today=TODAY)
    assert due.reasons == [ReviewReason.EVIDENCE]
    # Ordered by relevance x grade weight: RCT 0.82 x 1.8 = 1.48 before review 0.6 x 2.0 = 1.2.
    assert [e.article.id for e in due.evidence] == [rct.id, review.id]
    (stricter,) = due_reviews(session=session, today=TODAY, relevance_threshold=0.7)
    assert [e.article.id for e in stricter.evidence] == [rct.id]
    assert due_reviews(session=session, today=TODAY, relevance_threshold=0.9) == []


def test_open_reviews_is_idempotent_and_collects_new_evidence(session: Session) -> None:
    p = lf.protocol(session, last_reviewed_on=date(2025, 1, 1))
    t = lf.topic(session, protocol=p)
    first = lf.article(session)
    lf.match(session, article=first, topic=t, at=AFTER_REVIEW)
    opened = open_reviews(session=session, today=TODAY)
    session.commit()
    assert [(r.protocol_id, r.reason, r.article_ids) for r in opened] == [
        (p.id, ReviewReason.EVIDENCE, [first.id])
    ]
    again = open_reviews(session=session, today=TODAY)
    session.commit()
    assert [r.id for r in again] == [opened[0].id]
    second = lf.article(session, grade=EvidenceGrade.SYSTEMATIC_REVIEW)
    lf.match(session, article=second, topic=t, at=_at(5))
    open_reviews(session=session, today=TODAY)
    session.commit()
    rows = session.exec(select(ProtocolReview)).all()
    assert len(rows) == 1
    assert sorted(rows[0].article_ids) == sorted([first.id, second.id])
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity == "protocol_review"))
    assert sorted(actions.all()) == ["add_evidence", "open"]


def test_snoozed_review_stays_quiet_then_reopens(session: Session) -> None:
    p = lf.protocol(session)  # never reviewed: due on interval
    (review,) = open_reviews(session=session, today=TODAY)
    assert review.reason == ReviewReason.INTERVAL
    snooze_review(session=session, review_id=review.id, until=date(2025, 3, 20), today=TODAY)
    session.commit()
    assert open_reviews(session=session, today=date(2025, 3, 19)) == []
    assert len(session.exec(select(ProtocolReview)).all()) == 1  # no second review meanwhile
    (back,) = open_reviews(session=session, today=date(2025, 3, 20))
    session.commit()
    assert back.id == review.id and back.status == ReviewStatus.OPEN
    assert back.snoozed_until is None and back.protocol_id == p.id


def test_acknowledge_closes_and_records_the_review_date(session: Session) -> None:
    doc = factories.practitioner(session)
    p = lf.protocol(session, last_reviewed_on=date(2025, 1, 1))
    t = lf.topic(session, protocol=p)
    seen = lf.article(session)
    lf.match(session, article=seen, topic=t, at=AFTER_REVIEW)
    (review,) = open_reviews(session=session, today=TODAY)
    ack_at = datetime(2025, 3, 10, 15, tzinfo=UTC)
    acknowledge_review(session=session, review_id=review.id, by_id=doc.id, now=ack_at)
    session.commit()
    assert review.status == ReviewStatus.ACKNOWLEDGED
    assert (review.acknowledged_at, review.acknowledged_by_id) == (ack_at, doc.id)
    assert p.last_reviewed_on == TODAY
    assert due_reviews(session=session, today=TODAY) == []
    assert open_reviews(session=session, today=date(2025, 3, 11)) == []
    # Evidence arriving later the same day, never shown in a review, prompts a new one.
    late = lf.article(session)
    lf.match(session, article=late, topic=t, at=datetime(2025, 3, 10, 18, tzinfo=UTC))
    (fresh,) = open_reviews(session=session, today=date(2025, 3, 11))
    assert fresh.id != review.id and fresh.article_ids == [late.id]
    with pytest.raises(InvalidTransition, match="already acknowledged"):
        acknowledge_review(session=session, review_id=review.id, by_id=doc.id)


def test_lifecycle_errors(session: Session) -> None:
    doc = factories.practitioner(session)
    lf.protocol(session)
    (review,) = open_reviews(session=session, today=TODAY)
    session.commit()
    with pytest.raises(NotFound, match="no protocol review with id 9999"):
        acknowledge_review(session=session, review_id=9999, by_id=doc.id)
    with pytest.raises(NotFound, match="no protocol review with id 9999"):
        snooze_review(session=session, review_id=9999, until=date(2025, 4, 1), today=TODAY)
    with pytest.raises(InvalidInput, match="must be after today"):
        snooze_review(session=session, review_id=review.id, until=date(2025, 3, 1), today=TODAY)
    with pytest.raises(InvalidInput, match="must be after today"):
        snooze_review(session=session, review_id=review.id, until=TODAY, today=TODAY)
    session.rollback()
    with pytest.raises(NotFound, match="no practitioner with id 9999"):
        acknowledge_review(session=session, review_id=review.id, by_id=9999)
    session.rollback()
    assert session.get(ProtocolReview, review.id).status == ReviewStatus.OPEN
    acknowledge_review(session=session, review_id=review.id, by_id=doc.id)
    with pytest.raises(InvalidTransition, match="cannot be snoozed"):
        snooze_review(session=session, review_id=review.id, until=date(2025, 4, 1), today=TODAY)


def test_review_prompt_names_protocol_evidence_and_reasons(session: Session) -> None:
    p = lf.protocol(session, title="Low-FODMAP protocol for IBS", last_reviewed_on=date(2024, 1, 2))
    t = lf.topic(session, protocol=p, terms=["low-FODMAP", "IBS"])
    rct = lf.article(session, title="Low-FODMAP diet in IBS: an RCT", url="javascript:alert(1)")
    lf.match(
        session, article=rct, topic=t, score=0.82, terms=["low-FODMAP", "IBS"], at=AFTER_REVIEW
    )
    reviews = open_reviews(session=session, today=TODAY)
    (prompt,) = review_prompts(session=session, reviews=reviews, today=TODAY)
    assert prompt.protocol_title == "Low-FODMAP protocol for IBS"
    assert prompt.reasons == [ReviewReason.INTERVAL, ReviewReason.EVIDENCE]
    assert "new evidence since the last review on 2024-01-02" in prompt.reason_line
    assert "review interval passed" in prompt.reason_line
    (line,) = prompt.evidence
    assert line.relevance_line == "matches: IBS, low-FODMAP; relevance 0.82"
    assert line.grade_label == "randomised controlled trial"
    assert line.url == f"https://pubmed.ncbi.nlm.nih.gov/{rct.pmid}/"  # unsafe URL replaced
    assert prompt.refs == [rct.ref]
    assert "**Protocol review due: Low-FODMAP protocol for IBS**" in prompt.markdown
    assert (
        f"- Low-FODMAP diet in IBS: an RCT (randomised controlled trial; "
        f"matches: IBS, low-FODMAP; relevance 0.82) [{rct.ref}]"
    ) in prompt.text


def test_concurrent_runs_open_one_review_and_acknowledge_once(session: Session, engine) -> None:
    """Two processes sweep at once, then two people acknowledge at once: one row, one close."""
    import threading
    import time

    from sqlmodel import Session as NewSession

    doc = factories.practitioner(session)
    p = lf.protocol(session)
    session.commit()

    def race(work_first, work_second) -> list[str]:  # type: ignore[no-untyped-def]
        locked = threading.Event()
        outcomes: list[str] = []

        def first() -> None:
            with NewSession(engine) as s:
                work_first(s)
                locked.set()
                time.sleep(0.3)  # hold the lock while the second one tries
                s.commit()
                outcomes.append("first ok")

        def second() -> None:
            locked.wait(5)
            with NewSession(engine) as s:
                try:
                    work_second(s)
                    s.commit()
                    outcomes.append("second ok")
                except InvalidTransition:
                    outcomes.append("second refused")

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        return sorted(outcomes)

    def sweep(s: Session) -> None:
        open_reviews(session=s, today=TODAY)

    assert race(sweep, sweep) == ["first ok", "second ok"]
    session.expire_all()
    (review,) = session.exec(select(ProtocolReview)).all()
    assert review.protocol_id == p.id

    def ack(s: Session) -> None:
        acknowledge_review(session=s, review_id=review.id, by_id=doc.id)

    assert race(ack, ack) == ["first ok", "second refused"]
    acks = session.exec(select(AuditEvent).where(AuditEvent.action == "acknowledge")).all()
    assert len(acks) == 1
