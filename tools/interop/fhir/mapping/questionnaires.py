"""FHIR QuestionnaireResponse -> Steve intake form with its answers.

- form_type: the title (else name) of the Questionnaire when it was read in the same import,
  else the last segment of the `questionnaire` canonical (version dropped), as a short
  lower-case key ("phq_9"); "questionnaire" when neither is there.
- received_at: `authored` when the response is completed or amended; an in-progress or
  stopped response is kept as not received (its answers so far are still stored).
  entered-in-error is not imported.
- answers: JSON `[{"question": text or linkId, "answer": text}]`, nested items (groups, and
  questions under an answer) flattened in document order; several answers to one question
  are joined with "; ". Answers are the patient's words: stored as data, never read as
  instructions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from db.models import IntakeForm
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.cross_references import questionnaire_titles
from tools.interop.fhir.mapping.values import fhir_instant

RECEIVED = ("completed", "amended")


def map_questionnaire_response(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    if ctx.patient_id is None:
        ctx.skip(item=item, field="subject", message="a questionnaire response without a patient")
        return
    status = str(raw.get("status"))
    if status == "entered-in-error":
        ctx.skip(item=item, field="status", message="entered in error at the source: not imported")
        return
    authored = fhir_instant(raw.get("authored"))
    if status in RECEIVED and authored is None:
        ctx.report(item=item, field="authored", message="no time: the form is kept as not received")
    answers = list(flatten(raw.get("item")))
    ctx.write(
        item=item,
        model=IntakeForm,
        values={
            "patient_id": ctx.patient_id,
            "form_type": _form_type(item=item, ctx=ctx),
            "received_at": authored if status in RECEIVED else None,
            "answers": json.dumps(answers, ensure_ascii=False),
        },
    )


def flatten(items: Any) -> Iterator[dict[str, str]]:
    """Each answered question, in document order (groups and nested questions flattened)."""
    for entry in items if isinstance(items, list) else []:
        if not isinstance(entry, Mapping):
            continue
        question = str(entry.get("text") or entry.get("linkId") or "").strip()
        answers = [a for a in entry.get("answer") or [] if isinstance(a, Mapping)]
        texts = [t for t in (answer_text(a) for a in answers) if t]
        if texts:
            yield {"question": question, "answer": "; ".join(texts)}
        for answer in answers:
            yield from flatten(answer.get("item"))
        yield from flatten(entry.get("item"))


def answer_text(answer: Mapping[str, Any]) -> str | None:
    """One answer's value[x] as text."""
    for name, value in answer.items():
        if not name.startswith("value"):
            continue
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int | float | str):
            return str(value)
        if isinstance(value, Mapping):
            return _complex_text(name, value)
    return None


def _complex_text(name: str, value: Mapping[str, Any]) -> str | None:
    if name == "valueCoding":
        found = value.get("display") or value.get("code")
    elif name == "valueQuantity":
        number, unit = value.get("value"), value.get("unit") or value.get("code") or ""
        found = f"{number} {unit}".strip() if number is not None else None
    elif name == "valueReference":
        found = value.get("display") or value.get("reference")
    elif name == "valueAttachment":
        found = f"[attachment: {value.get('title') or value.get('contentType') or 'file'}]"
    else:
        found = None
    return str(found) if found else None


def _form_type(*, item: Item, ctx: MapContext) -> str:
    canonical = item.raw.get("questionnaire")
    if not isinstance(canonical, str) or not canonical.strip():
        return "questionnaire"
    url = canonical.split("|", 1)[0]
    title = questionnaire_titles(ctx).get(url)
    if title:
        return _key(title)
    return _key(url.rstrip("/").rsplit("/", 1)[-1]) or "questionnaire"


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60]


MAPPERS: dict[str, Mapper] = {"QuestionnaireResponse": map_questionnaire_response}
