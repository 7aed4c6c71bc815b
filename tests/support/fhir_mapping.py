"""Run FHIR mappers on a handful of resources without files: for mapper unit tests.

`mapping_context(session=..., resources=[...], patient_id=...)` indexes the resources the way
an import does (local key `Type/id`) and returns the MapContext and the Items; call a mapper
with each Item, then flush and read the rows back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session

from tools.interop.fhir.mapping.context import Item, MapContext
from tools.interop.fhir.references import ReferenceIndex
from tools.interop.provenance import Provenance


def mapping_context(
    *,
    session: Session,
    resources: Sequence[Mapping[str, Any]],
    patient_id: int | None = None,
    source_system: str = "https://ehr.example.org/fhir",
    data_dir: Path | None = None,
) -> tuple[MapContext, list[Item]]:
    index = ReferenceIndex()
    raws: dict[str, Mapping[str, Any]] = {}
    items = []
    for n, raw in enumerate(resources):
        resource_type = str(raw["resourceType"])
        key = f"{resource_type}/{raw['id']}" if raw.get("id") else f"test#entry {n}"
        index.add(key=key, resource=raw, full_url=None, request=None)
        raws[key] = raw
        items.append(
            Item(
                key=key,
                resource_type=resource_type,
                resource_id=str(raw.get("id") or key),
                raw=raw,
                file="test.json",
                where=f"entry {n}",
            )
        )
    ctx = MapContext(
        session=session,
        provenance=Provenance(session=session, source_system=source_system),
        index=index,
        raw_of=raws.get,
        patient_id=patient_id,
        data_dir=data_dir,
    )
    return ctx, items
