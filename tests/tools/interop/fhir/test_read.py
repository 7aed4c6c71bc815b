"""read_fhir over the fixture files: every bundle type, every reference form, the bad input."""

from pathlib import Path

from tools.interop.fhir.read import iter_validated, read_fhir

PATIENT_URN = "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"
PRACTITIONER_URN = "urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059"
MEDREQ_URN = "urn:uuid:9b2c7d1e-4a3f-4e5d-8c6b-1d2e3f4a5b66"
OBS_URN = "urn:uuid:3c5b8e2e-7f4a-4c8a-9d7e-0a6f1e2b9c44"


def _targets(result, key):
    return {link.path: (link.form, link.target) for link in result.links_from(key=key)}


def test_transaction_resolves_urn_conditional_contained_and_identifier_references(fixtures: Path):
    result = read_fhir(paths=[fixtures / "transaction.json"])

    assert result.problems == []
    assert result.counts == {
        "Patient": 1,
        "Practitioner": 1,
        "Condition": 1,
        "Observation": 1,
        "MedicationRequest": 1,
    }
    assert _targets(result, PATIENT_URN) == {
        "generalPractitioner[0]": ("conditional", PRACTITIONER_URN)
    }
    assert _targets(result, OBS_URN) == {
        "subject": ("conditional", PATIENT_URN),  # matched through the entry's ifNoneExist
        "performer[0]": ("identifier", PRACTITIONER_URN),
    }
    assert _targets(result, MEDREQ_URN) == {
        "medicationReference": ("contained", f"{MEDREQ_URN}#med1"),
        "subject": ("urn", PATIENT_URN),
        "requester": ("urn", PRACTITIONER_URN),
    }
    assert result.groups.patients == {PATIENT_URN: [PATIENT_URN, *_urns_after_patient()]}
    assert result.groups.shared == [PRACTITIONER_URN]


def _urns_after_patient():
    return [
        "urn:uuid:f6d8f4a2-1c55-4d1e-9a0e-2b1f3b0c7d11",
        OBS_URN,
        MEDREQ_URN,
    ]


def test_deceased_patient_keeps_its_deceased_date(fixtures: Path):
    result = read_fhir(paths=[fixtures / "transaction.json"])

    patient = result.resources[PATIENT_URN]
    assert patient.resource_type == "Patient"
    assert patient.request is not None and patient.request["method"] == "POST"
    model = result.models[PATIENT_URN]
    assert str(model.deceasedDateTime).startswith("2024-11-05")  # type: ignore[attr-defined]


def test_batch_patient_with_no_records_and_a_delete_entry(fixtures: Path):
    result = read_fhir(paths=[fixtures / "batch.json"])

    assert result.counts == {"Patient": 1}
    assert result.groups.patients == {"Patient/p-batch": ["Patient/p-batch"]}
    assert [(p.where, p.message) for p in result.problems] == [
        ("entry 1", "a DELETE request without a resource; skipped")
    ]


def test_collection_relative_absolute_invalid_and_dangling(fixtures: Path):
    result = read_fhir(paths=[fixtures / "collection.json"])

    assert _targets(result, "Observation/obs-rel") == {"subject": ("relative", "Patient/coll-1")}
    assert _targets(result, "Encounter/enc-abs") == {"subject": ("absolute", "Patient/coll-1")}
    # the same Type/id on another server is not this bundle's patient
    assert _targets(result, "Encounter/enc-other-server") == {"subject": ("absolute", None)}
    assert "Observation/obs-bad" not in result.resources
    assert result.skipped == {"Observation": 1}
    found = {(p.where, p.resource_type, p.field) for p in result.problems}
    assert found == {
        ("entry 3", "Observation", "effectiveDateTime"),
        ("entry 4", "Condition", "subject"),
        ("entry 5", "Encounter", "subject"),
    }
    assert result.groups.unplaced == ["Condition/cond-dangling", "Encounter/enc-other-server"]
    assert result.groups.patients["Patient/coll-1"] == [
        "Patient/coll-1",
        "Observation/obs-rel",
        "Encounter/enc-abs",
    ]


