"""FHIR import: files in, the practice's records written, one patient per transaction.

1. Read (`read.read_fhir`): every file validated and indexed, references resolved, resources
   grouped by patient; the resources wait in a `Spool` (memory, or disk for big input).
2. The shared resources (organisations, practitioners, their roles) are written first.
3. Each patient, in one transaction (a savepoint, committed per patient): who they are is
   decided (`tools.interop.matching`: an earlier import from this source, else a shared
   identifier, else new; a name and birth date match alone is held for review with the
   patient's resources and nothing is written), then their resources in `PATIENT_ORDER`.
   Anything unexpected while mapping rolls back that patient alone and is reported: never
   half a patient.
4. Resources whose patient is not in the input (an incremental page, an NDJSON file of
   observations) are placed by their patient reference through what earlier imports wrote.

The source system (the namespace of the resources' ids, so that re-importing finds the rows
it wrote) is `source_system` when given, else the one base URL of the input's absolute full
URLs, else "local". `dry_run` does all of it in one transaction and rolls it back.
Nothing here logs or reports a value from the records: problems name files, entries, types
and fields, and the report holds counts.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from db.engine import explicit_transactions
from db.models import ImportFormat, ImportRun, Patient
from db.private_files import private_dir
from tools import audit
from tools.interop.fhir.mapping import (
    PATIENT_ORDER,
    SHARED_ORDER,
    Item,
    MapContext,
    Tally,
    mapper_for,
    order_of,
)
from tools.interop.fhir.mapping.patients import fileable, identity_of
from tools.interop.fhir.mapping.values import reference_id
from tools.interop.fhir.problems import Problem
from tools.interop.fhir.read import ReadResult, Validated, read_fhir
from tools.interop.fhir.references import references_in
from tools.interop.fhir.spool import Spool
from tools.interop.matching import MatchKind, hold_for_review, match_patient
from tools.interop.provenance import Provenance

LOCAL_SOURCE = "local"
PATIENT_REFERENCE_FIELDS = ("subject", "patient", "beneficiary", "for")


@dataclass
class ImportReport:
    """What an import read and did, in counts (never values), and its problems."""

    source_system: str
    dry_run: bool
    tally: Tally = field(default_factory=Tally)
    read: Counter[str] = field(default_factory=Counter)  # validated resources by type
    invalid: Counter[str] = field(default_factory=Counter)  # failed validation, by type
    read_problems: list[Problem] = field(default_factory=list)
    patients: Counter[str] = field(default_factory=Counter)  # written/unchanged/held/failed
    reviews: list[int] = field(default_factory=list)
    run_id: int | None = None

    @property
    def problems(self) -> list[Problem]:
        return [*self.read_problems, *self.tally.problems]

    def summary(self) -> dict[str, Any]:
        rows: dict[str, dict[str, int]] = {}
        for (table, outcome), n in sorted(self.tally.rows.items()):
            rows.setdefault(outcome, {})[table] = n
        return {
            "source_system": self.source_system,
            "dry_run": self.dry_run,
            "read": dict(sorted(self.read.items())),
            "invalid": dict(sorted(self.invalid.items())),
            "rows": rows,
            "unmapped": dict(sorted(self.tally.unmapped.items())),
            "skipped": dict(sorted(self.tally.skipped.items())),
            "patients": dict(sorted(self.patients.items())),
            "held_for_review": list(self.reviews),
            "problems": len(self.problems),
        }


def import_fhir(
    *,
    engine: Engine,
    paths: Iterable[Path],
    source_system: str | None = None,
    dry_run: bool = False,
    actor: str = "system",
    origin: str = "cli",
    data_dir: Path | None = None,
    user_id: int | None = None,
    decisions: Mapping[str, int | None] | None = None,
) -> ImportReport:
    """Import the FHIR files and directories at `paths` (see the module doc).

    `decisions` are a person's answers to held reviews: "Patient/<id>" -> the Steve patient
    it is (or None: a new patient), used instead of matching.
    """
    paths = list(paths)
    with Spool.for_paths(paths, directory=scratch_dir(data_dir)) as spool:
        sources: set[str] = set()

        def keep(validated: Validated) -> None:
            spool.put(validated.read.key, validated.raw)
            meta = validated.raw.get("meta")
            source = meta.get("source") if isinstance(meta, Mapping) else None
            if isinstance(source, str) and len(sources) < 2:
                sources.add(source)

        read = read_fhir(paths=paths, keep_models=False, on_resource=keep)
        with explicit_transactions(engine) as connection:
            report = _Writer(
                connection=connection,
                read=read,
                spool=spool,
                source_system=source_system or infer_source_system(read, meta_sources=sources),
                dry_run=dry_run,
                actor=actor,
                origin=origin,
                data_dir=data_dir,
                decisions=decisions or {},
            ).run()
    report.run_id = _record_run(engine=engine, report=report, user_id=user_id)
    return report


def import_resources(
    *,
    engine: Engine,
    resources: Iterable[Mapping[str, Any]] | Mapping[str, Any],
    source_system: str | None,
    dry_run: bool = False,
    actor: str = "system",
    origin: str = "sync",
    data_dir: Path | None = None,
    user_id: int | None = None,
    decisions: Mapping[str, int | None] | None = None,
    label: str = "resources",
) -> ImportReport:
    """Import resources already in memory (a sync page, an API body, a held review) through
    the same path as files: a Bundle is written to a scratch `.json` file (so its full URLs
    and requests resolve as they would from disk), a list of resources to a scratch NDJSON.
    Problems name `label` instead of the scratch file."""
    with tempfile.TemporaryDirectory(prefix="steve-import-", dir=scratch_dir(data_dir)) as tmp:
        if isinstance(resources, Mapping):
            path = Path(tmp) / "bundle.json"
            path.write_text(json.dumps(resources, separators=(",", ":")), encoding="utf-8")
        else:
            path = Path(tmp) / "resources.ndjson"
            with path.open("w", encoding="utf-8") as out:
                for resource in resources:
                    out.write(json.dumps(resource, separators=(",", ":")) + "\n")
        report = import_fhir(
            engine=engine,
            paths=[path],
            source_system=source_system,
            dry_run=dry_run,
            actor=actor,
            origin=origin,
            data_dir=data_dir,
            user_id=user_id,
            decisions=decisions,
        )
    scratch = str(path)
    report.read_problems = [_relabel(p, scratch, label) for p in report.read_problems]
    report.tally.problems = [_relabel(p, scratch, label) for p in report.tally.problems]
    return report


def _relabel(problem: Problem, scratch: str, label: str) -> Problem:
    return replace(problem, file=label) if problem.file == scratch else problem


def scratch_dir(data_dir: Path | None) -> Path | None:
    """Where an import's scratch files go: inside the private data directory (they hold
    patient records), made private if need be; the system's temporary directory without one."""
    if data_dir is None:
        return None
    return private_dir(data_dir / "scratch")


