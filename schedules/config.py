"""The service's own settings sections (`schedule`, `email`) and what it reads of the rest.

app.settings composes these sections into the one Settings object and passes it down whole;
schedules never import app, so `ServiceSettings` names (as a Protocol) the sections the jobs
read. The parsers here back the validators: an invalid time, weekday, cron or time zone is a
one-line ConfigError at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator

from tools.interop.fhir.sync.config import EhrSettings
from tools.literature.fetch import LiteratureSources
from tools.practice_limits import PracticeLimits

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


class EmailSettings(BaseModel):
    """Email delivery: SMTP (or .eml files in <data dir>/outbox) and the outbox's retries."""

    smtp_host: str | None = Field(
        default=None, description="SMTP server; empty: emails are .eml files in <data dir>/outbox."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    smtp_security: str = Field(default="starttls", description="starttls, tls or none.")
    smtp_username: str | None = Field(default=None, description="SMTP login, if any.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_timeout_seconds: float = Field(
        default=30.0, gt=0, le=300, description="Timeout for every SMTP connection and reply."
    )
    mail_from: str = Field(
        default="Steve <steve@localhost>", description="From address of Steve's emails."
    )
    outbox_max_attempts: int = Field(default=6, ge=1, le=50, description="Sends before failed.")
    outbox_retry_seconds: float = Field(
        default=60.0, gt=0, description="First retry delay; doubles each attempt (max 1 hour)."
    )
    outbox_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long a claimed email is left to its sender before another retries it.",
    )
    outbox_poll_seconds: float = Field(
        default=15.0, gt=0, description="How often the outbox is checked for due emails."
    )

    @field_validator("smtp_security")
    @classmethod
    def _security(cls, value: str) -> str:
        if value not in SECURITY:
            raise ValueError(f"unknown SMTP security {value!r}; use starttls, tls or none")
        return value

    @property
    def smtp(self) -> SmtpConfig | None:
        """The SMTP server to deliver to; None: .eml files in <data dir>/outbox."""
        if not self.smtp_host:
            return None
        password = self.smtp_password
        return SmtpConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,
            username=self.smtp_username,
            password=password.get_secret_value() if password is not None else None,
            timeout_seconds=self.smtp_timeout_seconds,
        )


class ScheduleSettings(BaseModel):
    """When the service's jobs run, and what the follow-up sweep looks for."""

    briefing_send_time: time = Field(
        default=time(7, 0), description="Morning briefing send time (HH:MM, practice zone)."
    )
    briefing_send_times: dict[int, str] = Field(
        default_factory=dict,
        description=(
            'Per-physician send times as JSON: {"12": "06:30", "14": "07:15 America/New_York"}.'
        ),
    )
    digest_weekday: str = Field(default="mon", description="Weekly digest day (mon ... sun).")
    digest_time: time = Field(default=time(7, 30), description="Weekly digest send time (HH:MM).")
    sweep_interval_minutes: int = Field(
        default=60, ge=1, le=1440, description="Minutes between follow-up sweeps."
    )
    literature_refresh_cron: str | None = Field(
        default="0 5 * * *",
        description="When the literature is fetched (crontab, practice zone); empty: never.",
    )
    message_ack_hours: int = Field(
        default=48, ge=1, description="Unacknowledged care-team messages older than this: task."
    )
    intake_lookahead_days: int = Field(
        default=3, ge=0, le=60, description="Days ahead to check intake forms before first visits."
    )
    leader_poll_seconds: float = Field(
        default=5.0, gt=0, description="How often a standby `steve serve` tries to take over."
    )
    memory_sync_seconds: int = Field(
        default=60, ge=1, description="How often memory catches up with the change log."
    )

    @field_validator("briefing_send_time", "digest_time", mode="before")
    @classmethod
    def _clock(cls, value: object, info: ValidationInfo) -> object:
        what = "send time" if info.field_name == "briefing_send_time" else "digest time"
        return parse_clock(value, what=what) if isinstance(value, str) else value

    @field_validator("digest_weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        return parse_weekday(value)

    @field_validator("briefing_send_times", mode="before")
    @classmethod
    def _send_times(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        out = {}
        for pid, text in value.items():
            if not str(pid).strip().isdigit():
                raise ValueError(f"send times are keyed by practitioner id; got {pid!r}")
            parse_send_time(text, ZoneInfo("UTC"))
            out[int(str(pid).strip())] = text.strip()
        return out

    @field_validator("literature_refresh_cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return check_cron(value.strip(), ZoneInfo("UTC"))

    def send_time_for(self, practitioner_id: int, zone: ZoneInfo) -> tuple[time, ZoneInfo]:
        """A physician's morning send time and zone: their own where set, else the practice's."""
        text = self.briefing_send_times.get(practitioner_id)
        if text is None:
            return self.briefing_send_time, zone
        return parse_send_time(text, zone)


class ServiceSettings(Protocol):
    """The sections of the settings the service reads (app.settings.Settings has them)."""

    @property
    def data_dir(self) -> Path: ...

    @property
    def zone(self) -> ZoneInfo: ...

    @property
    def limits(self) -> PracticeLimits: ...

    @property
    def schedule(self) -> ScheduleSettings: ...

    @property
    def email(self) -> EmailSettings: ...

    @property
    def literature(self) -> LiteratureSources: ...

    @property
    def ehr(self) -> EhrSettings: ...


def outbox_dir(settings: ServiceSettings) -> Path:
    """Where emails are written as .eml files when no SMTP server is set."""
    return settings.data_dir / "outbox"


def send_time_for(settings: ServiceSettings, practitioner_id: int) -> tuple[time, ZoneInfo]:
    return settings.schedule.send_time_for(practitioner_id, settings.zone)
