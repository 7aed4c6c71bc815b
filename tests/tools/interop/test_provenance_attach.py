"""Provenance.attach: a second record made a source of an existing row, without writing it."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from db.models import Practitioner
from tests.support import factories
from tools.interop.provenance import Origin, Outcome, Provenance

SOURCE = "https://ehr.example.org/fhir"


def origin(resource_id: str, content_hash: str, version: str | None = None) -> Origin:
    return Origin(SOURCE, "Practitioner", resource_id, content_hash, version_id=version)


def test_attach_points_a_record_at_a_row_then_writes_update_it(session: Session) -> None:
    row = factories.practitioner(session, name="Dr Ann Lee")
    assert row.id is not None
    provenance = Provenance(session=session, source_system=SOURCE)
    attached = provenance.attach(
        origin=origin("pr-1", "h1", "1"), model=Practitioner, row_id=row.id
    )
    assert attached == Outcome.CREATED
    assert (
        provenance.row_id(resource_type="Practitioner", resource_id="pr-1", model=Practitioner)
        == row.id
    )
    again = provenance.attach(origin=origin("pr-1", "h1", "1"), model=Practitioner, row_id=row.id)
    assert again == Outcome.UNCHANGED
    older = provenance.attach(origin=origin("pr-1", "h0", "0"), model=Practitioner, row_id=row.id)
    assert older == Outcome.STALE
    # the same content through write: nothing written; new content: the same row, updated
    same = provenance.write(origin=origin("pr-1", "h1", "1"), model=Practitioner, values={})
    assert same.outcome == Outcome.UNCHANGED and same.row.id == row.id
    newer = provenance.write(
        origin=origin("pr-1", "h2", "2"), model=Practitioner, values={"name": "Dr Ann Lee-Smith"}
    )
    assert newer.outcome == Outcome.UPDATED and newer.row.id == row.id
    assert [s.resource_id for s in provenance.sources_of(model=Practitioner, row_id=row.id)] == [
        "pr-1"
    ]


def test_an_empty_hash_makes_the_next_write_update_the_row(session: Session) -> None:
    row = factories.practitioner(session, name="Dr Old")
    assert row.id is not None
    provenance = Provenance(session=session, source_system=SOURCE)
    provenance.attach(
        origin=replace(origin("pr-2", "real"), content_hash=""), model=Practitioner, row_id=row.id
    )
    written = provenance.write(
        origin=origin("pr-2", "real"), model=Practitioner, values={"name": "Dr New"}
    )
    assert written.outcome == Outcome.UPDATED
    assert session.get(Practitioner, row.id).name == "Dr New"  # type: ignore[union-attr]
