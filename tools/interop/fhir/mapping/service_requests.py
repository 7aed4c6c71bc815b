"""FHIR ServiceRequest -> a lab order (`lab_order`) or a referral (`referral`), by category.

- Laboratory: category SNOMED CT 108252007 "Laboratory procedure", the observation-category
  or v2-0074 code for laboratory, the word "laboratory", or a LOINC code. Status active,
  on-hold or unknown -> ordered; completed -> received; revoked -> cancelled (Steve's own
  export says the finer status in `urn:steve:extension:status`, which wins). Panel = the
  code's text, lab = the performing Organization (or a performer's display, else "unknown
  laboratory"), ordered by the requester (else the patient's physician, else the unnamed
  clinician), ordered on authoredOn (else occurrence[x]); the placer and filler numbers from
  identifiers of type PLAC and FILL. An order with that placer number already imported (an
  HL7 order, say) is the same order. See `lab_orders` for how the report and results join it.
- Referral: category or code SNOMED CT 3457005 "Patient referral", the word "referral", or no
  such category but a performer who is an outside practitioner. Direction outbound when the
  requester is one of the practice's own practitioners, else inbound; from = the requester,
  to = the performer (each, when unknown, the patient's physician or the unnamed clinician);
  reason from reasonCode, reasonReference, note, else the code's text; urgency from priority
  (routine -> routine, urgent -> soon, asap and stat -> urgent, as Steve's export writes it);
  status draft -> draft, active/on-hold/unknown -> sent, completed -> closed, revoked ->
  declined (or Steve's status extension). Lifecycle stamps agree with the status: sent at
  authoredOn, later states at the record's lastUpdated (else authoredOn); a closed or declined
  referral was sent first. Steve's own export also carries the direction, every stamp and the
  outcome (rating, note) in `urn:steve:extension:*`; those are taken as they are.
- Any other category: skipped with the reason "neither a laboratory order nor a referral";
  drafts of lab orders and records entered in error are skipped as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from db.models import (
    Affiliation,
    LabOrder,
    LabStatus,
    Practitioner,
    Referral,
    ReferralDirection,
    ReferralStatus,
    Urgency,
)
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.lab_orders import (
    clinician,
    laboratory_name,
    order_by_number,
    write_order,
)
from tools.interop.fhir.mapping.values import (
    codings,
    concept_codes,
    concept_text,
    concept_words,
    fhir_date,
    fhir_instant,
    first_day,
    identifier_of_type,
    notes_text,
    reference_display,
    steve_extension,
)
from tools.interop.fhir.mapping.withdrawn import withdraw

S = TypeVar("S", LabStatus, ReferralStatus)
LOINC = "http://loinc.org"
LABORATORY_CODES = frozenset({"108252007", "laboratory", "LAB"})
REFERRAL_CODES = frozenset({"3457005"})
LAB_STATUS = {
    "active": LabStatus.ORDERED,
    "on-hold": LabStatus.ORDERED,
    "unknown": LabStatus.ORDERED,
    "completed": LabStatus.RECEIVED,
    "revoked": LabStatus.CANCELLED,
}
REFERRAL_STATUS = {
    "draft": ReferralStatus.DRAFT,
    "active": ReferralStatus.SENT,
    "on-hold": ReferralStatus.SENT,
    "unknown": ReferralStatus.SENT,
    "completed": ReferralStatus.CLOSED,
    "revoked": ReferralStatus.DECLINED,
}
URGENCY = {
    "routine": Urgency.ROUTINE,
    "urgent": Urgency.SOON,
    "asap": Urgency.URGENT,
    "stat": Urgency.URGENT,
}
# The states a referral passes through, with the column stamping each.
STAMPS = (
    (ReferralStatus.SENT, "sent_at"),
    (ReferralStatus.ACCEPTED, "accepted_at"),
    (ReferralStatus.SCHEDULED, "scheduled_at"),
    (ReferralStatus.SEEN, "seen_at"),
    (ReferralStatus.REPORT_RECEIVED, "report_received_at"),
)
STAMP_COLUMNS = (*(column for _, column in STAMPS), "closed_at", "declined_at")


def map_service_request(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    if ctx.patient_id is None:
        ctx.skip(item=item, field="subject", message="no patient to file the request under")
        return
    kind = request_kind(item=item, ctx=ctx)
    if kind is None:
        ctx.skip(item=item, field="category", message="neither a laboratory order nor a referral")
        return
    if raw.get("status") == "entered-in-error":
        withdraw(ctx=ctx, item=item, models=[LabOrder, Referral])
        ctx.skip(item=item, field="status", message="entered in error: not imported")
        return
    if kind == "laboratory":
        map_lab_order(item=item, ctx=ctx)
    else:
        map_referral(item=item, ctx=ctx)


def request_kind(*, item: Item, ctx: MapContext) -> str | None:
    raw = item.raw
    categories = raw.get("category")
    codes = concept_codes(categories)
    if codes & LABORATORY_CODES or any("laborator" in w for w in concept_words(categories)):
        return "laboratory"
    if codes & REFERRAL_CODES or concept_codes(raw.get("code")) & REFERRAL_CODES:
        return "referral"
    if any("referral" in w for w in concept_words(categories)):
        return "referral"
    if categories:
        return None
    if any(c.get("system") == LOINC for c in codings(raw.get("code"))):
        return "laboratory"
    for reference in raw.get("performer") or []:
        found = ctx.practitioner_id(item=item, reference=reference)
        row = ctx.session.get(Practitioner, found) if found is not None else None
        if row is not None and row.affiliation == Affiliation.EXTERNAL:
            return "referral"
    return None


# ------------------------------------------------------------------------ lab orders


def map_lab_order(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    status = str(raw.get("status") or "unknown")
    if status == "draft":
        ctx.skip(item=item, field="status", message="a draft order: not imported")
        return
    ordered_on = day(raw.get("authoredOn")) or occurrence_day(raw) or record_day(raw)
    if ordered_on is None:
        ctx.skip(item=item, field="authoredOn", message="no date for the order")
        return
    placer = identifier_of_type(raw.get("identifier"), "PLAC")
    values: dict[str, Any] = {
        "patient_id": ctx.patient_id,
        "panel": (concept_text(raw.get("code")) or "Laboratory order")[:200],
        "lab": laboratory_name(ctx=ctx, item=item, performers=raw.get("performer")),
        "ordered_by_id": clinician(ctx=ctx, item=item, references=[raw.get("requester")]),
        "ordered_on": ordered_on,
        "status": steve_status(raw, LabStatus) or LAB_STATUS.get(status, LabStatus.ORDERED),
        "placer_number": placer,
        "filler_number": identifier_of_type(raw.get("identifier"), "FILL"),
    }
    for name in ("expected-on", "received-on"):
        found = day(steve_extension(raw, name))
        if found is not None:
            values[name.replace("-", "_")] = found
    reviewer = steve_extension(raw, "reviewed-by")
    if isinstance(reviewer, Mapping):
        values["reviewed_by_id"] = ctx.practitioner_id(item=item, reference=reviewer)
    joins = [order_by_number(ctx=ctx, placer=placer, filler=None)]
    write_order(ctx=ctx, item=item, values=values, joins=joins)


# ------------------------------------------------------------------------- referrals


def map_referral(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    status = steve_status(raw, ReferralStatus) or REFERRAL_STATUS.get(
        str(raw.get("status") or "unknown"), ReferralStatus.SENT
    )
    requester = ctx.practitioner_id(item=item, reference=raw.get("requester"))
    performers = list(raw.get("performer") or [])
    from_id = requester or clinician(ctx=ctx, item=item, references=[])
    to_id = next(
        (
            found
            for reference in performers
            if (found := ctx.practitioner_id(item=item, reference=reference)) is not None
        ),
        None,
    )
    if to_id is None or to_id == from_id:
        to_id = ctx.unnamed_clinician()
        ctx.report(item=item, field="performer", message="no practitioner to refer to named")
    values: dict[str, Any] = {
        "patient_id": ctx.patient_id,
        "direction": direction(ctx=ctx, requester=requester),
        "from_practitioner_id": from_id,
        "to_practitioner_id": to_id,
        "reason": reason(item=item, ctx=ctx)[:1000],
        "urgency": URGENCY.get(str(raw.get("priority")), Urgency.ROUTINE),
        "status": status,
        **stamps(raw, status),
        **steve_referral_fields(raw),
    }
    ctx.write(item=item, model=Referral, values=values, flush=False)


def direction(*, ctx: MapContext, requester: int | None) -> ReferralDirection:
    row = ctx.session.get(Practitioner, requester) if requester is not None else None
    if row is not None and row.affiliation == Affiliation.IN_HOUSE:
        return ReferralDirection.OUTBOUND
    return ReferralDirection.INBOUND


def reason(*, item: Item, ctx: MapContext) -> str:
    raw = item.raw
    words = [concept_text(c) for c in raw.get("reasonCode") or []]
    for reference in raw.get("reasonReference") or []:
        target = ctx.target_raw(item=item, reference=reference) or {}
        words.append(concept_text(target.get("code")) or reference_display(reference))
    words.append(notes_text(raw.get("note")))
    found = "; ".join(w for w in words if w)
    return found or concept_text(raw.get("code")) or "Referral"


def stamps(raw: Mapping[str, Any], status: ReferralStatus) -> dict[str, datetime]:
    """The lifecycle timestamps a referral in `status` has, from the record's dates."""
    authored = fhir_instant(raw.get("authoredOn"))
    meta = raw.get("meta") if isinstance(raw.get("meta"), Mapping) else {}
    assert isinstance(meta, Mapping)
    changed = fhir_instant(meta.get("lastUpdated")) or authored
    if authored is None or changed is None:
        return {}
    changed = max(changed, authored)
    found: dict[str, datetime] = {"created_at": authored, "status_changed_at": changed}
    if status == ReferralStatus.DRAFT:
        return found | {"status_changed_at": authored}
    found["sent_at"] = authored
    reached = [s for s, _ in STAMPS]
    if status in reached:
        for _state, column in STAMPS[1 : reached.index(status) + 1]:
            found[column] = changed
    elif status == ReferralStatus.CLOSED:
        found["closed_at"] = changed
    elif status == ReferralStatus.DECLINED:
        found["declined_at"] = changed
    return found


