"""The EHR sync as the settings describe it: for `steve sync fhir` and the scheduled job."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from db.engine import session_scope, utcnow
from tools.errors import ConfigError
from tools.interop.fhir.sync.auth import credentials_for
from tools.interop.fhir.sync.client import FhirClient, FhirSource
from tools.interop.fhir.sync.config import EhrSettings
from tools.interop.fhir.sync.importer import FhirImporter, PageImporter
from tools.interop.fhir.sync.pull import SyncReport, sync_fhir
from tools.interop.fhir.sync.retry import RetryPolicy, Transport


def client_for(
    ehr: EhrSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = utcnow,
) -> FhirClient:
    """A FHIR client for the configured server, its credentials and retry policy."""
    if not ehr.base_url:
        raise ConfigError("setting STEVE_EHR__BASE_URL: not set (the EHR's FHIR base URL)")
    policy = RetryPolicy(
        timeout_s=ehr.timeout_s,
        max_retries=ehr.max_retries,
        backoff_s=ehr.backoff_s,
        max_wait_s=ehr.max_wait_s,
    )
    return FhirClient(
        ehr.base_url,
        credentials=credentials_for(ehr, clock=clock),
        transport=Transport(policy=policy, sleep=sleep, clock=clock),
    )


def run_sync(
    *,
    engine: Engine,
    ehr: EhrSettings,
    import_page: PageImporter | None = None,
    source: FhirSource | None = None,
    resource_types: Sequence[str] | None = None,
    since: str | None = None,
    dry_run: bool = False,
    data_dir: Path | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> SyncReport:
    """Pull what changed on the configured EHR into the practice database, through the
    FHIR import unless `import_page` is given (a dry run reads and counts only).
    `data_dir`: where the import keeps its scratch files and imported documents."""
    if import_page is None and not dry_run:
        import_page = FhirImporter(engine=engine, data_dir=data_dir)
    return sync_fhir(
        source=source or client_for(ehr, clock=clock),
        transaction=lambda: session_scope(engine),
        import_page=import_page or _reads_only,
        source_system=ehr.system,
        resource_types=resource_types or ehr.resource_types,
        page_size=ehr.page_size,
        since=since,
        dry_run=dry_run,
        clock=clock,
    )


def _reads_only(**_: object) -> dict[str, int]:
    raise AssertionError("a dry run imports nothing")  # pragma: no cover
