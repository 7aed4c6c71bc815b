"""Steve's settings: one pydantic-settings object in sections (as paper-qa's Settings), read
from `STEVE_<SECTION>__<FIELD>` variables and `.env`.

    STEVE_DATA_DIR=/srv/steve
    STEVE_PRACTICE__TIMEZONE=America/New_York
    STEVE_EMAIL__SMTP_HOST=mail.example.org

Every earlier flat name (`STEVE_TIMEZONE`, `STEVE_SMTP_HOST`, ...) still works: FLAT_FIELDS
says which section field each one sets; where both are set, the sectioned name wins.

Nothing below `app/` imports this module; the values are passed down (the service reads
it through schedules.config.ServiceSettings). Cheap to import: every CLI command does.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from db.engine import normalise_database_url
from schedules.config import EmailSettings, ScheduleSettings
from tools.errors import ConfigError
from tools.interop.fhir.sync.config import EhrSettings
from tools.literature.fetch import LiteratureSources
from tools.practice_limits import PracticeLimits

PREFIX = "STEVE_"
DELIMITER = "__"


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the practice database. Empty: a SQLite file `steve.db` in the "
            "data directory. `postgresql://user@host:5432/db` for PostgreSQL."
        ),
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return normalise_database_url(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None


class PracticeSettings(BaseModel):
    timezone: str = Field(
        default="Europe/London",
        description="The practice's IANA time zone: working hours and days are read in it.",
    )
    name: str | None = Field(
        default=None, description="The practice's name (passwords may not contain it)."
    )
    user: str | None = Field(
        default=None,
        description="Who works at this terminal (practitioner id or name): `steve tasks mine`.",
    )

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


class LLMSettings(BaseModel):
    """The chat model (app.wiring turns this into agent.llm's ModelConfig)."""

    model: str | None = Field(
        default=None, description="Chat model name; empty: no model, deterministic composers."
    )
    base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp, Azure)."
    )
    api_key: str | None = Field(default=None, description="API key for the endpoint.")
    temperature: float = Field(default=0.1, ge=0, le=2, description="Sampling temperature.")
    timeout_seconds: float = Field(default=60.0, gt=0, description="Per-call timeout.")
    max_retries: int = Field(default=2, ge=0, le=10, description="Retries per model call.")


class ChatSettings(BaseModel):
    recursion_limit: int = Field(
        default=25,
        ge=5,
        le=200,
        description="Graph steps per chat turn (each model call or tool round is a step).",
    )
    daily_token_budget: int = Field(
        default=200_000,
        ge=0,
        description="Model tokens one user may use per practice-local day in chat; 0: no cap.",
    )
    checkpoint_path: Path | None = Field(
        default=None,
        description=(
            "SQLite file for chat threads; empty: chat.sqlite in the data directory. With a "
            "PostgreSQL database, threads live there instead (schema `langgraph`)."
        ),
    )


class MemorySettings(BaseModel):
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

    @field_validator("embeddings_provider")
    @classmethod
    def _provider(cls, value: str) -> str:
        if value not in ("local", "openai"):
            raise ValueError(f"unknown embeddings provider {value!r}; use local or openai")
        return value


class ApiSettings(BaseModel):
    """The HTTP API and web app, served by `steve serve`."""

    host: str = Field(default="127.0.0.1", description="Address the HTTP API listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port of the HTTP API.")
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
    max_import_bytes: int = Field(
        default=50_000_000,
        ge=1024,
        description="The limit for `POST /api/import/...` bodies (an EHR's Bundle can be"
        " several MB); larger files go through `steve import`.",
    )
    cookie_secure: bool = Field(
        default=False,
        description="Mark session cookies Secure (set true when served over HTTPS).",
    )


class Hl7Settings(BaseModel):
    """HL7 v2 lab results received over MLLP by `steve serve` (off unless enabled)."""

    mllp_enabled: bool = Field(
        default=False, description="Listen for laboratories' HL7 v2 messages over MLLP."
    )
    mllp_host: str = Field(default="127.0.0.1", description="Address the MLLP listener binds.")
    mllp_port: int = Field(default=2575, ge=1, le=65535, description="Port of the MLLP listener.")
    mllp_idle_seconds: float = Field(
        default=300.0, gt=0, le=86400, description="A connection idle this long is closed."
    )
    source: str | None = Field(
        default=None,
        max_length=300,
        description="Source system of received records (default: each message's MSH-4).",
    )
    lab: str | None = Field(
        default=None,
        max_length=200,
        description="Laboratory name on orders made from messages (default: the source).",
    )

    @field_validator("mllp_host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the MLLP listener needs an address (e.g. 127.0.0.1)")
        return value.strip()


