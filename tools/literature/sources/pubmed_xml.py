"""PubMed EFetch XML (a `PubmedArticleSet`) to `ArticleRecord`s, never raising for bad data.

Why ElementTree and not `Bio.Entrez.parse` (checked against Biopython 1.88):
- `Entrez.parse` refuses a `PubmedArticleSet` ("does not represent a list": since the 2019
  DTDs it is a dict of PubmedArticle/PubmedBookArticle), leaving all-or-nothing
  `Entrez.read`, so one truncated batch would lose every article in it.
- Its strings keep inline markup as raw tags with entities already decoded, so
  "p &lt; 0.05" and "<i>" become indistinguishable and cannot be stripped safely.
- It validates against the DOCTYPE's DTD and downloads any it does not bundle (a new NCBI
  DTD version = a network call during parsing, or a failure offline).
The stdlib expat parser never fetches external DTDs, `itertext()` keeps the inner text of
<i>/<sup>/<sub>, and it reports where a broken document breaks. Each article is converted
as soon as its end tag is read, so articles before a break are kept.
"""

from __future__ import annotations

import calendar
import codecs
import html
import html.entities
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date

from tools.literature.sources.harvest import (
    AbstractSection,
    ArticleRecord,
    FetchResult,
    SourceProblem,
)

PUBMED_ARTICLE_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
_ARTICLE_TAGS = ("PubmedArticle", "PubmedBookArticle")
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
# A season's first month within the printed year: "2022 Winter" is read as January 2022 (the
# winter months in 2022 start then), but "2022-2023 Winter" as December 2022.
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 1}
_QUARTERS = {"first": 1, "second": 4, "third": 7, "fourth": 10}
# Named HTML entities (&nbsp;, &eacute;...) that PubMed's DTD would define but expat cannot
# read without it: resolved instead of failing the whole batch.
_ENTITIES = {k[:-1]: v for k, v in html.entities.html5.items() if k.endswith(";")}
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.I | re.S
)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_ENTITY_LIKE = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]\w*);")


def looks_like_html(data: bytes) -> bool:
    """An HTML page (NCBI's error pages, a proxy's) where XML was expected."""
    return bool(_HTML_START.match(data[:4096].lstrip(codecs.BOM_UTF8)))


def parse_pubmed_xml(
    data: bytes, *, source: str = "pubmed", where: str | None = None
) -> FetchResult:
    """Articles from EFetch XML. `source` goes on each record; problems name `where` (e.g.
    "pubmed efetch retstart=200"), or `source` when not given."""
    label = where or source
    result = FetchResult()

    def problem(item: str | None, reason: str) -> None:
        result.problems.append(SourceProblem(source=label, item=item, reason=reason))

    if not data.strip():
        problem(None, "empty response, expected PubMed XML")
        return result
    if looks_like_html(data):
        problem(None, "expected XML, got HTML")
        return result
    text, decode_note = _decode(data)
    if decode_note:
        problem(None, decode_note)
    if not text.lstrip().startswith("<"):
        problem(None, f"not XML (starts with {text.strip()[:30]!r})")
        return result

    seen: set[str] = set()
    position = 0

    def take(element: ET.Element) -> None:
        nonlocal position
        position += 1
        try:
            record, reason = _article(element, source)
        except Exception as exc:  # one odd article must never cost the rest of the batch
            record, reason = None, f"could not read article: {type(exc).__name__}"
        if record is None:
            pmid = _text(element.find("MedlineCitation/PMID")) or _text(
                element.find("BookDocument/PMID")
            )
            problem(pmid or f"article {position}", reason or "skipped")
        elif record.pmid in seen:
            problem(record.pmid, "duplicate PMID in this batch; kept the first")
        else:
            seen.add(record.pmid or "")
            result.articles.append(record)

    collector = _Collector(take)
    parser = ET.XMLParser(target=collector)
    parser.entity.update(_ENTITIES)
    try:
        parser.feed(_XML_DECL.sub("", text, count=1).encode("utf-8"))
        parser.close()
    except ET.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        why = str(exc).split(":")[0]
        last = f", last PMID {result.articles[-1].pmid}" if result.articles else ""
        problem(
            None,
            f"XML broken at line {line}, column {column} ({why}); kept the "
            f"{len(result.articles)} articles before it{last}",
        )
        return result
    if collector.root == "html":
        problem(None, "expected XML, got HTML")
    elif collector.root == "eFetchResult" or collector.errors:
        problem(None, f"NCBI error: {'; '.join(collector.errors) or 'no articles returned'}")
    elif collector.root != "PubmedArticleSet":
        problem(None, f"unexpected XML document <{collector.root}>, expected PubmedArticleSet")
    return result


