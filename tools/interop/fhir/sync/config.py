"""The settings' `ehr` section: which FHIR server to stay in step with, and how.

    STEVE_EHR__BASE_URL=https://ehr.example.org/fhir
    STEVE_EHR__AUTH=smart
    STEVE_EHR__CLIENT_ID=steve
    STEVE_EHR__PRIVATE_KEY_PATH=/etc/steve/ehr-key.pem
    STEVE_EHR__TOKEN_URL=https://ehr.example.org/oauth2/token
    STEVE_EHR__ENABLED=true                 # the scheduled sync under `steve serve`

Declared here (as tools.literature.fetch declares `literature`) so the sync, the service and
app.settings read one definition. Cheap to import: pydantic only.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator

# Pulled in this order, so a page of observations finds its patients and practitioners.
RESOURCE_TYPES = (
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "AllergyIntolerance",
    "Observation",
    "DiagnosticReport",
    "ServiceRequest",
    "Encounter",
    "Appointment",
    "CarePlan",
    "Goal",
    "QuestionnaireResponse",
    "DocumentReference",
    "Communication",
)
AUTH_KINDS = ("none", "bearer", "smart")
SIGNING_ALGORITHMS = ("RS384", "ES384")  # what SMART backend services require servers accept


class EhrSettings(BaseModel):
    """A FHIR R4 server to pull changes from (`steve sync fhir`, and the scheduled sync)."""

    enabled: bool = Field(default=False, description="Run the scheduled sync under `steve serve`.")
    base_url: str | None = Field(
        default=None,
        validate_default=True,
        description="The FHIR server's base URL, e.g. https://ehr.example.org/fhir.",
    )
    source_system: str | None = Field(
        default=None,
        description="How imported rows name this server (provenance); empty: the base URL.",
    )
    auth: str = Field(default="none", description="none, bearer (a static token) or smart.")
    token: SecretStr | None = Field(
        default=None, validate_default=True, description="The bearer token (auth=bearer)."
    )
    client_id: str | None = Field(
        default=None,
        validate_default=True,
        description="SMART backend-services client id (auth=smart).",
    )
    private_key_path: Path | None = Field(
        default=None,
        validate_default=True,
        description="PEM private key that signs the client assertion (auth=smart).",
    )
    key_id: str | None = Field(
        default=None, description="The key's `kid` as registered with the server (auth=smart)."
    )
    algorithm: str = Field(default="RS384", description="RS384 (RSA key) or ES384 (EC P-384).")
    token_url: str | None = Field(
        default=None,
        validate_default=True,
        description="The server's OAuth2 token endpoint (auth=smart).",
    )
    scope: str = Field(
        default="system/*.read", description="Scopes asked for (auth=smart), space-separated."
    )
    page_size: int = Field(default=100, ge=1, le=1000, description="`_count`: resources a page.")
    timeout_s: float = Field(default=30.0, gt=0, le=600, description="Timeout of every request.")
    max_retries: int = Field(
        default=4, ge=0, le=20, description="Retries of a request after 429, 5xx or no answer."
    )
    backoff_s: float = Field(
        default=1.0, ge=0, le=60, description="First wait between retries; doubles each time."
    )
    max_wait_s: float = Field(
        default=120.0,
        ge=0,
        le=3600,
        description="Longest Retry-After honoured; a server asking for longer fails the run.",
    )
    resource_types: list[str] = Field(
        default_factory=lambda: list(RESOURCE_TYPES),
        description='Resource types pulled, in order, as JSON: ["Patient", "Observation"].',
    )
    interval_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="Minutes between scheduled syncs."
    )

    @field_validator("base_url", "token_url")
    @classmethod
    def _http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            if info.field_name == "base_url" and info.data.get("enabled"):
                raise ValueError("required when the EHR sync is enabled")
            if info.field_name == "token_url" and info.data.get("auth") == "smart":
                raise ValueError("required when auth is smart")
            return None
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("auth")
    @classmethod
    def _auth(cls, value: str) -> str:
        if value not in AUTH_KINDS:
            raise ValueError(f"unknown auth {value!r}; use none, bearer or smart")
        return value

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if info.data.get("auth") == "bearer" and (value is None or not value.get_secret_value()):
            raise ValueError("required when auth is bearer")
        return value

    @field_validator("client_id", "private_key_path")
    @classmethod
    def _smart(cls, value: object, info: ValidationInfo) -> object:
        if info.data.get("auth") == "smart" and (value is None or str(value).strip() == ""):
            raise ValueError("required when auth is smart")
        return value

    @field_validator("algorithm")
    @classmethod
    def _algorithm(cls, value: str) -> str:
        if value.upper() not in SIGNING_ALGORITHMS:
            raise ValueError(f"unknown algorithm {value!r}; use RS384 or ES384")
        return value.upper()

    @field_validator("resource_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in RESOURCE_TYPES]
        if unknown:
            raise ValueError(
                f"unknown resource type {unknown[0]!r}; use some of {', '.join(RESOURCE_TYPES)}"
            )
        if not value:
            raise ValueError("no resource types; use some of " + ", ".join(RESOURCE_TYPES))
        return value

    @property
    def system(self) -> str:
        """The name provenance and cursors give this server."""
        return self.source_system or self.base_url or ""
