"""agent.documents.claims: the dates, times, numbers and units a sentence states, and which of them
its sources do not."""

from __future__ import annotations

import pytest

from agent.documents.claims import extract_claims, ungrounded_claims

FACT = "Magnesium glycinate 120 mg (Pure Encapsulations), 240 mg twice daily, started 2026-11-01"


def written(text: str) -> list[str]:
    return [c.written for c in extract_claims(text)]


def test_dates_in_the_forms_people_write_them() -> None:
    text = "Seen 2026-11-01, again on 3 November 2026, Nov 5, 7th Dec and 09/12/2026."
    assert written(text) == ["2026-11-01", "3 November 2026", "7th Dec", "Nov 5", "09/12/2026"]
    assert [c.key for c in extract_claims("on 09/12/2026")] == [(2026, 12, 9)]  # day first


def test_digits_inside_names_and_references_are_not_claims() -> None:
    text = "B12, CoQ10, omega-3, LI4, vitamin D3 and K2 [lab:412] per note:87 (pmid:39000001)"
    assert written(text) == []


def test_numbers_carry_their_units() -> None:
    claims = {c.written: c.key for c in extract_claims("TSH 5.8 mU/L, 2,000 IU, 35%, 12 days")}
    assert claims == {
        "5.8 mU/L": ("5.8", "miu/l"),
        "2,000 IU": ("2000", "iu"),
        "35%": ("35", "%"),
        "12 days": ("12", "day"),
    }


@pytest.mark.parametrize(
    "sentence",
    [
        "Magnesium was started on 2026-11-01 [supplement:4].",
        "Magnesium started 1 November [supplement:4].",
        "She takes 240 mg twice daily [supplement:4].",
        "The 120 mg capsules are from Pure Encapsulations [supplement:4].",
        "Started in November 2026 [supplement:4].",
        "Nothing numeric here [supplement:4].",
    ],
)
def test_grounded_sentences_pass(sentence: str) -> None:
    assert ungrounded_claims(sentence, [FACT]) == []


@pytest.mark.parametrize(
    ("sentence", "bad"),
    [
        ("Magnesium started 2026-11-15 [supplement:4].", "2026-11-15"),  # the small-model slip
        ("Magnesium started 15 November 2026 [supplement:4].", "15 November 2026"),
        ("She takes 400 mg twice daily [supplement:4].", "400 mg"),  # changed dose
        ("She takes 240 mcg twice daily [supplement:4].", "240 mcg"),  # changed unit
        ("She takes 240 mg three times, 3 [supplement:4].", "3"),
        ("Started in December 2026 [supplement:4].", "December 2026"),
    ],
)
def test_changed_dates_doses_and_units_are_caught(sentence: str, bad: str) -> None:
    assert ungrounded_claims(sentence, [FACT]) == [bad]


def test_unit_spellings_and_number_formats_are_equal() -> None:
    facts = ["Ferritin 12 ug/L (low); TSH 5.80 mU/L; vitamin D 2000 IU"]
    assert ungrounded_claims("Ferritin 12 µg/L, TSH 5.8 mIU/L, D 2,000 IU [lab:1].", facts) == []
    assert ungrounded_claims("TSH 5.9 mU/L [lab:1].", facts) == ["5.9 mU/L"]
    assert ungrounded_claims("TSH 6 mU/L [lab:1].", facts) == ["6 mU/L"]  # rounding fails


def test_times_must_match() -> None:
    fact = ["Booked on 2026-11-20 at 09:30"]
    assert ungrounded_claims("Booked for 09:30 on 20 Nov [appointment:1].", fact) == []
    assert ungrounded_claims("Booked for 10:30 [appointment:1].", fact) == ["10:30"]
