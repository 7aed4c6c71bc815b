"""The sync on SQLite and PostgreSQL: each page and its cursor committed together, so a
crash re-reads, never skips, and (the importer being idempotent) never duplicates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from db.engine import session_scope
from db.models import ImportRun, SyncCursor
from tests.support.fhir_server import FhirServer
from tests.support.fhir_sync import ProvenanceImporter, imported, observation, patient, seconds
from tools.interop.fhir.sync.client import FhirClient, FhirSource, Page
from tools.interop.fhir.sync.cursor import read_cursor
from tools.interop.fhir.sync.pull import SyncReport, ordered_types, sync_fhir

SYSTEM = "https://ehr.test/fhir"


class Crash(Exception):
    """The process dying between two pages."""


@dataclass
class CrashingSource:
    """The server's pages, until `after` pages were handed out: then a crash."""

    inner: FhirSource
    after: int
    served: int = 0

    def pages(self, resource_type: str, *, since: str | None, page_size: int) -> Iterator[Page]:
        for page in self.inner.pages(resource_type, since=since, page_size=page_size):
            if self.served == self.after:
                raise Crash()
            self.served += 1
            yield page


def _sync(engine: Engine, source: FhirSource, importer: ProvenanceImporter, **kw) -> SyncReport:
    return sync_fhir(
        source=source,
        transaction=lambda: session_scope(engine),
        import_page=importer,
        source_system=SYSTEM,
        resource_types=kw.pop("resource_types", ["Patient", "Observation"]),
        page_size=kw.pop("page_size", 4),
        **kw,
    )


def _cursor(engine: Engine, kind: str = "Patient") -> str | None:
    with Session(engine) as s:
        return read_cursor(session=s, source_system=SYSTEM, resource_type=kind)


