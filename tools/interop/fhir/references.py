"""FHIR references resolved to the local key of the resource they point at, in every form.

The forms (FHIR R4 §2.36 "Resolving references in Bundles", §3.1.0.4 "Conditional references"):
- `urn:uuid:`/`urn:oid:` full URLs;
- relative (`Patient/123`), tried first against the base of the referring entry's absolute
  fullUrl, then as `Type/id`;
- absolute URLs, matched against fullUrls, then by their trailing `Type/id` when the target's
  own server is unknown (an NDJSON resource); `_history` versions drop the version;
- contained (`#id`, and `#` for the container);
- conditional (`Patient?identifier=system|value`), matched against the entries'
  `request.ifNoneExist` and conditional `request.url`, then against the resources' identifiers;
- logical references carrying only an `identifier`, matched by system and value and restricted
  to `Reference.type` when given.
A reference that matches nothing, or several resources, resolves to None.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

LOGICAL_KEYS = frozenset({"identifier", "type", "display", "id", "extension"})


@dataclass(frozen=True)
class Resolution:
    """Where a reference leads: the target's local key (None when nothing matches) and its form."""

    target: str | None
    form: str  # urn, relative, absolute, contained, conditional, identifier, unsupported


@dataclass
class ReferenceIndex:
    """Every way a read resource can be pointed at, mapped to its local key."""

    types: dict[str, str] = field(default_factory=dict)  # key -> resource type
    full_urls: dict[str, str] = field(default_factory=dict)  # key -> its entry's fullUrl
    by_full_url: dict[str, str] = field(default_factory=dict)
    by_type_id: dict[str, str] = field(default_factory=dict)
    by_identifier: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    by_condition: dict[str, str] = field(default_factory=dict)  # "Type?query" -> key

    def add(
        self,
        *,
        key: str,
        resource: Mapping[str, Any],
        full_url: str | None,
        request: Mapping[str, Any] | None,
    ) -> None:
        """Index one top-level resource and the resources it contains."""
        resource_type = str(resource["resourceType"])
        self.types[key] = resource_type
        if full_url:
            self.full_urls[key] = full_url
            self.by_full_url.setdefault(full_url, key)
        if isinstance(resource.get("id"), str):
            self.by_type_id.setdefault(f"{resource_type}/{resource['id']}", key)
        for system, value in _identifiers(resource):
            self.by_identifier.setdefault((system, value), []).append(key)
        for condition in _conditions(resource_type=resource_type, request=request):
            self.by_condition.setdefault(condition, key)
        for inner in resource.get("contained") or []:
            if isinstance(inner, dict) and isinstance(inner.get("id"), str):
                self.types[f"{key}#{inner['id']}"] = str(inner.get("resourceType"))

    def resolve(self, *, reference: Mapping[str, Any], source_key: str) -> Resolution:
        """The key a Reference (as a JSON object) points at, from the resource `source_key`."""
        literal = reference.get("reference")
        wanted_type = reference.get("type") if isinstance(reference.get("type"), str) else None
        if isinstance(literal, str) and literal:
            return self._literal(literal=literal, source_key=source_key)
        identifier = reference.get("identifier")
        if isinstance(identifier, dict):
            return Resolution(
                self._by_identifier(identifier=identifier, resource_type=wanted_type), "identifier"
            )
        return Resolution(None, "unsupported")

    def _literal(self, *, literal: str, source_key: str) -> Resolution:
        container = source_key.split("#", 1)[0]
        if literal.startswith("#"):
            target = container if literal == "#" else f"{container}#{literal[1:]}"
            return Resolution(target if target in self.types else None, "contained")
        if literal.startswith(("urn:uuid:", "urn:oid:")):
            return Resolution(self.by_full_url.get(literal), "urn")
        if "?" in literal:
            return Resolution(self._conditional(literal=literal), "conditional")
        if "://" in literal:
            return Resolution(self._absolute(url=literal), "absolute")
        return Resolution(self._relative(literal=literal, source_key=container), "relative")

    def _relative(self, *, literal: str, source_key: str) -> str | None:
        type_id = _strip_history(literal)
        source_url = self.full_urls.get(source_key, "")
        source_type = self.types.get(source_key, "")
        marker = f"/{source_type}/"
        if "://" in source_url and marker in source_url:
            base = source_url[: source_url.rindex(marker)]
            for candidate in (f"{base}/{literal}", f"{base}/{type_id}"):
                if candidate in self.by_full_url:
                    return self.by_full_url[candidate]
        return self.by_type_id.get(type_id)

    def _absolute(self, *, url: str) -> str | None:
        for candidate in (url, _strip_history(url)):
            if candidate in self.by_full_url:
                return self.by_full_url[candidate]
        parts = _strip_history(url).rstrip("/").split("/")
        key = self.by_type_id.get("/".join(parts[-2:])) if len(parts) >= 2 else None
        known_url = self.full_urls.get(key or "", "")
        if "://" in known_url:
            return None  # the target's server is known and is not this one
        return key

    def _conditional(self, *, literal: str) -> str | None:
        resource_type, _, query = literal.partition("?")
        resource_type = resource_type.rsplit("/", 1)[-1]
        if f"{resource_type}?{query}" in self.by_condition:
            return self.by_condition[f"{resource_type}?{query}"]
        params = parse_qsl(query, keep_blank_values=True)
        if len(params) != 1 or params[0][0] != "identifier":
            return None
        system, bar, value = params[0][1].rpartition("|")
        token = {"system": system, "value": value} if bar else {"value": value}
        return self._by_identifier(identifier=token, resource_type=resource_type)

    def _by_identifier(
        self, *, identifier: Mapping[str, Any], resource_type: str | None
    ) -> str | None:
        value = identifier.get("value")
        if not isinstance(value, str):
            return None
        system = identifier.get("system")
        if isinstance(system, str) and system:
            keys = self.by_identifier.get((system, value), [])
        else:
            keys = [k for (_, v), ks in self.by_identifier.items() if v == value for k in ks]
        matches = [k for k in keys if resource_type is None or self.types[k] == resource_type]
        return matches[0] if len(set(matches)) == 1 else None


def references_in(*, resource: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every Reference inside a raw resource (contained ones too), with its field path."""
    yield from _walk(node=resource, path="")


def _walk(*, node: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str) or (
            isinstance(node.get("identifier"), dict) and set(node) <= LOGICAL_KEYS and path
        ):
            yield path, node
            return
        for name, child in node.items():
            if isinstance(child, dict | list):
                yield from _walk(node=child, path=f"{path}.{name}" if path else name)
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _walk(node=child, path=f"{path}[{index}]")


def _strip_history(reference: str) -> str:
    return reference.split("/_history/", 1)[0]


def _identifiers(resource: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    identifiers = resource.get("identifier")
    if isinstance(identifiers, dict):
        identifiers = [identifiers]
    for identifier in identifiers or []:
        if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
            system = identifier.get("system")
            yield (system if isinstance(system, str) else "", identifier["value"])


def _conditions(*, resource_type: str, request: Mapping[str, Any] | None) -> Iterator[str]:
    if not request:
        return
    if_none_exist = request.get("ifNoneExist")
    if isinstance(if_none_exist, str) and if_none_exist:
        yield f"{resource_type}?{if_none_exist.lstrip('?')}"
    url = request.get("url")
    if isinstance(url, str) and "?" in url:
        url_type, _, query = url.partition("?")
        yield f"{url_type.rsplit('/', 1)[-1] or resource_type}?{query}"
