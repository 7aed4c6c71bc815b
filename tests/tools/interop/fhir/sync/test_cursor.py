"""Cursors: the server's own instant kept as written, compared as instants, never backwards."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tools.interop.fhir.sync.cursor import (
    newest_instant,
    parse_instant,
    read_cursor,
    read_cursors,
    save_cursor,
)

SYSTEM = "https://ehr.test/fhir"


def _save(session: Session, instant: str, kind: str = "Patient") -> str:
    return save_cursor(
        session=session, source_system=SYSTEM, resource_type=kind, last_updated=instant
    )


def test_a_cursor_moves_forward_only(session: Session) -> None:
    assert _save(session, "2026-01-05T09:00:07.000Z") == "2026-01-05T09:00:07.000Z"
    assert _save(session, "2026-01-05T09:00:03.000Z") == "2026-01-05T09:00:07.000Z"
    # The same instant in another offset is not later: the text stays as first written.
    assert _save(session, "2026-01-05T10:00:07+01:00") == "2026-01-05T09:00:07.000Z"
    assert _save(session, "2026-01-05T09:00:07.5+00:00") == "2026-01-05T09:00:07.5+00:00"
    session.commit()
    assert read_cursor(session=session, source_system=SYSTEM, resource_type="Patient") == (
        "2026-01-05T09:00:07.5+00:00"
    )
    _save(session, "2026-01-06", kind="Observation")
    assert read_cursors(session=session) == [
        (SYSTEM, "Patient", "2026-01-05T09:00:07.5+00:00"),
        (SYSTEM, "Observation", "2026-01-06"),
    ]
    assert read_cursors(session=session, source_system="other") == []


def test_a_cursor_must_be_an_instant(session: Session) -> None:
    with pytest.raises(ValueError, match="FHIR instant"):
        _save(session, "yesterday")


def test_the_newest_instant_of_a_page_as_the_server_wrote_it() -> None:
    page = [
        {"meta": {"lastUpdated": "2026-01-05T09:00:01Z"}},
        {"meta": {"lastUpdated": "2026-01-05T10:30:00+01:00"}},  # 09:30Z: the newest
        {"meta": {"lastUpdated": "2026-01-05T09:10:00.000Z"}},
        {"meta": {}},
        {},
    ]
    assert newest_instant(page) == "2026-01-05T10:30:00+01:00"
    assert newest_instant([{}]) is None
    assert parse_instant("not a date") is None