def _serve(server: FhirServer, patients: int, observations: int = 0, *, tie: int = 1) -> None:
    """`tie` resources share each lastUpdated instant (as a bulk load writes them)."""
    for n in range(patients):
        server.put(patient(n), at=seconds(n // tie))
    for n in range(observations):
        server.put(observation(n, n % max(patients, 1)), at=seconds(100 + n // tie))


def _all(server: FhirServer) -> list[tuple[str, str, str]]:
    return sorted(
        (kind, rid, r["meta"]["versionId"])
        for kind, stored in server.state.resources.items()
        for rid, r in stored.items()
    )


def test_a_first_sync_reads_everything_and_saves_the_cursors(
    engine: Engine, fhir_server: FhirServer, importer: ProvenanceImporter
) -> None:
    _serve(fhir_server, patients=10, observations=6)
    report = _sync(engine, FhirClient(fhir_server.base_url), importer)
    assert +report.read == {"Patient": 10, "Observation": 6} and report.pages == 3 + 2
    assert report.counts == {"created": 16, "updated": 0, "unchanged": 0}
    with Session(engine) as s:
        assert imported(s) == _all(fhir_server)
    assert _cursor(engine) == "2026-01-05T09:00:09.000Z"
    assert _cursor(engine, "Observation") == "2026-01-05T09:01:45.000Z"
    with Session(engine) as s:
        [run] = s.exec(select(ImportRun)).all()
    assert run.source_system == SYSTEM and not run.dry_run and run.problems == 0
    assert json.loads(run.counts)["read"] == {"Patient": 10, "Observation": 6}


def test_the_next_sync_reads_only_what_changed(
    engine: Engine, fhir_server: FhirServer, importer: ProvenanceImporter
) -> None:
    _serve(fhir_server, patients=10)
    _sync(engine, FhirClient(fhir_server.base_url), importer)
    changed = patient(3) | {"birthDate": "1981-02-02"}
    fhir_server.put(changed, at=seconds(50))
    fhir_server.put(patient(42), at=seconds(51))
    report = _sync(engine, FhirClient(fhir_server.base_url), importer)
    # pat-009 again (the old cursor's own instant: ge), then the two changes.
    assert +report.read == {"Patient": 3}
    assert report.counts == {"created": 1, "updated": 1, "unchanged": 1}
    with Session(engine) as s:
        rows = imported(s)
    assert ("Patient", "pat-003", "2") in rows and len(rows) == 11
    assert _cursor(engine) == "2026-01-05T09:00:51.000Z"


@pytest.mark.parametrize("crash_after", [1, 2, 3])
def test_a_crash_between_pages_rereads_never_skips_never_duplicates(
    engine: Engine, fhir_server: FhirServer, crash_after: int
) -> None:
    # Three resources per instant and pages of four: every page boundary splits an instant,
    # so a `gt` cursor would skip the rest of it.
    _serve(fhir_server, patients=14, observations=9, tie=3)
    importer = ProvenanceImporter()
    crashing = CrashingSource(FhirClient(fhir_server.base_url), after=crash_after)
    with pytest.raises(Crash):
        _sync(engine, crashing, importer)
    with Session(engine) as s:
        assert len(imported(s)) == 4 * crash_after  # the committed pages, all of them
    cursor = _cursor(engine)
    assert cursor == importer_last_instant(importer, fhir_server)

    again = ProvenanceImporter()
    _sync(engine, FhirClient(fhir_server.base_url), again)
    with Session(engine) as s:
        rows = imported(s)
    assert rows == _all(fhir_server)  # nothing missing, nothing twice (rows are unique)
    # At most the last committed page's final instant is read again.
    assert again.calls[0][0] in importer.calls[-1]


def importer_last_instant(importer: ProvenanceImporter, server: FhirServer) -> str:
    kind, rid = importer.calls[-1][-1].split("/")
    return str(server.state.resources[kind][rid]["meta"]["lastUpdated"])


def test_an_importer_failing_mid_page_leaves_that_page_and_its_cursor_unwritten(
    engine: Engine, fhir_server: FhirServer
) -> None:
    _serve(fhir_server, patients=10)
    failing = ProvenanceImporter(fail_on=2)
    with pytest.raises(RuntimeError):
        _sync(engine, FhirClient(fhir_server.base_url), failing)
    with Session(engine) as s:
        assert [rid for _, rid, _ in imported(s)] == ["pat-000", "pat-001", "pat-002", "pat-003"]
        assert s.exec(select(SyncCursor)).one().last_updated == "2026-01-05T09:00:03.000Z"
        assert s.exec(select(ImportRun)).all() == []
    _sync(engine, FhirClient(fhir_server.base_url), ProvenanceImporter())
    with Session(engine) as s:
        assert imported(s) == _all(fhir_server)


def test_a_dry_run_reads_and_counts_and_writes_nothing(
    engine: Engine, fhir_server: FhirServer, importer: ProvenanceImporter
) -> None:
    _serve(fhir_server, patients=5, observations=2)
    report = _sync(engine, FhirClient(fhir_server.base_url), importer, dry_run=True)
    assert +report.read == {"Patient": 5, "Observation": 2} and importer.pages == 0
    with Session(engine) as s:
        assert s.exec(select(SyncCursor)).all() == [] and s.exec(select(ImportRun)).all() == []


def test_since_rereads_an_older_window_without_moving_the_cursor_back(
    engine: Engine, fhir_server: FhirServer, importer: ProvenanceImporter
) -> None:
    _serve(fhir_server, patients=8)
    _sync(engine, FhirClient(fhir_server.base_url), importer)
    report = _sync(engine, FhirClient(fhir_server.base_url), importer, since="2026-01-05T09:00:02Z")
    assert +report.read == {"Patient": 6} and report.counts["unchanged"] == 6
    assert _cursor(engine) == "2026-01-05T09:00:07.000Z"
    assert report.cursors == {"Patient": "2026-01-05T09:00:07.000Z"}


def test_a_page_without_last_updated_is_imported_and_reported(
    engine: Engine, importer: ProvenanceImporter
) -> None:
    class NoMeta:
        def pages(self, resource_type: str, *, since: str | None, page_size: int) -> Iterator[Page]:
            yield Page(resource_type, 1, [patient(1)], 1)

    report = _sync(engine, NoMeta(), importer, resource_types=["Patient"])
    assert report.counts["created"] == 1 and _cursor(engine) is None
    assert report.problems == ["Patient page 1: no meta.lastUpdated; cursor not moved"]


def test_types_are_pulled_patients_first() -> None:
    assert ordered_types(["Observation", "Patient", "Practitioner"]) == [
        "Patient",
        "Practitioner",
        "Observation",
    ]
    with pytest.raises(ValueError, match="unknown resource type 'Task'"):
        ordered_types(["Task"])
