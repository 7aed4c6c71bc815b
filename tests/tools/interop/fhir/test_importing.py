"""The FHIR import end to end on real databases: who each patient is, one transaction per
patient, re-imports that change nothing, versions that update in place, the review queue,
dry runs, records placed through earlier imports, and problems that never carry a value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from db.models import (
    Affiliation,
    AuditEvent,
    ImportReview,
    ImportReviewStatus,
    ImportRun,
    Patient,
    PatientCondition,
    PatientIdentifier,
    Practitioner,
    RecordSource,
)
from tests.support import factories
from tools.interop.fhir import mapping
from tools.interop.fhir.importing import import_fhir, import_resources
from tools.interop.fhir.mapping import Item, MapContext
from tools.interop.review import Decision, decide

SYSTEM = "https://ehr.example.org/fhir"
MRN = "http://hospital.example.org/mrn"


def _patient(pid: str, *, given: str = "Ada", family: str = "Lovelace", **extra: Any) -> dict:
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": MRN, "value": f"MRN-{pid}"}],
        "name": [{"family": family, "given": [given]}],
        "birthDate": "1985-12-10",
        **extra,
    }


def _bundle(*resources: dict, kind: str = "collection") -> dict:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"fullUrl": f"{SYSTEM}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }


def _write(tmp_path: Path, name: str, bundle: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def _count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_practitioners_only_bundle_fills_the_network(engine: Engine, fixtures: Path) -> None:
    report = import_fhir(engine=engine, paths=[fixtures / "searchset_practitioners.json"])
    assert report.patients == {} and not report.problems
    with Session(engine) as session:
        people = session.exec(select(Practitioner)).all()
    assert people and all(p.affiliation == Affiliation.EXTERNAL for p in people)
    assert any(p.specialty for p in people)  # from the PractitionerRole
    again = import_fhir(engine=engine, paths=[fixtures / "searchset_practitioners.json"])
    assert again.tally.changed() == 0


def test_deceased_patient_with_a_primary_care_provider(engine: Engine, fixtures: Path) -> None:
    report = import_fhir(engine=engine, paths=[fixtures / "transaction.json"])
    assert report.patients["written"] == 1
    with Session(engine) as session:
        patient = session.exec(select(Patient)).one()
        assert patient.deceased and patient.deceased_on is not None
        assert patient.status == "inactive"
        assert patient.primary_care_provider_id is not None
        pcp = session.get(Practitioner, patient.primary_care_provider_id)
        assert pcp is not None and pcp.affiliation == Affiliation.EXTERNAL
        ids = session.exec(select(PatientIdentifier.value)).all()
        assert ids == ["MRN-1001"]


def test_patient_with_no_other_records(engine: Engine, fixtures: Path) -> None:
    report = import_fhir(engine=engine, paths=[fixtures / "batch.json"])
    assert report.patients["written"] == 1
    assert _count(engine, Patient) == 1


def test_reimporting_changes_nothing(engine: Engine, fixtures: Path) -> None:
    first = import_fhir(engine=engine, paths=[fixtures])
    rows = {m.__name__: _count(engine, m) for m in (Patient, Practitioner, RecordSource)}
    again = import_fhir(engine=engine, paths=[fixtures])
    assert first.tally.changed() > 0
    assert again.tally.changed() == 0
    assert {m.__name__: _count(engine, m) for m in (Patient, Practitioner, RecordSource)} == rows
    assert _count(engine, ImportRun) == 2


def test_a_newer_version_updates_the_same_patient(engine: Engine, tmp_path: Path) -> None:
    v1 = _patient("p1", meta={"versionId": "1"}, telecom=[{"system": "phone", "value": "111"}])
    v2 = {**v1, "meta": {"versionId": "2"}, "telecom": [{"system": "phone", "value": "222"}]}
    import_fhir(engine=engine, paths=[_write(tmp_path, "v1.json", _bundle(v1))])
    report = import_fhir(engine=engine, paths=[_write(tmp_path, "v2.json", _bundle(v2))])
    assert report.tally.rows[("patient", "updated")] == 1
    stale = import_fhir(engine=engine, paths=[_write(tmp_path, "v1b.json", _bundle(v1))])
    assert stale.tally.rows[("patient", "stale")] == 1
    with Session(engine) as session:
        assert [p.phone for p in session.exec(select(Patient))] == ["222"]


def test_identifier_match_attaches_to_the_existing_patient(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        existing = factories.patient(session, given="Ada", family="Lovelace")
        session.add(PatientIdentifier(patient_id=existing.id, system=MRN, value="MRN-p1"))
        session.commit()
        existing_id = existing.id
    import_fhir(engine=engine, paths=[_write(tmp_path, "b.json", _bundle(_patient("p1")))])
    with Session(engine) as session:
        assert [p.id for p in session.exec(select(Patient))] == [existing_id]


def test_name_and_birth_date_alone_is_held_and_decided(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        existing = factories.patient(session, given="Ada", family="Lovelace")
        existing.date_of_birth = existing.date_of_birth.replace(1985, 12, 10)
        session.add(existing)
        session.commit()
        existing_id = existing.id
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {"text": "Migraine"},
    }
    path = _write(tmp_path, "b.json", _bundle(_patient("p1"), condition))
    report = import_fhir(engine=engine, paths=[path], source_system=SYSTEM)
    assert report.patients["held_for_review"] == 1 and len(report.reviews) == 1
    assert _count(engine, Patient) == 1  # nothing of the incoming patient was written
    decide(engine=engine, review_id=report.reviews[0], decision=Decision.MERGE, actor="test")
    with Session(engine) as session:
        review = session.get(ImportReview, report.reviews[0])
        assert review is not None and review.status == ImportReviewStatus.MERGED
        ids = session.exec(select(PatientIdentifier.patient_id)).all()
        assert ids == [existing_id]  # the next import matches by identifier
    again = import_fhir(engine=engine, paths=[path], source_system=SYSTEM)
    assert again.patients.get("held_for_review") is None


def test_a_held_patient_can_be_a_new_one_or_rejected(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        existing = factories.patient(session, given="Ada", family="Lovelace")
        existing.date_of_birth = existing.date_of_birth.replace(1985, 12, 10)
        session.add(existing)
        session.commit()
    held = []
    for n in ("p1", "p2"):
        path = _write(tmp_path, f"{n}.json", _bundle(_patient(n)))
        held += import_fhir(engine=engine, paths=[path], source_system=SYSTEM).reviews
    decide(engine=engine, review_id=held[0], decision=Decision.CREATE, actor="test")
    decide(engine=engine, review_id=held[1], decision=Decision.REJECT, actor="test")
    assert _count(engine, Patient) == 2
    with pytest.raises(Exception, match="already decided"):
        decide(engine=engine, review_id=held[1], decision=Decision.CREATE, actor="test")


def test_a_failing_patient_is_rolled_back_alone(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = mapping.MAPPERS["Patient"]

    def breaks_on_p2(*, item: Item, ctx: MapContext) -> None:
        real(item=item, ctx=ctx)
        if item.resource_id == "p2":
            raise RuntimeError("Grace Hopper 1906-12-09")  # text a message must never show

    monkeypatch.setitem(mapping.MAPPERS, "Patient", breaks_on_p2)
    bundle = _bundle(_patient("p1"), _patient("p2", given="Grace", family="Hopper"))
    report = import_fhir(engine=engine, paths=[_write(tmp_path, "b.json", bundle)])
    assert report.patients == {"written": 1, "failed": 1}
    with Session(engine) as session:
        assert [p.given_name for p in session.exec(select(Patient))] == ["Ada"]
        assert session.exec(select(func.count()).select_from(PatientIdentifier)).one() == 1
    lines = " ".join(p.line() for p in report.problems)
    assert "RuntimeError" in lines and "Grace" not in lines and "1906" not in lines


def test_dry_run_writes_nothing(engine: Engine, fixtures: Path) -> None:
    report = import_fhir(engine=engine, paths=[fixtures], dry_run=True)
    assert report.tally.changed() > 0 and report.run_id is None
    for model in (Patient, Practitioner, RecordSource, ImportRun, AuditEvent):
        assert _count(engine, model) == 0


def test_records_are_placed_through_an_earlier_import(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def map_flag(*, item: Item, ctx: MapContext) -> None:
        ctx.write(
            item=item,
            model=PatientCondition,
            values={"patient_id": ctx.patient_id, "name": "flagged"},
        )

    monkeypatch.setitem(mapping.MAPPERS, "Flag", map_flag)
    import_fhir(engine=engine, paths=[_write(tmp_path, "p.json", _bundle(_patient("p1")))])
    flag = {
        "resourceType": "Flag",
        "id": "f1",
        "status": "active",
        "code": {"text": "x"},
        "subject": {"reference": "Patient/p1"},
    }
    page = import_resources(engine=engine, resources=[flag], source_system=SYSTEM)
    assert page.tally.rows[("patient_condition", "created")] == 1
    assert not [p for p in page.problems if "dangling" in p.message]
    with Session(engine) as session:
        patient = session.exec(select(Patient)).one()
        condition = session.exec(select(PatientCondition)).one()
        assert condition.patient_id == patient.id


def test_problems_name_the_field_never_the_value(engine: Engine, tmp_path: Path) -> None:
    bad = _patient("p1", given="Zebedee", birthDate="1990-13-45")
    nameless = {"resourceType": "Patient", "id": "p2", "birthDate": "1990-01-01"}
    path = _write(tmp_path, "b.json", _bundle(bad, nameless))
    report = import_fhir(engine=engine, paths=[path])
    lines = [p.line() for p in report.problems]
    assert any("birthDate" in line for line in lines)
    assert any("no name or identifier" in line for line in lines)
    joined = " ".join(lines)
    assert "Zebedee" not in joined and "1990-13-45" not in joined
    assert _count(engine, Patient) == 0


def test_unmapped_types_are_counted(engine: Engine, tmp_path: Path) -> None:
    device = {"resourceType": "Device", "id": "d1", "patient": {"reference": "Patient/p1"}}
    path = _write(tmp_path, "b.json", _bundle(_patient("p1"), device))
    report = import_fhir(engine=engine, paths=[path])
    assert report.tally.unmapped["Device"] == 1
    assert report.summary()["unmapped"] == {"Device": 1}
