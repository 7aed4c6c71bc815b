"""The readings every lab format shares: reference ranges, abnormal flags, statuses."""

from __future__ import annotations

import pytest

from db.models import LabFlag, ResultStatus
from tools.interop.lab_results.incoming import (
    code_system,
    flag_for,
    parse_range,
    read_flag,
    read_status,
    shown_value,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("70-99", (70.0, 99.0, "70-99")),
        ("3.5 - 5.1", (3.5, 5.1, "3.5 - 5.1")),
        ("12.0 to 15.5", (12.0, 15.5, "12.0 to 15.5")),
        ("<150", (None, 150.0, "<150")),
        ("<=0.05", (None, 0.05, "<=0.05")),
        (">40", (40.0, None, ">40")),
        ("<1:80", (None, None, "<1:80")),
        ("negative", (None, None, "negative")),
        ("", (None, None, None)),
    ],
)
def test_reference_ranges(text: str, expected: tuple[object, ...]) -> None:
    assert parse_range(text) == expected


def test_flags_most_severe_and_unknown() -> None:
    assert read_flag([]) == LabFlag.NORMAL
    assert read_flag(["H"]) == LabFlag.HIGH
    assert read_flag(["LL"]) == LabFlag.CRITICAL
    assert read_flag(["A", "H"]) == LabFlag.ABNORMAL
    assert read_flag(["h", "HH"]) == LabFlag.CRITICAL
    assert read_flag(["ZZ"]) is None


def test_no_flag_but_outside_the_range() -> None:
    assert flag_for(given=LabFlag.NORMAL, sent=False, value=12, low=15, high=150) == LabFlag.LOW
    assert flag_for(given=LabFlag.NORMAL, sent=False, value=200, low=15, high=150) == LabFlag.HIGH
    assert flag_for(given=LabFlag.NORMAL, sent=True, value=200, low=15, high=150) == LabFlag.NORMAL
    assert flag_for(given=LabFlag.NORMAL, sent=False, value=None, low=15, high=150) == (
        LabFlag.NORMAL
    )


def test_statuses_and_systems() -> None:
    assert read_status("F") == ResultStatus.FINAL
    assert read_status("c") == ResultStatus.CORRECTED
    assert read_status("P") == ResultStatus.PRELIMINARY
    assert read_status("X") == ResultStatus.CANCELLED
    assert read_status("") == ResultStatus.FINAL
    assert read_status("Q") is None
    assert code_system("LN") == "http://loinc.org"
    assert code_system("L") == "L" and code_system("") is None
    assert shown_value(245.0, None, "mg/dL") == "245 mg/dL"
    assert shown_value(None, "Positive", None) == "Positive"
    assert shown_value(None, None, None) == "no value"


def test_long_record_ids_fit_without_colliding() -> None:
    from tools.interop.lab_results.incoming import fitted_id

    short = "order:F-1|http://loinc.org^2345-7"
    assert fitted_id(short) == short
    one, two = fitted_id("x" * 250 + "a"), fitted_id("x" * 250 + "b")
    assert len(one) == len(two) == 200 and one != two
