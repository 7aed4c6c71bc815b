"""FHIR Practitioner, PractitionerRole and Organization -> the practice's network.

- A Practitioner becomes a practitioner row. One whose name matches exactly one of the
  practice's own (in-house) practitioners is that person (their row gains the source);
  everyone else is an outside practitioner (affiliation external) in the referral network.
- A PractitionerRole adds to its practitioner what the role says: specialty (kept as the
  record words it, and mapped to a discipline), organisation, and contact details the
  practitioner lacks. References to the role then lead to that practitioner.
- An Organization that provides care (type `prov`, `dept`, `team`, or no type) joins the
  network as an entry of its own, named after it; insurers, payers, government bodies and the
  like are used for the names they lend (a laboratory's name on an order) and get no row.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from db.models import Affiliation, Discipline, Practitioner
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.values import (
    codings,
    concept_text,
    display_name,
    name_prefix,
    telecom,
)
from tools.interop.provenance import table_of
from tools.registry import name_key

# Words in a specialty, qualification or organisation type -> discipline (first match wins).
DISCIPLINE_WORDS: tuple[tuple[str, Discipline], ...] = (
    ("acupunct", Discipline.ACUPUNCTURE),
    ("osteopath", Discipline.OSTEOPATHY),
    ("nutritional therap", Discipline.NUTRITIONAL_THERAPY),
    ("dietitian", Discipline.DIETETICS),
    ("dietetic", Discipline.DIETETICS),
    ("nutrition", Discipline.NUTRITIONAL_THERAPY),
    ("coach", Discipline.HEALTH_COACHING),
    ("massage", Discipline.MASSAGE),
    ("psychotherap", Discipline.PSYCHOTHERAPY),
    ("psycholog", Discipline.PSYCHOTHERAPY),
    ("counsel", Discipline.PSYCHOTHERAPY),
    ("physiotherap", Discipline.PHYSIOTHERAPY),
    ("physical therap", Discipline.PHYSIOTHERAPY),
    ("gastroenterolog", Discipline.GASTROENTEROLOGY),
    ("endocrinolog", Discipline.ENDOCRINOLOGY),
    ("rheumatolog", Discipline.RHEUMATOLOGY),
    ("gynaecolog", Discipline.GYNAECOLOGY),
    ("gynecolog", Discipline.GYNAECOLOGY),
    ("obstetric", Discipline.GYNAECOLOGY),
    ("neurolog", Discipline.NEUROLOGY),
    ("pain", Discipline.PAIN_MEDICINE),
    ("mind-body", Discipline.MIND_BODY),
    ("mind body", Discipline.MIND_BODY),
    ("yoga", Discipline.MIND_BODY),
    ("meditation", Discipline.MIND_BODY),
    ("nurs", Discipline.NURSE),
)
CARE_ORGANISATION_TYPES = frozenset({"prov", "dept", "team"})


def discipline_from_words(*texts: str | None) -> Discipline | None:
    """The discipline a specialty's words name, or None when they name none we know."""
    for text in texts:
        lowered = (text or "").casefold()
        for fragment, discipline in DISCIPLINE_WORDS:
            if fragment in lowered:
                return discipline
    return None


def map_practitioner(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    name = display_name(raw.get("name"))
    if not name:
        ctx.skip(item=item, field="name", message="no name to file the practitioner under")
        return
    qualifications = [concept_text(q.get("code")) for q in raw.get("qualification") or []]
    values: dict[str, Any] = {
        "name": name[:200],
        "title": name_prefix(raw.get("name")),
        "email": telecom(raw.get("telecom"), "email"),
        "phone": telecom(raw.get("telecom"), "phone"),
    }
    in_house = _in_house_match(ctx=ctx, name=name)
    if in_house is not None:
        _attach_once(ctx=ctx, item=item, row_id=in_house)
        # The practice's own record of its staff wins: only fill what it lacks.
        row = ctx.session.get(Practitioner, in_house)
        assert row is not None
        values = {k: v for k, v in values.items() if v and getattr(row, k) in (None, "")}
        values |= {"name": row.name}
    else:
        discipline = discipline_from_words(*qualifications)
        values |= {
            "affiliation": Affiliation.EXTERNAL,
            "discipline": discipline or Discipline.PHYSICIAN,
        }
    ctx.write(item=item, model=Practitioner, values=values)


def map_practitioner_role(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    practitioner_id = ctx.practitioner_id(item=item, reference=raw.get("practitioner"))
    if practitioner_id is None:
        ctx.skip(
            item=item, field="practitioner", message="the role's practitioner was not imported"
        )
        return
    row = ctx.session.get(Practitioner, practitioner_id)
    assert row is not None
    specialties = [concept_text(s) for s in raw.get("specialty") or []]
    roles = [concept_text(c) for c in raw.get("code") or []]
    specialty = "; ".join(s for s in specialties if s) or None
    organisation = ctx.target_raw(item=item, reference=raw.get("organization")) or {}
    values: dict[str, Any] = {
        "name": row.name,
        "specialty": (specialty or row.specialty),
        "organisation": organisation.get("name") or row.organisation,
        "email": row.email or telecom(raw.get("telecom"), "email"),
        "phone": row.phone or telecom(raw.get("telecom"), "phone"),
    }
    if row.affiliation == Affiliation.EXTERNAL:
        found = discipline_from_words(*specialties, *roles)
        if found is not None:
            values["discipline"] = found
    _attach_once(ctx=ctx, item=item, row_id=practitioner_id)
    ctx.write(item=item, model=Practitioner, values=values)


def map_organization(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    types = {c.get("code") for t in raw.get("type") or [] for c in codings(t)}
    if types and not types & CARE_ORGANISATION_TYPES:
        ctx.tally.mapped[item.resource_type] += 1  # lends its name; no row of its own
        return
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        ctx.skip(item=item, field="name", message="no name to file the organisation under")
        return
    type_words = [concept_text(t) for t in raw.get("type") or []]
    ctx.write(
        item=item,
        model=Practitioner,
        values={
            "name": name.strip()[:200],
            "organisation": name.strip()[:200],
            "affiliation": Affiliation.EXTERNAL,
            "discipline": discipline_from_words(name, *type_words) or Discipline.PHYSICIAN,
            "email": telecom(raw.get("telecom"), "email"),
            "phone": telecom(raw.get("telecom"), "phone"),
        },
    )


def _in_house_match(*, ctx: MapContext, name: str) -> int | None:
    key = name_key(name)
    candidates = [
        p.id
        for p in ctx.session.exec(
            select(Practitioner).where(Practitioner.affiliation == Affiliation.IN_HOUSE)
        )
        if name_key(p.name) == key or name_key(f"{p.title or ''} {p.name}") == key
    ]
    return candidates[0] if len(candidates) == 1 and candidates[0] is not None else None


def _attach_once(*, ctx: MapContext, item: Item, row_id: int) -> None:
    """Point this record's source at an existing row, unless it already points there."""
    existing = ctx.provenance.find(
        resource_type=item.resource_type,
        resource_id=item.resource_id,
        table=table_of(Practitioner),
    )
    if existing is None or existing.row_id != row_id:
        ctx.provenance.attach(
            origin=ctx.origin(item),
            table=table_of(Practitioner),
            row_id=row_id,
            patient_id=None,
        )


MAPPERS: dict[str, Mapper] = {
    "Practitioner": map_practitioner,
    "PractitionerRole": map_practitioner_role,
    "Organization": map_organization,
}
