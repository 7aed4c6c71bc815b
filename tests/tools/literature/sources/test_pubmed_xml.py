"""PubMed EFetch XML -> ArticleRecords: every field on realistic fixtures, and bad input."""

from __future__ import annotations

import socket
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from Bio.Entrez.Parser import DataHandler

from tests.support.http_fakes import fixture
from tools.literature.sources.harvest import AbstractSection, ArticleRecord
from tools.literature.sources.pubmed import read_entrez_xml
from tools.literature.sources.pubmed_xml import (
    looks_like_html,
    medline_date,
    normalise_doi,
    parse_pubmed_xml,
)

DOCTYPE = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)


@pytest.fixture(scope="module")
def articles() -> dict[str, ArticleRecord]:
    result = parse_pubmed_xml(fixture("efetch_integrative.xml"))
    assert result.problems == []
    return {a.pmid or "": a for a in result.articles}


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing must never reach for a DTD (or anything else) over the network."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def article_xml(pmid: str, title: str, *, pub_date: str = "<Year>2024</Year>") -> str:
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}'
        '</PMID><Article PubModel="Print"><Journal><JournalIssue CitedMedium="Print"><PubDate>'
        f"{pub_date}</PubDate></JournalIssue><Title>Example Journal</Title></Journal>"
        f"<ArticleTitle>{title}</ArticleTitle><Language>eng</Language><PublicationTypeList>"
        "<PublicationType>Journal Article</PublicationType></PublicationTypeList></Article>"
        "</MedlineCitation><PubmedData><PublicationStatus>ppublish</PublicationStatus>"
        f'<ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId></ArticleIdList>'
        "</PubmedData></PubmedArticle>"
    )


def document(*articles: str, doctype: str = DOCTYPE) -> bytes:
    body = "\n".join(articles)
    return (
        f'<?xml version="1.0" ?>\n{doctype}\n<PubmedArticleSet>{body}</PubmedArticleSet>'.encode()
    )


# ------------------------------------------------------------------ fields on the fixture


def test_all_twelve_fixture_articles_parse(articles: dict[str, ArticleRecord]) -> None:
    assert list(articles) == [f"391000{n:02d}" for n in range(1, 13)]
    for pmid, article in articles.items():
        assert article.source == "pubmed"
        assert article.url == f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def test_rct_with_structured_abstract(articles: dict[str, ArticleRecord]) -> None:
    rct = articles["39100001"]
    assert rct.title == (
        "Low-FODMAP diet versus traditional dietary advice in irritable bowel syndrome: "
        "a randomised controlled trial."
    )
    assert rct.journal == "Journal of Integrative Gastroenterology"
    assert rct.pub_date == date(2025, 1, 15)
    assert rct.pub_date_text == "2025 Jan 15"
    assert rct.authors == ["Halvorsen KT", "Obi-Lindqvist M", "Varga PE"]
    assert rct.publication_types == ["Journal Article", "Randomized Controlled Trial"]
    assert rct.mesh_terms == ["Humans", "Irritable Bowel Syndrome", "Diet, Carbohydrate-Restricted"]
    assert rct.keywords == ["low-FODMAP diet", "irritable bowel syndrome", "dietary advice"]
    assert [s.label for s in rct.abstract_sections] == [
        "BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"
    ]  # fmt: skip
    assert "≥50-point" in rct.abstract_sections[1].text
    assert rct.abstract_sections[2].text.startswith("Responders were 58% versus 42%")
    assert "95% CI 3\u201329; p < 0.05" in rct.abstract_sections[2].text
    assert "©" not in rct.abstract  # copyright line is not abstract text
    assert rct.abstract.startswith("BACKGROUND: Dietary management")
    assert not rct.is_retracted and rct.retraction_notes == []


def test_doi_sources(articles: dict[str, ArticleRecord]) -> None:
    # ArticleIdList wins, lower-cased; a cited reference's DOI is never taken.
    assert articles["39100001"].doi == "10.5555/jig.2025.0101"
    # Only in ELocationID (the case report has a pii ELocationID first).
    assert articles["39100004"].doi == "10.5555/ccrim.2024.0042"
    assert articles["39100011"].doi == "10.5555/npe.2025.0007"
    # A resolver URL in the id list is cut to the bare DOI.
    assert articles["39100008"].doi == "10.5555/eip.2020.014"
    assert articles["39100009"].doi is None
    assert articles["39100012"].doi == "10.5555/examplepearls.555012"


