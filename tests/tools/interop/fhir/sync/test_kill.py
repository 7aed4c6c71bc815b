"""A real sync process SIGKILLed (tools' fault points, db.faults) before and after a page's
commit; the next run re-reads from the last committed cursor: nothing missing, nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from db.faults import FAULT_ENV
from tests.support.fhir_server import FhirServer
from tests.support.fhir_sync import imported, observation, patient, seconds
from tests.support.paths import ROOT

pytestmark = pytest.mark.process

# One sync, as `steve sync fhir` runs it, with the test importer (idempotent by provenance).
_SYNC = """
import sys
from db.engine import make_engine, session_scope
from tests.support.fhir_sync import ProvenanceImporter
from tools.interop.fhir.sync.client import FhirClient
from tools.interop.fhir.sync.pull import sync_fhir

url, base = sys.argv[1:3]
engine = make_engine(url)
report = sync_fhir(
    source=FhirClient(base),
    transaction=lambda: session_scope(engine),
    import_page=ProvenanceImporter(),
    source_system="https://ehr.test/fhir",
    resource_types=["Patient", "Observation"],
    page_size=4,
)
print(report.committed)
"""


def _sync(db_url: str, server: FhirServer, point: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    if point:
        env[FAULT_ENV] = point
    return subprocess.run(
        [sys.executable, "-c", _SYNC, db_url, server.base_url],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("point", "kept"),
    [
        ("fhir_sync_page_committed:2", 8),  # killed right after page 2's commit
        ("fhir_sync_page_uncommitted:3", 8),  # killed with page 3 written, not committed
        ("fhir_sync_page_committed:5", 14 + 4),  # in the second type
    ],
)
def test_a_killed_sync_resumes_from_its_last_committed_page(
    db_url: str, engine: Engine, fhir_server: FhirServer, point: str, kept: int
) -> None:
    for n in range(14):
        fhir_server.put(patient(n), at=seconds(n // 3))  # instants shared across pages
    for n in range(7):
        fhir_server.put(observation(n, n), at=seconds(100 + n // 2))
    killed = _sync(db_url, fhir_server, point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with Session(engine) as s:
        assert len(imported(s)) == kept
    resumed = _sync(db_url, fhir_server, None)
    assert resumed.returncode == 0, resumed.stderr
    everything = sorted(
        (kind, rid, r["meta"]["versionId"])
        for kind, stored in fhir_server.state.resources.items()
        for rid, r in stored.items()
    )
    with Session(engine) as s:
        assert imported(s) == everything
