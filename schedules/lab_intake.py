"""Lab messages taken in, one transaction per message: what `steve import hl7` and the MLLP
listener under `steve serve` both do with the bytes they receive.

Each message is read, imported (tools.interop.hl7.importing) and committed on its own, so a
bad message never takes its neighbours down and a good one is never half-written; under
`dry_run` every message is rolled back after it is counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from tools.interop.hl7.importing import ImportedMessage, MessageOutcome, import_message
from tools.interop.hl7.reading import read_message
from tools.interop.hl7.records import Problem, ReadOutcome, Severity
from tools.interop.hl7.splitting import decode_payload, split_messages


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
