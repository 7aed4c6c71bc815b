"""Steve's settings: one pydantic-settings object, read from `STEVE_*` variables and `.env`.

Nothing below `app/` imports this module; the values are passed down.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from agent.llm import ModelConfig
from db.engine import normalise_database_url
from schedules.config import (
    SECURITY,
    check_cron,
    parse_clock,
    parse_send_time,
    parse_weekday,
)
from tools.errors import ConfigError
from tools.referrals import DEFAULT_OVERDUE_DAYS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STEVE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=Path("steve-data"),
        description="Directory for the SQLite database, the Chroma store and the outbox.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the practice database. Empty: a SQLite file `steve.db` in the "
            "data directory. `postgresql://user@host:5432/db` for PostgreSQL."
        ),
    )
    timezone: str = Field(
        default="Europe/London",
        description="The practice's IANA time zone: working hours and days are read in it.",
    )
    slot_step_minutes: int = Field(
        default=15, ge=5, le=120, description="Granularity of free-slot search, in minutes."
    )
    block_gap_minutes: int = Field(
        default=10,
        ge=0,
        le=240,
        description="Default gap between the parts of a visit block, in minutes.",
    )
    referral_overdue_days: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_OVERDUE_DAYS),
        description=(
            "Days a referral may stay in each state before it is overdue, as JSON, e.g. "
            '{"sent": 10, "accepted": 14}. States not named keep their defaults.'
        ),
    )
    lab_overdue_grace_days: int = Field(
        default=2,
        ge=0,
        description="Days after the expected date before a lab result counts as overdue.",
    )
    reorder_lead_days: int = Field(
        default=7, ge=0, description="Supplements whose reorder date falls within this many days."
    )
    briefing_lookback_days: int = Field(
        default=90,
        ge=1,
        le=730,
        description=(
            "Briefings: how far back 'what changed' reaches at a first visit with a physician, "
            "and the window in which conflicting guidance between practitioners is looked for."
        ),
    )
    briefing_evidence_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Briefings: new evidence is what matched the patient's protocols in the "
        "last this-many days, or since the last visit when that is longer ago.",
    )

    ncbi_email: str | None = Field(
        default=None,
        description="Contact address NCBI asks every E-utilities client to send (required online).",
    )
    ncbi_api_key: str | None = Field(
        default=None, description="NCBI API key: raises the PubMed rate limit from 3 to 10/s."
    )
    ncbi_tool: str = Field(default="steve", description="Tool name sent to NCBI.")
    feed_urls: list[str] = Field(
        default_factory=list,
        description='Journal and PubMed RSS/Atom feeds to watch, as JSON: ["https://..."].',
    )
    http_timeout_seconds: float = Field(
        default=20.0, gt=0, le=300, description="Timeout for every PubMed and feed request."
    )
    literature_offline_dir: Path | None = Field(
        default=None,
        description="Read saved PubMed XML and feed files from here instead of the network.",
    )

    llm_model: str | None = Field(
        default=None, description="Chat model name; empty: no model, deterministic composers."
    )
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp, Azure)."
    )
    llm_api_key: str | None = Field(default=None, description="API key for the endpoint.")
    llm_temperature: float = Field(default=0.1, ge=0, le=2, description="Sampling temperature.")
    llm_timeout_seconds: float = Field(default=60.0, gt=0, description="Per-call timeout.")
    llm_max_retries: int = Field(default=2, ge=0, le=10, description="Retries per model call.")
    agent_recursion_limit: int = Field(
        default=25,
        ge=5,
        le=200,
        description="Graph steps per chat turn (each model call or tool round is a step).",
    )
    agent_daily_token_budget: int = Field(
        default=200_000,
        ge=0,
        description="Model tokens one user may use per practice-local day in chat; 0: no cap.",
    )
    chat_checkpoint_path: Path | None = Field(
        default=None,
        description=(
            "SQLite file for chat threads; empty: chat.sqlite in the data directory. With a "
            "PostgreSQL database, threads live there instead (schema `langgraph`)."
        ),
    )

    def model_config_for_agent(self) -> ModelConfig:
        return ModelConfig(
            model=self.llm_model,
            base_url=self.llm_base_url,
            api_key=self.llm_api_key,
            temperature=self.llm_temperature,
            timeout_seconds=self.llm_timeout_seconds,
            max_retries=self.llm_max_retries,
        )

    chroma_url: str | None = Field(
        default=None,
        description="Chroma server, e.g. http://127.0.0.1:8000; empty: a store in the data dir.",
    )
    embeddings_provider: str = Field(
        default="local",
        description="'local' (all-MiniLM-L6-v2, bundled) or 'openai' (compatible endpoint).",
    )
    embeddings_model: str | None = Field(default=None, description="Endpoint model name.")
    embeddings_base_url: str | None = Field(default=None, description="Endpoint URL.")
    embeddings_api_key: str | None = Field(default=None, description="Endpoint API key.")
    embeddings_dim: int | None = Field(default=None, gt=0, description="Endpoint vector size.")

    # The service (`steve serve`): email delivery, schedules, the outbox, leader election.
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
    practice_name: str | None = Field(
        default=None, description="The practice's name (passwords may not contain it)."
    )
    mail_from: str = Field(
        default="Steve <steve@localhost>", description="From address of Steve's emails."
    )
    briefing_send_time: str = Field(
        default="07:00", description="Morning briefing send time (HH:MM, practice zone)."
    )
    briefing_send_times: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'Per-physician send times as JSON: {"12": "06:30", "14": "07:15 America/New_York"}.'
        ),
    )
    digest_weekday: str = Field(default="mon", description="Weekly digest day (mon ... sun).")
    digest_time: str = Field(default="07:30", description="Weekly digest send time (HH:MM).")
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
    leader_poll_seconds: float = Field(
        default=5.0, gt=0, description="How often a standby `steve serve` tries to take over."
    )
    memory_sync_seconds: int = Field(
        default=60, ge=1, description="How often memory catches up with the change log."
    )
    user: str | None = Field(
        default=None,
        description="Who works at this terminal (practitioner id or name): `steve tasks mine`.",
    )

    # The HTTP API and web app (issue 7), served by `steve serve`.
    api_host: str = Field(default="127.0.0.1", description="Address the HTTP API listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port of the HTTP API.")
    session_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="A web session ends after this much inactivity."
    )
    login_lockout_attempts: int = Field(
        default=5, ge=1, le=100, description="Failed logins in a row before an account locks."
    )
    login_lockout_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="How long a locked account stays locked."
    )
    login_rate_per_minute: int = Field(
        default=10, ge=1, description="Login attempts allowed per client address per minute."
    )
    chat_rate_per_minute: int = Field(
        default=20, ge=1, description="Chat messages and decisions allowed per user per minute."
    )
    max_request_bytes: int = Field(
        default=1_000_000, ge=1024, description="Larger request bodies are refused (413)."
    )
    cookie_secure: bool = Field(
        default=False,
        description="Mark session cookies Secure (set true when served over HTTPS).",
    )

    @field_validator("smtp_security")
    @classmethod
    def _security(cls, value: str) -> str:
        if value not in SECURITY:
            raise ValueError(f"unknown SMTP security {value!r}; use starttls, tls or none")
        return value

    @field_validator("briefing_send_time", "digest_time")
    @classmethod
    def _clock(cls, value: str) -> str:
        parse_clock(value)
        return value.strip()

    @field_validator("digest_weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        return parse_weekday(value)

    @field_validator("briefing_send_times")
    @classmethod
    def _send_times(cls, value: dict[str, str]) -> dict[str, str]:
        for pid, text in value.items():
            if not pid.strip().isdigit():
                raise ValueError(f"send times are keyed by practitioner id; got {pid!r}")
            parse_send_time(text, ZoneInfo("UTC"))
        return value

    @field_validator("literature_refresh_cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return check_cron(value.strip(), ZoneInfo("UTC"))

    @field_validator("embeddings_provider")
    @classmethod
    def _provider(cls, value: str) -> str:
        if value not in ("local", "openai"):
            raise ValueError(f"unknown embeddings provider {value!r}; use local or openai")
        return value

    @field_validator("feed_urls")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"feed URL {url!r} is not an http(s) URL")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/London)"
            ) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return normalise_database_url(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("referral_overdue_days")
    @classmethod
    def _merge_limits(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - set(DEFAULT_OVERDUE_DAYS)
        if unknown:
            raise ValueError(
                f"unknown referral states {sorted(unknown)}; known: {sorted(DEFAULT_OVERDUE_DAYS)}"
            )
        if any(v < 0 for v in value.values()):
            raise ValueError("referral overdue limits must be zero or more days")
        return {**DEFAULT_OVERDUE_DAYS, **value}

    @property
    def db_url(self) -> str:
        """The effective database URL (SQLite in the data directory unless one is set)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'steve.db').resolve()}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings() -> Settings:
    """Read the settings, turning a validation failure into one clear line."""
    try:
        return Settings()
    except SettingsError as exc:
        # e.g. a dict setting that is not JSON: pydantic-settings names the field.
        field = str(exc).split('"')[1] if '"' in str(exc) else "settings"
        raise ConfigError(f"setting STEVE_{field.upper()}: not valid JSON") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"setting STEVE_{field.upper()}: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (the one accessor)."""
    return load_settings()
