"""The scheduled EHR sync: every `ehr.interval_minutes`, pull what changed on the practice's
FHIR server (tools.interop.fhir.sync, as `steve sync fhir` does).

Scheduled only when the settings enable it (`STEVE_EHR__ENABLED=true` and a base URL).
Each page is committed with its cursor, so a run that fails half-way (the server gone, a
429 that asks for too long a wait) keeps what it committed and the next run goes on from
there; the run's history row says which. Counts only: no patient data in the history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from db.engine import utcnow
from db.models import RunOutcome
from schedules.config import ServiceSettings
from schedules.history import RunResult
from tools.interop.fhir.sync.importer import PageImporter


def ehr_sync_wanted(settings: ServiceSettings) -> bool:
    return bool(settings.ehr.enabled and settings.ehr.base_url)


def run_ehr_sync(
    *,
    engine: Engine,
    settings: ServiceSettings,
    clock: Callable[[], datetime] = utcnow,
    import_page: PageImporter | None = None,
) -> RunResult:
    from tools.interop.fhir.sync.run import run_sync

    if not ehr_sync_wanted(settings):
        return RunResult(RunOutcome.SKIPPED, detail="the EHR sync is not enabled")
    report = run_sync(
        engine=engine,
        ehr=settings.ehr,
        import_page=import_page,
        data_dir=settings.data_dir,
        clock=clock,
    )
    counts = {"pages": report.pages, "read": sum(report.read.values()), **report.counts}
    if report.problems:
        first = report.problems[0]
        return RunResult(RunOutcome.PARTIAL, counts, f"{len(report.problems)} problem(s): {first}")
    return RunResult(counts=counts)
