"""ReferenceIndex: each reference form, resolved or not, from raw resources."""

from tools.interop.fhir.references import ReferenceIndex, references_in

BASE = "http://a.example/fhir"


def _index() -> ReferenceIndex:
    index = ReferenceIndex()
    index.add(
        key="Patient/1",
        resource={
            "resourceType": "Patient",
            "id": "1",
            "identifier": [{"system": "urn:mrn", "value": "A1"}],
            "contained": [{"resourceType": "Organization", "id": "org"}],
        },
        full_url=f"{BASE}/Patient/1",
        request=None,
    )
    index.add(
        key="Patient/local",
        resource={"resourceType": "Patient", "id": "local", "identifier": [{"value": "A1"}]},
        full_url=None,
        request={"method": "PUT", "url": "Patient?identifier=urn:other|Z9"},
    )
    index.add(
        key="Observation/9",
        resource={"resourceType": "Observation", "id": "9"},
        full_url=f"{BASE}/Observation/9",
        request=None,
    )
    return index


def _resolve(reference: dict, source: str = "Observation/9") -> tuple[str | None, str]:
    resolution = _index().resolve(reference=reference, source_key=source)
    return resolution.target, resolution.form


def test_relative_with_version_and_base():
    assert _resolve({"reference": "Patient/1/_history/3"}) == ("Patient/1", "relative")
    assert _resolve({"reference": "Patient/2"}) == (None, "relative")


def test_absolute_matches_full_url_or_unknown_server_id():
    assert _resolve({"reference": f"{BASE}/Patient/1"}) == ("Patient/1", "absolute")
    assert _resolve({"reference": "http://b.example/Patient/local"}) == (
        "Patient/local",
        "absolute",
    )
    assert _resolve({"reference": "http://b.example/Patient/1"}) == (None, "absolute")


def test_conditional_by_request_url_and_by_identifier():
    assert _resolve({"reference": "Patient?identifier=urn:other|Z9"}) == (
        "Patient/local",
        "conditional",
    )
    assert _resolve({"reference": "Patient?identifier=urn:mrn|A1"}) == ("Patient/1", "conditional")
    # "A1" without a system matches two patients: ambiguous, so unresolved
    assert _resolve({"reference": "Patient?identifier=A1"}) == (None, "conditional")
    assert _resolve({"reference": "Patient?name=smith"}) == (None, "conditional")


def test_identifier_only_respects_type():
    reference = {"identifier": {"system": "urn:mrn", "value": "A1"}}
    assert _resolve({**reference, "type": "Patient"}) == ("Patient/1", "identifier")
    assert _resolve({**reference, "type": "Practitioner"}) == (None, "identifier")


def test_contained_and_container():
    assert _resolve({"reference": "#org"}, source="Patient/1") == ("Patient/1#org", "contained")
    assert _resolve({"reference": "#"}, source="Patient/1#org") == ("Patient/1", "contained")
    assert _resolve({"reference": "#nope"}, source="Patient/1") == (None, "contained")


def test_references_in_finds_nested_and_logical_references_only():
    resource = {
        "resourceType": "Observation",
        "identifier": [{"system": "s", "value": "v"}],
        "subject": {"reference": "Patient/1"},
        "performer": [{"identifier": {"value": "X"}, "display": "Dr X"}],
        "contained": [
            {"resourceType": "Medication", "id": "m", "manufacturer": {"reference": "#"}}
        ],
    }
    assert [path for path, _ in references_in(resource=resource)] == [
        "subject",
        "performer[0]",
        "contained[0].manufacturer",
    ]
