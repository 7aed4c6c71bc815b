"""Rows whose outside record no longer stands: entered in error, refuted, parts no longer sent.

An earlier import may have written a row from a record that a newer version withdraws (its
status is now `entered-in-error`, a condition is refuted) or that no longer has a part (a
blood pressure panel sent without one of its components, a medication now recognised as a
supplement). Those rows are deleted with their provenance, and counted as `deleted`. A row
that another record also describes (an order that is a ServiceRequest and a DiagnosticReport)
keeps living; only this record's claim on it goes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlmodel import SQLModel, func, select

from db.models import RecordSource
from tools.interop.fhir.mapping.context import Item, MapContext
from tools.interop.provenance import table_of

DELETED = "deleted"


def withdraw(*, ctx: MapContext, item: Item, models: Iterable[type[SQLModel]]) -> None:
    """Delete every row (all parts) this record became in these tables."""
    for model in models:
        drop_parts(ctx=ctx, item=item, model=model, keep=())


def drop_parts(
    *, ctx: MapContext, item: Item, model: type[SQLModel], keep: Collection[str]
) -> None:
    """Delete the rows this record became in `model`'s table whose part is not in `keep`."""
    sources = ctx.provenance.parts(
        resource_type=item.resource_type, resource_id=item.resource_id, table=table_of(model)
    )
    gone = [s for s in sources if s.part not in keep]
    for source in gone:
        if not _shared(ctx=ctx, source=source):
            row = ctx.session.get(model, source.row_id)
            if row is not None:
                ctx.session.delete(row)
        ctx.provenance.forget(source=source)
        ctx.tally.rows[(source.table_name, DELETED)] += 1
        if not source.part:
            ctx.written.get(item.key, {}).pop(source.table_name, None)
    if gone:
        ctx.session.flush()


def _shared(*, ctx: MapContext, source: RecordSource) -> bool:
    """Does another record also describe this row?"""
    ctx.session.flush()
    others = ctx.session.exec(
        select(func.count())
        .select_from(RecordSource)
        .where(
            RecordSource.table_name == source.table_name,
            RecordSource.row_id == source.row_id,
            RecordSource.id != source.id,
        )
    ).one()
    return bool(others)