def test_meta_analysis_labels_without_nlm_category(articles: dict[str, ArticleRecord]) -> None:
    meta = articles["39100002"]
    assert meta.publication_types == ["Journal Article", "Meta-Analysis", "Systematic Review"]
    assert [s.label for s in meta.abstract_sections] == [
        "OBJECTIVE", "METHODS", "RESULTS", "CONCLUSION"
    ]  # fmt: skip
    assert "1.18\u20131.59; I2 = 41%" in meta.abstract_sections[2].text
    assert meta.pub_date == date(2024, 11, 1)  # numeric month, no day
    assert meta.pub_date_text == "2024 Nov"
    assert meta.mesh_terms == ["Acupuncture Therapy", "Migraine Disorders"]


def test_cohort_collective_author_and_medline_date(articles: dict[str, ArticleRecord]) -> None:
    cohort = articles["39100003"]
    assert cohort.authors == [
        "Castellanos-Reyes I", "Northern Fibromyalgia Cohort Investigators", "Teodorescu AM"
    ]  # fmt: skip
    assert cohort.pub_date == date(2023, 11, 1)
    assert cohort.pub_date_text == "2023 Nov-Dec"
    assert cohort.abstract_sections == [
        AbstractSection(label=None, text=cohort.abstract_sections[0].text)
    ]
    assert "\u22120.6 points"  # a true minus sign in cohort.abstract


def test_inline_markup_keeps_inner_text(articles: dict[str, ArticleRecord]) -> None:
    case = articles["39100004"]
    assert case.title == (
        "Hepatotoxicity associated with Withania somnifera (ashwagandha) supplementation: "
        "a case report."
    )
    assert case.publication_types == ["Case Reports"]
    assert "over-the-counter W. somnifera root extract" in case.abstract
    vit_d = articles["39100008"]
    assert vit_d.title == (
        "Vitamin D3 supplementation and CD4+ T cells in Hashimoto thyroiditis: a pilot trial."
    )
    assert vit_d.abstract_sections[0].text == "Vitamin D modulates CD4+ T-cell responses in vitro."
    assert "25(OH)D > 75 nmol/L" in vit_d.abstract_sections[1].text
    assert articles["39100011"].keywords == ["omega-3", "n-3 PUFA"]


def test_entities_and_season(articles: dict[str, ArticleRecord]) -> None:
    review = articles["39100005"]
    assert review.title == (
        "Mind\u2013body interventions & the gut\u2013brain axis: a narrative review."
    )
    assert review.keywords == ["gut\u2013brain axis", "hypnotherapy"]  # &#x2013; -> en dash
    assert review.publication_types == ["Journal Article", "Review"]
    assert review.pub_date == date(2023, 6, 1)
    assert review.pub_date_text == "2023 Summer"


def test_retracted_article(articles: dict[str, ArticleRecord]) -> None:
    retracted = articles["39100006"]
    assert retracted.is_retracted
    assert "Retracted Publication" in retracted.publication_types
    assert retracted.retraction_notes == [
        "Retraction in: J Integr Hepatol. 2025 Feb;12(2):e4401. doi: 10.5555/jih.2025.4401 "
        "(PMID 39100007)"
    ]  # the "Cites" comment is not a retraction note
    assert retracted.pub_date == date(2021, 6, 3)
    assert retracted.pub_date_text == "2021 Jun 3"


def test_retraction_notice_is_recognisable(articles: dict[str, ArticleRecord]) -> None:
    notice = articles["39100007"]
    assert not notice.is_retracted
    assert notice.publication_types == ["Retraction of Publication"]
    assert notice.retraction_notes == ["Retraction notice for PMID 39100006"]
    assert notice.abstract_sections == [] and notice.abstract == ""
    assert notice.authors == []


def test_authors_without_initials_and_invalid_authors(articles: dict[str, ArticleRecord]) -> None:
    # Initials derived from ForeName; ValidYN="N" authors dropped; non-ASCII kept.
    assert articles["39100008"].authors == ["Ferreira-Nakamura LM", "Sørlie B"]


def test_dates_year_only_ranges_winter_and_article_date(articles: dict[str, ArticleRecord]) -> None:
    assert (articles["39100008"].pub_date, articles["39100008"].pub_date_text) == (
        date(2020, 1, 1), "2020"
    )  # fmt: skip
    assert articles["39100009"].pub_date == date(1998, 12, 1)
    assert articles["39100009"].pub_date_text == "1998 Dec-1999 Jan"
    assert articles["39100010"].pub_date == date(2022, 1, 1)
    assert articles["39100010"].pub_date_text == "2022 Winter"
    # Empty PubDate: falls back to the electronic ArticleDate.
    assert articles["39100011"].pub_date == date(2025, 1, 7)
    assert articles["39100011"].pub_date_text == "2025 Jan 7"