def steve_referral_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What Steve's own export carries in extensions: the direction, every lifecycle stamp
    as it was (then these replace the ones read from the record's dates), the outcome."""
    found: dict[str, Any] = {}
    direction = steve_extension(raw, "direction")
    if direction in {d.value for d in ReferralDirection}:
        found["direction"] = ReferralDirection(direction)
    if steve_extension(raw, "status-changed-at") is not None:
        for column in ("status_changed_at", *STAMP_COLUMNS):
            found[column] = fhir_instant(steve_extension(raw, column.replace("_", "-")))
    rating = steve_extension(raw, "outcome-rating")
    if isinstance(rating, int) and 1 <= rating <= 5:
        found["outcome_rating"] = rating
    note = steve_extension(raw, "outcome-note")
    if isinstance(note, str) and note.strip():
        found["outcome_note"] = note.strip()[:1000]
    return found


# --------------------------------------------------------------------------- values


def steve_status(raw: Mapping[str, Any], kind: type[S]) -> S | None:
    """Steve's own status, when its export carried it (`urn:steve:extension:status`)."""
    value = steve_extension(raw, "status")
    try:
        return kind(value) if isinstance(value, str) else None
    except ValueError:
        return None


def day(value: Any) -> date | None:
    return fhir_date(value)


def occurrence_day(raw: Mapping[str, Any]) -> date | None:
    return first_day(raw, "occurrenceDateTime", "occurrencePeriod")


def record_day(raw: Mapping[str, Any]) -> date | None:
    meta = raw.get("meta") if isinstance(raw.get("meta"), Mapping) else {}
    assert isinstance(meta, Mapping)
    return fhir_date(meta.get("lastUpdated"))


MAPPERS: dict[str, Mapper] = {"ServiceRequest": map_service_request}
