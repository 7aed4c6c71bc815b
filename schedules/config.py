"""What the service needs from the settings, as one frozen value (schedules never import app).

`from_settings(settings)` reads the pydantic settings object by attribute, so the CLI, the
demo and the tests hand over the same thing. The parsers here also back the settings
validators: an invalid time, weekday, cron or time zone is a one-line ConfigError at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tools.errors import ConfigError
from tools.referrals import DEFAULT_OVERDUE_DAYS

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SECURITY = ("starttls", "tls", "none")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_clock(text: str, *, what: str = "time") -> time:
    """'07:00' -> time(7, 0); anything else is a ValueError naming `what`."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"invalid {what} {text!r}; expected HH:MM (24-hour)")
    return time(int(match.group(1)), int(match.group(2)))


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/London)"
        ) from None


def parse_send_time(text: str, default_zone: ZoneInfo) -> tuple[time, ZoneInfo]:
    """'06:30' or '06:30 America/New_York': a physician's own send time (and zone)."""
    clock, _, zone_name = text.strip().partition(" ")
    zone = parse_zone(zone_name.strip()) if zone_name.strip() else default_zone
    return parse_clock(clock, what="send time"), zone


def parse_weekday(text: str) -> str:
    day = text.strip().lower()[:3]
    if day not in WEEKDAYS:
        raise ValueError(f"invalid weekday {text!r}; use mon, tue, wed, thu, fri, sat or sun")
    return day


def check_cron(expression: str, zone: ZoneInfo) -> str:
    """A five-field crontab expression APScheduler accepts, else a ValueError naming it."""
    from apscheduler.triggers.cron import CronTrigger

    if len(expression.split()) != 5:
        raise ValueError(f"invalid cron {expression!r}; expected five fields (m h dom mon dow)")
    try:
        CronTrigger.from_crontab(expression, timezone=zone)
    except ValueError as exc:
        raise ValueError(f"invalid cron {expression!r}: {exc}") from None
    return expression


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class ServiceConfig:
    data_dir: Path
    zone: ZoneInfo
    mail_from: str = "Steve <steve@localhost>"
    smtp: SmtpConfig | None = None  # None: .eml files in <data dir>/outbox
    briefing_send_time: time = time(7, 0)
    # practitioner id -> (send time, zone): the physician's own morning, where set.
    briefing_send_times: dict[int, tuple[time, ZoneInfo]] = field(default_factory=dict)
    digest_weekday: str = "mon"
    digest_time: time = time(7, 30)
    sweep_interval_minutes: int = 60
    literature_refresh_cron: str | None = "0 5 * * *"
    message_ack_hours: int = 48
    intake_lookahead_days: int = 3
    referral_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_OVERDUE_DAYS))
    lab_grace_days: int = 2
    briefing_lookback_days: int = 90
    briefing_evidence_days: int = 30
    reorder_lead_days: int = 7
    outbox_max_attempts: int = 6
    outbox_retry_seconds: float = 60.0
    outbox_lease_seconds: float = 120.0
    outbox_poll_seconds: float = 15.0
    leader_poll_seconds: float = 5.0
    memory_sync_seconds: int = 60
    # The language model (agent.llm.ModelConfig) for digests; None: deterministic.
    model_config: Any = None
    # Everything research tracking needs for the scheduled literature refresh.
    literature: dict[str, Any] = field(default_factory=dict)

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    def send_time_for(self, practitioner_id: int) -> tuple[time, ZoneInfo]:
        return self.briefing_send_times.get(practitioner_id, (self.briefing_send_time, self.zone))


def from_settings(settings: Any) -> ServiceConfig:
    """The service's view of the settings (already validated by pydantic; re-parsed here)."""
    if isinstance(settings, ServiceConfig):
        return settings
    try:
        zone = parse_zone(settings.timezone)
        smtp = None
        if settings.smtp_host:
            password = settings.smtp_password
            smtp = SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                security=settings.smtp_security,
                username=settings.smtp_username,
                password=password.get_secret_value() if password is not None else None,
                timeout_seconds=settings.smtp_timeout_seconds,
            )
        overrides = {
            int(pid): parse_send_time(text, zone)
            for pid, text in settings.briefing_send_times.items()
        }
        cron = settings.literature_refresh_cron
        return ServiceConfig(
            data_dir=Path(settings.data_dir),
            zone=zone,
            mail_from=settings.mail_from,
            smtp=smtp,
            briefing_send_time=parse_clock(settings.briefing_send_time, what="send time"),
            briefing_send_times=overrides,
            digest_weekday=parse_weekday(settings.digest_weekday),
            digest_time=parse_clock(settings.digest_time, what="digest time"),
            sweep_interval_minutes=settings.sweep_interval_minutes,
            literature_refresh_cron=check_cron(cron, zone) if cron else None,
            message_ack_hours=settings.message_ack_hours,
            intake_lookahead_days=settings.intake_lookahead_days,
            referral_limits=dict(settings.referral_overdue_days),
            lab_grace_days=settings.lab_overdue_grace_days,
            briefing_lookback_days=settings.briefing_lookback_days,
            briefing_evidence_days=settings.briefing_evidence_days,
            reorder_lead_days=settings.reorder_lead_days,
            outbox_max_attempts=settings.outbox_max_attempts,
            outbox_retry_seconds=settings.outbox_retry_seconds,
            outbox_lease_seconds=settings.outbox_lease_seconds,
            outbox_poll_seconds=settings.outbox_poll_seconds,
            leader_poll_seconds=settings.leader_poll_seconds,
            memory_sync_seconds=settings.memory_sync_seconds,
            model_config=settings.model_config_for_agent(),
            literature={
                "ncbi_email": settings.ncbi_email,
                "ncbi_api_key": settings.ncbi_api_key,
                "ncbi_tool": settings.ncbi_tool,
                "feed_urls": list(settings.feed_urls),
                "timeout": settings.http_timeout_seconds,
                "offline_dir": settings.literature_offline_dir,
            },
        )
    except ValueError as exc:  # settings built without validation (tests, model_construct)
        raise ConfigError(f"service settings: {exc}") from None
