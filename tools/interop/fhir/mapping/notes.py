"""A Steve export's clinical notes (DocumentReference of category `clinical-note`) -> notes.

Steve exports a clinical note as a DocumentReference with the `urn:steve:document-kind`
category `clinical-note` (see `export.documents`). From a Steve export (`conventions.from_steve`)
it comes back as a clinical note, not a stored document:

- practitioner: the author (else the patient's physician, else the "clinician not named"
  record); modality: `context.practiceSetting`'s `urn:steve:discipline` code, else the
  author's discipline; written_at: `date`; title: `description` (a note may have none).
- body: the first attachment's `data` (base64 UTF-8, text/plain or text/markdown). A note
  whose text cannot be read is left to the document mapper (stored as a document, and the
  problem named there).
- origin and appointment: the Steve extensions `origin` and `appointment` when present.

Any other DocumentReference (an EHR's notes included) stays a patient document.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from db.models import Appointment, ClinicalNote, Discipline, NoteOrigin, Practitioner
from tools.interop.fhir.conventions import (
    CLINICAL_NOTE,
    DISCIPLINE_SYSTEM,
    DOCUMENT_KIND_SYSTEM,
    extension_value,
    from_steve,
)
from tools.interop.fhir.mapping.context import Item, MapContext
from tools.interop.fhir.mapping.values import codings, fhir_instant

TEXT_TYPES = frozenset({"text/plain", "text/markdown"})


def is_steve_note(raw: Mapping[str, Any]) -> bool:
    """A clinical note as a Steve export writes it."""
    if not from_steve(raw):
        return False
    return any(
        coding.get("system") == DOCUMENT_KIND_SYSTEM and coding.get("code") == CLINICAL_NOTE
        for concept in raw.get("category") or []
        for coding in codings(concept)
    )


def map_steve_note(*, item: Item, ctx: MapContext) -> bool:
    """Write the note; False (nothing written) when its text cannot be read."""
    raw = item.raw
    body = note_text(raw)
    if body is None:
        return False
    authors = [a for a in raw.get("author") or [] if isinstance(a, Mapping)]
    practitioner_id = ctx.practitioner_or_fallback(item=item, references=authors)
    values: dict[str, Any] = {
        "patient_id": ctx.patient_id,
        "practitioner_id": practitioner_id,
        "modality": _modality(raw) or _discipline_of(ctx=ctx, practitioner_id=practitioner_id),
        "title": str(raw["description"])[:200] if raw.get("description") else None,
        "body": body,
        "origin": _origin(raw),
        "appointment_id": _appointment(item=item, ctx=ctx),
    }
    written = fhir_instant(raw.get("date"))
    if written is not None:
        values["written_at"] = written
    ctx.write(item=item, model=ClinicalNote, values=values, flush=False)
    return True


def note_text(raw: Mapping[str, Any]) -> str | None:
    """The text of the first attachment with data, when it is UTF-8 plain text or markdown."""
    for content in raw.get("content") or []:
        attachment = content.get("attachment") if isinstance(content, Mapping) else None
        if not isinstance(attachment, Mapping) or not attachment.get("data"):
            continue
        kind = str(attachment.get("contentType") or "text/plain").split(";", 1)[0]
        if kind.strip().lower() not in TEXT_TYPES:
            return None
        try:
            text = base64.b64decode(str(attachment["data"]), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        return text if text.strip() else None
    return None


def _modality(raw: Mapping[str, Any]) -> Discipline | None:
    context = raw.get("context")
    setting = context.get("practiceSetting") if isinstance(context, Mapping) else None
    known = {d.value for d in Discipline}
    for coding in codings(setting):
        if coding.get("system") == DISCIPLINE_SYSTEM and coding.get("code") in known:
            return Discipline(coding["code"])
    return None


def _discipline_of(*, ctx: MapContext, practitioner_id: int) -> Discipline:
    practitioner = ctx.session.get(Practitioner, practitioner_id)
    return practitioner.discipline if practitioner is not None else Discipline.PHYSICIAN


def _origin(raw: Mapping[str, Any]) -> NoteOrigin:
    origin = extension_value(raw, "origin")
    return NoteOrigin(origin) if origin in {o.value for o in NoteOrigin} else NoteOrigin.INTERNAL


def _appointment(*, item: Item, ctx: MapContext) -> int | None:
    reference = extension_value(item.raw, "appointment")
    if not isinstance(reference, Mapping):
        return None
    return ctx.row_id(item=item, reference=reference, model=Appointment)
