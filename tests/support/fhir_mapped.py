"""Run a handful of FHIR resources through their mappers, as an import would, for tests.

`import_resources` builds a MapContext (tests.support.fhir_mapping), maps the resources in
the import's order and flushes; `known_practitioner` makes a Steve clinician the row an
earlier import wrote for `Practitioner/<id>`, so references to it resolve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session

from db.models import Discipline, Practitioner
from tests.support import factories
from tests.support.fhir_mapping import mapping_context
from tools.interop.fhir.mapping import PATIENT_ORDER, mapper_for, order_of
from tools.interop.fhir.mapping.context import MapContext
from tools.interop.provenance import Origin, Provenance

SOURCE = "https://ehr.example.org/fhir"


def import_resources(
    *,
    session: Session,
    resources: Sequence[Mapping[str, Any]],
    patient_id: int | None,
    data_dir: Path | None = None,
    dry_run: bool = False,
) -> MapContext:
    ctx, items = mapping_context(
        session=session, resources=resources, patient_id=patient_id, data_dir=data_dir
    )
    ctx.dry_run = dry_run
    for item in sorted(items, key=lambda i: order_of(i.resource_type, order=PATIENT_ORDER)):
        mapper = mapper_for(item.resource_type)
        if mapper is None:  # read for reference only (an Account, a Questionnaire...)
            ctx.tally.unmapped[item.resource_type] += 1
            continue
        mapper(item=item, ctx=ctx)
    session.flush()
    return ctx


def known_practitioner(
    session: Session,
    *,
    resource_id: str,
    discipline: Discipline = Discipline.PHYSICIAN,
    name: str | None = None,
) -> Practitioner:
    """A clinician an earlier import wrote from `Practitioner/<resource_id>`."""
    row = factories.practitioner(session, discipline=discipline, name=name)
    assert row.id is not None
    Provenance(session=session, source_system=SOURCE).attach(
        origin=Origin(
            source_system=SOURCE,
            resource_type="Practitioner",
            resource_id=resource_id,
            content_hash="earlier",
        ),
        table="practitioner",
        row_id=row.id,
        patient_id=None,
    )
    session.flush()
    return row
