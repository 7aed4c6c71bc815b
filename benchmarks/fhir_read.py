"""Benchmark: the FHIR reading layer (tools/interop/fhir) on a generated transaction bundle.

    python benchmarks/fhir_read.py                  # 100 patients, about 4,000 resources
    python benchmarks/fhir_read.py --patients 500

Generates a Synthea-shaped transaction bundle (per patient: the Patient, 4 Encounters, 3
Conditions, 25 laboratory Observations, 6 MedicationRequests with contained Medications; one
shared Practitioner and Organization; `urn:uuid:` references throughout) and the same
resources as Bulk Data NDJSON, then times, best of `--repeat`:
- the library alone: `json.load` and `model_validate` of each resource with the R4B models;
- `read_fhir` on the bundle (read, validate, index, resolve every reference, group by patient);
- the library alone keeping every model (as any reader must: the GC then costs more);
- `read_fhir` on the NDJSON files, and its peak traced memory in separate runs, with and
  without `keep_models`.
Prints resources per second and the ratio of `read_fhir` time to the library-alone time.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from tools.interop.fhir.read import read_fhir


def _urn(rng: uuid.UUID, *parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(rng, '/'.join(map(str, parts)))}"


def _patient_resources(*, n: int, ns: uuid.UUID, practitioner: str) -> list[dict[str, Any]]:
    patient = _urn(ns, "patient", n)
    out: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": patient[9:],
            "identifier": [{"system": "urn:mrn", "value": f"MRN-{n}"}],
            "name": [{"family": f"Family{n}", "given": ["Given"]}],
            "gender": "female" if n % 2 else "male",
            "birthDate": f"19{40 + n % 60:02d}-0{1 + n % 9}-1{n % 9}",
            "generalPractitioner": [{"reference": practitioner}],
        }
    ]
    subject = {"reference": patient}
    for e in range(4):
        out.append(
            {
                "resourceType": "Encounter",
                "id": _urn(ns, "enc", n, e)[9:],
                "status": "finished",
                "class": {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "AMB",
                },
                "subject": subject,
                "participant": [{"individual": {"reference": practitioner}}],
                "period": {
                    "start": f"2023-0{1 + e}-01T09:00:00Z",
                    "end": f"2023-0{1 + e}-01T09:30:00Z",
                },
            }
        )
    for c in range(3):
        out.append(
            {
                "resourceType": "Condition",
                "id": _urn(ns, "cond", n, c)[9:],
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {
                    "coding": [{"system": "http://snomed.info/sct", "code": str(44054006 + c)}]
                },
                "subject": subject,
                "encounter": {"reference": _urn(ns, "enc", n, c)},
                "onsetDateTime": "2015-06-01",
            }
        )
    for o in range(25):
        out.append(
            {
                "resourceType": "Observation",
                "id": _urn(ns, "obs", n, o)[9:],
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "laboratory",
                            }
                        ]
                    }
                ],
                "code": {
                    "coding": [{"system": "http://loinc.org", "code": f"{2000 + o}-{o % 10}"}]
                },
                "subject": subject,
                "encounter": {"reference": _urn(ns, "enc", n, o % 4)},
                "effectiveDateTime": "2023-02-01T09:10:00Z",
                "issued": "2023-02-01T12:00:00.000Z",
                "valueQuantity": {
                    "value": 5.0 + o / 10,
                    "unit": "mmol/L",
                    "system": "http://unitsofmeasure.org",
                    "code": "mmol/L",
                },
                "referenceRange": [
                    {
                        "low": {"value": 3.5, "unit": "mmol/L"},
                        "high": {"value": 5.5, "unit": "mmol/L"},
                    }
                ],
                "interpretation": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                                "code": "N",
                            }
                        ]
                    }
                ],
            }
        )
    for m in range(6):
        out.append(
            {
                "resourceType": "MedicationRequest",
                "id": _urn(ns, "med", n, m)[9:],
                "status": "active",
                "intent": "order",
                "contained": [
                    {
                        "resourceType": "Medication",
                        "id": "m",
                        "code": {
                            "coding": [
                                {
                                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                    "code": str(860975 + m),
                                }
                            ]
                        },
                    }
                ],
                "medicationReference": {"reference": "#m"},
                "subject": subject,
                "requester": {"reference": practitioner},
                "authoredOn": "2023-02-01",
                "dosageInstruction": [{"text": "one tablet twice daily"}],
            }
        )
    return out


def _write_inputs(*, folder: Path, patients: int) -> tuple[Path, Path, int]:
    ns = uuid.UUID("12345678-1234-5678-1234-567812345678")
    practitioner = _urn(ns, "practitioner")
    resources: list[dict[str, Any]] = [
        {"resourceType": "Practitioner", "id": practitioner[9:], "name": [{"family": "Doctor"}]},
        {"resourceType": "Organization", "id": _urn(ns, "org")[9:], "name": "Practice"},
    ]
    for n in range(patients):
        resources.extend(_patient_resources(n=n, ns=ns, practitioner=practitioner))
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{r['id']}",
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in resources
        ],
    }
    bundle_path = folder / "bundle.json"
    bundle_path.write_text(json.dumps(bundle))
    ndjson = folder / "ndjson"
    ndjson.mkdir()
    for r in resources:  # NDJSON references are relative, as an $export writes them
        line = json.dumps(r).replace('"urn:uuid:', '"X/')
        with (ndjson / f"{r['resourceType']}.ndjson").open("a") as handle:
            handle.write(_relative(line, r) + "\n")
    return bundle_path, ndjson, len(resources)


def _relative(line: str, resource: dict[str, Any]) -> str:
    # "X/<uuid>" placeholders become "Type/<uuid>" by looking the uuid's type up lazily:
    # the generator knows patient/practitioner/encounter targets by field name.
    for field, target in (("subject", "Patient"), ("generalPractitioner", "Practitioner")):
        line = line.replace(
            f'"{field}": {{"reference": "X/', f'"{field}": {{"reference": "{target}/'
        )
        line = line.replace(
            f'"{field}": [{{"reference": "X/', f'"{field}": [{{"reference": "{target}/'
        )
    line = line.replace('"encounter": {"reference": "X/', '"encounter": {"reference": "Encounter/')
    line = line.replace(
        '"requester": {"reference": "X/', '"requester": {"reference": "Practitioner/'
    )
    return line.replace(
        '"individual": {"reference": "X/', '"individual": {"reference": "Practitioner/'
    )


def _library_only(bundle_path: Path, *, keep: bool) -> float:
    start = time.perf_counter()
    with bundle_path.open("rb") as handle:
        data = json.load(handle)
    kept = []
    for entry in data["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        if keep:
            kept.append(model)
    return time.perf_counter() - start


def _timed_read(path: Path, *, keep_models: bool = True) -> tuple[float, int, int]:
    start = time.perf_counter()
    result = read_fhir(paths=[path], keep_models=keep_models)
    return time.perf_counter() - start, sum(result.counts.values()), len(result.problems)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bundle_path, ndjson, total = _write_inputs(folder=Path(tmp), patients=args.patients)
        size = bundle_path.stat().st_size / 1e6
        library = min(_library_only(bundle_path, keep=False) for _ in range(args.repeat))
        kept = min(_library_only(bundle_path, keep=True) for _ in range(args.repeat))
        reads = [_timed_read(bundle_path) for _ in range(args.repeat)]
        read_time = min(r[0] for r in reads)
        nd_time, nd_count, nd_problems = min(_timed_read(ndjson) for _ in range(args.repeat))
        peaks = []
        for keep in (True, False):
            tracemalloc.start()
            _timed_read(ndjson, keep_models=keep)
            peaks.append(tracemalloc.get_traced_memory()[1] / 1e6)
            tracemalloc.stop()
    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{total} resources, bundle {size:.1f} MB"
    )
    print(f"library alone (json.load + R4B model_validate): {total / library:,.0f} resources/s")
    print(f"library alone, keeping the models: {total / kept:,.0f} resources/s")
    print(
        f"read_fhir bundle: {total / read_time:,.0f} resources/s, "
        f"{read_time / library:.2f}x the library alone ({read_time / kept:.2f}x keeping models); "
        f"read {reads[0][1]}, problems {reads[0][2]}"
    )
    print(
        f"read_fhir NDJSON: {nd_count / nd_time:,.0f} resources/s, "
        f"peak {peaks[0]:.0f} MB traced keeping models, {peaks[1]:.0f} MB with "
        f"keep_models=False; problems {nd_problems}"
    )


if __name__ == "__main__":
    main()
