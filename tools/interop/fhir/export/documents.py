"""Notes, documents and intake forms of one patient.

Clinical notes, generated documents (briefings, letters) and stored patient documents are
all DocumentReferences, told apart by a `category` coding of `urn:steve:document-kind`
(`clinical-note`, `generated-document`, `patient-document`). DocumentReference rather than
Composition: a note is one text by one author, not a structured document with sections.
Text travels as the attachment's base64 `data` (text/plain for notes, text/markdown for
generated documents, both UTF-8). A stored file is read from the documents folder when it
is there; otherwise only its URL, size and hash are given. A note's appointment and origin,
and a generated document's kind, key and date, are Steve extensions.

An intake form is a QuestionnaireResponse with one item per question (`linkId` q1, q2, ...;
`text` the question; a `valueString` answer). Its `questionnaire` is
`urn:steve:questionnaire/<form type>` (the last segment is the form type). The sent,
received and review times and the reviewer are Steve extensions.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from db.models import ClinicalNote, GeneratedDocument, IntakeForm, PatientDocument
from tools.interop.fhir.conventions import (
    CLINICAL_NOTE,
    DISCIPLINE_SYSTEM,
    DOCUMENT_KIND_SYSTEM,
    GENERATED_DOCUMENT,
    PATIENT_DOCUMENT,
    identifier_system,
    questionnaire_url,
    resource_id,
)
from tools.interop.fhir.export.elements import (
    compact,
    extensions,
    identifiers,
    instant,
    practitioner_ref,
    ref,
    steve_code,
)

Origins = list[tuple[str, str]]


def _text_attachment(text: str, title: str | None, content_type: str) -> dict[str, Any]:
    data = text.encode("utf-8")
    return {
        "contentType": f"{content_type}; charset=utf-8",
        "data": base64.b64encode(data).decode("ascii"),
        "size": len(data),
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),
        "title": title,
    }


def note_resource(note: ClinicalNote, *, origins: Origins) -> dict[str, Any]:
    assert note.id is not None
    return compact(
        {
            "resourceType": "DocumentReference",
            "id": resource_id("clinical_note", note.id),
            "extension": extensions(
                origin=str(note.origin),
                appointment=ref("appointment", note.appointment_id)
                if note.appointment_id
                else None,
                updated_at=note.updated_at,
            ),
            "identifier": identifiers("clinical_note", note.id, origins),
            "status": "current",
            "type": {"text": note.title or "Clinical note"},
            "category": [steve_code(DOCUMENT_KIND_SYSTEM, CLINICAL_NOTE)],
            "subject": ref("patient", note.patient_id),
            "date": instant(note.written_at),
            "author": [practitioner_ref(note.practitioner_id)],
            "description": note.title,
            "content": [{"attachment": _text_attachment(note.body, note.title, "text/plain")}],
            "context": {"practiceSetting": steve_code(DISCIPLINE_SYSTEM, str(note.modality))},
        }
    )


def generated_resource(document: GeneratedDocument, *, origins: Origins) -> dict[str, Any]:
    assert document.id is not None and document.patient_id is not None
    return compact(
        {
            "resourceType": "DocumentReference",
            "id": resource_id("generated_document", document.id),
            "extension": extensions(
                kind=document.kind, key=document.key, for_date=document.for_date
            ),
            "identifier": [
                *identifiers("generated_document", document.id, origins),
                {
                    "system": identifier_system("generated_document:key"),
                    "value": f"{document.kind}:{document.key}",
                },
            ],
            "status": "current",
            "type": {"text": document.kind},
            "category": [steve_code(DOCUMENT_KIND_SYSTEM, GENERATED_DOCUMENT)],
            "subject": ref("patient", document.patient_id),
            "date": instant(document.written_at),
            "author": [practitioner_ref(document.practitioner_id)],
            "description": document.title,
            "content": [
                {"attachment": _text_attachment(document.markdown, document.title, "text/markdown")}
            ],
        }
    )


def _stored_file(document: PatientDocument, documents_dir: Path | None) -> str | None:
    """The stored file's content as base64, when it is in the documents folder."""
    if not document.stored_as or documents_dir is None:
        return None
    root = documents_dir.resolve()
    path = (root / document.stored_as).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return base64.b64encode(path.read_bytes()).decode("ascii")


def document_resource(
    document: PatientDocument, *, origins: Origins, documents_dir: Path | None
) -> dict[str, Any]:
    assert document.id is not None
    data = _stored_file(document, documents_dir)
    attachment = {
        "contentType": document.content_type,
        "data": data,
        "url": document.url if data is None else None,
        "size": document.size,
        "title": document.title,
        "creation": instant(document.dated) if document.dated else None,
    }
    if data is None and not document.url:
        attachment["title"] = f"{document.title} (file not exported)"
    return compact(
        {
            "resourceType": "DocumentReference",
            "id": resource_id("patient_document", document.id),
            "extension": extensions(
                sha256=document.sha256,
                stored_as=document.stored_as,
                author=document.author,
                created_at=document.created_at,
            ),
            "identifier": identifiers("patient_document", document.id, origins),
            "status": "current",
            "type": {"text": document.kind} if document.kind else None,
            "category": [steve_code(DOCUMENT_KIND_SYSTEM, PATIENT_DOCUMENT)],
            "subject": ref("patient", document.patient_id),
            "date": instant(document.dated or document.created_at),
            "author": [{"display": document.author}] if document.author else [],
            "description": document.title,
            "content": [{"attachment": attachment}],
        }
    )


def _answers(text: str | None) -> list[dict[str, Any]]:
    """The stored answers ([{"question", "answer"}] JSON) as questionnaire items."""
    if not text:
        return []
    try:
        pairs = json.loads(text)
    except ValueError:
        return [{"linkId": "q1", "text": "Answers", "answer": [{"valueString": text}]}]
    items = []
    for n, pair in enumerate(pairs if isinstance(pairs, list) else [], start=1):
        if not isinstance(pair, dict):
            continue
        answer = pair.get("answer")
        item: dict[str, Any] = {"linkId": f"q{n}", "text": str(pair.get("question") or "")}
        if answer not in (None, ""):
            item["answer"] = [{"valueString": str(answer)}]
        items.append(item)
    return items


def intake_resource(form: IntakeForm, *, origins: Origins) -> dict[str, Any]:
    assert form.id is not None
    return compact(
        {
            "resourceType": "QuestionnaireResponse",
            "id": resource_id("intake_form", form.id),
            "extension": extensions(
                form_type=form.form_type,
                sent_at=form.sent_at,
                received_at=form.received_at,
                reviewed_at=form.reviewed_at,
                reviewed_by=practitioner_ref(form.reviewed_by_id),
            ),
            "identifier": identifiers("intake_form", form.id, origins)[0],
            "questionnaire": questionnaire_url(form.form_type),
            "status": "completed" if form.received_at else "in-progress",
            "subject": ref("patient", form.patient_id),
            "authored": instant(form.received_at) if form.received_at else None,
            "item": _answers(form.answers),
        }
    )
