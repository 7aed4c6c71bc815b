"""A small practice for the lab-import tests, and HL7 fixtures taken in as the service does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from db.models import PatientIdentifier
from schedules.lab_intake import LabIntake, take_messages
from tests.support import factories
from tools.interop.hl7.importing import ImportedMessage

HL7 = Path(__file__).resolve().parents[1] / "fixtures" / "hl7"
LABS = Path(__file__).resolve().parents[1] / "fixtures" / "labs"
ZONE = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class LabPractice:
    physician_id: int  # Patricia Primary, OBR-16 of the fixtures
    other_physician_id: int  # Eve's primary physician
    patient_id: int  # Eve Everywoman, EHR MR 555-44-4444


def lab_practice(engine: Engine) -> LabPractice:
    """Two physicians and the fixtures' patient, with her EHR identifier, committed."""
    with Session(engine, expire_on_commit=False) as session:
        ordering = factories.practitioner(session, name="Patricia Primary", title="Dr")
        primary = factories.practitioner(session, name="Helena Marsh", title="Dr")
        eve = factories.patient(
            session, given="Eve", family="Everywoman", born=date(1962, 3, 20), physician=primary
        )
        session.add(
            PatientIdentifier(patient_id=eve.id or 0, system="EHR", value="555-44-4444", kind="MR")
        )
        session.commit()
        return LabPractice(ordering.id or 0, primary.id or 0, eve.id or 0)


def take(
    engine: Engine, name: str, *, now: datetime = NOW, dry_run: bool = False, **intake: str
) -> list[ImportedMessage]:
    """The fixture file `name` taken in, one transaction per message."""
    data = (HL7 / name).read_bytes()
    return take_messages(
        intake=LabIntake(engine=engine, zone=ZONE, **intake),  # type: ignore[arg-type]
        data=data,
        now=now,
        dry_run=dry_run,
    )


def exchange(address: tuple[str, int], chunks: list[bytes], *, answers: int = 1) -> list[str]:
    """Send `chunks` on one loopback connection (as a lab's engine would) and read `answers`
    framed ACKs back, as ER7 text."""
    import socket

    from tools.interop.hl7.mllp import MllpDecoder

    decoder = MllpDecoder()
    got: list[bytes] = []
    with socket.create_connection(address, timeout=20) as sock:
        for chunk in chunks:
            sock.sendall(chunk)
        while len(got) < answers:
            data = sock.recv(65536)
            if not data:
                break
            got.extend(decoder.feed(data))
    return [g.decode("utf-8") for g in got]


def msa(ack: str) -> list[str]:
    """MSA's fields of an ACK (MSA-1 first)."""
    line = next(seg for seg in ack.split("\r") if seg.startswith("MSA|"))
    return line.split("|")[1:]
