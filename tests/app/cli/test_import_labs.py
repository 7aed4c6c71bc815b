"""`steve import hl7` and `steve import labs` on a practice database (SQLite and PostgreSQL):
a line per message or patient, a summary, exit 1 when anything was rejected, --dry-run, and
never a patient value in the output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.settings import get_settings
from db.engine import make_engine
from db.models import ImportReview, ImportRun, LabOrder, LabResult
from tests.support.cli import run
from tests.support.labs import HL7, LABS, lab_practice
from tools.interop.hl7.mllp import frame


@pytest.fixture
def practice_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("STEVE_DATABASE__URL", db_url)
    get_settings.cache_clear()
    eng = make_engine(db_url)
    lab_practice(eng)
    yield eng
    eng.dispose()


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def _no_patient_values(text: str) -> None:
    for value in ("EVERYWOMAN", "Everywoman", "555-44-4444", "245", "19620320", "Stranger"):
        assert value not in text


def test_hl7_files_line_per_message_and_exit_1_on_rejects(practice_db: Engine) -> None:
    result = run(
        "import",
        "hl7",
        str(HL7 / "oru_r01_panel_v251.hl7"),
        str(HL7 / "oru_r01_unknown_patient_v23.hl7"),
        str(HL7 / "oru_r01_malformed_obx_v251.hl7"),
        str(HL7 / "adt_a01_v251.hl7"),
    )
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("oru_r01_panel_v251.hl7 #1 CNTRL-3456: stored (AA): ")
    assert "4 results created" in lines[0]
    assert lines[1] == "oru_r01_unknown_patient_v23.hl7 #1 RL-000917: held (AA): 1 held"
    assert lines[2].startswith(
        "oru_r01_malformed_obx_v251.hl7 #1 CNTRL-BAD-1: error (AE): OBX-5 of OBX 3"
    )
    assert lines[3].startswith("adt_a01_v251.hl7 #1 ADT-0001: rejected (AR): MSH-9")
    assert lines[4] == "4 message(s): 1 stored, 1 held, 1 error, 1 rejected"
    _no_patient_values(result.stdout + result.stderr)
    assert _count(practice_db, LabResult) == 4 and _count(practice_db, ImportReview) == 1
    assert _count(practice_db, ImportRun) == 1


def test_hl7_resend_is_unchanged_and_exit_0(practice_db: Engine) -> None:
    path = str(HL7 / "oru_r01_batch_newlines_v251.hl7")
    first = run("import", "hl7", str(HL7 / "oru_r01_panel_v251.hl7"))
    assert first.exit_code == 0, first.stdout
    again = run("import", "hl7", str(HL7 / "oru_r01_panel_v251.hl7"), "--json")
    assert again.exit_code == 0
    import json

    data = json.loads(again.stdout)
    assert data["messages"][0]["counts"] == {"orders matched": 1, "results unchanged": 4}
    batch = run("import", "hl7", path)
    assert batch.exit_code == 0
    assert batch.stdout.strip().splitlines()[-1] == "3 message(s): 3 held"


def test_hl7_mllp_capture_and_dry_run(practice_db: Engine, tmp_path: Path) -> None:
    capture = tmp_path / "capture.bin"
    capture.write_bytes(
        b"".join(
            frame(payload=(HL7 / name).read_bytes())
            for name in ("oru_r01_panel_v251.hl7", "oru_r01_multi_obr_v251.hl7")
        )
    )
    dry = run("import", "hl7", str(capture), "--dry-run")
    assert dry.exit_code == 0
    assert dry.stdout.strip().splitlines()[-1] == (
        "2 message(s): 2 stored (dry run: nothing written)"
    )
    assert _count(practice_db, LabOrder) == 0 and _count(practice_db, ImportRun) == 0
    real = run("import", "hl7", str(capture))
    assert real.exit_code == 0
    assert _count(practice_db, LabOrder) == 3 and _count(practice_db, LabResult) == 7


def test_hl7_unreadable_file(practice_db: Engine, tmp_path: Path) -> None:
    result = run("import", "hl7", str(tmp_path / "missing.hl7"))
    assert result.exit_code == 2
    assert "missing.hl7: cannot be read" in result.stderr


def test_labs_csv_with_toml_mapping(practice_db: Engine) -> None:
    result = run(
        "import",
        "labs",
        str(LABS / "northside_results.csv"),
        "--lab",
        "Northside",
        "--map",
        str(LABS / "northside.toml"),
    )
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("northside_results.csv rows 2-4: stored: ")
    assert "3 results created" in lines[0]
    assert lines[1] == "northside_results.csv row 5: held: 1 held"
    assert (
        lines[-1] == "4 row(s), 2 patient(s): 1 stored, 1 held for review, 0 error(s), 0 left out"
    )
    _no_patient_values(result.stdout)
    with Session(practice_db) as s:
        order = s.exec(select(LabOrder)).one()
        assert (order.lab, order.panel, order.filler_number) == (
            "Northside",
            "Micronutrient panel",
            "NS-1001",
        )
        ferritin = s.exec(select(LabResult).where(LabResult.code == "2276-4")).one()
        assert ferritin.flag == "low"  # no flag sent, below its range
        review = s.exec(select(ImportReview)).one()
        assert review.format == "csv" and review.source_system == "northside-lab"
        assert review.payload.splitlines()[0].startswith("Patient ID,First Name")
    again = run(
        "import", "labs", str(LABS / "northside_results.csv"), "--map", str(LABS / "northside.json")
    )
    assert again.exit_code == 0
    assert "3 results unchanged" in again.stdout


def test_labs_bad_rows_named_by_row_and_column(practice_db: Engine) -> None:
    result = run(
        "import",
        "labs",
        str(LABS / "northside_bad_rows.csv"),
        "--map",
        str(LABS / "northside.toml"),
    )
    assert result.exit_code == 1
    out = result.stdout
    assert "northside_bad_rows.csv: row 2, column Collected: not a date as %m/%d/%Y" in out
    assert "northside_bad_rows.csv: row 4, column Result: no value" in out
    assert "northside_bad_rows.csv: row 5, column Flag: not an abnormal flag" in out
    assert "rows 2-3: left out (a row has a problem)" in out
    _no_patient_values(out)
    assert _count(practice_db, LabResult) == 0 and _count(practice_db, ImportReview) == 0


def test_labs_bad_mapping_is_one_line(practice_db: Engine, tmp_path: Path) -> None:
    mapping = tmp_path / "bad.toml"
    mapping.write_text('[columns]\npatient_id = "Patient ID"\n')
    result = run("import", "labs", str(LABS / "northside_results.csv"), "--map", str(mapping))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: bad.toml: patient.identifier_system is required with a patient_id"
    )
