"""group_by_patient: compartment fields, Appointment actors, shared and unplaced resources."""

from tools.interop.fhir.compartments import Link, group_by_patient

TYPES = {
    "Patient/1": "Patient",
    "Appointment/a": "Appointment",
    "Observation/o": "Observation",
    "Observation/x": "Observation",
    "Practitioner/d": "Practitioner",
    "Encounter/e": "Encounter",
}


def test_groups():
    links = [
        Link("Appointment/a", "participant[1].actor", "relative", "Patient/1", "Patient"),
        Link("Appointment/a", "participant[0].actor", "relative", "Practitioner/d", None),
        # a performer pointing at a patient is not the compartment field: subject is
        Link("Observation/o", "performer[0]", "relative", "Practitioner/d", None),
        Link("Observation/o", "subject", "urn", "Patient/1", None),
        Link("Observation/x", "subject", "relative", None, "Patient"),
        Link("Encounter/e", "participant[0].individual", "relative", "Patient/1", None),
    ]

    groups = group_by_patient(keys=list(TYPES), types=TYPES, links=links)

    assert groups.patients == {"Patient/1": ["Patient/1", "Appointment/a", "Observation/o"]}
    assert groups.unplaced == ["Observation/x"]
    # an Encounter reaches its patient through subject only
    assert groups.shared == ["Practitioner/d", "Encounter/e"]
