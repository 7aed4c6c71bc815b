"""sources: NDJSON is streamed a line at a time; bundle entries keep their request."""

from pathlib import Path

from tools.interop.fhir.problems import Problem
from tools.interop.fhir.sources import RawEntry, input_files, read_ndjson


def test_ndjson_yields_before_reading_the_rest(tmp_path: Path):
    path = tmp_path / "Patient.ndjson"
    path.write_text('{"resourceType": "Patient", "id": "1"}\n')
    entries = read_ndjson(path=path)

    first = next(entries)
    # written after the first line was read: a streaming reader still sees it
    with path.open("a") as handle:
        handle.write('{"resourceType": "Patient", "id": "2"}\n')
    rest = list(entries)

    assert isinstance(first, RawEntry) and first.where == "line 1"
    assert [e.resource["id"] for e in rest if isinstance(e, RawEntry)] == ["2"]


def test_ndjson_bad_line_after_good_ones_is_a_line_problem(tmp_path: Path):
    path = tmp_path / "Observation.ndjson"
    path.write_text('{"resourceType": "Observation"}\n[1, 2]\n')

    items = list(read_ndjson(path=path))

    assert isinstance(items[1], Problem)
    assert (items[1].where, items[1].message) == ("line 2", "not a FHIR resource (no resourceType)")


def test_directory_lists_json_and_ndjson_in_name_order(tmp_path: Path):
    for name in ["b.ndjson", "a.json", "notes.txt"]:
        (tmp_path / name).write_text("{}")

    assert [p.name for p in input_files(paths=[tmp_path]) if isinstance(p, Path)] == [
        "a.json",
        "b.ndjson",
    ]


def test_ndjson_with_a_byte_order_mark(tmp_path: Path):
    ndjson = tmp_path / "Patient.ndjson"
    ndjson.write_bytes(b'\xef\xbb\xbf{"resourceType": "Patient", "id": "1"}\n')

    items = list(read_ndjson(path=ndjson))

    assert [type(i) for i in items] == [RawEntry]
