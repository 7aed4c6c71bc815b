"""Benchmark: HL7 v2 lab results into the practice database (`steve import hl7`'s path).

    python benchmarks/import_hl7.py                      # 2,000 messages, SQLite in a temp dir
    python benchmarks/import_hl7.py --messages 5000 --results 8
    python benchmarks/import_hl7.py --database-url postgresql://postgres@127.0.0.1:5432/bench

Builds a practice of `--patients` patients (each with an EHR identifier) and one physician,
and a file of `--messages` ORU^R01 v2.5.1 messages (one OBR, `--results` NM OBX each, a
third of them flagged), then times, on one process:
- reading alone (hl7apy parsing every segment, into the dataclasses);
- the import: each message matched, stored and committed in its own transaction
  (schedules.lab_intake.take_messages, as the CLI and the MLLP listener do), with orders,
  results, provenance and a review task per order;
- the same file again (every result unchanged: the re-send path).
Prints messages and results per second, and the import / read-alone ratio.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from db.engine import make_engine, migrate
from db.models import PatientCreate, PatientIdentifier, PractitionerCreate
from schedules.lab_intake import LabIntake, take_messages
from tools.interop.hl7.reading import read_payload
from tools.registry import create_patient, create_practitioner

ANALYTES = [
    ("2345-7", "Glucose", "mg/dL", "70-99"),
    ("2160-0", "Creatinine", "mg/dL", "0.6-1.1"),
    ("2951-2", "Sodium", "mmol/L", "135-145"),
    ("2823-3", "Potassium", "mmol/L", "3.5-5.1"),
    ("1989-3", "Vitamin D 25-OH", "ng/mL", "30-100"),
    ("2276-4", "Ferritin", "ng/mL", "15-150"),
    ("3016-3", "TSH", "mIU/L", "0.40-4.00"),
    ("4548-4", "Hemoglobin A1c", "%", "4.0-5.6"),
]


def _practice(engine, patients: int) -> None:
    with Session(engine) as session:
        doc = create_practitioner(
            session=session,
            data=PractitionerCreate(name="Patricia Primary", discipline="physician"),
        )
        for n in range(patients):
            p = create_patient(
                session=session,
                data=PatientCreate(
                    given_name="Given",
                    family_name=f"Family{n}",
                    date_of_birth=date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                    primary_physician_id=doc.id,
                ),
            )
            session.add(PatientIdentifier(patient_id=p.id or 0, system="EHR", value=f"MRN-{n}"))
            if n % 500 == 499:
                session.flush()
        session.commit()


def _messages(count: int, patients: int, results: int) -> bytes:
    out = []
    for m in range(count):
        segments = [
            "MSH|^~\\&|BENCH LAB|BENCHLAB|STEVE|CLINIC|20261101080000||ORU^R01^ORU_R01|"
            f"B-{m}|P|2.5.1",
            f"PID|||MRN-{m % patients}^^^EHR^MR||FAMILY{m % patients}^GIVEN||19700101|F",
            f"OBR|1|P-{m}|F-{m}|24323-8^Metabolic panel^LN|||20261031080000"
            "|||||||||1^PRIMARY^PATRICIA||||||20261101075500||CH|F",
        ]
        for r in range(results):
            code, name, unit, ref = ANALYTES[r % len(ANALYTES)]
            flag = "H" if (m + r) % 3 == 0 else "N"
            segments.append(
                f"OBX|{r + 1}|NM|{code}^{name}^LN|{r // len(ANALYTES) or ''}|{50 + (m + r) % 70}"
                f"|{unit}^^UCUM|{ref}|{flag}|||F"
            )
        out.append("\r".join(segments) + "\r")
    return "".join(out).encode("ascii")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--results", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        migrate(engine)
        _practice(engine, args.patients)
        data = _messages(args.messages, args.patients, args.results)
        started = time.perf_counter()
        read = read_payload(data=data)
        read_s = time.perf_counter() - started
        assert all(r.message is not None for r in read), "a generated message did not read"
        intake = LabIntake(engine=engine, zone=ZoneInfo("Europe/London"), lab="Bench Lab")
        now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
        started = time.perf_counter()
        first = take_messages(intake=intake, data=data, now=now)
        import_s = time.perf_counter() - started
        started = time.perf_counter()
        again = take_messages(intake=intake, data=data, now=now)
        again_s = time.perf_counter() - started
        engine.dispose()
    stored = sum(1 for m in first if m.outcome.value == "stored")
    unchanged = sum(m.counts.get("results unchanged", 0) for m in again)
    results = args.messages * args.results
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{platform.python_version()} on {platform.machine()}, {backend}")
    print(
        f"{args.messages} messages x {args.results} results ({results} results), "
        f"{args.patients} patients; {len(data) / 1e6:.1f} MB"
    )
    print(f"read alone:   {args.messages / read_s:8.0f} messages/s ({read_s:.2f} s)")
    print(
        f"import:       {args.messages / import_s:8.0f} messages/s, "
        f"{results / import_s:.0f} results/s ({import_s:.2f} s; {stored} stored)"
    )
    print(
        f"re-import:    {args.messages / again_s:8.0f} messages/s ({again_s:.2f} s; "
        f"{unchanged} results unchanged)"
    )
    print(f"import / read alone: {import_s / read_s:.1f}x")


if __name__ == "__main__":
    main()
