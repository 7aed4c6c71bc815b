"""Saved literature files: a directory of PubMed XML and feeds read without any network."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from db.models import Article
from tests.support import paths
from tools.errors import InvalidInput
from tools.literature.articles import store_records
from tools.literature.sources.offline import iter_directory, read_directory, root_element
from tools.literature.sources.pubmed_xml import parse_pubmed_xml

FIXTURES = paths.FIXTURES
FEEDS = FIXTURES / "feeds"
PUBMED_XML = FIXTURES / "pubmed" / "efetch_integrative.xml"
NOT_RECOGNISED = "not a PubMed XML file or a feed"


def copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dest)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A practice's download folder: PubMed XML, feeds in every format, and some junk."""
    root = tmp_path / "saved"
    copy(PUBMED_XML, root / "pubmed" / "integrative.xml")
    (root / "pubmed" / "integrative-again.xml.gz").write_bytes(
        gzip.compress(PUBMED_XML.read_bytes())
    )
    for name in ("journal-rss2.rss", "acupuncture-atom.atom", "windows-1252.rss"):
        copy(FEEDS / name, root / "feeds" / name)
    copy(FEEDS / "sleep-rss1.xml", root / "sleep-rss1.xml")  # an RDF feed named .xml
    copy(FEEDS / "pubmed-search.xml", root / "pubmed-search.xml")  # PubMed RSS named .xml
    copy(FEEDS / "error-page.html", root / "junk" / "error-page.html")
    (root / "junk" / "notes.txt").write_text("ask Dr Okafor about the FODMAP trial\n")
    (root / "junk" / "drawing.xml").write_text('<?xml version="1.0"?><svg width="1"/>')
    (root / "junk" / "empty.rss").write_bytes(b"")
    (root / "junk" / "broken.xml.gz").write_bytes(b"not gzip at all")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")  # hidden: not literature
    return root


def test_directory_yields_all_articles_and_one_problem_per_bad_file(saved: Path) -> None:
    result = read_directory(saved)
    pubmed_count = len(parse_pubmed_xml(PUBMED_XML.read_bytes()).articles)
    by_source: dict[str, int] = {}
    for article in result.articles:
        by_source[article.source] = by_source.get(article.source, 0) + 1
    assert by_source == {
        "offline:feeds/acupuncture-atom.atom": 3,
        "offline:feeds/journal-rss2.rss": 4,
        "offline:feeds/windows-1252.rss": 2,
        "offline:pubmed-search.xml": 3,
        "offline:pubmed/integrative-again.xml.gz": pubmed_count,
        "offline:pubmed/integrative.xml": pubmed_count,
        "offline:sleep-rss1.xml": 2,
    }
    problems = {p.source: p.reason for p in result.problems}
    assert len(result.problems) == len(problems) == 5
    assert problems == {
        "offline:junk/broken.xml.gz": problems["offline:junk/broken.xml.gz"],
        "offline:junk/drawing.xml": NOT_RECOGNISED,
        "offline:junk/empty.rss": "empty document, not a feed",
        "offline:junk/error-page.html": NOT_RECOGNISED,
        "offline:junk/notes.txt": NOT_RECOGNISED,
    }
    assert problems["offline:junk/broken.xml.gz"].startswith("not a valid gzip file")
    assert result.requests == 0


def test_iter_directory_is_sorted_per_file(saved: Path) -> None:
    names = [name for name, _ in iter_directory(saved)]
    assert names == sorted(names)
    assert names[0] == "feeds/acupuncture-atom.atom" and ".DS_Store" not in names
    per_file = dict(iter_directory(saved))
    assert [a.doi for a in per_file["sleep-rss1.xml"].articles] == [
        "10.5555/msmr.2024.0033",
        "10.5555/msmr.2024.0041",
    ]
    # Same output twice: deterministic.
    assert read_directory(saved) == read_directory(saved)


def test_truncated_feed_keeps_entries_with_one_problem(tmp_path: Path) -> None:
    copy(FEEDS / "truncated.xml", tmp_path / "truncated.xml")
    result = read_directory(tmp_path)
    assert len(result.articles) == 2
    [problem] = result.problems
    assert problem.source == "offline:truncated.xml" and "2 entries kept" in problem.reason


def test_missing_path_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        read_directory(tmp_path / "nowhere")
    with pytest.raises(InvalidInput, match="does not exist"):
        iter_directory(tmp_path / "nowhere")  # raised at the call, not at the first next()


def test_a_file_is_not_a_directory(tmp_path: Path) -> None:
    file = tmp_path / "feed.rss"
    file.write_bytes((FEEDS / "journal-rss2.rss").read_bytes())
    with pytest.raises(InvalidInput, match="is not a directory"):
        read_directory(file)


def test_unreadable_directory_is_invalid_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulated: chmod 000 does not stop root, and tests may run as root.
    def denied(self: Path) -> Iterator[Path]:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", denied)
    with pytest.raises(InvalidInput, match="cannot be read"):
        read_directory(tmp_path)


@pytest.mark.parametrize(
    ("head", "root"),
    [
        (b'<?xml version="1.0"?>\n<!-- saved --><rss version="2.0">', "rss"),
        (b'\xef\xbb\xbf<feed xmlns="http://www.w3.org/2005/Atom">', "feed"),
        (b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>", "rdf"),
        (
            b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle,'
            b' 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
            b"\n<PubmedArticleSet>",
            "pubmedarticleset",
        ),
        (b"<!DOCTYPE html><html><body>Maintenance</body></html>", "html"),
        ('<?xml version="1.0" encoding="utf-16"?><rss>'.encode("utf-16"), "rss"),
        (b"plain text", None),
        (b"", None),
    ],
)
def test_root_element(head: bytes, root: str | None) -> None:
    assert root_element(head) == root


def test_feed_copies_merge_with_pubmed_records(session: Session, tmp_path: Path) -> None:
    # The feed fixtures describe three papers of the PubMed fixture: by DOI, PMID and title.
    copy(PUBMED_XML, tmp_path / "efetch.xml")
    for name in ("journal-rss2.rss", "pubmed-search.xml", "missing-dates-ids.rss"):
        copy(FEEDS / name, tmp_path / name)
    store_records(session=session, records=read_directory(tmp_path).articles)
    sources = {a.pmid: a.sources for a in session.exec(select(Article)).all() if a.pmid}
    assert "offline:journal-rss2.rss" in sources["39100001"]  # by DOI
    assert "offline:pubmed-search.xml" in sources["39100002"]  # by PMID
    assert "offline:missing-dates-ids.rss" in sources["39100011"]  # by title
