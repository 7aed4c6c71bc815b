"""The scheduled EHR sync: scheduled only when enabled, runs recorded in counts, a failing
server fails that run only and keeps the pages already committed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from db.models import JobRun, RunOutcome
from schedules.ehr_sync import run_ehr_sync
from schedules.history import record_run
from schedules.jobs import JobContext, job_specs, run_by_name
from tests.support.fhir_server import FhirServer, running_fhir_server
from tests.support.fhir_sync import ProvenanceImporter, imported, patient, seconds
from tests.support.service import service_config


@pytest.fixture
def fhir_server() -> Iterator[FhirServer]:
    with running_fhir_server() as server:
        yield server


def _settings(tmp_path: Path, server: FhirServer | None, **ehr: object):
    config = service_config(tmp_path)
    if server is not None:
        ehr = {"enabled": True, "base_url": server.base_url, "max_retries": 1, **ehr}
    return config.model_copy(update={"ehr": config.ehr.model_validate(ehr)})


def test_the_job_is_scheduled_only_when_enabled(engine, tmp_path, fhir_server) -> None:
    assert "ehr-sync" not in [
        s.id for s in job_specs(engine=engine, settings=_settings(tmp_path, None))
    ]
    settings = _settings(tmp_path, fhir_server, interval_minutes=30)
    [spec] = [s for s in job_specs(engine=engine, settings=settings) if s.id == "ehr-sync"]
    assert spec.func == "schedules.jobs:ehr_sync_job" and spec.signature == "every 1800s"


def test_a_disabled_sync_run_by_hand_is_skipped(engine, tmp_path) -> None:
    ctx = JobContext(engine=engine, settings=_settings(tmp_path, None), instance="test")
    [(job, result)] = run_by_name(ctx, "ehr-sync")
    assert job == "ehr-sync" and result.outcome == RunOutcome.SKIPPED


def test_a_run_pulls_the_changes_and_counts_them(engine, tmp_path, fhir_server) -> None:
    for n in range(5):
        fhir_server.put(patient(n), at=seconds(n))
    settings = _settings(tmp_path, fhir_server, resource_types=["Patient"], page_size=2)
    result = run_ehr_sync(engine=engine, settings=settings, import_page=ProvenanceImporter())
    assert result.outcome == RunOutcome.OK
    assert result.counts == {"pages": 3, "read": 5, "created": 5, "updated": 0, "unchanged": 0}


def test_a_server_that_keeps_failing_fails_the_run_and_keeps_committed_pages(
    engine, tmp_path, fhir_server
) -> None:
    for n in range(5):
        fhir_server.put(patient(n), at=seconds(n))
    settings = _settings(
        tmp_path, fhir_server, resource_types=["Patient"], page_size=2, backoff_s=0
    )
    importer = ProvenanceImporter()

    original = importer.__call__

    def import_then_break(**kw):
        counts = original(**kw)
        fhir_server.fail_next(5, 503)  # every later request: 503
        return counts

    result = record_run(
        engine=engine,
        job="ehr-sync",
        instance="test",
        body=lambda: run_ehr_sync(engine=engine, settings=settings, import_page=import_then_break),
    )
    assert result.outcome == RunOutcome.FAILED
    assert result.detail == f"127.0.0.1:{fhir_server.port}: HTTP 503 after 2 attempts"
    with Session(engine) as s:
        assert [rid for _, rid, _ in imported(s)] == ["pat-000", "pat-001"]
        [run] = s.exec(select(JobRun)).all()
    assert run.outcome == RunOutcome.FAILED
