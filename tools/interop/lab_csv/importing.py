"""One patient's rows of a lab's CSV file taken into the database, as an HL7 message is:
matched by identifier (the mapping's identifier system), else held whole in the review
queue (format csv, the rows as CSV text); never a new patient. The caller commits one
transaction per patient (and rolls back under --dry-run or when `keep` is false)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from db.models import ImportFormat, Patient
from tools.interop.lab_csv.reading import PatientRows
from tools.interop.lab_results.orders import NoOrderer, OrderConflict
from tools.interop.lab_results.storing import store_orders
from tools.interop.matching import Match, MatchKind, add_identifiers, hold_for_review, match_patient
from tools.interop.provenance import Provenance

ACTOR = "steve-lab-import"


@dataclass(frozen=True)
class PatientOutcome:
    """What became of one patient's rows, in counts (never values)."""

    where: str  # "rows 2-5"
    outcome: str  # stored, held, error
    counts: dict[str, int] = field(default_factory=dict)
    problem: str = ""

    @property
    def keep(self) -> bool:
        return self.outcome in ("stored", "held")


def import_patient_rows(
    *,
    session: Session,
    rows: PatientRows,
    header: list[str],
    source: str,
    lab: str,
    file_name: str,
    today: date,
    now: datetime,
) -> PatientOutcome:
    """Match the patient and store (or hold) their rows (module doc)."""
    match = match_patient(session=session, identity=rows.identity)
    if match.kind != MatchKind.IDENTIFIER or match.patient_id is None:
        held = (
            match
            if match.kind == MatchKind.REVIEW
            else Match(MatchKind.NEW, None, "no patient on file with this identifier")
        )
        hold_for_review(
            session=session,
            format=ImportFormat.CSV,
            source_system=source,
            source_ref=f"{file_name} {rows.where}"[:300],
            match=held,
            payload=_as_csv(header, rows.lines),
        )
        return PatientOutcome(rows.where, "held", {"held": 1})
    patient = session.get(Patient, match.patient_id)
    assert patient is not None
    try:
        add_identifiers(
            session=session, patient_id=match.patient_id, identifiers=rows.identity.identifiers
        )
        stored = store_orders(
            session=session,
            provenance=Provenance(session=session, source_system=source),
            patient=patient,
            orders=rows.orders(),
            lab=lab,
            today=today,
            sent_at=None,
            now=now,
            actor=ACTOR,
        )
    except OrderConflict as conflict:
        where = str(conflict).split(":", 1)[0]
        return PatientOutcome(
            rows.where, "error", problem=f"{where}: order number of another patient"
        )
    except NoOrderer:
        return PatientOutcome(rows.where, "error", problem="no practitioner to route results to")
    return PatientOutcome(rows.where, "stored", dict(stored.counts))


def _as_csv(header: list[str], lines: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(lines)
    return out.getvalue()
