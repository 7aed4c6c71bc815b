"""`steve export fhir`: admin only, one line and nothing written on bad input, files on success."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.models import AuditEvent, Patient, PracticeMeta
from demo import generate_demo
from tests.support.cli import run
from tests.support.fhir_export import TODAY, TZ, admin_user, staff_user
from tools.interop.fhir.read import read_fhir


@pytest.fixture
def practice(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A five-patient demo with an admin user `admin` and a staff user `desk`."""
    monkeypatch.setenv("STEVE_DATABASE_URL", db_url)
    generate_demo(engine=engine, patients=5, seed=3, today=TODAY, tz=TZ)
    with Session(engine, expire_on_commit=False) as session:
        admin, desk = admin_user(session), staff_user(session)
        ids = list(session.exec(select(Patient.id).order_by(col(Patient.id))).all())
        session.commit()
        return {"engine": engine, "admin": admin, "desk": desk, "patients": ids}


def _audit(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_an_admin_exports_every_patient(practice: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = run("export", "fhir", "--out", str(out), "--by", "admin", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["patients"] == 5 and summary["format"] == "bundles"
    assert summary["files"] == 6 and (out / "practice.json").exists()
    assert read_fhir(paths=[out]).problems == []
    with Session(practice["engine"]) as session:
        made = session.get(PracticeMeta, "practice_id")  # the practice's id, kept
    assert made is not None
    patient = json.loads((out / f"patient-{practice['patients'][0]}.json").read_text())
    assert patient["entry"][0]["resource"]["meta"]["source"] == f"urn:steve:practice:{made.value}"
    audited = _audit(practice["engine"], "export")
    assert sorted(a.patient_id for a in audited) == practice["patients"]
    assert {(a.actor, a.entity, a.origin) for a in audited} == {
        (f"practitioner:{practice['admin'].practitioner_id}", "fhir_export", "cli")
    }


def test_ndjson_for_some_patients(practice: dict[str, Any], tmp_path: Path) -> None:
    first = str(practice["patients"][0])
    out = tmp_path / "bulk"
    result = run("export", "fhir", first, "--out", str(out), "--ndjson", "--by", "admin")
    assert result.exit_code == 0, result.stderr
    assert "Exported 1 patient(s)" in result.stdout
    patients = (out / "Patient.ndjson").read_text().splitlines()
    assert [json.loads(line)["id"] for line in patients] == [f"patient-{first}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999"], "no patient with id 999999"),
        (["abc"], "a patient is named by its id"),
        (["--by", "desk"], "the staff role has no access to import"),
        (["--by", "nobody"], "no user named 'nobody'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    practice: dict[str, Any], tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "exports").mkdir()
    out = tmp_path / "exports" / "export"
    by = [] if "--by" in args else ["--by", "admin"]
    result = run("export", "fhir", *args, "--out", str(out), *by)
    assert result.exit_code != 0
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert list((tmp_path / "exports").iterdir()) == []
    assert _audit(practice["engine"], "export") == []


def test_a_refusal_is_audited(practice: dict[str, Any], tmp_path: Path) -> None:
    result = run("export", "fhir", "--out", str(tmp_path / "x"), "--by", "desk")
    assert result.exit_code != 0
    denied = _audit(practice["engine"], "denied")
    assert [(d.actor, d.entity) for d in denied] == [
        (f"practitioner:{practice['desk'].practitioner_id}", "fhir_export")
    ]


def test_a_full_folder_needs_force(practice: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "export"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run("export", "fhir", "--out", str(out), "--by", "admin")
    assert result.exit_code != 0 and "--force" in result.stderr
    assert (out / "keep.txt").exists()
    result = run("export", "fhir", "--out", str(out), "--by", "admin", "--force")
    assert result.exit_code == 0, result.stderr
    assert not (out / "keep.txt").exists() and (out / "practice.json").exists()


def test_a_missing_parent_folder_is_refused(practice: dict[str, Any], tmp_path: Path) -> None:
    result = run("export", "fhir", "--out", str(tmp_path / "no" / "out"), "--by", "admin")
    assert result.exit_code != 0 and "does not exist" in result.stderr
