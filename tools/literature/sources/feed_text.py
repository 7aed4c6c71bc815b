"""Text and identifiers in feed entries: HTML to plain text, DOIs and PMIDs from ids and links."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urlsplit

# ------------------------------------------------------------------------------ text

_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "blockquote", "section", "article",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "dd", "dt", "hr",
}  # fmt: skip


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0  # inside <script>/<style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, 1)

    def handle_endtag(self, tag: str) -> None:
        self._tag(tag, -1)

    def _tag(self, tag: str, step: int) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden + step)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


# Control characters (NUL above all: PostgreSQL refuses it in text) never belong in a title.
_CONTROLS = {c: " " for c in [*range(0, 9), 11, 12, *range(14, 32), *range(127, 160)]}


def _lines(text: str, paragraphs: bool) -> str:
    lines = [" ".join(line.split()) for line in text.translate(_CONTROLS).split("\n")]
    return ("\n" if paragraphs else " ").join(line for line in lines if line)


def html_to_text(value: str, *, paragraphs: bool = False) -> str:
    """Tags stripped, entities unescaped, whitespace collapsed; paragraphs kept as lines."""
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    return _lines("".join(parser.parts), paragraphs)


def _text(detail: Mapping[str, Any] | None, value: Any, *, paragraphs: bool = False) -> str:
    """Plain text of a feedparser text construct (feedparser already decoded text/plain)."""
    if not value:
        return ""
    if (detail or {}).get("type") == "text/plain":
        # Double-escaped titles ("&amp;amp;") arrive as text/plain "&amp;": unescape once more.
        return _lines(html.unescape(str(value)), paragraphs)
    return html_to_text(str(value), paragraphs=paragraphs)


def _one_line(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# ------------------------------------------------------------------------ identifiers

_DOI = re.compile(r"10\.\d{4,9}/[^\s\"'<>]+")
_DOI_PREFIX = re.compile(r"^\s*(?:doi:\s*|info:doi/|urn:doi:)(10\.\S+)", re.I)
_DOI_URL = re.compile(r"(?:doi\.org/|/doi/(?:(?:abs|full|pdf|epdf|epub)/)?)(10\.\d{4,9}/[^?#]+)")
_PMID_PREFIX = re.compile(r"^\s*(?:pubmed|pmid|info:pmid/)\s*[:/]?\s*(\d{1,9})\s*$", re.I)
_PMID_PATH = re.compile(r"^/(?:pubmed/)?(\d{1,9})/?$")
_PMID_TERM = re.compile(r"[?&]term=(\d{1,9})(?:\[(?:uid|pmid)\])?(?:&|$)", re.I)
_PUBMED_TRAILER = re.compile(r"PMID:\s*(\d{1,9})(?:\s*\|\s*DOI:\s*(10\.\S+))?", re.I)


def _clean_doi(raw: str) -> str | None:
    match = _DOI.search(unquote(raw))
    doi = match.group(0) if match else ""
    while doi:  # trailing punctuation, but keep the ")" of "10.1016/S0140-6736(23)01234-5"
        trimmed = doi.rstrip(".,;:]}")
        if trimmed.endswith(")") and trimmed.count("(") < trimmed.count(")"):
            trimmed = trimmed[:-1]
        if trimmed == doi:
            break
        doi = trimmed
    return doi.lower() or None


def extract_doi(value: str | None) -> str | None:
    """'doi:10.5555/X', 'https://doi.org/10.5555/X', '.../doi/full/10.5555/X' -> '10.5555/x'."""
    if not value:
        return None
    value = unquote(value)  # "10.5555%2FABC" in doi.org links
    match = _DOI_PREFIX.match(value) or _DOI_URL.search(value)
    if match:
        return _clean_doi(match.group(1))
    return _clean_doi(value) if value.strip().startswith("10.") else None


def extract_pmid(value: str | None) -> str | None:
    """'pubmed:39123456', 'pmid:…', 'https://pubmed.ncbi.nlm.nih.gov/39123456/', '?term=…'."""
    if not value:
        return None
    if match := _PMID_PREFIX.match(value):
        return match.group(1)
    parts = urlsplit(value.strip())
    host = (parts.hostname or "").lower()
    if host == "pubmed.ncbi.nlm.nih.gov" or (
        host.endswith("ncbi.nlm.nih.gov") and parts.path.startswith("/pubmed")
    ):
        match = _PMID_PATH.match(parts.path) or _PMID_TERM.search("?" + unquote(parts.query))
        if match:
            return match.group(1)
    return None


def _first(values: Sequence[Any], extract: Callable[[str | None], str | None]) -> str | None:
    return next((found for v in values if (found := extract(v))), None)
