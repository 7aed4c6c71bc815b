"""Staying in step with an EHR: pull what changed since the last sync, a page at a time.

For each resource type, in RESOURCE_TYPES order (patients and practitioners before the
records that point at them): search from the saved cursor, oldest first, and for each page

    1. open a transaction,
    2. hand the page to the importer (it writes through that transaction's session, or
       commits on its own before returning, as the FHIR import does per patient),
    3. move the cursor to the page's newest `meta.lastUpdated`,
    4. commit: the cursor never gets ahead of the records it stands for.

A crash anywhere leaves the cursor at the last committed page: the next run reads from that
instant again (`ge`), re-reading at most one page, never skipping one; the importer is
idempotent, so nothing is duplicated. A dry run reads and counts, and writes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from db.engine import utcnow
from db.faults import fault
from db.models import ImportRun
from db.models.enums import ImportFormat
from tools.interop.fhir.sync.client import FhirSource, Page
from tools.interop.fhir.sync.config import RESOURCE_TYPES
from tools.interop.fhir.sync.cursor import newest_instant, read_cursor, save_cursor
from tools.interop.fhir.sync.importer import PageImporter

Transaction = Callable[[], AbstractContextManager[Session]]


@dataclass
class SyncReport:
    source_system: str
    dry_run: bool = False
    pages: int = 0
    committed: int = 0  # pages written with their cursor
    read: Counter[str] = field(default_factory=Counter)  # resources read, by type
    counts: Counter[str] = field(default_factory=Counter)  # the importer's, summed
    cursors: dict[str, str] = field(default_factory=dict)  # type -> where it now stands
    problems: list[str] = field(default_factory=list)  # by type and page, never values

    def as_dict(self) -> dict[str, object]:
        return {
            "source_system": self.source_system,
            "dry_run": self.dry_run,
            "pages": self.pages,
            "committed": self.committed,
            "read": dict(self.read),
            "counts": dict(self.counts),
            "cursors": dict(self.cursors),
            "problems": list(self.problems),
        }


def ordered_types(types: Sequence[str]) -> list[str]:
    """The types asked for, in the order they are pulled (unknown ones refused)."""
    unknown = [t for t in types if t not in RESOURCE_TYPES]
    if unknown:
        raise ValueError(f"unknown resource type {unknown[0]!r}")
    return [t for t in RESOURCE_TYPES if t in set(types)]


def sync_fhir(
    *,
    source: FhirSource,
    transaction: Transaction,
    import_page: PageImporter,
    source_system: str,
    resource_types: Sequence[str] = RESOURCE_TYPES,
    page_size: int = 100,
    since: str | None = None,
    dry_run: bool = False,
    clock: Callable[[], datetime] = utcnow,
) -> SyncReport:
    """Pull every changed resource of each type into the practice database (see above).

    `transaction()` opens one transaction (commit on success, roll back on error), e.g.
    `lambda: db.engine.session_scope(engine)`. `since` (a FHIR instant or date) reads from
    there instead of the saved cursors, which it never moves backwards."""
    report = SyncReport(source_system, dry_run)
    started = clock()
    for resource_type in ordered_types(resource_types):
        start = since
        if start is None:
            with transaction() as session:
                start = read_cursor(
                    session=session, source_system=source_system, resource_type=resource_type
                )
        for page in source.pages(resource_type, since=start, page_size=page_size):
            report.pages += 1
            report.read[resource_type] += len(page.resources)
            if dry_run or not page.resources:
                continue
            _commit_page(page, transaction, import_page, report, clock)
    if not dry_run:
        _record_run(transaction, report, started, clock())
    return report


def _commit_page(
    page: Page,
    transaction: Transaction,
    import_page: PageImporter,
    report: SyncReport,
    clock: Callable[[], datetime],
) -> None:
    """One page's records and its cursor, in one transaction."""
    instant = newest_instant(page.resources)
    standing = None
    with transaction() as session:
        counts = import_page(
            session=session, source_system=report.source_system, resources=page.resources
        )
        if instant is not None:
            standing = save_cursor(
                session=session,
                source_system=report.source_system,
                resource_type=page.resource_type,
                last_updated=instant,
                now=clock(),
            )
        fault(f"fhir_sync_page_uncommitted:{report.committed + 1}")  # test-only: SIGKILL here
    report.committed += 1
    fault(f"fhir_sync_page_committed:{report.committed}")  # test-only: SIGKILL here
    report.counts.update(counts)
    if standing is None:
        report.problems.append(
            f"{page.resource_type} page {page.number}: no meta.lastUpdated; cursor not moved"
        )
    else:
        report.cursors[page.resource_type] = standing


def _record_run(
    transaction: Transaction, report: SyncReport, started: datetime, finished: datetime
) -> None:
    counts = {"read": dict(report.read), **{k: v for k, v in report.counts.items()}}
    with transaction() as session:
        session.add(
            ImportRun(
                format=ImportFormat.FHIR,
                source_system=report.source_system,
                started_at=started,
                finished_at=finished,
                dry_run=report.dry_run,
                counts=json.dumps(counts, sort_keys=True),
                problems=len(report.problems),
            )
        )
