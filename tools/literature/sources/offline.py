"""Saved literature files: PubMed XML and RSS/Atom/RDF feeds read from a directory.

For practices without internet access from the server, or to replay a saved search: files
are read in sorted order (deterministic output), each becomes a FetchResult, and one bad
file is one SourceProblem that never stops the others. Nothing here touches the network.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

from tools.errors import InvalidInput
from tools.literature.sources.feeds import parse_feed, records_from_feed
from tools.literature.sources.harvest import FetchResult, SourceProblem
from tools.literature.sources.pubmed_xml import parse_pubmed_xml

FEED_SUFFIXES = {".rss", ".atom", ".rdf", ".xml"}
FEED_ROOTS = {"rss", "feed", "rdf"}  # RSS 0.9x/2.0, Atom, RSS 1.0 (rdf:RDF)
PUBMED_ROOTS = {"pubmedarticleset"}
NOT_RECOGNISED = "not a PubMed XML file or a feed"

_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.S | re.I)
_TAG = re.compile(r"\s*<(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


def root_element(data: bytes) -> str | None:
    """The lower-cased local name of a document's first element ("rss", "feed", "rdf",
    "pubmedarticleset"; "html" for an HTML page), from its first 8 KB; None if none."""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="replace")
    else:  # the markup before the root element is ASCII in every encoding we meet
        text = head.decode("latin-1").removeprefix("\xef\xbb\xbf")
    pos = 0
    while match := _PROLOG.match(text, pos):
        if match.group(0).strip().lower().startswith("<!doctype html"):
            return "html"
        pos = match.end()
    tag = _TAG.match(text, pos)
    return tag.group(1).lower() if tag else None


def _files(directory: Path) -> list[Path]:
    # Hidden files and folders (.DS_Store, .git) are not saved literature.
    found = [
        p
        for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    ]
    return sorted(found, key=lambda p: p.relative_to(directory).as_posix())


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    # PubMed's bulk downloads come gzipped (pubmed24n0001.xml.gz).
    return gzip.decompress(data) if path.suffix.lower() == ".gz" else data


def read_file(path: Path, name: str) -> FetchResult:
    """One saved file as a FetchResult; `name` (its path relative to the directory) goes
    into the source, "offline:<name>"."""
    source = f"offline:{name}"
    try:
        data = _read(path)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        return FetchResult(problems=[SourceProblem(source, None, f"not a valid gzip file ({exc})")])
    except OSError as exc:
        reason = f"could not be read ({exc.strerror or type(exc).__name__})"
        return FetchResult(problems=[SourceProblem(source, None, reason)])
    suffix = Path(name.removesuffix(".gz")).suffix.lower()
    root = root_element(data)
    try:
        if root in PUBMED_ROOTS and suffix == ".xml":
            return parse_pubmed_xml(data, source=source)
        if suffix in FEED_SUFFIXES and root in FEED_ROOTS:
            return records_from_feed(parse_feed(data), source)
        if suffix in (".rss", ".atom", ".rdf") and root not in PUBMED_ROOTS | {"html"}:
            # Named as a feed but not recognised (empty, cut before its root): say why.
            return records_from_feed(parse_feed(data), source)
    except Exception as exc:  # saved files are outside input; one bad file never stops the rest
        reason = f"could not be read ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
        return FetchResult(problems=[SourceProblem(source, None, reason)])
    return FetchResult(problems=[SourceProblem(source, None, NOT_RECOGNISED)])


def _checked(path: Path) -> Path:
    directory = Path(path).expanduser()
    if not directory.exists():
        raise InvalidInput(f"directory {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise InvalidInput(f"{str(directory)!r} is not a directory")
    try:
        next(directory.iterdir(), None)
    except OSError as exc:
        raise InvalidInput(
            f"directory {str(directory)!r} cannot be read ({exc.strerror})"
        ) from None
    return directory


def iter_directory(path: Path) -> Iterator[tuple[str, FetchResult]]:
    """(relative name, result) per file, in sorted order, for progress reporting.

    The directory is checked before the first file is read, so a bad path raises
    InvalidInput here and not on the first `next()`.
    """
    directory = _checked(path)
    try:
        files = _files(directory)
    except OSError as exc:
        raise InvalidInput(
            f"directory {str(directory)!r} cannot be read ({exc.strerror})"
        ) from None

    def results() -> Iterator[tuple[str, FetchResult]]:
        for file in files:
            name = file.relative_to(directory).as_posix()
            yield name, read_file(file, name)

    return results()


def read_directory(path: Path) -> FetchResult:
    """Every saved PubMed XML file and feed under `path` (recursively), as one FetchResult.

    Raises InvalidInput when the directory is missing or unreadable.
    """
    result = FetchResult()
    for _name, one in iter_directory(path):
        result.extend(one)
    return result