def test_whitespace_unassigned_labels_and_journal_fallback(
    articles: dict[str, ArticleRecord],
) -> None:
    coaching = articles["39100010"]
    assert coaching.title.startswith("Health coaching") and coaching.title.endswith("trial.")
    assert [s.label for s in coaching.abstract_sections] == ["BACKGROUND", None, "FINDINGS"]
    assert coaching.authors == ["Mbatha-Quinn T"]
    assert articles["39100011"].journal == "Nutr Psychiatry Ex"  # ISOAbbreviation only


def test_book_chapter(articles: dict[str, ArticleRecord]) -> None:
    chapter = articles["39100012"]
    assert chapter.title == "Integrative Management of Chronic Fatigue Syndrome"
    assert chapter.journal == "ExamplePearls"
    assert chapter.authors == ["Okonkwo-Baird T"]  # the book's editors are not authors
    assert chapter.publication_types == ["Study Guide"]
    assert chapter.pub_date == date(2025, 1, 1)
    assert chapter.abstract_sections[0].label == "CONTINUING EDUCATION ACTIVITY"


# ------------------------------------------------------------------ dates, table-driven


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023 Nov-Dec", date(2023, 11, 1)),
        ("2022 Winter", date(2022, 1, 1)),
        ("2022-2023 Winter", date(2022, 12, 1)),
        ("1998 Dec-1999 Jan", date(1998, 12, 1)),
        ("2021 Spring", date(2021, 3, 1)),
        ("2021 Summer-Fall", date(2021, 6, 1)),
        ("2020 Autumn", date(2020, 9, 1)),
        ("2019 Jan 5-11", date(2019, 1, 5)),
        ("2015 Apr 1-15", date(2015, 4, 1)),
        ("2000 Jul - Aug", date(2000, 7, 1)),
        ("1999-2000", date(1999, 1, 1)),
        ("2017 Fourth Quarter", date(2017, 10, 1)),
        ("2024 Feb 30-Mar 2", date(2024, 2, 29)),
        ("2018", date(2018, 1, 1)),
        ("Spring", None),
        ("", None),
    ],
)
def test_medline_dates(text: str, expected: date | None) -> None:
    assert medline_date(text) == expected


@pytest.mark.parametrize(
    ("pub_date", "expected", "printed"),
    [
        ("<Year>2024</Year><Month>Feb</Month><Day>30</Day>", date(2024, 2, 29), "2024 Feb 30"),
        ("<Year>2024</Year><Month>09</Month><Day>5</Day>", date(2024, 9, 5), "2024 Sep 5"),
        ("<Year>2024</Year><Month>Sept</Month>", date(2024, 9, 1), "2024 Sep"),
        ("<Year>2024</Year><Month>Foo</Month>", date(2024, 1, 1), "2024 Foo"),
        ("<Year>2023</Year><Season>Fall</Season>", date(2023, 9, 1), "2023 Fall"),
        ("<MedlineDate>Undated</MedlineDate>", None, "Undated"),
        ("", None, None),
    ],
)
def test_pub_date_parts(pub_date: str, expected: date | None, printed: str | None) -> None:
    result = parse_pubmed_xml(document(article_xml("39100501", "A title.", pub_date=pub_date)))
    assert result.problems == []
    assert result.articles[0].pub_date == expected
    assert result.articles[0].pub_date_text == printed


# ------------------------------------------------------------------ bad input


def test_truncated_keeps_articles_before_the_break() -> None:
    result = parse_pubmed_xml(fixture("efetch_truncated.xml"), where="pubmed efetch retstart=0")
    assert [a.pmid for a in result.articles] == ["39100001", "39100002", "39100003"]
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.source == "pubmed efetch retstart=0"
    assert "XML broken at line 287" in problem.reason
    assert "kept the 3 articles before it, last PMID 39100003" in problem.reason


def test_malformed_in_the_middle() -> None:
    broken = document(article_xml("39100601", "Fine."), "<PubmedArticle><Oops></PubmedArticle>")
    result = parse_pubmed_xml(broken)
    assert [a.pmid for a in result.articles] == ["39100601"]
    assert "mismatched tag" in result.problems[0].reason


