"""A real sync process SIGKILLed (tools' fault points, db.faults) before and after a page's
commit; the next run re-reads from the last committed cursor: nothing missing, nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from db.faults import FAULT_ENV
from db.models import Patient, PatientIdentifier, RecordSource
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
from tools.interop.fhir.sync.importer import FhirImporter
from tools.interop.fhir.sync.pull import sync_fhir

url, base, kind = sys.argv[1:4]
engine = make_engine(url)
report = sync_fhir(
    source=FhirClient(base),
    transaction=lambda: session_scope(engine),
    import_page=ProvenanceImporter() if kind == "probe" else FhirImporter(engine=engine),
    source_system="https://ehr.test/fhir",
    resource_types=["Patient", "Observation"],
    page_size=4,
)
print(report.committed)
"""


def _sync(
    db_url: str, server: FhirServer, point: str | None, kind: str = "probe"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    if point:
        env[FAULT_ENV] = point
    return subprocess.run(
        [sys.executable, "-c", _SYNC, db_url, server.base_url, kind],
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


@pytest.mark.parametrize("point", ["fhir_sync_page_committed:2", "fhir_sync_page_uncommitted:2"])
def test_killed_while_importing_patients_each_patient_is_there_once(
    db_url: str, engine: Engine, fhir_server: FhirServer, point: str
) -> None:
    """The same with the real FHIR import (it commits each patient itself; the cursor follows)."""
    for n in range(14):
        fhir_server.put(patient(n), at=seconds(n // 3))
    killed = _sync(db_url, fhir_server, point, kind="fhir")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = _sync(db_url, fhir_server, None, kind="fhir")
    assert resumed.returncode == 0, resumed.stderr
    with Session(engine) as s:
        assert len(s.exec(select(Patient)).all()) == 14
        mrns = [i.value for i in s.exec(select(PatientIdentifier)).all()]
        sources = s.exec(select(RecordSource).where(RecordSource.resource_type == "Patient")).all()
    assert sorted(mrns) == [f"MRN{n:05d}" for n in range(14)]
    assert sorted(r.resource_id for r in sources) == [f"pat-{n:03d}" for n in range(14)]
