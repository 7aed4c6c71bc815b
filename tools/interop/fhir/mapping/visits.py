"""FHIR Encounter and Appointment -> Steve appointments (the patient's visit history).

- Times: Encounter.period (Appointment.start/end, or start + minutesDuration). A visit with no
  end gets a default length by its class (ambulatory 30 minutes, home 60, emergency 4 hours,
  inpatient a day...), and the problem list says so: Steve's appointments always end after
  they start. A visit with no start at all is skipped.
- Status: Encounter planned -> booked, arrived/triaged/in-progress/onleave -> arrived,
  finished -> completed, cancelled -> cancelled; Appointment proposed/pending/booked/waitlist
  -> booked, arrived/checked-in -> arrived, fulfilled -> completed, cancelled -> cancelled,
  noshow -> no_show. `unknown` is completed when the visit has an end, else booked.
  entered-in-error: never imported; a visit imported before is cancelled and says why.
- Clinician: the participants (an Encounter's primary performer and attender first; an
  Appointment's Practitioner/PractitionerRole actors), else the patient's physician, else
  the source's "clinician not named" record.
- Service: serviceType, else type (appointmentType), else specialty, else the class.
- Billing: FHIR R4 ties a visit to its payer through `Encounter.account`; a visit whose
  Account (read in the same import) lists a coverage is `insurance`, everything else keeps
  Steve's default `direct_pay` (most integrative practices are paid directly; an Account we
  cannot read says nothing about who pays).
- One visit, two records: an Encounter that names (`Encounter.appointment`) an Appointment
  read in this import or an earlier one is the same row. The Encounter (what happened) gives
  the values; the Appointment (what was planned) fills in what the Encounter leaves out and is
  attached to the row as a second source, so later versions of either find it again without
  writing a second visit. (Not joined: an Appointment imported alone after an Encounter that
  named it, in an import without that Encounter; the Appointment cannot see who names it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from db.models import Appointment, AppointmentStatus, BillingTrack
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.values import concept_text, fhir_instant
from tools.interop.provenance import table_of

DEFAULT_MINUTES = 30
MINUTES_BY_CLASS = {  # v3 ActCode encounter classes
    "AMB": 30,
    "VR": 30,
    "HH": 60,
    "FLD": 60,
    "EMER": 240,
    "ACUTE": 24 * 60,
    "IMP": 24 * 60,
    "NONAC": 24 * 60,
    "OBSENC": 24 * 60,
    "PRENC": 60,
    "SS": 8 * 60,
}
CLASS_NAMES = {
    "AMB": "Ambulatory visit",
    "VR": "Virtual visit",
    "HH": "Home visit",
    "FLD": "Field visit",
    "EMER": "Emergency visit",
    "ACUTE": "Inpatient stay",
    "IMP": "Inpatient stay",
    "NONAC": "Inpatient stay",
    "OBSENC": "Observation stay",
    "PRENC": "Pre-admission visit",
    "SS": "Short stay",
}
ENCOUNTER_STATUS = {
    "planned": AppointmentStatus.BOOKED,
    "arrived": AppointmentStatus.ARRIVED,
    "triaged": AppointmentStatus.ARRIVED,
    "in-progress": AppointmentStatus.ARRIVED,
    "onleave": AppointmentStatus.ARRIVED,
    "finished": AppointmentStatus.COMPLETED,
    "cancelled": AppointmentStatus.CANCELLED,
}
APPOINTMENT_STATUS = {
    "proposed": AppointmentStatus.BOOKED,
    "pending": AppointmentStatus.BOOKED,
    "booked": AppointmentStatus.BOOKED,
    "waitlist": AppointmentStatus.BOOKED,
    "arrived": AppointmentStatus.ARRIVED,
    "checked-in": AppointmentStatus.ARRIVED,
    "fulfilled": AppointmentStatus.COMPLETED,
    "cancelled": AppointmentStatus.CANCELLED,
    "noshow": AppointmentStatus.NO_SHOW,
}
LEAD_ROLES = ("PPRF", "ATND", "SPRF", "PART")  # primary performer, attender, secondary...
ENTERED_IN_ERROR = "Entered in error in the source record"
PRACTITIONER_TYPES = ("Practitioner", "PractitionerRole")


def map_encounter(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    if ctx.patient_id is None:
        ctx.skip(item=item, field="subject", message="an encounter without a patient")
        return
    planned = _linked_appointment(item=item, ctx=ctx)
    planned_raw = planned[1] if planned else {}
    period = raw.get("period") if isinstance(raw.get("period"), Mapping) else {}
    assert isinstance(period, Mapping)
    starts = fhir_instant(period.get("start")) or fhir_instant(planned_raw.get("start"))
    if str(raw.get("status")) == "entered-in-error":
        _withdraw(item=item, ctx=ctx)
        return
    if starts is None:
        ctx.skip(item=item, field="period.start", message="an encounter without a start time")
        return
    visit_class = raw.get("class")
    class_code = str(visit_class.get("code") or "") if isinstance(visit_class, Mapping) else ""
    ends = fhir_instant(period.get("end"))
    if ends is None and not period.get("start"):
        ends = _appointment_end(planned_raw, starts)
    minutes = MINUTES_BY_CLASS.get(class_code, DEFAULT_MINUTES)
    ends = _checked_end(
        item=item, ctx=ctx, starts=starts, ends=ends, minutes=minutes, field="period.end"
    )
    practitioners = _encounter_practitioners(raw) + _appointment_practitioners(planned_raw)
    status = ENCOUNTER_STATUS.get(str(raw.get("status")))
    if status is None:
        status = AppointmentStatus.COMPLETED if period.get("end") else AppointmentStatus.BOOKED
    values: dict[str, Any] = {
        "patient_id": ctx.patient_id,
        "practitioner_id": ctx.practitioner_or_fallback(item=item, references=practitioners),
        "service_type": _service(raw) or _service(planned_raw) or _class_name(raw),
        "starts_at": starts,
        "ends_at": ends,
        "status": status,
        "billing_track": _billing(item=item, ctx=ctx),
        "cancel_reason": None,
    }
    if status == AppointmentStatus.CANCELLED and planned_raw:
        values["cancel_reason"] = _cancel_reason(planned_raw)
    own = ctx.provenance.row_id(
        resource_type=item.resource_type, resource_id=item.resource_id, model=Appointment
    )
    if own is None and planned is not None and planned[0] is not None:
        # the appointment's row becomes this encounter's too (updated by the write below)
        ctx.provenance.attach(
            origin=ctx.origin(item),
            table=table_of(Appointment),
            row_id=planned[0],
            patient_id=ctx.patient_id,
        )
    written = ctx.write(item=item, model=Appointment, values=values)
    if planned is not None and planned[0] is None and planned[2] is not None:
        # the appointment, mapped next, finds this row and stays a source of it
        ctx.provenance.attach(
            origin=ctx.origin(planned[2]),
            table=table_of(Appointment),
            row_id=_row_id(written.row),
            patient_id=ctx.patient_id,
        )


def map_appointment(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    if ctx.patient_id is None:
        ctx.skip(item=item, field="participant", message="an appointment without a patient")
        return
    if str(raw.get("status")) == "entered-in-error":
        _withdraw(item=item, ctx=ctx)
        return
    if _as_written_or_encounter_led(item=item, ctx=ctx):
        return
    starts = fhir_instant(raw.get("start"))
    if starts is None:
        ctx.skip(item=item, field="start", message="an appointment without a start time")
        return
    ends = _checked_end(
        item=item,
        ctx=ctx,
        starts=starts,
        ends=_appointment_end(raw, starts),
        minutes=DEFAULT_MINUTES,
        field="end",
    )
    status = APPOINTMENT_STATUS.get(str(raw.get("status")), AppointmentStatus.BOOKED)
    values = {
        "patient_id": ctx.patient_id,
        "practitioner_id": ctx.practitioner_or_fallback(
            item=item, references=_appointment_practitioners(raw)
        ),
        "service_type": _service(raw) or "Appointment",
        "starts_at": starts,
        "ends_at": ends,
        "status": status,
        "cancel_reason": _cancel_reason(raw) if status == AppointmentStatus.CANCELLED else None,
    }
    ctx.write(item=item, model=Appointment, values=values)


# ----------------------------------------------------------------------- linking


def _linked_appointment(
    *, item: Item, ctx: MapContext
) -> tuple[int | None, Mapping[str, Any], Item | None] | None:
    """The Appointment this encounter fulfils: (its row if imported, its JSON if read in this
    import, an Item for it if read in this import), or None when it names none we know."""
    for reference in _as_list(item.raw.get("appointment")):
        row = ctx.row_id(item=item, reference=reference, model=Appointment)
        key = ctx.target_key(item=item, reference=reference)
        target = ctx.target_raw(item=item, reference=reference) if key else None
        if target is not None and target.get("resourceType") != "Appointment":
            continue
        if row is None and target is None:
            continue
        planned = None
        if key is not None and target is not None and "#" not in key:
            planned = Item(
                key=key,
                resource_type="Appointment",
                resource_id=str(target.get("id") or key),
                raw=target,
                file=item.file,
                where=item.where,
            )
        return row, target or {}, planned
    return None


def _as_written_or_encounter_led(*, item: Item, ctx: MapContext) -> bool:
    """An appointment already imported as it is now (unchanged: no query for who else wrote
    the row), or one whose row an Encounter also describes: the encounter says what
    happened, and this record only stays a source of the row. Written here when so."""
    source = ctx.provenance.find(
        resource_type=item.resource_type, resource_id=item.resource_id, table="appointment"
    )
    if source is None or ctx.session.get(Appointment, source.row_id) is None:
        return False
    unchanged = source.content_hash == ctx.origin(item).content_hash
    if unchanged or any(
        s.resource_type == "Encounter"
        for s in ctx.provenance.sources_of(model=Appointment, row_id=source.row_id)
    ):
        ctx.write(item=item, model=Appointment, values={})
        return True
    return False


def _withdraw(*, item: Item, ctx: MapContext) -> None:
    """entered-in-error: a visit imported earlier from this record is cancelled, else skipped."""
    own = ctx.provenance.row_id(
        resource_type=item.resource_type, resource_id=item.resource_id, model=Appointment
    )
    if own is None or ctx.session.get(Appointment, own) is None:
        ctx.skip(item=item, field="status", message="entered in error at the source: not imported")
        return
    values = {"status": AppointmentStatus.CANCELLED, "cancel_reason": ENTERED_IN_ERROR}
    ctx.write(item=item, model=Appointment, values=values)


# ------------------------------------------------------------------------ values


def _checked_end(
    *,
    item: Item,
    ctx: MapContext,
    starts: datetime,
    ends: datetime | None,
    minutes: int,
    field: str,
) -> datetime:
    if ends is not None and ends > starts:
        return ends
    message = (
        f"no end time: the visit is given the default length of {minutes} minutes"
        if ends is None
        else f"the end is not after the start: the visit is given {minutes} minutes"
    )
    ctx.report(item=item, field=field, message=message)
    return starts + timedelta(minutes=minutes)


def _appointment_end(raw: Mapping[str, Any], starts: datetime) -> datetime | None:
    ends = fhir_instant(raw.get("end"))
    if ends is not None:
        return ends
    minutes = raw.get("minutesDuration")
    if isinstance(minutes, int) and minutes > 0:
        return starts + timedelta(minutes=minutes)
    return None


def _encounter_practitioners(raw: Mapping[str, Any]) -> list[Any]:
    participants = [p for p in _as_list(raw.get("participant")) if isinstance(p, Mapping)]

    def rank(participant: Mapping[str, Any]) -> int:
        codes = {
            str(c.get("code"))
            for concept in _as_list(participant.get("type"))
            if isinstance(concept, Mapping)
            for c in _as_list(concept.get("coding"))
            if isinstance(c, Mapping)
        }
        return min((LEAD_ROLES.index(c) for c in codes if c in LEAD_ROLES), default=len(LEAD_ROLES))

    ranked = sorted(participants, key=rank)
    return [p["individual"] for p in ranked if isinstance(p.get("individual"), Mapping)]


def _appointment_practitioners(raw: Mapping[str, Any]) -> list[Any]:
    found = []
    for participant in _as_list(raw.get("participant")):
        actor = participant.get("actor") if isinstance(participant, Mapping) else None
        if not isinstance(actor, Mapping):
            continue
        literal = str(actor.get("reference") or "")
        kind = str(actor.get("type") or "")
        if kind in PRACTITIONER_TYPES or any(f"{t}/" in literal for t in PRACTITIONER_TYPES):
            found.append(actor)
        elif not kind and not literal.startswith(("Patient", "Location", "Device")):
            found.append(actor)  # urn:uuid: and the like: resolved (or not) by the context
    return found


def _service(raw: Mapping[str, Any]) -> str | None:
    for name in ("serviceType", "type", "appointmentType", "specialty", "serviceCategory"):
        for concept in _as_list(raw.get(name)):
            text = concept_text(concept)
            if text:
                return text[:100]
    return None


def _class_name(raw: Mapping[str, Any]) -> str:
    visit_class = raw.get("class") if isinstance(raw.get("class"), Mapping) else {}
    assert isinstance(visit_class, Mapping)
    code = str(visit_class.get("code") or "")
    if code in CLASS_NAMES:
        return CLASS_NAMES[code]
    display = visit_class.get("display")
    return str(display)[:100] if display else "Visit"


def _billing(*, item: Item, ctx: MapContext) -> BillingTrack:
    for reference in _as_list(item.raw.get("account")):
        account = ctx.target_raw(item=item, reference=reference)
        if account is not None and account.get("coverage"):
            return BillingTrack.INSURANCE
    return BillingTrack.DIRECT_PAY


def _cancel_reason(raw: Mapping[str, Any]) -> str | None:
    text = concept_text(raw.get("cancelationReason"))
    return text[:300] if text else None


def _row_id(row: Appointment) -> int:
    assert row.id is not None
    return row.id


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


MAPPERS: dict[str, Mapper] = {"Encounter": map_encounter, "Appointment": map_appointment}
