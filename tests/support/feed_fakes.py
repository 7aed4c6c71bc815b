"""A scripted HTTP client for feed tests: canned responses per URL, every call recorded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tools.literature.sources.http import HttpResponse

Script = dict[str, list[HttpResponse | Exception]]


def ok(body: bytes, content_type: str = "application/rss+xml", **headers: str) -> HttpResponse:
    return HttpResponse(200, {"Content-Type": content_type, **headers}, body, "")


@dataclass
class Call:
    url: str
    headers: dict[str, str]
    timeout: float


@dataclass
class ScriptedHttp:
    """Answers each URL from its queue of responses (an exception in the queue is raised, as a
    timeout would be); a request nobody scripted fails the test."""

    script: Script
    calls: list[Call] = field(default_factory=list)

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float,
    ) -> HttpResponse:
        self.calls.append(Call(url, dict(headers or {}), timeout))
        queue = self.script.get(url)
        if not queue:
            raise AssertionError(f"unexpected request for {url}")
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        answer.url = answer.url or url
        return answer
