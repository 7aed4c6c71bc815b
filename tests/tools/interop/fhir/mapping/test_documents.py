"""DocumentReference -> patient documents, the attachment stored once by its sha256."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from db.models import PatientDocument
from tests.support import factories
from tests.support.fhir_mapped import import_resources
from tools.interop.fhir.mapping import documents

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SHA = hashlib.sha256(PDF).hexdigest()


def reference(content: bytes = PDF, **extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": "doc-1",
        "status": "current",
        "type": {"text": "Discharge summary"},
        "subject": {"reference": "Patient/p1"},
        "date": "2026-02-01T10:00:00Z",
        "author": [{"reference": "Practitioner/dr-x", "display": "Dr Xu"}],
        "description": "Discharge after knee surgery",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "data": base64.b64encode(content).decode(),
                    "hash": base64.b64encode(hashlib.sha1(content).digest()).decode(),
                    "title": "discharge.pdf",
                }
            },
            {"attachment": {"contentType": "application/pdf", "url": "https://ehr/Binary/9"}},
        ],
    }
    raw.update(extra)
    return raw


def rows(session: Session) -> list[PatientDocument]:
    stmt = select(PatientDocument).order_by(PatientDocument.id)  # type: ignore[arg-type]
    return list(session.exec(stmt).all())


def test_a_document_and_its_file(session: Session, tmp_path: Path) -> None:
    patient = factories.patient(session)
    ctx = import_resources(
        session=session, resources=[reference()], patient_id=patient.id, data_dir=tmp_path
    )
    [doc] = rows(session)
    assert doc.patient_id == patient.id
    assert doc.title == "Discharge after knee surgery"
    assert doc.kind == "Discharge summary"
    assert doc.author == "Dr Xu"
    assert doc.dated == datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
    assert doc.content_type == "application/pdf"
    assert doc.size == len(PDF)
    assert doc.sha256 == SHA
    assert doc.stored_as == f"{SHA[:2]}/{SHA}"
    assert doc.url == "https://ehr/Binary/9"
    stored = tmp_path / "documents" / SHA[:2] / SHA
    assert stored.read_bytes() == PDF
    assert not ctx.tally.problems


def test_the_same_file_twice_is_stored_once(session: Session, tmp_path: Path) -> None:
    patient = factories.patient(session)
    resources = [reference(), reference(id="doc-2", description="Copy")]
    import_resources(session=session, resources=resources, patient_id=patient.id, data_dir=tmp_path)
    again = import_resources(
        session=session, resources=resources, patient_id=patient.id, data_dir=tmp_path
    )
    assert again.tally.rows == {("patient_document", "unchanged"): 2}
    assert {d.stored_as for d in rows(session)} == {f"{SHA[:2]}/{SHA}"}
    files = [p for p in (tmp_path / "documents").rglob("*") if p.is_file()]
    assert files == [tmp_path / "documents" / SHA[:2] / SHA]


def test_a_new_version_updates_in_place_and_a_stale_one_is_ignored(
    session: Session, tmp_path: Path
) -> None:
    patient = factories.patient(session)
    import_resources(
        session=session, resources=[reference()], patient_id=patient.id, data_dir=tmp_path
    )
    text = b"Corrected summary"
    newer = reference(content=text, meta={"versionId": "2"})
    newer["content"][0]["attachment"]["contentType"] = "text/plain; charset=utf-8"
    import_resources(session=session, resources=[newer], patient_id=patient.id, data_dir=tmp_path)
    older = reference(meta={"versionId": "1"}, description="Old")
    stale = import_resources(
        session=session, resources=[older], patient_id=patient.id, data_dir=tmp_path
    )
    assert stale.tally.rows == {("patient_document", "stale"): 1}
    [doc] = rows(session)
    assert doc.content_type == "text/plain"
    assert doc.sha256 == hashlib.sha256(text).hexdigest()
    assert doc.title == "Discharge after knee surgery"


def test_dry_run_or_no_data_dir_stores_no_file(session: Session, tmp_path: Path) -> None:
    patient = factories.patient(session)
    import_resources(
        session=session,
        resources=[reference()],
        patient_id=patient.id,
        data_dir=tmp_path,
        dry_run=True,
    )
    import_resources(
        session=session, resources=[reference(id="doc-2")], patient_id=patient.id, data_dir=None
    )
    assert not (tmp_path / "documents").exists()
    assert [(d.sha256, d.stored_as) for d in rows(session)] == [(SHA, None), (SHA, None)]


def test_an_oversize_file_is_reported_not_stored(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAX_BYTES", 16)
    patient = factories.patient(session)
    ctx = import_resources(
        session=session, resources=[reference()], patient_id=patient.id, data_dir=tmp_path
    )
    [doc] = rows(session)
    assert doc.stored_as is None and doc.sha256 is None
    assert doc.title == "Discharge after knee surgery"  # the document itself is kept
    [problem] = ctx.tally.problems
    assert problem.field == "content[0].attachment.data"
    assert "larger than" in problem.message
    assert not (tmp_path / "documents").exists()


@pytest.mark.parametrize("content_type", ["application/x-msdownload", "image/svg+xml"])
def test_a_forbidden_type_is_reported_not_stored(
    session: Session, tmp_path: Path, content_type: str
) -> None:
    patient = factories.patient(session)
    raw = reference()
    raw["content"][0]["attachment"]["contentType"] = content_type
    ctx = import_resources(
        session=session, resources=[raw], patient_id=patient.id, data_dir=tmp_path
    )
    [doc] = rows(session)
    assert doc.stored_as is None
    [problem] = ctx.tally.problems
    assert problem.field == "content[0].attachment.contentType"
    assert content_type not in problem.message and "Discharge" not in str(problem)


def test_html_is_kept_as_plain_text_and_a_missing_type_is_sniffed(
    session: Session, tmp_path: Path
) -> None:
    patient = factories.patient(session)
    html = reference(content=b"<html><script>x()</script></html>")
    html["content"][0]["attachment"]["contentType"] = "text/html"
    untyped = reference(id="doc-2")
    del untyped["content"][0]["attachment"]["contentType"]
    import_resources(
        session=session, resources=[html, untyped], patient_id=patient.id, data_dir=tmp_path
    )
    assert [d.content_type for d in rows(session)] == ["text/plain", "application/pdf"]


def test_bad_base64_or_hash_is_reported(session: Session, tmp_path: Path) -> None:
    patient = factories.patient(session)
    broken = reference()
    broken["content"][0]["attachment"]["data"] = "not*base64"
    tampered = reference(id="doc-2")
    tampered["content"][0]["attachment"]["hash"] = base64.b64encode(b"x" * 20).decode()
    ctx = import_resources(
        session=session, resources=[broken, tampered], patient_id=patient.id, data_dir=tmp_path
    )
    assert [p.field for p in ctx.tally.problems] == [
        "content[0].attachment.data",
        "content[0].attachment.hash",
    ]
    assert [d.stored_as for d in rows(session)] == [None, None]


def test_a_url_only_document_is_never_fetched(session: Session, tmp_path: Path) -> None:
    patient = factories.patient(session)
    linked = reference()
    linked["content"] = [{"attachment": {"url": "https://ehr/Binary/9", "title": "Scan"}}]
    linked.pop("description")
    linked.pop("type")
    import_resources(session=session, resources=[linked], patient_id=patient.id, data_dir=tmp_path)
    [doc] = rows(session)
    assert (doc.title, doc.url, doc.stored_as) == ("Scan", "https://ehr/Binary/9", None)


def test_entered_in_error_is_skipped(session: Session, tmp_path: Path) -> None:
    patient = factories.patient(session)
    ctx = import_resources(
        session=session,
        resources=[reference(status="entered-in-error")],
        patient_id=patient.id,
        data_dir=tmp_path,
    )
    assert rows(session) == []
    assert ctx.tally.skipped == {"DocumentReference": 1}
