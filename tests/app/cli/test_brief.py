"""`steve brief`: one patient's briefing, a physician's day, formats and input errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from db.models import GeneratedDocument
from tests.support.cli import practice_engine, run, run_json

DAY = "2025-03-03"


@pytest.fixture
def demo_dir(demo_copy) -> None:
    demo_copy("--patients", "300", "--date", DAY, "--json")


def test_brief_a_physicians_day_with_a_progress_bar(demo_dir: None) -> None:
    result = run("brief", "--day", DAY, "--physician", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("# Pre-appointment briefing: ") == 7
    assert "briefings" in result.stderr and "7/7" in result.stderr  # the progress bar
    assert "## Needs your decision today" in result.stdout and "## Sources" in result.stdout


def test_brief_one_patient_as_json_and_html(demo_dir: None) -> None:
    data = run_json("brief", "41", "--date", DAY)
    assert len(data) == 1
    b = data[0]
    assert (b["patient_id"], b["physician_id"], b["appointment_id"]) == (41, 1, 869)
    assert b["mode"] == "deterministic" and b["model_calls"] == 0 and b["dropped"] == []
    assert "interaction:ppi-magnesium" in b["sources"]
    html = run("brief", "41", "--date", DAY, "--format", "html")
    assert html.exit_code == 0 and html.stdout.startswith("<!DOCTYPE html>")
    # Kept as one generated document per appointment (briefing it twice replaced it).
    engine = practice_engine()
    with Session(engine) as session:
        kept = session.exec(
            select(GeneratedDocument).where(GeneratedDocument.key == f"{DAY}:appointment-869")
        ).all()
    engine.dispose()
    assert [(d.kind, d.patient_id, d.practitioner_id) for d in kept] == [("briefing", 41, 1)]
    assert kept[0].markdown == b["markdown"]


def test_brief_writes_files(demo_dir: None, tmp_path: Path) -> None:
    result = run("brief", "--day", DAY, "--physician", "2", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    files = sorted((tmp_path / "out").glob("briefing-2025-03-03-appointment-*.md"))
    assert len(files) == 8


def test_a_patient_without_an_appointment_is_briefed_for_their_physician(demo_dir: None) -> None:
    data = run_json("brief", "41", "--date", "2025-03-04")
    assert data[0]["appointment_id"] is None and data[0]["physician_id"] == 1
    assert "(no appointment found)" in data[0]["markdown"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("brief",), "name a patient"),
        (("brief", "41", "--day", DAY, "--physician", "1"), "not both"),
        (("brief", "--day", DAY), "--day needs --physician"),
        (("brief", "41", "--format", "pdf"), "unknown format"),
        (("brief", "--day", DAY, "--physician", "3"), "is not a physician"),
        (("brief", "41", "--date", "2025-13-01"), "date"),
        (("brief", "999999"), "patient"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    demo_dir: None, args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    assert result.stdout == ""
