"""`POST /api/import/fhir`: admins only, a Bundle or NDJSON body, clear 4xx for bad bodies."""

from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlmodel import Session, select

from db.models import Patient
from tests.support.api import build_team, client

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": "http://hospital.example.org/mrn", "value": "77"}],
    "name": [{"family": "Hopper", "given": ["Grace"]}],
    "birthDate": "1906-12-09",
}
BUNDLE = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": PATIENT}]}


def test_admin_imports_a_bundle_and_ndjson(engine: Engine, db_url: str) -> None:
    team = build_team(engine, roles=("admin",))
    c = client(engine, db_url)
    r = c.post("/api/import/fhir?source=ehr", json=BUNDLE, headers=team.auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["rows"]["created"]["patient"] == 1 and r.json()["run_id"]
    ndjson = json.dumps({**PATIENT, "telecom": [{"system": "phone", "value": "5"}]})
    r = c.post(
        "/api/import/fhir?source=ehr",
        content=ndjson + "\n",
        headers={**team.auth("admin"), "Content-Type": "application/fhir+ndjson"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["rows"]["updated"]["patient"] == 1
    with Session(engine) as session:
        hopper = session.exec(select(Patient).where(Patient.family_name == "Hopper")).one()
        assert hopper.phone == "5"


def test_bad_bodies_are_400_naming_what_is_wrong(engine: Engine, db_url: str) -> None:
    team = build_team(engine, roles=("admin",))
    c = client(engine, db_url)
    auth = team.auth("admin")
    not_json = c.post("/api/import/fhir", content=b"{nope", headers=auth)
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]["message"]
    patient = c.post("/api/import/fhir", json=PATIENT, headers=auth)
    assert patient.status_code == 400 and "not a FHIR Bundle" in patient.text
    bad_line = c.post(
        "/api/import/fhir",
        content=b'{"resourceType": "Patient"}\nnot json\n',
        headers={**auth, "Content-Type": "application/fhir+ndjson"},
    )
    assert bad_line.status_code == 400 and "line 2" in bad_line.text


def test_problems_name_the_request_body_not_a_scratch_file(engine: Engine, db_url: str) -> None:
    team = build_team(engine, roles=("admin",))
    broken = {**PATIENT, "birthDate": "1906-13-99"}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": broken}]}
    r = client(engine, db_url).post("/api/import/fhir", json=bundle, headers=team.auth("admin"))
    assert r.status_code == 200
    lines = r.json()["problem_lines"]
    assert lines and all(line.startswith("request body") for line in lines)
    assert "1906-13-99" not in r.text and "Hopper" not in r.text


def test_import_bodies_have_their_own_size_limit(engine: Engine, db_url: str) -> None:
    team = build_team(engine, roles=("admin",))
    c = client(engine, db_url, api={"max_request_bytes": 2048, "max_import_bytes": 4096})
    padded = {**BUNDLE, "id": "x" * 3000}
    assert c.post("/api/import/fhir", json=padded, headers=team.auth("admin")).status_code == 200
    huge = {**BUNDLE, "id": "x" * 5000}
    assert c.post("/api/import/fhir", json=huge, headers=team.auth("admin")).status_code == 413