# Every earlier flat variable name (without STEVE_) -> (section, field). Still read; the
# sectioned name (STEVE_<SECTION>__<FIELD>) wins where both are set.
FLAT_FIELDS: dict[str, tuple[str, str]] = {
    "database_url": ("database", "url"),
    "timezone": ("practice", "timezone"),
    "practice_name": ("practice", "name"),
    "user": ("practice", "user"),
    **{
        name: ("limits", name)
        for name in (
            "slot_step_minutes",
            "block_gap_minutes",
            "referral_overdue_days",
            "lab_overdue_grace_days",
            "reorder_lead_days",
            "briefing_lookback_days",
            "briefing_evidence_days",
        )
    },
    **{
        name: ("literature", name)
        for name in ("ncbi_email", "ncbi_api_key", "ncbi_tool", "feed_urls", "http_timeout_seconds")
    },
    "literature_offline_dir": ("literature", "offline_dir"),
    **{
        f"llm_{name}": ("llm", name)
        for name in (
            "model",
            "base_url",
            "api_key",
            "temperature",
            "timeout_seconds",
            "max_retries",
        )
    },
    "agent_recursion_limit": ("chat", "recursion_limit"),
    "agent_daily_token_budget": ("chat", "daily_token_budget"),
    "chat_checkpoint_path": ("chat", "checkpoint_path"),
    **{
        name: ("memory", name)
        for name in (
            "chroma_url",
            "embeddings_provider",
            "embeddings_model",
            "embeddings_base_url",
            "embeddings_api_key",
            "embeddings_dim",
        )
    },
    **{name: ("email", name) for name in EmailSettings.model_fields},
    **{name: ("schedule", name) for name in ScheduleSettings.model_fields},
    "api_host": ("api", "host"),
    "api_port": ("api", "port"),
    **{
        name: ("api", name)
        for name in (
            "session_idle_minutes",
            "login_lockout_attempts",
            "login_lockout_minutes",
            "login_rate_per_minute",
            "chat_rate_per_minute",
            "max_request_bytes",
            "cookie_secure",
        )
    },
}
_FLAT_NAME = {place: f"{PREFIX}{flat.upper()}" for flat, place in FLAT_FIELDS.items()}


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{'timezone': v, ...} -> {'practice': {'timezone': v}, ...} (unknown names dropped)."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in flat.items():
        if name.lower() in FLAT_FIELDS:
            section, field = FLAT_FIELDS[name.lower()]
            out.setdefault(section, {})[field] = value
    return out


def _decoded(section: str, field: str, value: Any) -> Any:
    """A dict or list setting from its JSON text, as pydantic-settings reads the others."""
    model = Settings.model_fields[section].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    if isinstance(value, str) and get_origin(model.model_fields[field].annotation) in (dict, list):
        try:
            return json.loads(value)
        except ValueError:
            raise SettingsError(
                f'error parsing value for field "{section}.{field}" from source "flat names"'
            ) from None
    return value


class _FlatSource(PydanticBaseSettingsSource):
    """The earlier flat variable names, from the environment (or a .env file), nested."""

    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, str]) -> None:
        super().__init__(settings_cls)
        self._values = values

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the whole mapping

    def __call__(self) -> dict[str, Any]:
        found = {}
        for key, value in self._values.items():
            upper = key.upper()
            if upper.startswith(PREFIX) and upper[len(PREFIX) :].lower() in FLAT_FIELDS:
                name = upper[len(PREFIX) :].lower()
                section, field = FLAT_FIELDS[name]
                found[name] = _decoded(section, field, value)
        return _nest(found)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_nested_delimiter=DELIMITER,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(
        default=Path("steve-data"),
        description="Directory for the SQLite database, the Chroma store and the outbox.",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    practice: PracticeSettings = Field(default_factory=PracticeSettings)
    limits: PracticeLimits = Field(default_factory=PracticeLimits)
    literature: LiteratureSources = Field(default_factory=LiteratureSources)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    hl7: Hl7Settings = Field(default_factory=Hl7Settings)
    ehr: EhrSettings = Field(default_factory=EhrSettings)

    def __init__(self, **values: Any) -> None:
        # Keyword arguments may use the flat names too: Settings(timezone="UTC").
        flat = {k: v for k, v in values.items() if k in FLAT_FIELDS}
        nested = {k: v for k, v in values.items() if k not in FLAT_FIELDS}
        for section, fields in _nest(flat).items():
            given = nested.get(section)
            if isinstance(given, BaseModel):
                given = given.model_dump()
            nested[section] = {**fields, **(given or {})}
        super().__init__(**nested)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        dotenv: dict[str, str] = {}
        if isinstance(dotenv_settings, DotEnvSettingsSource):
            dotenv = {k: v for k, v in dotenv_settings.env_vars.items() if v is not None}
        return (
            init_settings,
            env_settings,
            _FlatSource(settings_cls, dict(os.environ)),
            dotenv_settings,
            _FlatSource(settings_cls, dotenv),
            file_secret_settings,
        )

    @property
    def db_url(self) -> str:
        """The effective database URL (SQLite in the data directory unless one is set)."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'steve.db').resolve()}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.practice.timezone)


def env_name(loc: tuple[Any, ...]) -> str:
    """The variable that sets a field: the sectioned name, unless only the flat one is set."""
    parts = tuple(str(p) for p in loc)
    nested = PREFIX + DELIMITER.join(parts).upper()
    flat = _FLAT_NAME.get((parts[0], parts[1])) if len(parts) >= 2 else None
    return flat if flat is not None and not _is_set(nested) else nested


def _is_set(name: str) -> bool:
    """Is the variable in the environment or the .env file?"""
    if name in os.environ:
        return True
    try:
        lines = Path(".env").read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return any(line.strip().startswith(f"{name}=") for line in lines)


def _json_name(field: str) -> str:
    """The variable behind a JSON value pydantic-settings could not read ('limits' for
    STEVE_LIMITS__REFERRAL_OVERDUE_DAYS, 'limits.referral_overdue_days' for the flat name)."""
    if "." in field:
        return env_name(tuple(field.split(".")))
    inside = f"{PREFIX}{field.upper()}{DELIMITER}"
    return next(
        (name for name in sorted(os.environ) if name.startswith(inside)), env_name((field,))
    )


def load_settings() -> Settings:
    """Read the settings, turning a validation failure into one clear line."""
    try:
        return Settings()
    except SettingsError as exc:
        # e.g. a dict setting that is not JSON: pydantic-settings names the field.
        field = str(exc).split('"')[1] if '"' in str(exc) else "settings"
        raise ConfigError(f"setting {_json_name(field)}: not valid JSON") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"setting {env_name(first['loc'])}: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (the one accessor)."""
    return load_settings()
