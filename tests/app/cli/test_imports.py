"""`steve import fhir` and `steve import review` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, select

from db.models import ImportReview, Patient
from tests.support.cli import practice_engine, run, run_json

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "fhir"
MRN = "http://hospital.example.org/mrn"


def _init() -> None:
    assert run("init", "--no-admin").exit_code == 0


def test_import_reports_counts_and_problems_and_fails_on_unreadable_files() -> None:
    _init()
    result = run("import", "fhir", str(FIXTURES))
    assert result.exit_code == 1  # some files could not be read at all
    assert "not JSON" in result.stdout and "history" in result.stdout
    assert "created:" in result.stdout and "patient" in result.stdout
    good = run("import", "fhir", str(FIXTURES / "transaction.json"))
    assert good.exit_code == 0, good.stderr


def test_reimport_and_dry_run_as_json() -> None:
    _init()
    first = run_json("import", "fhir", str(FIXTURES / "transaction.json"))
    assert first["rows"]["created"]["patient"] == 1
    again = run_json("import", "fhir", str(FIXTURES / "transaction.json"))
    assert "created" not in again["rows"] and "updated" not in again["rows"]
    dry = run_json("import", "fhir", str(FIXTURES / "batch.json"), "--dry-run")
    assert dry["dry_run"] and dry["rows"]["created"]["patient"] == 1
    engine = practice_engine()
    with Session(engine) as session:
        assert len(session.exec(select(Patient)).all()) == 1
    engine.dispose()


def test_missing_path_and_empty_source_are_one_line_errors() -> None:
    _init()
    missing = run("import", "fhir", "nowhere.json")
    assert missing.exit_code != 0 and "no such file or directory: nowhere.json" in missing.stderr
    empty = run("import", "fhir", str(FIXTURES / "batch.json"), "--source", " ")
    assert empty.exit_code != 0 and "--source is empty" in empty.stderr


def test_review_lists_and_decides(tmp_path: Path) -> None:
    _init()
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"family": "Lovelace", "given": ["Ada"]}],
        "birthDate": "1985-12-10",
    }
    other = {**patient, "id": "p2", "identifier": [{"system": MRN, "value": "9"}]}
    for name, resource in (("a.json", patient), ("b.json", other)):
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": resource}]}
        (tmp_path / name).write_text(json.dumps(bundle))
        run("import", "fhir", str(tmp_path / name), "--source", "ehr")
    listed = run_json("import", "review")
    assert [r["record"] for r in listed] == ["Patient/p2"]
    assert listed[0]["candidate"] == "Ada Lovelace"
    table = run("import", "review")
    assert table.exit_code == 0 and "Imports held for review" in table.stdout
    both = run("import", "review", str(listed[0]["id"]), "--merge", "--reject")
    assert both.exit_code != 0 and "choose one" in both.stderr
    merged = run("import", "review", str(listed[0]["id"]), "--merge")
    assert merged.exit_code == 0, merged.stderr
    again = run("import", "review", str(listed[0]["id"]), "--create")
    assert again.exit_code != 0 and "already decided" in again.stderr
    engine = practice_engine()
    with Session(engine) as session:
        assert len(session.exec(select(Patient)).all()) == 1
        assert session.exec(select(ImportReview)).one().status == "merged"
    engine.dispose()
