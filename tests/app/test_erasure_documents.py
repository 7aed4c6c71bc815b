"""Erasure removes the patient's stored document files, never one another patient shares."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from sqlmodel import Session, select

from db.models import PatientDocument
from tests.support import factories
from tests.support.cli import run
from tests.support.fhir_mapped import import_resources


def document(resource_id: str, content: bytes) -> dict[str, object]:
    return {
        "resourceType": "DocumentReference",
        "id": resource_id,
        "status": "current",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(content).decode(),
                }
            }
        ],
    }


def test_erasure_removes_unshared_document_files(
    engine, db_url, monkeypatch: pytest.MonkeyPatch, _isolated_data_dir: Path
) -> None:
    monkeypatch.setenv("STEVE_DATABASE_URL", db_url)
    assert run("init", "--no-admin").exit_code == 0
    own, shared = b"Only about the erased patient", b"A leaflet both patients were given"
    with Session(engine, expire_on_commit=False) as s:
        erased = factories.patient(s, given="Gone", family="Quaxworthy")
        kept = factories.patient(s, given="Kept", family="Staying")
        for patient, resources in (
            (erased, [document("d1", own), document("d2", shared)]),
            (kept, [document("d3", shared)]),
        ):
            import_resources(
                session=s, resources=resources, patient_id=patient.id, data_dir=_isolated_data_dir
            )
        s.commit()
    folder = _isolated_data_dir / "documents"

    def path(content: bytes) -> Path:
        sha = hashlib.sha256(content).hexdigest()
        return folder / sha[:2] / sha

    assert path(own).is_file() and path(shared).is_file()
    engine.dispose()
    result = run("patient", "erase", str(erased.id), "--yes")
    assert result.exit_code == 0, result.output
    assert "1 stored document file(s) deleted" in result.output
    assert not path(own).exists()
    assert path(shared).read_bytes() == shared
    with Session(engine) as s:
        assert [d.patient_id for d in s.exec(select(PatientDocument))] == [kept.id]
