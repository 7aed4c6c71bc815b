"""Imported rows and the outside records they came from: written once, updated in place.

Every row an import writes gets a `RecordSource` naming the source system, the record's type,
id and version there, and a hash of the record as received. Writing the same record again
finds the row through it:
- same content -> `unchanged` (nothing written: re-importing a file changes nothing);
- different content, not older -> `updated` in place (a newer version of the record);
- an older version than the one stored (by `meta.versionId` when both are numbers, else by
  `meta.lastUpdated`) -> `stale`, nothing written;
- the row was deleted in Steve since: it stays deleted while the record is unchanged (a
  clinician's deletion is not undone by the next import), and a newer version of the record
  writes it again (`created`).

New rows may be written without a flush each (`flush=False`): their sources wait until
`settle()`, which flushes them all at once (one multi-row INSERT per table) and then the
sources; the importer settles before each patient's transaction commits.

One record may become several rows (a CarePlan's activities, a report's results): `part`
tells them apart ("" for the main row). `Provenance` caches what it has read, so a patient's
records cost one query to look up (`preload`), not one per row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlmodel import Session, SQLModel, col, select

from db.engine import as_utc, in_batches, utcnow
from db.models import RecordSource

T = TypeVar("T", bound=SQLModel)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    STALE = "stale"


@dataclass(frozen=True)
class Origin:
    """Where a record came from, as the source names it."""

    source_system: str
    resource_type: str
    resource_id: str
    content_hash: str
    version_id: str | None = None
    last_updated: datetime | None = None


class Written(Generic[T]):
    """A write's outcome and its row; an unchanged row is loaded only when asked for."""

    def __init__(
        self,
        *,
        outcome: Outcome,
        row: T | None = None,
        session: Session | None = None,
        model: type[T] | None = None,
        row_id: int | None = None,
    ) -> None:
        self.outcome = outcome
        self._row, self._session, self._model, self._row_id = row, session, model, row_id

    @property
    def row(self) -> T:
        if self._row is None:
            assert self._session is not None and self._model is not None
            found = self._session.get(self._model, self._row_id)
            if found is None:
                raise LookupError(f"{table_of(self._model)} row is gone")
            self._row = found
        return self._row

    @property
    def row_id(self) -> int | None:
        """The row's id (None for a new row not flushed yet: `Provenance.settle` gives it)."""
        if self._row is not None:
            value = getattr(self._row, "id", None)
            return value if isinstance(value, int) else None
        return self._row_id


