"""A lab's mapping file checked key by key, and its CSV rows checked and grouped: problems
name the row and column, never the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.labs import LABS
from tools.interop.lab_csv.mapping import MappingError, load_mapping
from tools.interop.lab_csv.reading import read_csv


def _mapping(tmp_path: Path, text: str, suffix: str = ".toml") -> Path:
    path = tmp_path / f"lab{suffix}"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[columns\n", "lab.toml: not valid TOML"),
        ("[other]\n", "lab.toml: unknown section [other]"),
        ('[columns]\npatient_nr = "X"\n', "lab.toml: unknown column key columns.patient_nr"),
        (
            '[patient]\nidentifier_system="EHR"\n[columns]\npatient_id = "P"\nvalue = "V"\n',
            "lab.toml: columns.test_code or columns.test_name is required",
        ),
        (
            '[patient]\nidentifier_system="EHR"\n[columns]\npatient_id = "P"\ntest_name = "T"\n',
            "lab.toml: columns.value is required",
        ),
        (
            '[patient]\nidentifier_system="EHR"\n[columns]\npatient_id="P"\ntest_name="T"\n'
            'value="V"\n[format]\ndelimiter=";;"\n',
            "lab.toml: format.delimiter must be one character",
        ),
        ("[columns]\nvalue = 3\n", "lab.toml: [columns] must hold text values only"),
    ],
)
def test_mapping_problems_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(MappingError) as info:
        load_mapping(_mapping(tmp_path, text))
    assert str(info.value) == message


def test_json_and_toml_mappings_are_the_same() -> None:
    assert load_mapping(LABS / "northside.toml") == load_mapping(LABS / "northside.json")


def test_rows_grouped_by_patient_and_order() -> None:
    read = read_csv(
        path=LABS / "northside_results.csv", mapping=load_mapping(LABS / "northside.toml")
    )
    assert read.problems == [] and read.rows == 4
    eve, stranger = read.patients
    assert eve.rows == [2, 3, 4] and eve.where == "rows 2-4" and stranger.where == "row 5"
    [order] = eve.orders()
    assert order.filler_number == "NS-1001" and order.panel == "Micronutrient panel"
    assert [r.analyte for r in order.results] == ["Vitamin D 25-OH", "Vitamin B12", "Ferritin"]
    assert order.results[0].value == 21 and order.results[0].ref_low == 30
    assert order.results[0].code_system == "http://loinc.org"


def test_bad_rows_named_never_valued() -> None:
    read = read_csv(
        path=LABS / "northside_bad_rows.csv", mapping=load_mapping(LABS / "northside.toml")
    )
    assert [str(p) for p in read.problems] == [
        "row 2, column Collected: not a date as %m/%d/%Y",
        "row 4, column Result: no value",
        "row 5, column Flag: not an abnormal flag (N, H, L, HH, LL, A, AA)",
    ]
    assert [p.bad for p in read.patients] == [True, True, True]


def test_a_header_without_a_mapped_column(tmp_path: Path) -> None:
    csv_file = tmp_path / "short.csv"
    csv_file.write_text("Patient ID,Test\nX,Y\n")
    read = read_csv(path=csv_file, mapping=load_mapping(LABS / "northside.toml"))
    assert [str(p) for p in read.problems] == [
        "short.csv: no column 'First Name' (columns.given_name) in the header"
    ]
