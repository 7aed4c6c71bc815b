"""What a mapper receives: the record it maps, and the import it is part of.

A mapper is a function `map_x(*, item: Item, ctx: MapContext) -> None` that reads one FHIR
resource (as validated JSON) and writes the Steve rows it becomes through `ctx.write`, which
keeps provenance (so re-importing changes nothing and a newer version updates in place) and
counts what happened. References are turned into Steve ids with `ctx.row_id` (a resource read
in this import, or one an earlier import wrote); a required clinician that the record does not
name resolves to `ctx.practitioner_or_fallback`.

A mapper that cannot map a resource says why with `ctx.report(item=..., field=..., message=...)`
and returns: the resource is skipped and the rest of the patient is written. It never puts a
value in the message (values may be patient data).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, select

from db.models import (
    Affiliation,
    Discipline,
    Patient,
    PatientIdentifier,
    Practitioner,
    PractitionerStatus,
)
from tools.interop.fhir.mapping.values import fhir_instant, reference_id
from tools.interop.fhir.problems import Problem
from tools.interop.fhir.references import ReferenceIndex
from tools.interop.provenance import Origin, Outcome, Provenance, Written, content_hash, table_of

T = TypeVar("T", bound=SQLModel)

UNNAMED_CLINICIAN = "Clinician not named in the imported record"


@dataclass(frozen=True)
class Item:
    """One validated resource to map: its local key, type, id at the source, and JSON."""

    key: str
    resource_type: str
    resource_id: str
    raw: Mapping[str, Any]
    file: str = ""
    where: str = ""


@dataclass
class Tally:
    """What an import did, in counts only (never values)."""

    rows: Counter[tuple[str, str]] = field(default_factory=Counter)  # (table, outcome)
    mapped: Counter[str] = field(default_factory=Counter)  # resource types mapped
    unmapped: Counter[str] = field(default_factory=Counter)  # resource types with no mapper
    skipped: Counter[str] = field(default_factory=Counter)  # resources a mapper could not map
    problems: list[Problem] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.rows.update(other.rows)
        self.mapped.update(other.mapped)
        self.unmapped.update(other.unmapped)
        self.skipped.update(other.skipped)
        self.problems.extend(other.problems)

    def changed(self) -> int:
        return sum(n for (_, outcome), n in self.rows.items() if outcome != Outcome.UNCHANGED.value)


@dataclass
class MapContext:
    """One transaction's worth of mapping: a patient's records, or the shared ones."""

    session: Session
    provenance: Provenance
    index: ReferenceIndex
    raw_of: Callable[[str], Mapping[str, Any] | None]  # a read resource's JSON by local key
    patient_id: int | None = None
    data_dir: Path | None = None
    dry_run: bool = False
    tally: Tally = field(default_factory=Tally)
    # key -> table -> the row id, or the new row itself until its id is settled
    written: dict[str, dict[str, int | SQLModel]] = field(default_factory=dict)

    @property
    def source_system(self) -> str:
        return self.provenance.source_system

    # ------------------------------------------------------------------ writing

    def origin(self, item: Item) -> Origin:
        meta = item.raw.get("meta") if isinstance(item.raw.get("meta"), Mapping) else {}
        assert isinstance(meta, Mapping)
        version = meta.get("versionId")
        return Origin(
            source_system=self.source_system,
            resource_type=item.resource_type,
            resource_id=item.resource_id,
            content_hash=content_hash(item.raw),
            version_id=str(version) if version is not None else None,
            last_updated=fhir_instant(meta.get("lastUpdated")),
        )

    def write(
        self,
        *,
        item: Item,
        model: type[T],
        values: Mapping[str, Any],
        part: str = "",
        flush: bool = True,
    ) -> Written[T]:
        """Create or update the row `item` becomes in `model`'s table, with its provenance.

        `flush=False` for rows nothing in the same patient needs the id of at once (results,
        conditions): they are inserted together when the patient is settled, much faster."""
        written = self.provenance.write(
            origin=self.origin(item),
            model=model,
            values=values,
            part=part,
            patient_id=self.patient_id,
            flush=flush,
        )
        table = table_of(model)
        self.tally.rows[(table, written.outcome.value)] += 1
        if not part:
            known = written.row_id
            self.written.setdefault(item.key, {})[table] = (
                known if known is not None else written.row
            )
        return written

    def settle(self) -> None:
        """Give every row written with `flush=False` its id and its provenance."""
        self.provenance.settle()

    def report(self, *, item: Item, message: str, field: str | None = None) -> None:
        """A problem with one resource (where and which field; never a value)."""
        self.tally.problems.append(
            Problem(
                file=item.file,
                where=item.where or None,
                resource_type=item.resource_type,
                field=field,
                message=message,
            )
        )

    def skip(self, *, item: Item, message: str, field: str | None = None) -> None:
        """Report and count a resource the mapper cannot map (it writes nothing)."""
        self.report(item=item, message=message, field=field)
        self.tally.skipped[item.resource_type] += 1

    # --------------------------------------------------------------- references

    def target_key(self, *, item: Item, reference: Any) -> str | None:
        """The local key of the resource read in this import that `reference` points at."""
        if not isinstance(reference, Mapping):
            return None
        return self.index.resolve(reference=reference, source_key=item.key).target

    def target_raw(self, *, item: Item, reference: Any) -> Mapping[str, Any] | None:
        """The JSON of a referenced resource read in this import (contained ones too)."""
        key = self.target_key(item=item, reference=reference)
        if key is None:
            return None
        if "#" in key:
            container, _, inner = key.partition("#")
            raw = self.raw_of(container) if container else item.raw
            for contained in (raw or {}).get("contained") or []:
                if isinstance(contained, Mapping) and contained.get("id") == inner:
                    return contained
            return None
        return self.raw_of(key)

    def row_id(self, *, item: Item, reference: Any, model: type[SQLModel]) -> int | None:
        """The Steve row `reference` leads to in `model`'s table: a resource written in this
        import, else one an earlier import from the same source wrote, else (patients) one
        holding the identifier of an identifier-only reference."""
        table = table_of(model)
        key = self.target_key(item=item, reference=reference)
        if key is not None:
            if table in self.written.get(key, {}):
                return self._settled_id(self.written[key][table])
            resource_type = self.index.types.get(key, "")
            raw = self.raw_of(key) or {}
            resource_id = str(raw.get("id") or key)
            return self.provenance.row_id(
                resource_type=resource_type, resource_id=resource_id, model=model
            )
        literal = reference_id(reference)
        if literal is not None:
            return self.provenance.row_id(
                resource_type=literal[0], resource_id=literal[1], model=model
            )
        if model is Patient and isinstance(reference, Mapping):
            return self._patient_by_identifier(reference.get("identifier"))
        return None

    def _settled_id(self, known: int | SQLModel) -> int | None:
        if isinstance(known, int):
            return known
        if getattr(known, "id", None) is None:
            self.settle()
        value = getattr(known, "id", None)
        return value if isinstance(value, int) else None

    def practitioner_id(self, *, item: Item, reference: Any) -> int | None:
        """A Practitioner (or a PractitionerRole's practitioner) reference as a Steve id."""
        return self.row_id(item=item, reference=reference, model=Practitioner)

    def practitioner_or_fallback(self, *, item: Item, references: list[Any]) -> int:
        """The first of `references` that is a known clinician, else the patient's own
        physician, else the one inactive "clinician not named" record of this source."""
        for reference in references:
            found = self.practitioner_id(item=item, reference=reference)
            if found is not None:
                return found
        if self.patient_id is not None:
            patient = self.session.get(Patient, self.patient_id)
            if patient is not None and patient.primary_physician_id is not None:
                return patient.primary_physician_id
        return self.unnamed_clinician()

    def unnamed_clinician(self) -> int:
        item = Item(
            key="steve:unnamed-clinician",
            resource_type="Steve",
            resource_id="unnamed-clinician",
            raw={"name": UNNAMED_CLINICIAN},
        )
        found = self.provenance.row_id(
            resource_type=item.resource_type, resource_id=item.resource_id, model=Practitioner
        )
        if found is not None:
            return found
        row = self.provenance.write(
            origin=self.origin(item),
            model=Practitioner,
            values={
                "name": UNNAMED_CLINICIAN,
                "discipline": Discipline.PHYSICIAN,
                "affiliation": Affiliation.EXTERNAL,
                "organisation": self.source_system[:200],
                "status": PractitionerStatus.INACTIVE,
            },
        ).row
        assert row.id is not None
        return row.id

    def _patient_by_identifier(self, identifier: Any) -> int | None:
        if not isinstance(identifier, Mapping) or not identifier.get("value"):
            return None
        stmt = select(PatientIdentifier.patient_id).where(
            PatientIdentifier.value == str(identifier["value"])
        )
        if identifier.get("system"):
            stmt = stmt.where(PatientIdentifier.system == str(identifier["system"]))
        found = sorted(set(self.session.exec(stmt).all()))
        return found[0] if len(found) == 1 else None


Mapper = Callable[..., None]  # map_x(*, item: Item, ctx: MapContext) -> None
