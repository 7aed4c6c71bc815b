"""Benchmark: `steve import fhir` on a Bulk Data export of a large practice.

    python benchmarks/import_fhir.py                          # 10,000 patients, SQLite
    python benchmarks/import_fhir.py --patients 1000
    python benchmarks/import_fhir.py --database-url postgresql://postgres@127.0.0.1:5432/bench
    python benchmarks/import_fhir.py --input DIR               # an export you already have

Writes a Synthea-shaped Bulk Data export (NDJSON, one file per type, relative references;
per patient the Patient, 4 Encounters, 3 Conditions, 25 laboratory Observations in 4
DiagnosticReports (one per encounter, as Synthea groups lab panels), 6 MedicationRequests
with contained Medications, generated one patient at a time by `fhir_read.py`'s
generator) unless `--input` names one. Then, each in its own process so its peak memory (max
RSS) is its own:
- the library alone: `json.loads` and `model_validate` of every line with the R4B models
  (what any importer must pay), streamed;
- `import_fhir` into an empty, migrated database (SQLite file in a temp dir by default);
- the same import again (everything unchanged: the cost of re-importing).
Prints resources per second, the ratio of import time to the library-alone time, and the
peak RSS of each process next to the size of the input.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from fhir_read import _patient_resources, _relative, _urn  # beside this module

ROOT = Path(__file__).resolve().parents[1]


def write_export(*, folder: Path, patients: int) -> int:
    """A Bulk Data export of `patients` patients, written one patient at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    ns = uuid.UUID("12345678-1234-5678-1234-567812345678")
    practitioner = _urn(ns, "practitioner")
    handles: dict[str, object] = {}
    count = 0

    def emit(resource: dict) -> None:
        nonlocal count
        kind = resource["resourceType"]
        if kind not in handles:
            handles[kind] = (folder / f"{kind}.ndjson").open("w", encoding="utf-8")
        line = json.dumps(resource).replace('"urn:uuid:', '"X/')
        handles[kind].write(_relative(line, resource) + "\n")  # type: ignore[attr-defined]
        count += 1

    emit({"resourceType": "Practitioner", "id": practitioner[9:], "name": [{"family": "Doc"}]})
    emit({"resourceType": "Organization", "id": _urn(ns, "org")[9:], "name": "Practice"})
    for n in range(patients):
        items = _patient_resources(n=n, ns=ns, practitioner=practitioner)
        for item in items:
            emit(item)
        for report in _reports(items):
            emit(report)
    for handle in handles.values():
        handle.close()  # type: ignore[attr-defined]
    return count


def _reports(items: list[dict]) -> list[dict]:
    """A DiagnosticReport per encounter's laboratory panel, listing its Observations (as
    Synthea groups lab results); references in the `X/<uuid>` form `_relative` rewrites."""
    by_encounter: dict[str, list[dict]] = {}
    for item in items:
        if item["resourceType"] == "Observation":
            by_encounter.setdefault(item["encounter"]["reference"], []).append(item)
    reports = []
    for n, (encounter, results) in enumerate(sorted(by_encounter.items())):
        first = results[0]
        reports.append(
            {
                "resourceType": "DiagnosticReport",
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{first['id']}/report")),
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                                "code": "LAB",
                            }
                        ]
                    }
                ],
                "code": {"text": f"Laboratory panel {n + 1}"},
                "subject": first["subject"],
                "encounter": {"reference": encounter},
                "effectiveDateTime": first["effectiveDateTime"],
                "issued": first["issued"],
                "result": [{"reference": f"Observation/{r['id']}"} for r in results],
            }
        )
    return reports


def phase_library(folder: Path) -> dict:
    from fhir.resources.R4B import get_fhir_model_class

    start, n = time.perf_counter(), 0
    for path in sorted(folder.glob("*.ndjson")):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    raw = json.loads(line)
                    get_fhir_model_class(raw["resourceType"]).model_validate(raw)
                    n += 1
    return {"seconds": time.perf_counter() - start, "resources": n}


def phase_import(folder: Path, url: str) -> dict:
    from db.engine import make_engine
    from tools.interop.fhir.importing import import_fhir

    engine = make_engine(url)
    start = time.perf_counter()
    report = import_fhir(engine=engine, paths=[folder], source_system="bench")
    seconds = time.perf_counter() - start
    engine.dispose()
    summary = report.summary()
    return {
        "seconds": seconds,
        "resources": sum(summary["read"].values()),
        "changed": report.tally.changed(),
        "patients": summary["patients"],
        "unmapped": summary["unmapped"],
        "problems": summary["problems"],
    }


def _child(phase: str, folder: Path, url: str) -> dict:
    """Run one phase in a fresh process; its result and its own peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--input", str(folder), "--database-url", url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}"},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["peak_rss_mb"] = round(peak / 1024, 1) if peak > before else None
    return result


def _prepare(url: str) -> None:
    from db.engine import make_engine, migrate, schema_revision

    engine = make_engine(url)
    if schema_revision(engine) is not None:
        raise SystemExit(f"the database at {url} is not empty")
    migrate(engine)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--input", type=Path, help="an NDJSON export to import instead")
    parser.add_argument("--database-url", help="an empty database (default: SQLite in a temp dir)")
    parser.add_argument("--phase", choices=["library", "import"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        run = phase_library if args.phase == "library" else phase_import
        result = run(args.input) if args.phase == "library" else run(args.input, args.database_url)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="steve-bench-import-") as tmp:
        folder = args.input or Path(tmp) / "export"
        if args.input is None:
            start = time.perf_counter()
            written = write_export(folder=folder, patients=args.patients)
            print(
                f"wrote {written:,} resources for {args.patients:,} patients"
                f" in {time.perf_counter() - start:.1f} s"
            )
        size = sum(p.stat().st_size for p in folder.glob("*.ndjson"))
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        _prepare(url)
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python"
            f" {platform.python_version()}; input {size / 1e6:.1f} MB NDJSON;"
            f" database {url.split('://')[0]}"
        )
        library = _child("library", folder, url)
        first = _child("import", folder, url)
        again = _child("import", folder, url)
        n = library["resources"]
        print(
            f"library alone (json + R4B validate): {library['seconds']:.1f} s,"
            f" {n / library['seconds']:,.0f} resources/s, peak RSS {library['peak_rss_mb']} MB"
        )
        for label, result in (("import", first), ("re-import (unchanged)", again)):
            rate = result["resources"] / result["seconds"]
            ratio = result["seconds"] / library["seconds"]
            print(
                f"{label}: {result['seconds']:.1f} s, {rate:,.0f} resources/s,"
                f" {ratio:.2f}x the library alone,"
                f" {result['changed']:,} rows changed, patients {result['patients']},"
                f" unmapped {result['unmapped']}, problems {result['problems']},"
                f" peak RSS {result['peak_rss_mb']} MB"
            )


if __name__ == "__main__":
    main()
