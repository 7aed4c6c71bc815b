"""Reading what changed on a FHIR server, a page at a time, with fhirpy.

fhirpy builds the search (`_lastUpdated`, `_sort`, `_count`, its encoding of each) and keeps
`next` links on the configured server (an absolute link elsewhere is refused, as fhirpy
refuses it); every request goes through `Transport` (timeout, retries, Retry-After) with the
credentials' Authorization header, renewed once on a 401. fhirpy is imported here only, when
a client is made: `steve --help` never loads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from tools.interop.fhir.sync.auth import Credentials, NoCredentials
from tools.interop.fhir.sync.retry import SyncError, Transport, host_of

FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class Page:
    """One searchset page: its matching resources as the server sent them."""

    resource_type: str
    number: int  # 1 for the first page of a search
    resources: list[dict[str, Any]]
    total: int | None  # Bundle.total, when the server gives it


class FhirSource(Protocol):
    """What the sync reads from (FhirClient; tests may pass their own)."""

    def pages(self, resource_type: str, *, since: str | None, page_size: int) -> Iterator[Page]:
        """Every resource of the type last updated at or after `since` (all when None),
        oldest first, a page at a time."""
        ...


class FhirClient:
    """A FHIR R4 server read over REST with fhirpy."""

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Credentials | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials or NoCredentials()
        self.transport = transport or Transport()
        self._fhir = _fhirpy_client(self)

    def search_params(self, resource_type: str, *, since: str | None, page_size: int) -> Any:
        """The first page's query, as fhirpy encodes it."""
        search = self._fhir.resources(resource_type).sort("_lastUpdated").limit(page_size)
        if since:
            # ge, not gt: resources updated in the same instant as the last one read may lie
            # on the next page; reading one again is free (imports are idempotent).
            search = search.search(_lastUpdated=f"ge{since}")
        return search.params

    def pages(self, resource_type: str, *, since: str | None, page_size: int) -> Iterator[Page]:
        from fhirpy.base.utils import parse_pagination_url

        params = self.search_params(resource_type, since=since, page_size=page_size)
        bundle = self._fhir.execute(resource_type, method="get", params=params)
        seen: set[str] = set()
        number = 1
        while True:
            yield _page(resource_type, number, bundle, host_of(self.base_url))
            link = next_link(bundle)
            if link is None:
                return
            if link in seen:
                raise SyncError(f"{host_of(self.base_url)}: {resource_type} paging loops")
            seen.add(link)
            path, query = parse_pagination_url(link)
            bundle = self._fhir.execute(path, method="get", params=query)
            number += 1

    def request(
        self, method: str, url: str, *, json_body: Any = None, retry_401: bool = True
    ) -> Any:
        """One FHIR request (fhirpy calls this for every one): JSON back, or a SyncError."""
        headers = {"Accept": FHIR_JSON}
        auth = self.credentials.authorization(self.transport)
        if auth:
            headers["Authorization"] = auth
        reply = self.transport.request(method.upper(), url, headers=headers, json=json_body)
        host = host_of(url)
        if reply.status_code == 401 and retry_401 and self.credentials.refresh():
            return self.request(method, url, json_body=json_body, retry_401=False)
        if not 200 <= reply.status_code < 300:
            raise SyncError(f"{host}: HTTP {reply.status_code}{_issue(reply)}")
        try:
            return json.loads(reply.content) if reply.content else None
        except ValueError:
            raise SyncError(f"{host}: answered with something that is not JSON") from None


def _fhirpy_client(owner: FhirClient) -> Any:
    from fhirpy import SyncFHIRClient

    class _Client(SyncFHIRClient):
        """fhirpy's client, its requests made by `owner` (timeouts, retries, auth)."""

        def _do_request(  # type: ignore[override]
            self,
            method: str,
            path: str,
            data: dict[str, Any] | None = None,
            params: dict[str, Any] | None = None,
            extra_headers: dict[str, Any] | None = None,
            *,
            returning_status: bool = False,
        ) -> Any:
            try:
                url = self._build_request_url(path, params)
            except ValueError:
                raise SyncError(f"{host_of(owner.base_url)}: a link leads off the server") from None
            body = owner.request(method, url, json_body=data)
            return (body, 200) if returning_status else body

    return _Client(owner.base_url)


def next_link(bundle: Any) -> str | None:
    links = bundle.get("link") if isinstance(bundle, dict) else None
    for link in links or []:
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None


def _page(resource_type: str, number: int, bundle: Any, host: str) -> Page:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise SyncError(f"{host}: {resource_type} search did not answer with a Bundle")
    resources = []
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        mode = (entry.get("search") or {}).get("mode", "match") if isinstance(entry, dict) else ""
        # `include`d and `outcome` entries are not the search's matches.
        if isinstance(resource, dict) and mode == "match":
            resources.append(resource)
    total = bundle.get("total")
    return Page(resource_type, number, resources, total if isinstance(total, int) else None)


def _issue(reply: Any) -> str:
    """An OperationOutcome's first issue code (a fixed vocabulary: safe to show)."""
    try:
        body = reply.json()
        code = body["issue"][0]["code"] if body.get("resourceType") == "OperationOutcome" else None
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""
    return f" ({code})" if isinstance(code, str) and code.replace("-", "").isalpha() else ""
