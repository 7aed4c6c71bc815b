"""Lab messages taken in, one transaction per message: what `steve import hl7` and the MLLP
listener under `steve serve` both do with the bytes they receive.

Each message is read, imported (tools.interop.hl7.importing) and committed on its own, so a
bad message never takes its neighbours down and a good one is never half-written; under
`dry_run` every message is rolled back after it is counted. A lab's CSV file goes the same
way, one transaction per patient (`take_csv`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from tools.interop.hl7.importing import ImportedMessage, MessageOutcome, import_message
from tools.interop.hl7.reading import read_message
from tools.interop.hl7.records import Problem, ReadOutcome, Severity
from tools.interop.hl7.splitting import decode_payload, split_messages
from tools.interop.lab_csv.importing import PatientOutcome, import_patient_rows
from tools.interop.lab_csv.mapping import LabCsvMapping
from tools.interop.lab_csv.reading import RowProblem, read_csv


@dataclass(frozen=True)
class LabIntake:
    """Where lab messages go and as whom they are filed."""

    engine: Engine
    zone: ZoneInfo
    source: str | None = None  # overrides MSH-4 as the source system
    lab: str | None = None  # the laboratory's name on new orders (default: the source)


def take_messages(
    *, intake: LabIntake, data: bytes, now: datetime, dry_run: bool = False
) -> list[ImportedMessage]:
    """Every message in `data` (a file or an MLLP payload) imported, each committed alone."""
    groups = split_messages(text=decode_payload(data=data))
    if not groups:
        return [_empty()]
    return [
        take_message(
            intake=intake,
            segments=segments,
            index=index,
            now=now,
            dry_run=dry_run,
        )
        for index, segments in enumerate(groups, start=1)
    ]


def take_message(
    *, intake: LabIntake, segments: list[str], index: int, now: datetime, dry_run: bool = False
) -> ImportedMessage:
    """One message (its segments) read and imported in its own transaction."""
    read = read_message(segments=segments, index=index)
    with Session(intake.engine, expire_on_commit=False) as session:
        try:
            imported = import_message(
                session=session,
                read=read,
                raw="\r".join(segments) + "\r",
                today=now.astimezone(intake.zone).date(),
                now=now,
                source=intake.source,
                lab=intake.lab,
            )
        except BaseException:
            session.rollback()
            raise
        if imported.keep and not dry_run:
            session.commit()
        else:
            session.rollback()
        return imported


def _empty() -> ImportedMessage:
    problem = Problem(Severity.REJECT, "MSH", 0, None, 100, "no message in the input")
    read = ReadOutcome(index=1, header=None, message=None, problems=(problem,))
    return ImportedMessage(1, "", MessageOutcome.REJECTED, problems=(problem,), read=read)


@dataclass(frozen=True)
class CsvIntake:
    """A CSV file taken in: its rows' problems and what became of each patient's rows."""

    rows: int
    problems: list[RowProblem]
    patients: list[PatientOutcome]
    skipped: list[str]  # patients left out whole because one of their rows is bad ("rows 2-5")


def take_csv(
    *,
    intake: LabIntake,
    path: Path,
    mapping: LabCsvMapping,
    now: datetime,
    dry_run: bool = False,
) -> CsvIntake:
    """Every patient's rows of a lab's CSV file imported, each patient committed alone."""
    read = read_csv(path=path, mapping=mapping)
    source = intake.source or mapping.source or mapping.lab_name or path.stem
    lab = intake.lab or mapping.lab_name or source
    outcomes: list[PatientOutcome] = []
    skipped: list[str] = []
    for rows in read.patients:
        if rows.bad:
            skipped.append(rows.where)
            continue
        with Session(intake.engine, expire_on_commit=False) as session:
            try:
                outcome = import_patient_rows(
                    session=session,
                    rows=rows,
                    header=read.header,
                    source=source,
                    lab=lab,
                    file_name=path.name,
                    today=now.astimezone(intake.zone).date(),
                    now=now,
                )
            except BaseException:
                session.rollback()
                raise
            if outcome.keep and not dry_run:
                session.commit()
            else:
                session.rollback()
        outcomes.append(outcome)
    return CsvIntake(read.rows, read.problems, outcomes, skipped)