def content_hash(raw: Mapping[str, Any]) -> str:
    """sha256 of the record's content without its `meta` (which a server rewrites freely)."""
    body = {k: v for k, v in raw.items() if k != "meta"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def table_of(model: type[SQLModel]) -> str:
    return str(model.__tablename__)


def is_older(*, incoming: Origin, stored: RecordSource) -> bool:
    """Is the incoming record an older version than the one the row was written from?"""
    versions = (incoming.version_id or "", stored.version_id or "")
    if all(v.isdigit() for v in versions):
        return int(versions[0]) < int(versions[1])
    if incoming.last_updated is not None and stored.last_updated is not None:
        return as_utc(incoming.last_updated) < as_utc(stored.last_updated)
    return False


_Key = tuple[str, str, str, str]  # resource type, resource id, table, part


class Provenance:
    """The rows one source system's records became, for one session."""

    def __init__(self, *, session: Session, source_system: str) -> None:
        self.session = session
        self.source_system = source_system
        self._known: dict[_Key, RecordSource | None] = {}
        self._loaded: set[tuple[str, str]] = set()
        self._pending: list[tuple[RecordSource, Origin, SQLModel, int | None]] = []

    def preload(self, *, records: Iterable[tuple[str, str]]) -> None:
        """Read the sources of these (resource type, id) records in as few queries as can be."""
        wanted = sorted({r for r in records if r not in self._loaded})
        by_type: dict[str, list[str]] = {}
        for resource_type, resource_id in wanted:
            by_type.setdefault(resource_type, []).append(resource_id)
        for resource_type, ids in by_type.items():
            for batch in in_batches(ids):
                stmt = select(RecordSource).where(
                    RecordSource.source_system == self.source_system,
                    RecordSource.resource_type == resource_type,
                    col(RecordSource.resource_id).in_(batch),
                )
                with self.session.no_autoflush:  # rows waiting for `settle` stay waiting
                    found = list(self.session.exec(stmt))
                for source in found:
                    key = (source.resource_type, source.resource_id, source.table_name, source.part)
                    self._known[key] = source
        self._loaded.update(wanted)

    def find(
        self, *, resource_type: str, resource_id: str, table: str, part: str = ""
    ) -> RecordSource | None:
        """The source row of one record's row in `table`, or None when never imported."""
        key = (resource_type, resource_id, table, part)
        if key in self._known:
            return self._known[key]
        if (resource_type, resource_id) in self._loaded:
            return None
        self.preload(records=[(resource_type, resource_id)])
        return self._known.get(key)

    def row_id(
        self, *, resource_type: str, resource_id: str, model: type[SQLModel], part: str = ""
    ) -> int | None:
        """The id of the row a record became in `model`'s table (an earlier import's too)."""
        source = self.find(
            resource_type=resource_type, resource_id=resource_id, table=table_of(model), part=part
        )
        return None if source is None else source.row_id

    def parts(self, *, resource_type: str, resource_id: str, table: str) -> list[RecordSource]:
        """Every part of one record written to `table` (to remove parts no longer sent)."""
        self.find(resource_type=resource_type, resource_id=resource_id, table=table)
        return [
            s
            for (rtype, rid, tname, _), s in self._known.items()
            if s is not None and (rtype, rid, tname) == (resource_type, resource_id, table)
        ]

    def write(
        self,
        *,
        origin: Origin,
        model: type[T],
        values: Mapping[str, Any],
        part: str = "",
        patient_id: int | None = None,
        flush: bool = True,
    ) -> Written[T]:
        """Create or update the row `origin` becomes in `model`'s table (see the module doc).
        With `flush=False` a new row gets its id at the next `settle()` (or flush)."""
        table = table_of(model)
        source = self.find(
            resource_type=origin.resource_type,
            resource_id=origin.resource_id,
            table=table,
            part=part,
        )
        if source is not None and source.content_hash == origin.content_hash:
            return Written(
                outcome=Outcome.UNCHANGED, session=self.session, model=model, row_id=source.row_id
            )
        row = None if source is None else self.session.get(model, source.row_id)
        if source is not None and row is not None:
            if is_older(incoming=origin, stored=source):
                return Written(outcome=Outcome.STALE, row=row)
            for name, value in values.items():
                setattr(row, name, value)
            self.session.add(row)
            self._stamp(source=source, origin=origin, row_id=_id(row), patient_id=patient_id)
            return Written(outcome=Outcome.UPDATED, row=row)
        row = model.model_validate(dict(values))
        self.session.add(row)
        if source is None:
            source = RecordSource(
                source_system=self.source_system,
                resource_type=origin.resource_type,
                resource_id=origin.resource_id,
                content_hash=origin.content_hash,
                table_name=table,
                row_id=0,
                part=part,
            )
            self._known[(origin.resource_type, origin.resource_id, table, part)] = source
        if flush:
            self.session.flush()
            self._stamp(source=source, origin=origin, row_id=_id(row), patient_id=patient_id)
        else:
            self._pending.append((source, origin, row, patient_id))
        return Written(outcome=Outcome.CREATED, row=row)

    def settle(self) -> None:
        """Flush the rows written with `flush=False` and record their sources."""
        if not self._pending:
            return
        self.session.flush()
        for source, origin, row, patient_id in self._pending:
            self._stamp(source=source, origin=origin, row_id=_id(row), patient_id=patient_id)
        self._pending.clear()
        self.session.flush()

    def attach(
        self, *, origin: Origin, table: str, row_id: int, part: str = "", patient_id: int | None
    ) -> RecordSource:
        """Say that an existing row (matched, not created) is what `origin` describes; the
        next `write` of the same origin then updates that row. The hash is left empty so
        that write does not find the row unchanged."""
        key = (origin.resource_type, origin.resource_id, table, part)
        source = self.find(
            resource_type=origin.resource_type,
            resource_id=origin.resource_id,
            table=table,
            part=part,
        )
        if source is None:
            source = RecordSource(
                source_system=self.source_system,
                resource_type=origin.resource_type,
                resource_id=origin.resource_id,
                content_hash="",
                table_name=table,
                row_id=row_id,
                part=part,
            )
            self._known[key] = source
        source.row_id = row_id
        source.content_hash = ""
        source.patient_id = patient_id
        self.session.add(source)
        self.session.flush()
        return source

    def clear(self) -> None:
        """Forget what was read (after a rollback, the cache may name rows that are gone)."""
        self._known.clear()
        self._loaded.clear()
        self._pending.clear()

    def forget(self, *, source: RecordSource) -> None:
        """Delete a part's source row (its Steve row is the caller's to delete)."""
        self._known[(source.resource_type, source.resource_id, source.table_name, source.part)] = (
            None
        )
        self.session.delete(source)

    def _stamp(
        self, *, source: RecordSource, origin: Origin, row_id: int, patient_id: int | None
    ) -> None:
        source.row_id = row_id
        source.content_hash = origin.content_hash
        source.version_id = origin.version_id
        source.last_updated = origin.last_updated
        source.patient_id = patient_id
        source.updated_at = utcnow()
        self.session.add(source)


def _id(row: SQLModel) -> int:
    value = getattr(row, "id", None)
    if not isinstance(value, int):
        raise TypeError(f"{type(row).__name__} has no integer id after flush")
    return value
