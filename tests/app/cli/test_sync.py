"""`steve sync fhir` and `steve sync status` against the loopback FHIR server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from db.models import Patient, PatientIdentifier
from tests.support.cli import practice_engine, run, run_json
from tests.support.fhir_server import FhirServer, running_fhir_server
from tests.support.fhir_sync import observation, patient, seconds


@pytest.fixture
def ehr(monkeypatch: pytest.MonkeyPatch, _isolated_data_dir) -> Iterator[FhirServer]:
    """An initialised practice whose settings point at a loopback EHR with a bearer token."""
    assert run("init").exit_code == 0
    with running_fhir_server() as server:
        server.require_bearer("t0ken")
        for n in range(5):
            server.put(patient(n), at=seconds(n))
        for n in range(3):
            server.put(observation(n, n), at=seconds(10 + n))
        monkeypatch.setenv("STEVE_EHR__BASE_URL", server.base_url)
        monkeypatch.setenv("STEVE_EHR__AUTH", "bearer")
        monkeypatch.setenv("STEVE_EHR__TOKEN", "t0ken")
        monkeypatch.setenv("STEVE_EHR__PAGE_SIZE", "2")
        monkeypatch.setenv("STEVE_EHR__RESOURCE_TYPES", '["Patient", "Observation", "Goal"]')
        yield server


def test_a_dry_run_counts_what_changed_and_writes_nothing(ehr: FhirServer) -> None:
    report = run_json("sync", "fhir", "--dry-run")
    assert report["dry_run"] is True
    assert report["read"] == {"Patient": 5, "Observation": 3, "Goal": 0}
    assert report["pages"] == 3 + 2 + 1 and report["cursors"] == {}
    assert run_json("sync", "status") == []


def test_a_sync_imports_through_the_fhir_import_and_saves_the_cursors(ehr: FhirServer) -> None:
    result = run("sync", "fhir", "--types", "Observation,Patient")
    assert result.exit_code == 0, result.stderr
    assert "Read from" in result.stdout and "5 rows_created" in result.stdout
    engine = practice_engine()
    with Session(engine) as s:
        patients = s.exec(select(Patient)).all()
        identifiers = {i.value for i in s.exec(select(PatientIdentifier)).all()}
    assert len(patients) == 5 and identifiers == {f"MRN{n:05d}" for n in range(5)}
    assert run_json("sync", "status") == [
        {
            "source_system": ehr.base_url,
            "resource_type": "Patient",
            "last_updated": "2026-01-05T09:00:04.000Z",
        },
        {
            "source_system": ehr.base_url,
            "resource_type": "Observation",
            "last_updated": "2026-01-05T09:00:12.000Z",
        },
    ]
    ehr.put(patient(1) | {"birthDate": "1979-12-31"}, at=seconds(60))
    again = run_json("sync", "fhir", "--types", "Patient")
    # The cursor's own instant again (pat-004, unchanged), then the changed patient.
    assert again["read"] == {"Patient": 2}
    assert again["counts"] == {"rows_unchanged": 1, "rows_updated": 1}
    with Session(engine) as s:
        assert len(s.exec(select(Patient)).all()) == 5
        assert {str(p.date_of_birth) for p in s.exec(select(Patient))} == {
            "1980-01-01",
            "1979-12-31",
        }
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--types", "Patient,Task"), "--types: unknown resource type Task"),
        (("--since", "last week"), "--since is not a FHIR instant or date"),
    ],
)
def test_bad_options_are_one_line(ehr: FhirServer, args: tuple[str, ...], message: str) -> None:
    result = run("sync", "fhir", *args)
    assert result.exit_code == 1 and message in result.stderr
    assert ehr.requests == []


def test_without_a_server_it_says_which_setting(_isolated_data_dir) -> None:
    assert run("init").exit_code == 0
    result = run("sync", "fhir")
    assert result.exit_code == 2
    assert "setting STEVE_EHR__BASE_URL: not set" in result.stderr


def test_a_refused_token_is_one_line_without_the_token(
    ehr: FhirServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEVE_EHR__TOKEN", "wrong-token")
    result = run("sync", "fhir", "--dry-run")
    assert result.exit_code == 3
    assert f"127.0.0.1:{ehr.port}: HTTP 401 (login)" in result.stderr
    assert "wrong-token" not in result.stderr + result.stdout
