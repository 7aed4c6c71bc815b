"""Provenance: an outside record becomes one row, found again on every later import."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from db.models import PatientCondition, RecordSource
from tests.support import factories
from tools.interop.provenance import Origin, Outcome, Provenance, content_hash

SYSTEM = "https://ehr.example.org/fhir"


def _origin(body: dict, version: str | None = None, updated: datetime | None = None) -> Origin:
    return Origin(
        source_system=SYSTEM,
        resource_type="Condition",
        resource_id="c1",
        content_hash=content_hash(body),
        version_id=version,
        last_updated=updated,
    )


def _write(session: Session, patient_id: int, body: dict, **kw) -> tuple[Outcome, int]:
    written = Provenance(session=session, source_system=SYSTEM).write(
        origin=_origin(body, **kw),
        model=PatientCondition,
        values={"patient_id": patient_id, "name": body["name"]},
        patient_id=patient_id,
    )
    session.flush()
    assert written.row_id is not None
    return written.outcome, written.row_id


def test_same_record_twice_is_one_row_unchanged(session: Session) -> None:
    patient = factories.patient(session)
    assert patient.id is not None
    first, row = _write(session, patient.id, {"name": "Migraine"}, version="1")
    again, same = _write(session, patient.id, {"name": "Migraine"}, version="1")
    assert (first, again, same) == (Outcome.CREATED, Outcome.UNCHANGED, row)
    sources = session.exec(select(RecordSource)).all()
    assert [(s.table_name, s.row_id, s.version_id) for s in sources] == [
        ("patient_condition", row, "1")
    ]


def test_a_newer_version_updates_in_place_and_an_older_one_is_ignored(session: Session) -> None:
    patient = factories.patient(session)
    assert patient.id is not None
    _, row = _write(session, patient.id, {"name": "Migraine"}, version="2")
    outcome, same = _write(session, patient.id, {"name": "Chronic migraine"}, version="3")
    assert (outcome, same) == (Outcome.UPDATED, row)
    assert session.get(PatientCondition, row).name == "Chronic migraine"
    stale, _ = _write(session, patient.id, {"name": "Headache"}, version="1")
    assert stale == Outcome.STALE
    assert session.get(PatientCondition, row).name == "Chronic migraine"


def test_versions_that_are_not_numbers_compare_by_last_updated(session: Session) -> None:
    patient = factories.patient(session)
    assert patient.id is not None
    june, may = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    _write(session, patient.id, {"name": "A"}, version="W/abc", updated=june)
    stale, _ = _write(session, patient.id, {"name": "B"}, version="W/abd", updated=may)
    assert stale == Outcome.STALE


def test_meta_alone_changing_is_not_a_change(session: Session) -> None:
    assert content_hash({"name": "x", "meta": {"lastUpdated": "2026-01-01"}}) == content_hash(
        {"name": "x", "meta": {"lastUpdated": "2026-02-02"}}
    )


def test_a_row_deleted_in_steve_stays_deleted_until_a_newer_version(session: Session) -> None:
    patient = factories.patient(session)
    assert patient.id is not None
    _, row = _write(session, patient.id, {"name": "Migraine"}, version="1")
    session.delete(session.get(PatientCondition, row))
    session.flush()
    unchanged, _ = _write(session, patient.id, {"name": "Migraine"}, version="1")
    assert unchanged == Outcome.UNCHANGED
    assert session.exec(select(PatientCondition)).all() == []
    outcome, new_row = _write(session, patient.id, {"name": "Migraine, chronic"}, version="2")
    assert outcome == Outcome.CREATED  # (SQLite may give the new row the old id)
    assert session.get(PatientCondition, new_row) is not None
    sources = session.exec(select(RecordSource)).all()
    assert [(s.row_id, s.version_id) for s in sources] == [(new_row, "2")]


def test_rows_written_without_a_flush_get_their_sources_when_settled(session: Session) -> None:
    patient = factories.patient(session)
    assert patient.id is not None
    provenance = Provenance(session=session, source_system=SYSTEM)
    written = []
    for n in range(3):
        body = {"name": f"Condition {n}"}
        origin = Origin(SYSTEM, "Condition", f"c{n}", content_hash(body))
        written.append(
            provenance.write(
                origin=origin,
                model=PatientCondition,
                values={"patient_id": patient.id, "name": body["name"]},
                patient_id=patient.id,
                flush=False,
            )
        )
    assert [w.row_id for w in written] == [None, None, None]
    provenance.settle()
    ids = [w.row_id for w in written]
    assert None not in ids
    sources = session.exec(select(RecordSource).order_by(RecordSource.resource_id)).all()
    assert [(s.resource_id, s.row_id) for s in sources] == [
        ("c0", ids[0]),
        ("c1", ids[1]),
        ("c2", ids[2]),
    ]
