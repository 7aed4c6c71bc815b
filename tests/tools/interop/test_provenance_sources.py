"""Provenance.sources_of: every record one row was written from (one visit, two records)."""

from __future__ import annotations

from sqlmodel import Session

from db.models import Practitioner
from tests.support import factories
from tools.interop.provenance import Origin, Outcome, Provenance

SOURCE = "https://ehr.example.org/fhir"


def origin(resource_type: str, resource_id: str, content_hash: str) -> Origin:
    return Origin(SOURCE, resource_type, resource_id, content_hash)


def test_a_row_written_from_one_record_and_attached_to_another(session: Session) -> None:
    provenance = Provenance(session=session, source_system=SOURCE)
    written = provenance.write(
        origin=origin("Practitioner", "pr-1", "h1"),
        model=Practitioner,
        values={"name": "Dr Ann Lee", "discipline": "physician"},
    )
    row_id = written.row.id
    assert row_id is not None
    provenance.attach(
        origin=origin("PractitionerRole", "role-1", "h2"),
        table="practitioner",
        row_id=row_id,
        patient_id=None,
    )
    other = factories.practitioner(session)
    assert other.id is not None
    found = provenance.sources_of(model=Practitioner, row_id=row_id)
    assert sorted(f"{s.resource_type}/{s.resource_id}" for s in found) == [
        "Practitioner/pr-1",
        "PractitionerRole/role-1",
    ]
    assert provenance.sources_of(model=Practitioner, row_id=other.id) == []
    again = provenance.write(
        origin=origin("PractitionerRole", "role-1", "h2"), model=Practitioner, values={}
    )
    assert again.outcome == Outcome.UPDATED and again.row.id == row_id
    other_source = Provenance(session=session, source_system="https://other.example.org")
    assert other_source.sources_of(model=Practitioner, row_id=row_id) == []