def test_invalid_resource_problem_never_carries_the_value(fixtures: Path):
    result = read_fhir(paths=[fixtures / "collection.json"])

    lines = [problem.line() for problem in result.problems]
    assert any("effectiveDateTime" in line for line in lines)
    assert not any("yesterday-ish" in line for line in lines)


def test_practitioners_only_searchset(fixtures: Path):
    result = read_fhir(paths=[fixtures / "searchset_practitioners.json"])

    assert result.problems == []
    assert result.groups.patients == {}
    assert result.groups.shared == [
        "Practitioner/pr-1",
        "Practitioner/pr-2",
        "Organization/org-1",
        "PractitionerRole/role-1",
    ]
    assert _targets(result, "PractitionerRole/role-1") == {
        "practitioner": ("relative", "Practitioner/pr-1"),
        "organization": ("absolute", "Organization/org-1"),
    }


def test_bulk_ndjson_directory(fixtures: Path):
    result = read_fhir(paths=[fixtures / "bulk"])

    assert result.counts == {"Patient": 2, "Observation": 2, "Condition": 1}
    assert result.skipped == {"Observation": 1}
    assert {(p.file.rsplit("/", 1)[-1], p.where, p.field) for p in result.problems} == {
        ("Observation.ndjson", "line 3", None),
        ("Observation.ndjson", "line 5", "code"),
    }
    assert _targets(result, "Observation/bobs-2") == {"subject": ("identifier", "Patient/bulk-1")}
    assert result.groups.patients == {
        "Patient/bulk-2": ["Condition/bcond-1", "Patient/bulk-2"],
        "Patient/bulk-1": ["Observation/bobs-1", "Observation/bobs-2", "Patient/bulk-1"],
    }


def test_each_bad_file_is_one_problem_naming_it(fixtures: Path):
    names = [
        "not_json.json",
        "not_fhir.json",
        "not_fhir.ndjson",
        "history_bundle.json",
        "single_patient.json",
    ]
    result = read_fhir(paths=[fixtures / name for name in names])

    assert result.resources == {}
    assert [Path(p.file).name for p in result.problems] == names
    assert all(p.where is None for p in result.problems)


def test_missing_path_is_a_problem(tmp_path: Path):
    result = read_fhir(paths=[tmp_path / "nowhere.json"])

    assert [p.message for p in result.problems] == ["no such file or directory"]


def test_resolve_accepts_a_reference_model(fixtures: Path):
    result = read_fhir(paths=[fixtures / "transaction.json"])
    request = result.models[MEDREQ_URN]

    assert result.resolve(reference=request.subject, source_key=MEDREQ_URN) == PATIENT_URN  # type: ignore[attr-defined]


def test_duplicate_key_keeps_the_first(tmp_path: Path, fixtures: Path):
    copy = tmp_path / "again.json"
    copy.write_text((fixtures / "batch.json").read_text())

    result = read_fhir(paths=[fixtures / "batch.json", copy])

    assert result.resources["Patient/p-batch"].file.endswith("batch.json")
    assert result.resources["Patient/p-batch"].file == str(fixtures / "batch.json")
    assert any("same key as" in p.message for p in result.problems)


def test_without_models_the_index_links_and_groups_are_the_same(fixtures: Path):
    kept = read_fhir(paths=[fixtures / "transaction.json", fixtures / "bulk"])
    light = read_fhir(paths=[fixtures / "transaction.json", fixtures / "bulk"], keep_models=False)

    assert light.models == {}
    assert len(kept.models) == len(kept.resources) == len(light.resources) == 10
    assert (light.links, light.groups, light.problems) == (kept.links, kept.groups, kept.problems)


def test_iter_validated_yields_models_rejections_and_file_problems(fixtures: Path):
    from tools.interop.fhir.read import Rejected, Validated

    items = list(iter_validated(paths=[fixtures / "bulk" / "Observation.ndjson"]))

    assert [type(i).__name__ for i in items] == ["Validated", "Problem", "Validated", "Rejected"]
    assert isinstance(items[0], Validated) and items[0].read.key == "Observation/bobs-1"
    assert isinstance(items[3], Rejected) and items[3].resource_type == "Observation"
