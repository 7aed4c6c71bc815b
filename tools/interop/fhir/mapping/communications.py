"""FHIR Communication -> a Steve care-team message, or a note when the patient takes part.

- Between clinicians (no Patient or RelatedPerson as sender or recipient): a CareMessage.
  recipient: the first recipient that is a known clinician (in-house or not), else the
  patient's physician, else the source's "clinician not named" record; sender: the sender
  when it is a known clinician, else that "clinician not named" record (an empty sender
  means Steve's assistant wrote it, which an imported message never is).
- With the patient (the patient, or a relative, sends or receives it): a ClinicalNote of
  origin external (a message to or from the patient is part of their record, not care-team
  traffic), by the clinician taking part (else the physician / "not named" fallback), modality
  that clinician's discipline.
- subject / note title: the topic's text, else the first category's text, else "Message".
  body: the payload's contentString parts, then "[attachment: title]" and "[reference: ...]"
  placeholders, separated by blank lines. It is outside text: stored as data, never read as
  instructions (agent.untrusted quotes it when it reaches the model).
- time: sent, else received (created_at / written_at). An imported completed message is
  already delivered: it is stored acknowledged (at its received time, else sent time), so the
  clinician's unread list does not fill with an EHR's history.
- Status preparation, not-done and entered-in-error: not imported (never sent, or withdrawn).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from db.models import (
    CareMessage,
    ClinicalNote,
    Discipline,
    NoteOrigin,
    Practitioner,
)
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.values import concept_text, fhir_instant

NOT_SENT = ("preparation", "not-done", "entered-in-error")
PEOPLE = ("Patient", "RelatedPerson")
NO_TEXT = "(the imported message has no text)"


def map_communication(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    status = str(raw.get("status"))
    if status in NOT_SENT:
        ctx.skip(item=item, field="status", message=f"status {status}: not imported")
        return
    if ctx.patient_id is None:
        ctx.skip(item=item, field="subject", message="a communication about no patient")
        return
    recipients = [r for r in raw.get("recipient") or [] if isinstance(r, Mapping)]
    sender = raw.get("sender") if isinstance(raw.get("sender"), Mapping) else None
    sent = fhir_instant(raw.get("sent"))
    received = fhir_instant(raw.get("received"))
    when = sent or received
    subject = (_subject(raw) or "Message")[:200]
    body = _body(raw)
    if any(_is_person(item=item, ctx=ctx, reference=r) for r in [*recipients, sender] if r):
        clinician = ctx.practitioner_or_fallback(
            item=item, references=[r for r in [sender, *recipients] if r]
        )
        practitioner = ctx.session.get(Practitioner, clinician)
        note: dict[str, Any] = {
            "patient_id": ctx.patient_id,
            "practitioner_id": clinician,
            "modality": practitioner.discipline if practitioner else Discipline.PHYSICIAN,
            "title": subject,
            "body": body,
            "origin": NoteOrigin.EXTERNAL,
        }
        if when is not None:
            note["written_at"] = when
        ctx.write(item=item, model=ClinicalNote, values=note)
        return
    sender_id = ctx.practitioner_id(item=item, reference=sender) if sender else None
    message: dict[str, Any] = {
        "patient_id": ctx.patient_id,
        "sender_id": sender_id if sender_id is not None else ctx.unnamed_clinician(),
        "recipient_id": ctx.practitioner_or_fallback(item=item, references=recipients),
        "subject": subject,
        "body": body,
        "acknowledged_at": (received or sent) if status == "completed" else None,
    }
    if when is not None:
        message["created_at"] = when
    ctx.write(item=item, model=CareMessage, values=message)


def _is_person(*, item: Item, ctx: MapContext, reference: Mapping[str, Any]) -> bool:
    """Is this participant the patient or someone of theirs (not a clinician or a system)?"""
    kind = reference.get("type")
    if isinstance(kind, str) and kind:
        return kind in PEOPLE
    target = ctx.target_raw(item=item, reference=reference)
    if target is not None:
        return target.get("resourceType") in PEOPLE
    literal = str(reference.get("reference") or "")
    return any(literal.startswith(f"{t}/") or f"/{t}/" in literal for t in PEOPLE)


def _subject(raw: Mapping[str, Any]) -> str | None:
    text = concept_text(raw.get("topic"))
    for category in raw.get("category") or []:
        text = text or concept_text(category)
    return text


def _body(raw: Mapping[str, Any]) -> str:
    parts = []
    for payload in raw.get("payload") or []:
        if not isinstance(payload, Mapping):
            continue
        if isinstance(payload.get("contentString"), str) and payload["contentString"].strip():
            parts.append(payload["contentString"].strip())
        elif isinstance(payload.get("contentAttachment"), Mapping):
            attachment = payload["contentAttachment"]
            parts.append(f"[attachment: {attachment.get('title') or 'file'}]")
        elif isinstance(payload.get("contentReference"), Mapping):
            reference = payload["contentReference"]
            parts.append(f"[reference: {reference.get('display') or reference.get('reference')}]")
    for note in raw.get("note") or []:
        if isinstance(note, Mapping) and isinstance(note.get("text"), str) and note["text"].strip():
            parts.append(note["text"].strip())
    return "\n\n".join(parts) or NO_TEXT


MAPPERS: dict[str, Mapper] = {"Communication": map_communication}