class _Collector:
    """ElementTree parser target: hands over each top-level article as soon as it closes and
    then drops it, so memory stays one article deep."""

    def __init__(self, on_article: Callable[[ET.Element], None]) -> None:
        self._builder = ET.TreeBuilder()
        self._on_article = on_article
        self._depth = 0
        self._root: ET.Element | None = None
        self.root: str | None = None
        self.errors: list[str] = []

    def start(self, tag: str, attrib: dict[str, str]) -> ET.Element:
        self._depth += 1
        element = self._builder.start(tag, attrib)
        if self._depth == 1:
            self._root, self.root = element, tag
        return element

    def end(self, tag: str) -> ET.Element:
        element = self._builder.end(tag)
        if self._depth == 2 and self._root is not None:
            if tag in _ARTICLE_TAGS:
                self._on_article(element)
            elif tag == "ERROR":
                self.errors.append(_text(element))
            self._root.remove(element)
        self._depth -= 1
        return element

    def data(self, text: str) -> None:
        self._builder.data(text)

    def close(self) -> ET.Element:
        return self._builder.close()


def _decode(data: bytes) -> tuple[str, str | None]:
    """Text of the document, and a note when it was not valid in its declared encoding."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            return data.decode(codec, errors="replace"), None
    match = _XML_ENCODING.match(data)
    declared = match.group(1).decode("ascii").lower() if match else "utf-8"
    try:
        codecs.lookup(declared)
    except LookupError:
        declared = "utf-8"
    try:
        return data.decode(declared), None
    except UnicodeDecodeError as exc:
        # Windows-1252 covers Latin-1 and the "smart quotes" that mislabelled files carry.
        bad = data[exc.start]
        note = (
            f"not valid {declared.upper()} (byte 0x{bad:02X} at offset {exc.start}); "
            "read as Windows-1252"
        )
        return data.decode("cp1252", errors="replace"), note


def _text(element: ET.Element | None) -> str:
    """Inner text with inline markup dropped ("CD4<sup>+</sup>" -> "CD4+"), whitespace
    collapsed, and double-escaped entities ("&amp;amp;") decoded."""
    if element is None:
        return ""
    text = " ".join("".join(element.itertext()).split())
    return html.unescape(text) if _ENTITY_LIKE.search(text) else text


def _article(element: ET.Element, source: str) -> tuple[ArticleRecord | None, str | None]:
    book = element.tag == "PubmedBookArticle"
    if book:
        citation = element.find("BookDocument")
        article = citation
        data = element.find("PubmedBookData")
    else:
        citation = element.find("MedlineCitation")
        article = citation.find("Article") if citation is not None else None
        data = element.find("PubmedData")
    if citation is None or article is None:
        return None, "no MedlineCitation/Article; skipped"
    pmid = _text(citation.find("PMID"))
    if not pmid:
        return None, "no PMID; skipped"
    title = _text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle"))
    if book and not title:
        title = _text(article.find("Book/BookTitle"))
    if not title:
        return None, "no title; skipped"

    if book:
        journal = _text(article.find("Book/BookTitle")) or None
        pub_date, pub_date_text = _date_parts(article.find("Book/PubDate"))
        types = [_text(t) for t in article.findall("PublicationType")]
    else:
        journal = (
            _text(article.find("Journal/Title"))
            or _text(article.find("Journal/ISOAbbreviation"))
            or _text(citation.find("MedlineJournalInfo/MedlineTA"))
            or None
        )
        pub_date, pub_date_text = _date_parts(article.find("Journal/JournalIssue/PubDate"))
        if pub_date is None and not pub_date_text:
            pub_date, pub_date_text = _date_parts(article.find("ArticleDate"))
        types = [_text(t) for t in article.findall("PublicationTypeList/PublicationType")]
    types = [t for t in types if t]

    is_retracted = "Retracted Publication" in types
    notes: list[str] = []
    for comment in citation.findall("CommentsCorrectionsList/CommentsCorrections"):
        ref_type = comment.get("RefType")
        ref_source = _text(comment.find("RefSource"))
        ref_pmid = _text(comment.find("PMID"))
        if ref_type == "RetractionIn":
            is_retracted = True
            notes.append(
                f"Retraction in: {ref_source}" + (f" (PMID {ref_pmid})" if ref_pmid else "")
            )
        elif ref_type == "RetractionOf":
            notes.append(f"Retraction notice for PMID {ref_pmid}" if ref_pmid
                         else f"Retraction notice for: {ref_source}")  # fmt: skip

    return ArticleRecord(
        title=title,
        source=source,
        pmid=pmid,
        doi=_doi(article, data),
        abstract_sections=_abstract(article),
        journal=journal,
        pub_date=pub_date,
        pub_date_text=pub_date_text,
        authors=_authors(article),
        publication_types=types,
        mesh_terms=[
            name
            for d in citation.findall("MeshHeadingList/MeshHeading/DescriptorName")
            if (name := _text(d))
        ],
        keywords=[k for kw in citation.findall("KeywordList/Keyword") if (k := _text(kw))],
        is_retracted=is_retracted,
        retraction_notes=notes,
        url=PUBMED_ARTICLE_URL.format(pmid=pmid),
    ), None


def normalise_doi(raw: str) -> str | None:
    """Lower-case DOI without "https://doi.org/" or "doi:" prefixes; None if it is not one."""
    doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", raw.strip(), flags=re.I)
    return doi.lower() if doi.startswith("10.") and "/" in doi else None


def _doi(article: ET.Element, data: ET.Element | None) -> str | None:
    # Only the article's own id list: PubmedData/ReferenceList holds the cited works' DOIs.
    ids = data.findall("ArticleIdList/ArticleId") if data is not None else []
    for candidate in ids:
        if candidate.get("IdType") == "doi" and (doi := normalise_doi(_text(candidate))):
            return doi
    for location in article.findall("ELocationID"):
        valid = location.get("EIdType") == "doi" and location.get("ValidYN", "Y") != "N"
        if valid and (doi := normalise_doi(_text(location))):
            return doi
    return None


def _abstract(article: ET.Element) -> list[AbstractSection]:
    parts = article.findall("Abstract/AbstractText")
    if not parts:  # no NLM abstract: fall back to an English publisher abstract
        for other in article.findall("OtherAbstract"):
            if other.get("Language", "eng") == "eng":
                parts = other.findall("AbstractText")
                break
    sections = []
    for part in parts:
        text = _text(part)
        category = part.get("NlmCategory")
        label = part.get("Label") or (category if category != "UNASSIGNED" else None)
        if text:
            sections.append(AbstractSection(label=label or None, text=text))
    return sections


def _authors(article: ET.Element) -> list[str]:
    names = []
    for author_list in article.findall("AuthorList"):
        if author_list.get("Type") == "editors":
            continue
        for author in author_list.findall("Author"):
            if author.get("ValidYN") == "N":  # NLM's marker for a wrongly listed author
                continue
            last = _text(author.find("LastName"))
            initials = _text(author.find("Initials"))
            if last and not initials:
                fore = _text(author.find("ForeName")).replace("-", " ")
                initials = "".join(word[0] for word in fore.split() if word[0].isalpha())
            name = f"{last} {initials}".strip() if last else _text(author.find("CollectiveName"))
            if name:
                names.append(name)
    return names


def _date_parts(element: ET.Element | None) -> tuple[date | None, str | None]:
    """(best date, text as printed) from a PubDate/ArticleDate, or (None, None)."""
    if element is None:
        return None, None
    medline = _text(element.find("MedlineDate"))
    if medline:
        return medline_date(medline), medline
    year = _text(element.find("Year"))
    month_raw, day_raw = _text(element.find("Month")), _text(element.find("Day"))
    season = _text(element.find("Season"))
    if not year:
        return None, None
    month = _month(month_raw) or (_SEASONS.get(season.lower()) if season else None)
    day = int(day_raw) if day_raw.isdigit() and month else None
    printed = [year]
    if month_raw:
        printed.append(calendar.month_abbr[month] if month else month_raw)
    elif season:
        printed.append(season)
    if day:
        printed.append(str(day))
    return _safe_date(year, month, day), " ".join(printed)


def medline_date(text: str) -> date | None:
    """Best guess at a MedlineDate: first year, first month (season -> its first month),
    first day if one follows the month; missing parts -> 1. "1998 Dec-1999 Jan" -> 1998-12-01."""
    tokens = re.findall(r"\d+|[A-Za-z]+", text)
    first_year = next((i for i, t in enumerate(tokens) if len(t) == 4 and t.isdigit()), None)
    if first_year is None:
        return None
    year, rest = tokens[first_year], tokens[first_year + 1 :]
    year_range = bool(rest) and len(rest[0]) == 4 and rest[0].isdigit()
    if year_range:
        rest = rest[1:]
    month = day = None
    if rest and rest[0].isalpha():
        word = rest[0].lower()
        if word == "winter" and year_range:
            month = 12
        else:
            month = _month(word) or _SEASONS.get(word) or _QUARTERS.get(word)
        if month and _month(word) and len(rest) > 1 and rest[1].isdigit() and len(rest[1]) <= 2:
            day = int(rest[1])
    return _safe_date(year, month, day)


def _month(text: str) -> int | None:
    if text.isdigit():
        return int(text) if 1 <= int(text) <= 12 else None
    return _MONTHS.get(text[:3].lower()) if len(text) >= 3 else None


def _safe_date(year: str, month: int | None, day: int | None) -> date | None:
    if not year.isdigit() or not 1000 <= int(year) <= 2999:
        return None
    y, m = int(year), month or 1
    d = min(max(day or 1, 1), calendar.monthrange(y, m)[1])
    return date(y, m, d)