def held_bundle(*, read: ReadResult, spool: Spool, keys: list[str]) -> dict[str, Any]:
    """A patient's resources as a collection Bundle that keeps their full URLs, so that
    importing it again (a review decided) gives them the same keys and references."""
    entries = []
    for key in keys:
        raw = spool.get(key)
        if raw is None:
            continue
        entry: dict[str, Any] = {"resource": raw}
        full_url = read.resources[key].full_url if key in read.resources else None
        if full_url:
            entry["fullUrl"] = full_url
        entries.append(entry)
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def infer_source_system(read: ReadResult, *, meta_sources: set[str] | None = None) -> str:
    """The one base URL the input's absolute full URLs share, else the one `meta.source`
    every resource that has one names (a Steve export's `urn:steve:practice:<id>`), else
    "local"."""
    bases = set()
    for key, url in read.index.full_urls.items():
        resource_type = read.index.types.get(key, "")
        marker = f"/{resource_type}/"
        if "://" in url and marker in url:
            bases.add(url[: url.rindex(marker)])
    if len(bases) == 1:
        return bases.pop()[:300]
    if meta_sources is not None and len(meta_sources) == 1:
        return next(iter(meta_sources))[:300]
    return LOCAL_SOURCE


class _Writer:
    """One import's writing: a session, the provenance cache, the report."""

    def __init__(
        self,
        *,
        connection: Connection,
        read: ReadResult,
        spool: Spool,
        source_system: str,
        dry_run: bool,
        actor: str,
        origin: str,
        data_dir: Path | None,
        decisions: Mapping[str, int | None],
    ) -> None:
        self.read = read
        self.decisions = decisions
        self.spool = spool
        self.dry_run = dry_run
        self.actor = actor
        self.origin = origin
        self.data_dir = data_dir
        # Savepoints need real transactions: see db.engine.explicit_transactions.
        self.session = Session(bind=connection, expire_on_commit=False)
        self.placed: set[str] = set()  # unplaced resources placed through the database
        self.provenance = Provenance(session=self.session, source_system=source_system)
        self.report = ImportReport(
            source_system=source_system,
            dry_run=dry_run,
            read=Counter(read.counts),
            invalid=Counter(read.skipped),
        )

    def run(self) -> ImportReport:
        try:
            self._shared()
            for patient_key, keys in self.read.groups.patients.items():
                self._patient(patient_key=patient_key, keys=keys)
            self._unplaced()
            if self.dry_run:
                self.session.rollback()
        finally:
            self.session.close()
        self.report.read_problems = self._read_problems()
        return self.report

    # ------------------------------------------------------------------ phases

    def _shared(self) -> None:
        keys = sorted(
            self.read.groups.shared,
            key=lambda k: order_of(self.read.index.types[k], order=SHARED_ORDER),
        )
        self._transaction(keys=keys, patient_id=None, what="shared records")

    def _patient(self, *, patient_key: str, keys: list[str]) -> None:
        item = self._item(patient_key)
        if item is None:
            return
        ctx = self._context(patient_id=None)
        savepoint = self.session.begin_nested()
        try:
            self.provenance.preload(records=[self._type_id(k) for k in keys])
            if not fileable(item=item, ctx=ctx):
                savepoint.commit()
                self._skip_rest(keys=[k for k in keys if k != patient_key], ctx=ctx)
                self.report.tally.add(ctx.tally)
                return
            patient_id, held = self._who(item=item, keys=keys)
            if held:
                savepoint.commit()
                self._commit()
                return
            ctx.patient_id = patient_id
            self._map(keys=keys, ctx=ctx, order=PATIENT_ORDER)
            ctx.settle()
            self._audit(ctx=ctx)
            savepoint.commit()
            self._commit()
        except Exception as exc:  # anything unexpected: this patient not at all
            self._fail(savepoint=savepoint, item=item, exc=exc)
            return
        self.report.tally.add(ctx.tally)
        self.report.patients["written" if ctx.tally.changed() else "unchanged"] += 1

    def _unplaced(self) -> None:
        by_patient: dict[int, list[str]] = {}
        for key in self.read.groups.unplaced:
            patient_id = self._patient_in_database(key)
            if patient_id is None:
                item = self._item(key)
                if item is not None:
                    self.report.tally.skipped[item.resource_type] += 1
                continue
            by_patient.setdefault(patient_id, []).append(key)
            self.placed.add(key)
        for patient_id, keys in by_patient.items():
            self._transaction(keys=keys, patient_id=patient_id, what="records")

    # ----------------------------------------------------------------- helpers

    def _transaction(self, *, keys: list[str], patient_id: int | None, what: str) -> None:
        if not keys:
            return
        ctx = self._context(patient_id=patient_id)
        savepoint = self.session.begin_nested()
        try:
            self.provenance.preload(records=[self._type_id(k) for k in keys])
            order = PATIENT_ORDER if patient_id is not None else SHARED_ORDER
            self._map(keys=keys, ctx=ctx, order=order)
            ctx.settle()
            if patient_id is not None:
                self._audit(ctx=ctx)
            savepoint.commit()
            self._commit()
        except Exception as exc:
            item = self._item(keys[0])
            self._fail(savepoint=savepoint, item=item, exc=exc, what=what)
            return
        self.report.tally.add(ctx.tally)

    def _map(self, *, keys: list[str], ctx: MapContext, order: tuple[str, ...]) -> None:
        shared = order is SHARED_ORDER
        ranked = sorted(keys, key=lambda k: order_of(self.read.index.types[k], order=order))
        for key in ranked:
            item = self._item(key)
            if item is None:
                continue
            mapper = mapper_for(item.resource_type)
            if mapper is None:
                ctx.tally.unmapped[item.resource_type] += 1
                continue
            if shared and item.resource_type not in SHARED_ORDER:
                ctx.skip(item=item, message="not linked to any patient; skipped")
                continue
            skipped_before = ctx.tally.skipped[item.resource_type]
            mapper(item=item, ctx=ctx)
            if ctx.tally.skipped[item.resource_type] == skipped_before:
                ctx.tally.mapped[item.resource_type] += 1

    def _who(self, *, item: Item, keys: list[str]) -> tuple[int | None, bool]:
        """The Steve patient this Patient is (None: a new one), or held for review."""
        earlier = self.provenance.row_id(
            resource_type=item.resource_type, resource_id=item.resource_id, model=Patient
        )
        if earlier is not None:
            return earlier, False
        decided = f"{item.resource_type}/{item.resource_id}"
        if decided in self.decisions:
            return self.decisions[decided], False
        match = match_patient(session=self.session, identity=identity_of(item.raw))
        if match.kind == MatchKind.IDENTIFIER:
            return match.patient_id, False
        if match.kind == MatchKind.NEW:
            return None, False
        payload = held_bundle(read=self.read, spool=self.spool, keys=keys)
        review = hold_for_review(
            session=self.session,
            format=ImportFormat.FHIR,
            source_system=self.provenance.source_system,
            source_ref=f"{item.resource_type}/{item.resource_id}"[:300],
            match=match,
            payload=json.dumps(payload, separators=(",", ":")),
        )
        assert review.id is not None
        self.report.reviews.append(review.id)
        self.report.patients["held_for_review"] += 1
        return None, True

    def _skip_rest(self, *, keys: list[str], ctx: MapContext) -> None:
        for key in keys:
            item = self._item(key)
            if item is not None:
                ctx.tally.skipped[item.resource_type] += 1
        self.report.patients["not_filed"] += 1

    def _patient_in_database(self, key: str) -> int | None:
        """The Steve patient an unplaced resource's patient reference leads to, through what
        earlier imports from this source wrote (or a patient identifier)."""
        raw = self.spool.get(key)
        if raw is None:
            return None
        item = self._item(key)
        assert item is not None
        ctx = self._context(patient_id=None)
        for path, reference in references_in(resource=raw):
            if path.split("[", 1)[0].split(".", 1)[0] not in PATIENT_REFERENCE_FIELDS:
                continue
            literal = reference_id(reference)
            if literal is not None and literal[0] != "Patient":
                continue
            found = ctx.row_id(item=item, reference=reference, model=Patient)
            if found is not None:
                return found
        return None

    def _audit(self, *, ctx: MapContext) -> None:
        if ctx.patient_id is None or not ctx.tally.changed():
            return
        audit.record(
            session=self.session,
            actor=self.actor,
            action="import",
            entity="patient",
            entity_id=ctx.patient_id,
            patient_id=ctx.patient_id,
            origin=self.origin,
        )

    def _fail(
        self, *, savepoint: Any, item: Item | None, exc: Exception, what: str = "patient"
    ) -> None:
        savepoint.rollback()
        if not self.dry_run:
            self.session.rollback()
        self.provenance.clear()
        self.report.patients["failed"] += 1
        self.report.tally.problems.append(
            Problem(
                file=item.file if item else "",
                where=item.where if item else None,
                resource_type=item.resource_type if item else None,
                message=f"{what} not imported ({type(exc).__name__} while writing); nothing of"
                " it was written",
            )
        )

    def _commit(self) -> None:
        """End a patient (or the shared records): commit, then forget every object the
        session holds, so memory and each flush's work stay one patient's worth however
        large the import (the provenance cache goes too: its rows are no longer attached)."""
        if not self.dry_run:
            self.session.commit()
        self.session.expunge_all()
        self.provenance.clear()

    def _context(self, *, patient_id: int | None) -> MapContext:
        return MapContext(
            session=self.session,
            provenance=self.provenance,
            index=self.read.index,
            raw_of=self.spool.get,
            patient_id=patient_id,
            data_dir=self.data_dir,
            dry_run=self.dry_run,
        )

    def _item(self, key: str) -> Item | None:
        raw = self.spool.get(key)
        read = self.read.resources.get(key)
        if raw is None or read is None:
            return None
        return Item(
            key=key,
            resource_type=read.resource_type,
            resource_id=_resource_id(key=key, raw=raw),
            raw=raw,
            file=read.file,
            where=read.where,
        )

    def _type_id(self, key: str) -> tuple[str, str]:
        raw = self.spool.get(key) or {}
        return self.read.index.types.get(key, ""), _resource_id(key=key, raw=raw)

    def _read_problems(self) -> list[Problem]:
        """The read's problems, less the dangling patient references of resources an earlier
        import's patient was found for."""
        if not self.placed:
            return list(self.read.problems)
        where = {(r.file, r.where): k for k, r in self.read.resources.items() if k in self.placed}
        return [
            p
            for p in self.read.problems
            if not (
                p.message.startswith("dangling reference")
                and (p.field or "").split("[", 1)[0].split(".", 1)[0] in PATIENT_REFERENCE_FIELDS
                and (p.file, p.where) in where
            )
        ]


def _resource_id(*, key: str, raw: Mapping[str, Any]) -> str:
    resource_id = raw.get("id")
    return str(resource_id)[:200] if isinstance(resource_id, str) and resource_id else key[:200]


def _record_run(*, engine: Engine, report: ImportReport, user_id: int | None) -> int | None:
    if report.dry_run:
        return None
    with Session(engine) as session:
        run = ImportRun(
            format=ImportFormat.FHIR,
            source_system=report.source_system,
            finished_at=datetime.now(UTC),
            dry_run=report.dry_run,
            counts=json.dumps(report.summary(), sort_keys=True),
            problems=len(report.problems),
            user_id=user_id,
        )
        session.add(run)
        session.commit()
        return run.id
