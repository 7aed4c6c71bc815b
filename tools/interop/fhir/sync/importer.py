"""What the sync hands each page to: a page importer, behind a small protocol.

The sync opens a transaction per page, calls the importer with that page's resources and
the transaction's session, then saves the cursor in that session and commits. So whatever
the importer wrote is committed before, or together with, the cursor:

- an importer that writes through `session` (flush, never commit) commits with the cursor,
  in one transaction;
- an importer that commits on its own, as the FHIR import does (one transaction per patient,
  on its own connection), has committed everything before it returns, and the cursor is
  committed right after.

Either way a crash re-reads the page and never skips it; the importer must be idempotent by
provenance (`record_source`), so a page read twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session


class PageImporter(Protocol):
    def __call__(
        self,
        *,
        session: Session,
        source_system: str,
        resources: Sequence[dict[str, Any]],
    ) -> Mapping[str, int]:
        """Write one page of resources (any types, as the server sent them), through
        `session` (flush, never commit) or committed on its own before returning; counts by
        outcome, e.g. {"created": 3, "updated": 1, "unchanged": 96}. Counts only."""
        ...


@dataclass
class FhirImporter:
    """The FHIR import (`tools.interop.fhir.importing.import_resources`) as the sync's
    page importer: validated with fhir.resources, patients matched (or held for review),
    every row with its provenance, each patient committed in its own transaction."""

    engine: Engine
    data_dir: Path | None = None

    def __call__(
        self,
        *,
        session: Session,
        source_system: str,
        resources: Sequence[dict[str, Any]],
    ) -> dict[str, int]:
        from tools.interop.fhir.importing import import_resources

        kinds = sorted({str(r.get("resourceType")) for r in resources})
        report = import_resources(
            engine=self.engine,
            resources=list(resources),
            source_system=source_system,
            origin="sync",
            data_dir=self.data_dir,
            label=f"{'/'.join(kinds)} page",
        )
        counts: Counter[str] = Counter()
        for (_table, outcome), n in report.tally.rows.items():
            counts[f"rows_{outcome}"] += n
        counts["invalid"] += sum(report.invalid.values())
        counts["unmapped"] += sum(report.tally.unmapped.values())
        counts["held_for_review"] += len(report.reviews)
        counts["problems"] += len(report.problems)
        return {k: v for k, v in counts.items() if v}
