"""Map clinical FHIR resources in tests: one call per import, as the orchestrator would.

`map_resources(session=..., resources=[...], patient_id=...)` maps every resource with its
registered mapper (resources of types without one are
there to be referred to) in the order a patient's records are written, flushes, and returns the
context (its tally counts rows by outcome and holds the problems).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session

from db.models import Practitioner, RecordSource
from tests.support import factories
from tests.support.fhir_mapping import mapping_context
from tools.interop.fhir.mapping import PATIENT_ORDER, MapContext, mapper_for, order_of


def map_resources(
    *,
    session: Session,
    resources: Sequence[Mapping[str, Any]],
    patient_id: int | None,
    source_system: str = "https://ehr.example.org/fhir",
) -> MapContext:
    ctx, items = mapping_context(
        session=session, resources=resources, patient_id=patient_id, source_system=source_system
    )
    for item in sorted(items, key=lambda i: order_of(i.resource_type, order=PATIENT_ORDER)):
        mapper = mapper_for(item.resource_type)
        if mapper is None:
            continue  # read for reference only (a Medication, say)
        skipped = ctx.tally.skipped[item.resource_type]
        mapper(item=item, ctx=ctx)
        if ctx.tally.skipped[item.resource_type] == skipped:
            ctx.tally.mapped[item.resource_type] += 1
    ctx.settle()  # as the importer does before the patient's transaction commits
    session.flush()
    return ctx


def outcomes(ctx: MapContext, table: str) -> dict[str, int]:
    """Rows of one table by outcome (created, updated, unchanged, deleted)."""
    return {outcome: n for (name, outcome), n in ctx.tally.rows.items() if name == table and n}


def problem_text(ctx: MapContext) -> str:
    """Every problem as one text, to check that no value leaks into it."""
    return "\n".join(repr(p) for p in ctx.tally.problems)


def known_practitioner(
    session: Session,
    *,
    resource_id: str,
    source_system: str = "https://ehr.example.org/fhir",
    **extra: Any,
) -> Practitioner:
    """A practitioner an earlier import wrote from the Practitioner `resource_id`."""
    row = factories.practitioner(session, **extra)
    assert row.id is not None
    session.add(
        RecordSource(
            source_system=source_system,
            resource_type="Practitioner",
            resource_id=resource_id,
            content_hash="earlier",
            table_name="practitioner",
            row_id=row.id,
        )
    )
    session.flush()
    return row
