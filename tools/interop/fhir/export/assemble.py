"""Which resources a patient and the practice become, in the order they are written.

A patient's resources: the Patient first, then what refers to it (conditions, allergies,
medications, supplements, vital signs, lab orders with their reports and results,
programmes, referrals, tasks, messages, appointments, notes, documents, intake forms).
The practice's: every Practitioner with its PractitionerRole, then the Organizations their
rows name. Each comes out as JSON, validated by the caller.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from db.models import LabResult, Practitioner, ProgrammeElement
from tools.interop.fhir.export import care, clinical, documents, labs, people
from tools.interop.fhir.export.rows import Origins, PatientRows

Resource = dict[str, Any]


def _origins(origins: Origins, table: str, row_id: int | None) -> list[tuple[str, str]]:
    return origins.get((table, row_id or 0), [])


def patient_resources(
    rows: PatientRows, *, practice: str, origins: Origins, documents_dir: Path | None
) -> Iterator[Resource]:
    """Every resource of one patient, the Patient first (`practice`: the practice's id)."""
    p = rows.patient
    yield people.patient_resource(
        p,
        practice=practice,
        shared_ids=rows.identifiers,
        origins=_origins(origins, "patient", p.id),
    )
    for c in rows.conditions:
        yield clinical.condition_resource(c, origins=_origins(origins, "patient_condition", c.id))
    for a in rows.allergies:
        yield clinical.allergy_resource(a, origins=_origins(origins, "patient_allergy", a.id))
    for m in rows.medications:
        yield clinical.medication_resource(m, origins=_origins(origins, "patient_medication", m.id))
    for s in rows.supplements:
        yield clinical.supplement_resource(s, origins=_origins(origins, "supplement_item", s.id))
    for o in rows.observations:
        yield clinical.observation_resource(
            o, origins=_origins(origins, "patient_observation", o.id)
        )
    yield from _labs(rows, origins)
    yield from _care(rows, origins)
    yield from _documents(rows, origins, documents_dir)


def _labs(rows: PatientRows, origins: Origins) -> Iterator[Resource]:
    results: dict[int, list[LabResult]] = defaultdict(list)
    for r in rows.lab_results:
        results[r.order_id].append(r)
    for order in rows.lab_orders:
        yield labs.order_resource(order, origins=_origins(origins, "lab_order", order.id))
        mine = results.get(order.id or 0, [])
        report = labs.report_resource(order, mine)
        if report is not None:
            yield report
        for r in mine:
            yield labs.result_resource(r, origins=_origins(origins, "lab_result", r.id))


def _care(rows: PatientRows, origins: Origins) -> Iterator[Resource]:
    elements: dict[int, list[ProgrammeElement]] = defaultdict(list)
    for e in rows.elements:
        elements[e.programme_id].append(e)
    for p in rows.programmes:
        yield care.careplan_resource(
            p, elements.get(p.id or 0, []), origins=_origins(origins, "care_programme", p.id)
        )
    for r in rows.referrals:
        yield care.referral_resource(r, origins=_origins(origins, "referral", r.id))
    for t in rows.tasks:
        yield care.task_resource(t, origins=_origins(origins, "task", t.id))
    for m in rows.messages:
        yield care.communication_resource(m, origins=_origins(origins, "care_message", m.id))
    for a in rows.appointments:
        yield care.appointment_resource(a, origins=_origins(origins, "appointment", a.id))


def _documents(
    rows: PatientRows, origins: Origins, documents_dir: Path | None
) -> Iterator[Resource]:
    for n in rows.notes:
        yield documents.note_resource(n, origins=_origins(origins, "clinical_note", n.id))
    for g in rows.generated:
        yield documents.generated_resource(g, origins=_origins(origins, "generated_document", g.id))
    for d in rows.documents:
        yield documents.document_resource(
            d, origins=_origins(origins, "patient_document", d.id), documents_dir=documents_dir
        )
    for f in rows.intake_forms:
        yield documents.intake_resource(f, origins=_origins(origins, "intake_form", f.id))


def practice_resources(*, session: Session, origins: Origins) -> Iterator[Resource]:
    """Every practitioner (with its role), then the organisations they work for."""
    organisations: dict[str, str] = {}
    for person in session.exec(select(Practitioner).order_by(col(Practitioner.id))).all():
        yield from people.practitioner_resources(
            person, origins=_origins(origins, "practitioner", person.id)
        )
        if person.organisation:
            organisations.setdefault(
                people.organisation_id(person.organisation), person.organisation
            )
    for name in organisations.values():
        yield people.organisation_resource(name)
