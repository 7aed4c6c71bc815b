"""SMTP delivery against a real server on loopback (aiosmtpd), and against bad servers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlmodel import Session, select

from db.engine import session_scope
from db.models import OutboxMessage, OutboxState
from schedules.config import SmtpConfig
from schedules.email import outbox
from schedules.email.delivery import deliver_due
from tests.support.service import (
    SilentServer,
    free_port,
    running_silent,
    service_config,
)

FROM = "Steve <steve@practice.test>"


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with running_silent() as server:
        yield server


def _queue(engine, *keys_and_addresses: tuple[str, str]) -> None:
    with session_scope(engine) as s:
        for key, to in keys_and_addresses:
            outbox.enqueue(
                session=s,
                email=outbox.Email(
                    key=key,
                    kind="briefing",
                    recipient_id=None,
                    to_address=to,
                    subject="Morning briefing",
                    text="Agenda: Ms Rao 09:00",
                    html="<p>Agenda: Ms Rao 09:00</p>",
                ),
                mail_from=FROM,
            )


def _rows(engine) -> dict[str, OutboxMessage]:
    with Session(engine) as s:
        return {r.key: r for r in s.exec(select(OutboxMessage)).all()}


def test_multipart_email_reaches_the_server_once_with_its_message_id(
    engine, smtp, tmp_path
) -> None:
    _queue(
        engine,
        ("briefing:1:2026-11-23", "doc@practice.test"),
        ("tasks:2:2026-11-23", "nurse@practice.test"),
    )
    config = service_config(tmp_path, smtp=smtp.config())
    report = deliver_due(engine=engine, settings=config, instance="t")
    assert report.sent == 2 and not report.errors
    assert smtp.sink.per_key() == {"briefing:1:2026-11-23": 1, "tasks:2:2026-11-23": 1}
    got = next(m for m in smtp.sink.messages if m["X-Steve-Key"] == "briefing:1:2026-11-23")
    assert got["Message-ID"] == "<briefing.1.2026-11-23@practice.test>"
    assert [p.get_content_type() for p in got.get_payload()] == ["text/plain", "text/html"]
    assert all(r.state == OutboxState.SENT for r in _rows(engine).values())
    # The window in which a crash could duplicate: server's 250 -> 'sent' committed.
    assert max(report.windows) < 1.0
    assert deliver_due(engine=engine, settings=config, instance="t").sent == 0
    assert len(smtp.sink.messages) == 2


def test_a_rejected_address_fails_that_email_only(engine, smtp, tmp_path) -> None:
    _queue(
        engine,
        ("briefing:1:2026-11-23", "reject@practice.test"),
        ("briefing:2:2026-11-23", "ok@practice.test"),
    )
    config = service_config(tmp_path, smtp=smtp.config())
    report = deliver_due(engine=engine, settings=config, instance="t")
    rows = _rows(engine)
    assert rows["briefing:1:2026-11-23"].state == OutboxState.FAILED
    assert "550" in (rows["briefing:1:2026-11-23"].last_error or "")
    assert rows["briefing:2:2026-11-23"].state == OutboxState.SENT
    assert report.failed == 1 and report.sent == 1
    assert smtp.sink.per_key() == {"briefing:2:2026-11-23": 1}


def test_an_unreachable_server_leaves_emails_pending_with_backoff(engine, tmp_path) -> None:
    _queue(
        engine,
        ("briefing:1:2026-11-23", "doc@practice.test"),
        ("briefing:2:2026-11-23", "b@practice.test"),
    )
    config = service_config(
        tmp_path,
        smtp=SmtpConfig(host="127.0.0.1", port=free_port(), security="none", timeout_seconds=2),
    )
    report = deliver_due(engine=engine, settings=config, instance="t")
    assert report.retrying == 1 and report.sent == 0  # the second was not even tried
    assert "cannot reach the SMTP server" in report.errors[0]
    rows = _rows(engine)
    first = rows["briefing:1:2026-11-23"]
    assert first.state == OutboxState.PENDING and first.attempts == 1
    assert first.next_attempt_at > first.created_at
    assert rows["briefing:2:2026-11-23"].attempts == 0


def test_a_server_that_never_answers_times_out(engine, silent, tmp_path) -> None:
    _queue(engine, ("briefing:1:2026-11-23", "doc@practice.test"))
    config = service_config(
        tmp_path,
        smtp=SmtpConfig(host="127.0.0.1", port=silent.port, security="none", timeout_seconds=0.5),
    )
    began = time.monotonic()
    report = deliver_due(engine=engine, settings=config, instance="t")
    assert time.monotonic() - began < 5
    assert report.retrying == 1 and "did not answer within 0.5s" in report.errors[0]
    assert _rows(engine)["briefing:1:2026-11-23"].state == OutboxState.PENDING


def test_retries_end_in_failed_after_the_last_attempt(engine, tmp_path) -> None:
    _queue(engine, ("briefing:1:2026-11-23", "doc@practice.test"))
    config = service_config(
        tmp_path,
        smtp=SmtpConfig(host="127.0.0.1", port=free_port(), security="none", timeout_seconds=1),
        outbox_max_attempts=2,
        outbox_retry_seconds=0.01,
    )
    deliver_due(engine=engine, settings=config, instance="t")
    time.sleep(0.05)
    report = deliver_due(engine=engine, settings=config, instance="t")
    assert report.failed == 1
    row = _rows(engine)["briefing:1:2026-11-23"]
    assert row.state == OutboxState.FAILED and row.attempts == 2 and row.last_error


def test_starttls_required_but_not_offered_is_a_clear_error(engine, smtp, tmp_path) -> None:
    _queue(engine, ("briefing:1:2026-11-23", "doc@practice.test"))
    config = service_config(tmp_path, smtp=replace(smtp.config(), security="starttls"))
    report = deliver_due(engine=engine, settings=config, instance="t")
    assert report.retrying == 1 and "SMTP" in report.errors[0]
    assert smtp.sink.messages == []


def test_the_start_up_check_connects_and_hangs_up(smtp) -> None:
    from schedules.email.delivery import DeliveryError, SmtpTransport

    transport = SmtpTransport(smtp.config(), mail_from="steve@practice.test")
    transport.check()  # answers: no error, and no connection left open
    assert transport._smtp is None
    down = SmtpConfig(host="127.0.0.1", port=free_port(), security="none", timeout_seconds=2)
    with pytest.raises(DeliveryError, match="cannot reach the SMTP server"):
        SmtpTransport(down, mail_from="steve@practice.test").check()
