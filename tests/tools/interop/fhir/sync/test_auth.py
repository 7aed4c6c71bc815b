"""Bearer tokens and SMART backend services against the loopback server, which verifies the
client assertion's signature with the registered public key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from tests.support.fhir_server import FhirServer
from tests.support.fhir_sync import SigningKey, patient, signing_key
from tools.errors import ConfigError
from tools.interop.fhir.sync.auth import BearerToken, SmartBackend, credentials_for
from tools.interop.fhir.sync.client import FhirClient
from tools.interop.fhir.sync.config import EhrSettings
from tools.interop.fhir.sync.retry import SyncError, Transport


class Clock:
    """Real time (the server checks the assertion's exp against it), moved on by hand."""

    def __init__(self) -> None:
        self.start, self.offset = datetime.now(UTC), timedelta()

    def __call__(self) -> datetime:
        return self.start + self.offset


def _smart(
    server: FhirServer, key: SigningKey, clock: Clock, client_id: str = "steve"
) -> SmartBackend:
    return SmartBackend(
        client_id=client_id,
        private_key=key.private_pem,
        token_url=server.token_url,
        scope="system/Patient.read",
        algorithm=key.algorithm,
        key_id="key-1",
        clock=clock,
    )


def _read_patients(server: FhirServer, credentials: object) -> list[str]:
    client = FhirClient(server.base_url, credentials=credentials, transport=Transport())  # type: ignore[arg-type]
    return [
        r["id"]
        for page in client.pages("Patient", since=None, page_size=10)
        for r in page.resources
    ]


@pytest.mark.parametrize("which", ["rsa_key", "ec_key"])
def test_smart_backend_services_gets_a_token_and_reads(
    fhir_server: FhirServer, which: str, request: pytest.FixtureRequest
) -> None:
    key: SigningKey = request.getfixturevalue(which)
    fhir_server.register_client("steve", key.public_pem, key.algorithm)
    fhir_server.put(patient(1))
    assert _read_patients(fhir_server, _smart(fhir_server, key, Clock())) == ["pat-001"]
    [token_request] = [r for r in fhir_server.requests if r.path == "/auth/token"]
    assert token_request.authorization is None
    data_request = fhir_server.searches_of("Patient")[0]
    assert data_request.authorization and data_request.authorization.startswith("Bearer ")


def test_the_assertion_carries_what_smart_requires(rsa_key: SigningKey) -> None:
    clock = Clock()
    smart = SmartBackend(
        client_id="steve",
        private_key=rsa_key.private_pem,
        token_url="https://ehr.test/token",
        scope="system/*.read",
        key_id="key-1",
        clock=clock,
    )
    first, second = smart.assertion(), smart.assertion()
    header = jwt.get_unverified_header(first)
    assert header["alg"] == "RS384" and header["kid"] == "key-1" and header["typ"] == "JWT"
    claims = jwt.decode(
        first, rsa_key.public_pem, algorithms=["RS384"], audience="https://ehr.test/token"
    )
    assert claims["iss"] == claims["sub"] == "steve"
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]


def test_a_token_is_reused_until_shortly_before_it_expires(
    fhir_server: FhirServer, rsa_key: SigningKey
) -> None:
    fhir_server.register_client("steve", rsa_key.public_pem)
    fhir_server.state.token_lifetime_s = 70  # renewed 60 s early: after 10 s
    clock = Clock()
    smart = _smart(fhir_server, rsa_key, clock)
    transport = Transport()
    first = smart.authorization(transport)
    clock.offset = timedelta(seconds=5)
    assert smart.authorization(transport) == first and smart.tokens_fetched == 1
    clock.offset = timedelta(seconds=15)
    assert smart.authorization(transport) != first and smart.tokens_fetched == 2


def test_a_401_fetches_a_new_token_once(fhir_server: FhirServer, rsa_key: SigningKey) -> None:
    fhir_server.register_client("steve", rsa_key.public_pem)
    fhir_server.put(patient(1))
    smart = _smart(fhir_server, rsa_key, Clock())
    client = FhirClient(fhir_server.base_url, credentials=smart)
    list(client.pages("Patient", since=None, page_size=10))
    fhir_server.expire_tokens()  # the server forgot it (restarted, revoked)
    assert [p.resources[0]["id"] for p in client.pages("Patient", since=None, page_size=10)] == [
        "pat-001"
    ]
    assert smart.tokens_fetched == 2


def test_an_unregistered_key_is_refused_with_the_oauth_code(
    fhir_server: FhirServer, rsa_key: SigningKey
) -> None:
    fhir_server.register_client("steve", signing_key("RS384").public_pem)  # another key
    with pytest.raises(SyncError) as caught:
        _read_patients(fhir_server, _smart(fhir_server, rsa_key, Clock()))
    assert str(caught.value) == (
        f"127.0.0.1:{fhir_server.port}: token request refused (HTTP 401: invalid_client)"
    )


def test_a_bearer_token_is_sent_and_a_wrong_one_refused(fhir_server: FhirServer) -> None:
    fhir_server.require_bearer("right-token")
    fhir_server.put(patient(2))
    assert _read_patients(fhir_server, BearerToken("right-token")) == ["pat-002"]
    with pytest.raises(SyncError) as caught:
        _read_patients(fhir_server, BearerToken("wrong-token"))
    assert str(caught.value) == f"127.0.0.1:{fhir_server.port}: HTTP 401 (login)"
    assert "wrong-token" not in str(caught.value)


def test_credentials_from_the_settings(tmp_path: Path, ec_key: SigningKey) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_text(ec_key.private_pem)
    smart = credentials_for(
        EhrSettings(
            base_url="https://ehr.test/fhir",
            auth="smart",
            client_id="steve",
            private_key_path=key_file,
            token_url="https://ehr.test/token",
            algorithm="es384",
        )
    )
    assert isinstance(smart, SmartBackend) and smart.algorithm == "ES384"
    bearer = credentials_for(EhrSettings(auth="bearer", token="abc"))  # type: ignore[arg-type]
    assert isinstance(bearer, BearerToken)
    missing = EhrSettings(
        auth="smart",
        client_id="steve",
        private_key_path=tmp_path / "absent.pem",
        token_url="https://ehr.test/token",
    )
    with pytest.raises(ConfigError, match="STEVE_EHR__PRIVATE_KEY_PATH: cannot read"):
        credentials_for(missing)


def test_a_key_of_the_wrong_kind_is_a_config_error(rsa_key: SigningKey) -> None:
    smart = SmartBackend(
        client_id="steve",
        private_key=rsa_key.private_pem,
        token_url="https://ehr.test/token",
        scope="system/*.read",
        algorithm="ES384",  # an RSA key cannot sign ES384
    )
    with pytest.raises(ConfigError, match="not a ES384 private key"):
        smart.assertion()
