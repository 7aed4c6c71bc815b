"""What changed since the last visit with a physician: the plain queries under the briefing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event
from sqlmodel import Session

from db.models import (
    Appointment,
    AppointmentStatus,
    CareMessage,
    ClinicalNote,
    Discipline,
    LabOrder,
    LabResult,
    LabStatus,
    PatientMedication,
    Referral,
    ReferralDirection,
    ReferralEvent,
    ReferralStatus,
    SupplementItem,
    SupplementStatus,
)
from tests.support import factories
from tools.clinical_changes import CHANGES_QUERIES, changes_since

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TODAY = NOW.date()
LAST = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def visit(s: Session, patient: int, who: int, at: datetime, status: AppointmentStatus) -> int:
    a = Appointment(
        patient_id=patient,
        practitioner_id=who,
        service_type="follow-up consultation",
        starts_at=at,
        ends_at=at + timedelta(minutes=30),
        status=status,
    )
    s.add(a)
    s.flush()
    assert a.id is not None
    return a.id


def test_changes_since_the_last_visit_with_this_physician(session: Session) -> None:
    s = session
    doc = factories.practitioner(s, name="Dr One")
    other_doc = factories.practitioner(s, name="Dr Two")
    nutrition = factories.practitioner(s, discipline=Discipline.NUTRITIONAL_THERAPY)
    p = factories.patient(s, physician=doc)
    assert p.id and doc.id and other_doc.id and nutrition.id
    visit(s, p.id, doc.id, LAST - timedelta(days=40), AppointmentStatus.COMPLETED)
    last = visit(s, p.id, doc.id, LAST, AppointmentStatus.COMPLETED)
    visit(s, p.id, doc.id, LAST + timedelta(days=5), AppointmentStatus.CANCELLED)
    visit(s, p.id, other_doc.id, LAST + timedelta(days=6), AppointmentStatus.COMPLETED)

    def note(who: int, at: datetime) -> ClinicalNote:
        n = ClinicalNote(
            patient_id=p.id,
            practitioner_id=who,
            modality=Discipline.NUTRITIONAL_THERAPY,
            written_at=at,
            body="Plan reviewed.",
        )
        s.add(n)
        return n

    before = note(nutrition.id, LAST - timedelta(days=3))
    after = note(nutrition.id, LAST + timedelta(days=4))
    own = note(doc.id, LAST + timedelta(days=8))
    started = SupplementItem(
        patient_id=p.id,
        product="Iron bisglycinate 20 mg",
        dose="20 mg",
        frequency="daily",
        started_on=date(2026, 11, 10),
    )
    stopped = SupplementItem(
        patient_id=p.id,
        product="Magnesium glycinate",
        dose="240 mg",
        frequency="daily",
        started_on=date(2026, 6, 1),
        stopped_on=date(2026, 11, 12),
        status=SupplementStatus.STOPPED,
    )
    old = SupplementItem(
        patient_id=p.id,
        product="Omega-3",
        dose="1 g",
        frequency="daily",
        started_on=date(2026, 1, 1),
    )
    med = PatientMedication(patient_id=p.id, name="Levothyroxine", started_on=date(2026, 11, 5))
    back = LabOrder(
        patient_id=p.id,
        ordered_by_id=doc.id,
        lab="Genova",
        panel="Thyroid",
        ordered_on=date(2026, 10, 20),
        received_on=date(2026, 11, 15),
        status=LabStatus.RECEIVED,
    )
    late = LabOrder(
        patient_id=p.id,
        ordered_by_id=doc.id,
        lab="Genova",
        panel="Stool",
        ordered_on=date(2026, 10, 1),
        expected_on=date(2026, 11, 1),
        status=LabStatus.COLLECTED,
    )
    due = LabOrder(
        patient_id=p.id,
        ordered_by_id=doc.id,
        lab="Genova",
        panel="Iron",
        ordered_on=date(2026, 11, 20),
        expected_on=date(2026, 11, 30),
    )
    s.add_all([started, stopped, old, med, back, late, due])
    s.flush()
    s.add(LabResult(order_id=back.id, patient_id=p.id, analyte="TSH", value=5.8, unit="mU/L"))
    ref = Referral(
        direction=ReferralDirection.OUTBOUND,
        patient_id=p.id,
        from_practitioner_id=doc.id,
        to_practitioner_id=other_doc.id,
        reason="Second opinion",
        status=ReferralStatus.SENT,
    )
    s.add(ref)
    s.flush()
    s.add(ReferralEvent(referral_id=ref.id, to_status=ReferralStatus.DRAFT, at=LAST - timedelta(1)))
    s.add(
        ReferralEvent(
            referral_id=ref.id,
            from_status=ReferralStatus.DRAFT,
            to_status=ReferralStatus.SENT,
            at=LAST + timedelta(days=1),
        )
    )
    s.add(
        CareMessage(
            patient_id=p.id,
            sender_id=nutrition.id,
            recipient_id=doc.id,
            subject="Update",
            body="Doing well.",
            created_at=LAST + timedelta(days=2),
        )
    )
    s.flush()

    statements: list[str] = []
    engine = s.get_bind()
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        ch = changes_since(session=s, patient_id=p.id, physician_id=doc.id, now=NOW, today=TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) <= CHANGES_QUERIES

    assert ch.last_visit is not None and ch.last_visit.id == last and not ch.first_visit
    assert ch.since == LAST
    assert [n.id for n in ch.notes_by_others()] == [after.id]  # not before, not the physician's
    assert {n.id for n in ch.notes} >= {before.id, after.id, own.id}  # the conflict window
    assert {i.id for i in ch.supplements} == {started.id, stopped.id}
    assert [m.id for m in ch.medications] == [med.id]
    assert [o.id for o in ch.new_labs] == [back.id]
    assert [r.analyte for r in ch.results[back.id or 0]] == ["TSH"]
    assert {o.id for o in ch.pending_labs} == {late.id, due.id}
    assert [(o.order.id, o.days_late) for o in ch.overdue_labs] == [(late.id, 22)]
    assert [(e.to_status, r.id) for e, r in ch.referral_moves] == [(ReferralStatus.SENT, ref.id)]
    assert [m.subject for m in ch.messages_since()] == ["Update"]


def test_a_first_visit_looks_back_a_fixed_window(session: Session) -> None:
    doc = factories.practitioner(session)
    p = factories.patient(session, physician=doc)
    assert p.id and doc.id
    ch = changes_since(
        session=session,
        patient_id=p.id,
        physician_id=doc.id,
        now=NOW,
        today=TODAY,
        lookback_days=30,
    )
    assert ch.first_visit and ch.since == NOW - timedelta(days=30)
    assert ch.notes == [] and ch.new_labs == [] and ch.referral_moves == []
