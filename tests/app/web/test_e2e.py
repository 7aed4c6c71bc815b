"""End to end in a real browser: Debian's chromium, driven by Playwright (never Playwright's
own browser downloads), against uvicorn on loopback and a real SQLite database.

Skips with the reason when chromium or Playwright is missing; under CI=true it fails
instead (.ci/run installs chromium). Each test saves a screenshot in its tmp directory.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import time as clock
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from langgraph.checkpoint.memory import InMemorySaver
from sqlmodel import Session, select

from app.api import create_app
from db.engine import make_engine
from db.models import Appointment, Task, TaskStatus
from tests.support.api import PASSWORD, build_team, settings_for
from tests.support.fake_models import ToolCallingChatModel, call
from tools.clock import at_local, today_in

CHROMIUM = os.environ.get("STEVE_TEST_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    reason = _missing()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(viewport={"width": 1180, "height": 820})  # a tablet
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def server(tmp_path: Path, sqlite_template: Path) -> Iterator[dict[str, Any]]:
    """uvicorn on a free loopback port over a fresh database, with a scripted model."""
    db = tmp_path / "steve.db"
    shutil.copy(sqlite_template, db)
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    team = build_team(engine, roles=("physician", "staff"))
    settings = settings_for(url)
    with Session(engine) as session:  # an appointment today, so "today" has a briefing
        start = at_local(today_in(settings.zone), clock(10, 0), settings.zone)
        session.add(
            Appointment(
                practitioner_id=team.practice.physician,
                patient_id=team.practice.patient,
                service_type="consultation",
                starts_at=start,
                ends_at=start.replace(minute=30),
            )
        )
        session.commit()
    holder: dict[str, Any] = {"model": None}
    app = create_app(
        settings, engine=engine, model_factory=lambda: holder["model"], checkpointer=InMemorySaver()
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield {"base": f"http://127.0.0.1:{port}", "team": team, "engine": engine, "holder": holder}
    srv.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0


def test_log_in_and_open_todays_briefing(browser_page, server, tmp_path) -> None:
    page, base = browser_page, server["base"]
    page.goto(f"{base}/")
    page.wait_for_url(f"{base}/login")  # not logged in: to the login page
    _login(page, base, "physician")
    row = page.locator("#schedule tbody tr").first
    assert "Ada Lovelace" in row.inner_text()
    row.get_by_role("link", name="Briefing").click()
    page.wait_for_selector("#briefing")
    text = page.locator("#briefing").inner_text()
    assert "Pre-appointment briefing: Ada Lovelace" in text
    assert "Sources" in text
    _shot(page, tmp_path, "briefing")
    # A tablet held upright and a small laptop: the pages reflow, nothing scrolls sideways.
    for width in (1024, 768):
        page.set_viewport_size({"width": width, "height": 1024})
        for path in ("/", "/tasks", "/chat", "/research", page.url.removeprefix(base)):
            page.goto(f"{base}{path}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (width, path, overflow)
    _shot(page, tmp_path, "briefing-768")


def test_chat_and_approve_a_proposed_booking(browser_page, server, tmp_path) -> None:
    page, base, team = browser_page, server["base"], server["team"]
    p = team.practice
    server["holder"]["model"] = ToolCallingChatModel.scripted(
        [
            call(
                "book_appointment",
                patient_id=p.patient,
                practitioner_id=p.physician,
                start="2030-01-09 11:00",
                duration_minutes=30,
            ),
            "Booked: Ada Lovelace with you on Wednesday 9 January at 11:00.",
        ]
    )
    _login(page, base, "physician")
    page.click("nav >> text=Chat")
    page.click("text=New conversation")
    page.fill("#chat-text", "Book Ada with me on 9 January 2030 at 11:00 for 30 minutes")
    page.click("#chat-form button[type=submit]")
    approval = page.wait_for_selector(".approval")
    assert "Ada Lovelace" in approval.inner_text() and "11:00" in approval.inner_text()
    with Session(server["engine"]) as session:  # nothing booked before the approval
        assert len(session.exec(select(Appointment)).all()) == 2
    page.click(".approval button.approve")
    page.wait_for_selector("text=Booked: Ada Lovelace")
    _shot(page, tmp_path, "chat-approved")
    with Session(server["engine"]) as session:
        booked = session.exec(select(Appointment).order_by(Appointment.id)).all()  # type: ignore[arg-type]
        assert len(booked) == 3 and booked[-1].patient_id == p.patient


def test_delegate_a_task_and_complete_it_as_the_assignee(browser_page, server, tmp_path) -> None:
    page, base, team = browser_page, server["base"], server["team"]
    _login(page, base, "physician")
    page.click("nav >> text=Tasks")
    page.fill("#delegate input[name=title]", "Send Ada the food diary")
    page.select_option("#delegate select[name=assignee_id]", str(team.practice.staff))
    page.fill("#delegate input[name=patient_id]", str(team.practice.patient))
    page.click("#delegate button[type=submit]")
    page.wait_for_selector("text=Task delegated.")
    assert "Send Ada the food diary" in page.locator("#team-tasks").inner_text()
    page.click("header button:has-text('Log out')")
    page.wait_for_url(f"{base}/login")
    _login(page, base, "staff")
    page.click("nav >> text=Tasks")
    mine = page.locator("#my-tasks tr", has_text="Send Ada the food diary")
    mine.get_by_role("button", name="Complete").click()
    page.wait_for_selector("text=Task completed.")
    assert "Send Ada the food diary" not in page.locator("#my-tasks").inner_text()
    _shot(page, tmp_path, "task-completed")
    with Session(server["engine"]) as session:
        task = session.exec(select(Task).where(Task.title == "Send Ada the food diary")).one()
        assert task.status == TaskStatus.DONE and task.assignee_id == team.practice.staff


def test_first_login_with_a_one_time_password_chooses_a_new_one(
    browser_page, server, tmp_path
) -> None:
    """A new user's one-time password leads to the password page and nowhere else; the
    form needs the current password and names the rule a weak new one breaks."""
    from tools.users import create_user

    page, base, team = browser_page, server["base"], server["team"]
    one_time, chosen = "one time password 7Kq2", "plum orchard in late august"
    with Session(server["engine"]) as session:
        create_user(
            session=session,
            username="newdoc",
            practitioner_id=team.practice.physician,
            password=one_time,
            must_change_password=True,
        )
        session.commit()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "newdoc")
    page.fill("input[name=password]", one_time)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/password")
    page.goto(f"{base}/tasks")  # nothing else until the password is changed
    page.wait_for_url(f"{base}/password")
    assert page.locator("header nav").count() == 0
    _shot(page, tmp_path, "password")
    page.fill("input[name=current_password]", one_time)
    page.fill("input[name=new_password]", "aaaaaaaaaaaaaaaa")
    page.fill("input[name=repeat]", "aaaaaaaaaaaaaaaa")
    page.click("main button[type=submit]")
    error = page.wait_for_selector(".error")
    assert "repeated or sequential" in error.inner_text()
    _shot(page, tmp_path, "password-refused")
    page.fill("input[name=current_password]", one_time)
    page.fill("input[name=new_password]", chosen)
    page.fill("input[name=repeat]", chosen)
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Password changed.")
    assert page.url.startswith(f"{base}/")
    _shot(page, tmp_path, "password-changed")
    page.click("nav >> text=Tasks")
    page.wait_for_url(f"{base}/tasks")
    page.click("header button:has-text('Log out')")
    page.wait_for_url(f"{base}/login")
    page.fill("input[name=username]", "newdoc")
    page.fill("input[name=password]", chosen)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
