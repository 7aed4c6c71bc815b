"""How Steve proves who it is to the EHR: nothing, a static bearer token, or SMART
backend services (OAuth2 client credentials with a signed JWT assertion, RS384 or ES384).

SMART backend services (https://hl7.org/fhir/smart-app-launch/backend-services.html): Steve
signs a short-lived JWT (iss = sub = client id, aud = token endpoint, a fresh jti, exp at
most five minutes on) with its private key, posts it to the token endpoint with
`grant_type=client_credentials` and the scopes, and uses the access token until shortly
before it expires (or until the server answers 401, once). PyJWT signs; the key never
leaves this process and no error names it or the token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from db.engine import utcnow
from tools.errors import ConfigError
from tools.interop.fhir.sync.config import EhrSettings
from tools.interop.fhir.sync.retry import SyncError, Transport, host_of

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = timedelta(minutes=5)  # the most SMART allows
EARLY = timedelta(seconds=60)  # a token is renewed this long before it expires


class Credentials(Protocol):
    def authorization(self, transport: Transport) -> str | None:
        """The Authorization header value (None: send none)."""
        ...

    def refresh(self) -> bool:
        """Forget the current token after a 401; True if a new one may help."""
        ...


class NoCredentials:
    def authorization(self, transport: Transport) -> str | None:
        return None

    def refresh(self) -> bool:
        return False


@dataclass
class BearerToken:
    token: str

    def authorization(self, transport: Transport) -> str | None:
        return f"Bearer {self.token}"

    def refresh(self) -> bool:
        return False


@dataclass
class SmartBackend:
    client_id: str
    private_key: str  # PEM
    token_url: str
    scope: str
    algorithm: str = "RS384"
    key_id: str | None = None
    clock: Callable[[], datetime] = utcnow
    tokens_fetched: int = 0
    _token: str | None = field(default=None, repr=False)
    _expires: datetime | None = None

    def assertion(self) -> str:
        """The signed client assertion for one token request."""
        import jwt

        now = self.clock()
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "jti": uuid.uuid4().hex,
            "iat": int(now.timestamp()),
            "exp": int((now + ASSERTION_LIFETIME).timestamp()),
        }
        headers = {"typ": "JWT", **({"kid": self.key_id} if self.key_id else {})}
        try:
            return jwt.encode(claims, self.private_key, algorithm=self.algorithm, headers=headers)
        except (ValueError, TypeError, jwt.InvalidKeyError) as exc:
            raise ConfigError(
                f"setting STEVE_EHR__PRIVATE_KEY_PATH: not a {self.algorithm} private key "
                f"({type(exc).__name__})"
            ) from None

    def authorization(self, transport: Transport) -> str | None:
        now = self.clock()
        if self._token is None or self._expires is None or now >= self._expires - EARLY:
            self._fetch(transport, now)
        return f"Bearer {self._token}"

    def refresh(self) -> bool:
        had = self._token is not None
        self._token, self._expires = None, None
        return had

    def _fetch(self, transport: Transport, now: datetime) -> None:
        form = {
            "grant_type": "client_credentials",
            "scope": self.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(),
        }
        reply = transport.request(
            "POST", self.token_url, form=form, headers={"Accept": "application/json"}
        )
        host = host_of(self.token_url)
        if reply.status_code != 200:
            raise SyncError(
                f"{host}: token request refused (HTTP {reply.status_code}{_code(reply)})"
            )
        try:
            body = reply.json()
            token = str(body["access_token"])
            lifetime = int(body.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            raise SyncError(f"{host}: token endpoint answered without an access token") from None
        self._token, self._expires = token, now + timedelta(seconds=lifetime)
        self.tokens_fetched += 1


def _code(reply: object) -> str:
    """The OAuth2 `error` code of a refusal (a fixed vocabulary: safe to show)."""
    try:
        code = reply.json().get("error")  # type: ignore[attr-defined]
    except (ValueError, AttributeError):
        return ""
    return f": {code}" if isinstance(code, str) and code.isidentifier() else ""


def credentials_for(
    settings: EhrSettings, *, clock: Callable[[], datetime] = utcnow
) -> Credentials:
    """The credentials the settings describe (the private key is read here)."""
    if settings.auth == "bearer" and settings.token is not None:
        return BearerToken(settings.token.get_secret_value())
    if settings.auth == "smart":
        path = settings.private_key_path
        if path is None or settings.client_id is None or settings.token_url is None:
            raise ConfigError("setting STEVE_EHR__AUTH: smart needs client_id, key and token_url")
        return SmartBackend(
            client_id=settings.client_id,
            private_key=_read_key(path),
            token_url=settings.token_url,
            scope=settings.scope,
            algorithm=settings.algorithm,
            key_id=settings.key_id,
            clock=clock,
        )
    return NoCredentials()


def _read_key(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise ConfigError(
            f"setting STEVE_EHR__PRIVATE_KEY_PATH: cannot read a PEM key at {path}"
        ) from None