@pytest.mark.parametrize("name", ["ncbi_error.html"])
def test_html_page_is_a_problem(name: str) -> None:
    data = fixture(name)
    assert looks_like_html(data)
    result = parse_pubmed_xml(data)
    assert result.articles == []
    assert [p.reason for p in result.problems] == ["expected XML, got HTML"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty response"),
        (b"  \n", "empty response"),
        (b'{"error":"API rate limit exceeded"}', "not XML"),
        (b"Service Temporarily Unavailable", "not XML"),
        (b'<?xml version="1.0"?><html><body>Error</body></html>', "expected XML, got HTML"),
        (b'<?xml version="1.0"?>\n<eFetchResult><ERROR>Unable to obtain query #1</ERROR>'
         b"</eFetchResult>", "NCBI error: Unable to obtain query #1"),
        (b'<?xml version="1.0"?><eSearchResult><Count>3</Count></eSearchResult>',
         "unexpected XML document <eSearchResult>"),
    ],
)  # fmt: skip
def test_not_pubmed_xml(data: bytes, reason: str) -> None:
    result = parse_pubmed_xml(data)
    assert result.articles == []
    assert len(result.problems) == 1
    assert reason in result.problems[0].reason


def test_latin1_without_declaration_is_read_and_reported() -> None:
    result = parse_pubmed_xml(fixture("efetch_latin1.xml"), source="offline:sleep.xml")
    assert [a.authors for a in result.articles] == [["Lefèvre A"], ["Åkesson B"]]
    assert "qualité du sommeil" in result.articles[0].abstract
    assert result.articles[0].source == "offline:sleep.xml"
    assert len(result.problems) == 1
    assert "not valid UTF-8 (byte 0xE9" in result.problems[0].reason
    assert result.problems[0].source == "offline:sleep.xml"


def test_declared_latin1_and_utf8_bom_need_no_problem() -> None:
    declared = document(article_xml("39100701", "Café-based mindfulness groups.")).replace(
        b'<?xml version="1.0" ?>', b'<?xml version="1.0" encoding="ISO-8859-1"?>'
    )
    result = parse_pubmed_xml(declared.decode().encode("latin-1"))
    assert (result.articles[0].title, result.problems) == ("Café-based mindfulness groups.", [])
    with_bom = b"\xef\xbb\xbf" + document(article_xml("39100702", "Café."))
    assert parse_pubmed_xml(with_bom).articles[0].title == "Café."


def test_duplicate_pmid_kept_once() -> None:
    result = parse_pubmed_xml(fixture("efetch_duplicate_pmid.xml"), where="batch 2")
    assert [a.pmid for a in result.articles] == ["39100301", "39100302"]
    assert result.articles[0].title.endswith("a randomised trial.")  # the first one
    assert [(p.source, p.item) for p in result.problems] == [("batch 2", "39100301")]
    assert "duplicate PMID" in result.problems[0].reason


def test_articles_without_pmid_or_title_are_skipped() -> None:
    result = parse_pubmed_xml(fixture("efetch_missing_fields.xml"))
    assert [a.pmid for a in result.articles] == ["39100403"]
    assert [(p.item, p.reason) for p in result.problems] == [
        ("article 1", "no PMID; skipped"),
        ("39100402", "no title; skipped"),
    ]


def test_unknown_dtd_is_never_fetched() -> None:
    doctype = (
        '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2099//EN" '
        '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_990101.dtd">'
    )
    result = parse_pubmed_xml(document(article_xml("39100801", "Future DTD."), doctype=doctype))
    assert [a.title for a in result.articles] == ["Future DTD."]
    assert result.problems == []


def test_html_named_entities_and_double_escaping() -> None:
    title = "Yoga&nbsp;for back pain &amp;lt;12 weeks &eacute;tude"
    result = parse_pubmed_xml(document(article_xml("39100901", title)))
    assert result.problems == []
    # A no-break space counts as whitespace and is collapsed like any other.
    assert result.articles[0].title == "Yoga for back pain <12 weeks étude"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.5555/ABC.1", "10.5555/abc.1"),
        ("https://doi.org/10.5555/X", "10.5555/x"),
        ("doi: 10.5555/y ", "10.5555/y"),
        ("S0000-0000(24)00001-2", None),
        ("", None),
    ],
)
def test_normalise_doi(raw: str, expected: str | None) -> None:
    assert normalise_doi(raw) == expected


def test_fixture_is_valid_against_biopythons_bundled_dtd() -> None:
    """The fixture uses the real DOCTYPE; Bio.Entrez (validating, offline) accepts every tag."""
    assert (Path(DataHandler.global_dtd_dir) / "pubmed_250101.dtd").is_file()
    record = read_entrez_xml(fixture("efetch_integrative.xml"))
    assert (len(record["PubmedArticle"]), len(record["PubmedBookArticle"])) == (11, 1)
