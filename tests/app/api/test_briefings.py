"""Briefings over HTTP: a physician's whole day, each appointment with its briefing."""

from __future__ import annotations

from tests.support.api import build_team, client


def test_a_physicians_day_comes_with_a_briefing_per_appointment(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    p = team.practice
    c = client(engine, db_url)
    h = team.auth("physician")
    url = f"/api/briefings/day?date=2030-01-08&physician_id={p.physician}"
    day = c.get(url, headers=h)
    assert day.status_code == 200, day.text
    items = day.json()["items"]
    assert [i["ref"] for i in items] == [f"appointment:{p.appointment}"]
    briefing = items[0]["briefing"]
    assert briefing["appointment_id"] == p.appointment and briefing["patient_id"] == p.patient
    assert "# Pre-appointment briefing: Ada Lovelace" in briefing["markdown"]
    summary = c.get(url + "&summary=true", headers=h).json()["items"]
    assert [i["ref"] for i in summary] == [
        f"appointment:{p.appointment}"
    ] and "briefing" not in summary[0]
