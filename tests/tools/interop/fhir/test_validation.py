"""validate_resource: the R4B models, problems with field paths and no values."""

from tools.interop.fhir.validation import validate_resource


def test_valid_resource_gives_its_model():
    model, problems = validate_resource(
        raw={"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01"},
        file="f",
        where="line 1",
    )
    assert problems == []
    assert model is not None and model.get_resource_type() == "Patient"


def test_each_bad_field_is_a_problem_without_its_value():
    raw = {"resourceType": "Patient", "birthDate": "31/12/1970", "name": [{"given": "Ann"}]}
    model, problems = validate_resource(raw=raw, file="f.ndjson", where="line 4")

    assert model is None
    assert {p.field for p in problems} == {"birthDate", "name[0].given"}
    assert all(p.where == "line 4" and p.resource_type == "Patient" for p in problems)
    assert not any("31/12/1970" in p.line() or "Ann" in p.line() for p in problems)


def test_unknown_and_r4_only_types():
    _, unknown = validate_resource(raw={"resourceType": "Patinet"}, file="f", where="entry 0")
    _, r4_only = validate_resource(
        raw={"resourceType": "MedicinalProduct"}, file="f", where="entry 1"
    )
    _, untyped = validate_resource(raw={"id": "x"}, file="f", where="entry 2")

    assert unknown[0].message == "not a FHIR resource type"
    assert "R4B removed" in r4_only[0].message
    assert untyped[0].resource_type is None
