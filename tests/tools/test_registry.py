"""Registry: tolerant patient search and practitioner lookup."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlmodel import Session

from tests.support import factories
from tools.errors import Ambiguous, InvalidInput, NoMatch, NotFound
from tools.registry import (
    find_patients,
    find_practitioner,
    name_key,
    resolve_patient,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_name_key_folds_case_accents_and_punctuation() -> None:
    assert name_key("  Zoë   Ó'Briain-Müller ") == "zoe obriain muller"


def test_find_is_tolerant_of_case_accents_and_word_order(session: Session) -> None:
    zoe = factories.patient(session, given="Zoë", family="Müller")
    factories.patient(session, given="Zoltan", family="Kovacs")
    session.commit()
    for query in ("zoe", "ZOË", "muller", "Müll", "muller zo", "zo mü"):
        found = find_patients(session=session, name=query)
        assert [p.id for p in found] == [zoe.id], query
    assert find_patients(session=session, name="oe") == []  # words match at their start


def test_find_by_date_of_birth_and_id(session: Session) -> None:
    a = factories.patient(session, given="Ana", family="Silva", born=date(1970, 1, 2))
    factories.patient(session, given="Ana", family="Souza", born=date(1971, 1, 2))
    session.commit()
    assert [p.id for p in find_patients(session=session, date_of_birth=date(1970, 1, 2))] == [a.id]
    assert [p.id for p in find_patients(session=session, patient_id=a.id)] == [a.id]
    assert find_patients(session=session, patient_id=99999) == []


def test_resolve_ambiguous_name_lists_candidates(session: Session) -> None:
    one = factories.patient(session, given="Sam", family="Okafor", born=date(1990, 3, 4))
    two = factories.patient(session, given="Sam", family="Okafor", born=date(1985, 6, 7))
    session.commit()
    with pytest.raises(Ambiguous) as info:
        resolve_patient(session=session, query="sam okafor")
    shown = info.value.display()  # for the person who asked: names and birth dates
    assert shown.startswith("2 patients match 'sam okafor'; use an id: ")
    assert f"{one.id}: Sam Okafor, born 1990-03-04" in shown and f"{two.id}:" in shown
    assert "\n" not in shown
    logged = str(info.value)  # for logs: ids only
    assert "Okafor" not in logged and "1990" not in logged and str(one.id) in logged
    # The date of birth tells them apart.
    assert (
        resolve_patient(session=session, query="sam okafor", date_of_birth=date(1985, 6, 7)).id
        == two.id
    )


def test_resolve_unknown_and_empty(session: Session) -> None:
    with pytest.raises(NotFound, match="no patient with id 4242"):
        resolve_patient(session=session, query="4242")
    with pytest.raises(NoMatch) as info:
        resolve_patient(session=session, query="nobody-here")
    assert "nobody-here" not in str(info.value)  # safe to log
    assert info.value.display() == "no patient matches 'nobody-here'"
    with pytest.raises(InvalidInput):
        find_patients(session=session, name="  ")


def test_find_practitioner_by_fragment(session: Session) -> None:
    a = factories.practitioner(session, name="Dr Amara Osei")
    factories.practitioner(session, name="Dr Amir Haddad")
    session.commit()
    assert find_practitioner(session=session, query="osei").id == a.id
    assert find_practitioner(session=session, query=str(a.id)).id == a.id
    with pytest.raises(Ambiguous):
        find_practitioner(session=session, query="dr am")


def test_working_hours_must_make_sense(session: Session) -> None:
    with pytest.raises(InvalidInput, match="end before they start"):
        factories.practitioner(session, hours={0: [(time(17), time(9))]})
