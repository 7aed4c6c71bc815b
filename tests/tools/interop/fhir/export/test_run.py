"""export_fhir on the enriched demo: every table exported, valid, re-read without a problem."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import (
    Appointment,
    AuditEvent,
    CareMessage,
    CareProgramme,
    ClinicalNote,
    GeneratedDocument,
    IntakeForm,
    LabOrder,
    LabResult,
    Patient,
    PatientAllergy,
    PatientCondition,
    PatientDocument,
    PatientMedication,
    PatientObservation,
    Practitioner,
    ProgrammeElement,
    Referral,
    SupplementItem,
    Task,
)
from tests.support.fhir_export import DOCUMENT_BYTES, SOURCE
from tests.tools.interop.fhir.export.conftest import Practice
from tools.errors import InvalidInput, NotFound
from tools.interop.fhir import conventions as c
from tools.interop.fhir.export import assemble, rows
from tools.interop.fhir.export.practice import practice_id
from tools.interop.fhir.export.run import ExportInvalid, ExportSummary, export_fhir
from tools.interop.fhir.read import read_fhir

# Each exported table, and which of its rows are exported (all, or those of a patient).
TABLES: dict[str, Any] = {
    "patient": Patient,
    "practitioner": Practitioner,
    "patient_condition": PatientCondition,
    "patient_allergy": PatientAllergy,
    "patient_medication": PatientMedication,
    "supplement_item": SupplementItem,
    "lab_order": LabOrder,
    "lab_result": LabResult,
    "patient_observation": PatientObservation,
    "appointment": Appointment,
    "care_programme": CareProgramme,
    "referral": Referral,
    "task": Task,
    "care_message": CareMessage,
    "clinical_note": ClinicalNote,
    "generated_document": GeneratedDocument,
    "patient_document": PatientDocument,
    "intake_form": IntakeForm,
}


def _export(practice: Practice, out: Path, **kwargs: Any) -> tuple[ExportSummary, int]:
    """Export, count the audit rows it added, and roll back (the practice stays as built)."""
    with Session(practice.engine) as session:
        try:
            summary = export_fhir(
                session=session, out=out, documents_dir=practice.documents, **kwargs
            )
            audited = session.exec(
                select(func.count()).where(col(AuditEvent.action) == "export")
            ).one()
        finally:
            session.rollback()
    return summary, audited


def _resources(folder: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(folder.iterdir()):
        if path.suffix == ".ndjson":
            for line in path.read_text().splitlines():
                yield json.loads(line)
        else:
            for entry in json.loads(path.read_text())["entry"]:
                yield entry["resource"]


def _steve_rows(resources: list[dict[str, Any]]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {t: set() for t in TABLES}
    for r in resources:
        for table in TABLES:
            row = c.row_of(r.get("identifier"), table)
            if row is not None:
                found[table].add(row)
    return found


def _expected_rows(practice: Practice) -> dict[str, set[int]]:
    with Session(practice.engine) as session:
        expected = {}
        for table, model in TABLES.items():
            stmt = select(model.id)
            if table in {"generated_document", "task", "care_message"}:
                stmt = stmt.where(col(model.patient_id).is_not(None))
            expected[table] = set(session.exec(stmt).all())
        return expected


def test_every_table_is_exported_valid_and_read_back_whole(
    practice: Practice, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    summary, audited = _export(practice, out)
    assert summary.patients == audited == len(_expected_rows(practice)["patient"])
    resources = list(_resources(out))
    exported = _steve_rows(resources)
    expected = _expected_rows(practice)
    for table in TABLES:
        assert expected[table], f"the test practice has no {table} rows"
        assert exported[table] == expected[table], table
    with Session(practice.engine) as session:
        elements = set(session.exec(select(ProgrammeElement.id)).all())
    activities = {
        int(a["id"].rsplit("-", 1)[1])
        for r in resources
        if r["resourceType"] == "CarePlan"
        for a in r.get("activity", [])
    }
    assert activities == elements
    read = read_fhir(paths=[out])
    assert read.problems == []
    assert read.skipped == {}
    assert read.groups.unplaced == []
    assert all(link.target is not None for link in read.links)
    assert sum(read.counts.values()) == len(resources) == sum(summary.resources.values())
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["practice.json", *(f"patient-{pid}.json" for pid in expected["patient"])]
    )


def test_bundles_are_transactions_with_stable_ids(practice: Practice, tmp_path: Path) -> None:
    _export(practice, tmp_path / "a")
    _export(practice, tmp_path / "b")
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    bundle = json.loads((tmp_path / "a" / "practice.json").read_text())
    assert bundle["type"] == "transaction"
    for entry in bundle["entry"]:
        r = entry["resource"]
        assert entry["request"] == {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}
        assert entry["fullUrl"].startswith("urn:uuid:")


def test_ndjson_streams_a_file_per_type_in_batches(
    practice: Practice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    real = rows.load_batch

    def counting(**kwargs: Any) -> Any:
        batches.append(len(kwargs["patient_ids"]))
        return real(**kwargs)

    monkeypatch.setattr("tools.interop.fhir.export.run.load_batch", counting)
    summary, _ = _export(practice, tmp_path / "nd", ndjson=True, batch_size=7)
    assert max(batches) == 7 and sum(batches) == summary.patients
    _export(practice, tmp_path / "bundles")
    names = sorted(p.name for p in (tmp_path / "nd").iterdir())
    assert names == sorted(f"{t}.ndjson" for t in summary.resources)
    for path in (tmp_path / "nd").iterdir():
        kinds = {json.loads(line)["resourceType"] for line in path.read_text().splitlines()}
        assert kinds == {path.stem}
    ids = lambda folder: sorted((r["resourceType"], r["id"]) for r in _resources(folder))  # noqa: E731
    assert ids(tmp_path / "nd") == ids(tmp_path / "bundles")
    read = read_fhir(paths=[tmp_path / "nd"])
    assert read.problems == [] and read.groups.unplaced == []


def _first_patient(practice: Practice) -> int:
    with Session(practice.engine) as session:
        return int(session.exec(select(func.min(Patient.id))).one())


def _ids(resource: dict[str, Any]) -> list[Any]:
    found = resource.get("identifier", [])
    return found if isinstance(found, list) else [found]


def _bundle(folder: Path, name: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in json.loads((folder / name).read_text())["entry"]]


def test_the_conventions_an_importer_reads(practice: Practice, tmp_path: Path) -> None:
    pid = _first_patient(practice)
    _export(practice, tmp_path / "out", patient_ids=[pid, pid + 1])
    mine = _bundle(tmp_path / "out", f"patient-{pid}.json")
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in mine:
        by_type.setdefault(r["resourceType"], []).append(r)
    patient = by_type["Patient"][0]
    with Session(practice.engine) as session:
        source = c.practice_urn(practice_id(session=session))
    assert {"system": f"{source}:patient", "value": str(pid)} in patient["identifier"]
    assert all(r["meta"] == {"source": source} for r in mine)
    mr = next(i for i in patient["identifier"] if i["value"] == "MRN-1")
    assert mr["type"]["coding"][0]["code"] == "MR"
    physician = c.extension_value(patient, "primary-physician")
    assert physician in patient["generalPractitioner"] and len(patient["generalPractitioner"]) == 2
    statements = by_type["MedicationStatement"]
    supplements = [s for s in statements if c.is_supplement(s)]
    medications = [s for s in statements if not c.is_supplement(s)]
    assert supplements and medications
    assert all(c.row_of(s["identifier"], "supplement_item") for s in supplements)
    levo = next(m for m in medications if "Levothyroxine" in m["medicationCodeableConcept"]["text"])
    assert levo["medicationCodeableConcept"]["coding"][0]["system"] == c.RXNORM
    assert levo["dosage"][0]["timing"]["code"]["text"] == "once daily"
    assert c.extension_value(levo["dosage"][0], "dose") == "50 microgram"
    tsh = next(o for o in by_type["Observation"] if o["code"].get("text") == "TSH")
    assert tsh["status"] == "corrected" and tsh["interpretation"][0]["coding"][0]["code"] == "H"
    assert tsh["valueQuantity"]["system"] == c.UCUM and tsh["code"]["coding"][0]["code"] == "3016-3"
    assert c.extension_value(tsh, "previous-value") == "6.2"
    order = next(s for s in by_type["ServiceRequest"] if c.row_of(s["identifier"], "lab_order"))
    assert {i["value"] for i in order["identifier"]} >= {"PL-1", "FL-1"}
    stored = next(
        d for d in by_type["DocumentReference"] if d["description"] == "Discharge summary"
    )
    assert base64.b64decode(stored["content"][0]["attachment"]["data"]) == DOCUMENT_BYTES
    lost = next(d for d in by_type["DocumentReference"] if d["description"] == "Lost letter")
    assert "data" not in lost["content"][0]["attachment"]
    answers = by_type["QuestionnaireResponse"][0]["item"]
    assert answers[0]["answer"] == [{"valueString": "fatigue"}] and "answer" not in answers[1]
    imported = [r for r in mine if {"system": SOURCE, "value": "cond-1"} in _ids(r)]
    assert [r["resourceType"] for r in imported] == ["Condition"]
    practice_json = _bundle(tmp_path / "out", "practice.json")
    gp = [r for r in practice_json if {"system": SOURCE, "value": "gp-1"} in _ids(r)]
    assert [r["resourceType"] for r in gp] == ["Practitioner"]
    roles = [r for r in practice_json if r["resourceType"] == "PractitionerRole"]
    assert any(
        r.get("specialty") == [{"text": "General practice"}] and r.get("organization")
        for r in roles
    )
    deceased = _bundle(tmp_path / "out", f"patient-{pid + 1}.json")[0]
    assert deceased["deceasedDateTime"] == "2024-12-01"


def test_programmes_referrals_tasks_and_messages(practice: Practice, tmp_path: Path) -> None:
    _export(practice, tmp_path / "out", ndjson=True)
    plans = [json.loads(x) for x in (tmp_path / "out" / "CarePlan.ndjson").read_text().splitlines()]
    with Session(practice.engine) as session:
        elements = {e.id: e for e in session.exec(select(ProgrammeElement)).all()}
    activities = [a for p in plans for a in p.get("activity", [])]
    assert len(activities) == len(elements)
    for activity in activities:
        element = elements[c.extension_value(activity, "row")]
        detail = activity["detail"]
        assert detail["kind"] == "ServiceRequest"
        assert detail["code"]["coding"][0] == {
            "system": c.DISCIPLINE_SYSTEM,
            "code": str(element.modality),
            "display": str(element.modality).replace("_", " ").capitalize(),
        }
        assert c.inverse(c.ACTIVITY_STATUS)[detail["status"]] == element.status
        timing = detail["scheduledTiming"]
        assert timing["code"]["text"] == element.cadence
        assert timing["repeat"]["boundsPeriod"]["start"] == element.started_on.isoformat()
        assert timing["repeat"]["boundsPeriod"].get("end") == (
            element.ended_on.isoformat() if element.ended_on else None
        )
        assert detail["description"] == element.goal
        assert detail["performer"] == [
            {"reference": f"Practitioner/practitioner-{element.practitioner_id}"}
        ]
    requests = [
        json.loads(x) for x in (tmp_path / "out" / "ServiceRequest.ndjson").read_text().splitlines()
    ]
    referrals = [r for r in requests if c.row_of(r["identifier"], "referral")]
    assert referrals and all(r["category"][0]["coding"][0]["code"] == "3457005" for r in referrals)
    assert all(c.extension_value(r, "status") for r in referrals)
    tasks = (tmp_path / "out" / "Task.ndjson").read_text().splitlines()
    assert all(json.loads(t)["status"] in c.inverse(c.TASK_STATUS) for t in tasks)
    assert (tmp_path / "out" / "Communication.ndjson").exists()


def test_an_unknown_patient_writes_nothing(practice: Practice, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no patient with id 999999"):
        _export(practice, tmp_path / "out", patient_ids=[_first_patient(practice), 999999])
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_is_not_empty_needs_force(practice: Practice, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(InvalidInput, match="not empty; use --force"):
        _export(practice, out, patient_ids=[_first_patient(practice)])
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    _export(practice, out, patient_ids=[_first_patient(practice)], force=True)
    assert "old.txt" not in {p.name for p in out.iterdir()}
    with pytest.raises(InvalidInput, match="does not exist"):
        _export(practice, tmp_path / "no" / "such")


def test_a_failure_midway_leaves_no_folder(
    practice: Practice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(assemble.documents, "intake_resource", broken)
    with pytest.raises(RuntimeError):
        _export(practice, tmp_path / "out", batch_size=5)
    assert list(tmp_path.iterdir()) == []


def test_an_invalid_resource_names_its_field_not_its_value(
    practice: Practice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = assemble.clinical.condition_resource

    def wrong(*args: Any, **kwargs: Any) -> Any:
        return {**real(*args, **kwargs), "onsetDateTime": "secret-value"}

    monkeypatch.setattr(assemble.clinical, "condition_resource", wrong)
    with pytest.raises(ExportInvalid) as raised:
        _export(practice, tmp_path / "out")
    assert "Condition/patient-condition-" in str(raised.value)
    assert "onsetDateTime" in str(raised.value) and "secret-value" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_two_practices_never_share_a_patient_identifier(
    practice: Practice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Patients are matched by identifier: patient 12 here is not patient 12 elsewhere."""
    pid = _first_patient(practice)
    _export(practice, tmp_path / "here", patient_ids=[pid])
    monkeypatch.setattr("tools.interop.fhir.export.run.practice_id", lambda **_: "another-practice")
    _export(practice, tmp_path / "there", patient_ids=[pid])
    here = _bundle(tmp_path / "here", f"patient-{pid}.json")[0]
    there = _bundle(tmp_path / "there", f"patient-{pid}.json")[0]
    steve = [i for i in here["identifier"] if c.row_of(i, "patient") == pid]
    assert len(steve) == 1 and steve[0] not in there["identifier"]
    assert there["meta"]["source"] == "urn:steve:practice:another-practice"
