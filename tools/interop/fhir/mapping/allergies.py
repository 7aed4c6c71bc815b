"""FHIR AllergyIntolerance -> the patient's allergies (`patient_allergy`).

- substance: the code's text or display, else the first reaction's substance; a record naming
  neither is skipped.
- reaction: the manifestations of every reaction, in words, joined ("Hives; Wheezing").
- severity: the worst reaction severity (mild < moderate < severe), else the record's
  criticality ("high criticality", "low criticality"); Steve's own export carries its words
  in `urn:steve:extension:severity`, taken as they are.
- code: SNOMED CT, then RxNorm, then the first coding.
- verificationStatus entered-in-error or refuted, and clinicalStatus inactive or resolved:
  not an allergy the patient has now; skipped and reported, and a row an earlier import wrote
  from the record is deleted.
"""

from __future__ import annotations

from typing import Any

from db.models import PatientAllergy
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.values import (
    code_columns,
    concept_codes,
    concept_text,
    steve_extension,
)
from tools.interop.fhir.mapping.withdrawn import withdraw

SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SEVERITY_RANK = {"mild": 1, "moderate": 2, "severe": 3}
NOT_HELD = frozenset({"entered-in-error", "refuted"})
NOT_CURRENT = frozenset({"inactive", "resolved"})


def map_allergy(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    if ctx.patient_id is None:
        ctx.skip(item=item, field="patient", message="no patient to file the allergy under")
        return
    if concept_codes(raw.get("verificationStatus")) & NOT_HELD:
        withdraw(ctx=ctx, item=item, models=[PatientAllergy])
        ctx.skip(
            item=item,
            field="verificationStatus",
            message="entered in error or refuted: not imported",
        )
        return
    if concept_codes(raw.get("clinicalStatus")) & NOT_CURRENT:
        withdraw(ctx=ctx, item=item, models=[PatientAllergy])
        ctx.skip(item=item, field="clinicalStatus", message="inactive or resolved: not imported")
        return
    reactions = [r for r in raw.get("reaction") or [] if isinstance(r, dict)]
    concept = raw.get("code")
    substance = concept_text(concept)
    if not substance and reactions:
        concept = reactions[0].get("substance")
        substance = concept_text(concept)
    if not substance:
        ctx.skip(item=item, field="code", message="no substance named for the allergy")
        return
    values: dict[str, Any] = {
        "patient_id": ctx.patient_id,
        "substance": substance[:200],
        "reaction": reaction_words(reactions),
        "severity": severity(raw, reactions),
        **code_columns(concept, prefer=(SNOMED, RXNORM)),
    }
    ctx.write(item=item, model=PatientAllergy, values=values, flush=False)


def reaction_words(reactions: list[dict[str, Any]]) -> str | None:
    words: list[str] = []
    for reaction in reactions:
        for manifestation in reaction.get("manifestation") or []:
            text = concept_text(manifestation)
            if text and text not in words:
                words.append(text)
        if not reaction.get("manifestation") and isinstance(reaction.get("description"), str):
            words.append(reaction["description"].strip())
    text = "; ".join(w for w in words if w)
    return text[:200] or None


def severity(raw: Any, reactions: list[dict[str, Any]]) -> str | None:
    own = steve_extension(raw, "severity")  # Steve's export: the severity as it was written
    if isinstance(own, str) and own.strip():
        return own.strip()[:40]
    found = [str(r["severity"]) for r in reactions if r.get("severity") in SEVERITY_RANK]
    if found:
        return max(found, key=SEVERITY_RANK.__getitem__)
    criticality = raw.get("criticality")
    if criticality in {"low", "high"}:
        return f"{criticality} criticality"
    return None


MAPPERS: dict[str, Mapper] = {"AllergyIntolerance": map_allergy}
