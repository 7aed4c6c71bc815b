"""Writing the literature benchmark's papers as saved files: PubMed EFetch XML, journal RSS
2.0, PubMed RSS and journal Atom (the papers themselves come from literature_corpus)."""

from __future__ import annotations

import random
import zlib
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from literature_corpus import NOW, PER_FILE, Corpus, Paper, journal_for  # beside this module
from literature_vocab import (  # beside this module
    ATOM_JOURNALS,
    LAST,
    LATIN,
    RSS_JOURNALS,
)


def _italics(escaped: str) -> str:
    for name in LATIN:
        escaped = escaped.replace(name, f"<i>{name}</i>")
    return escaped


def _x(text: str) -> str:
    return escape(text)


def _author_xml(last: str, fore: str, first: bool) -> list[str]:
    initials = "".join(w[0] for w in fore.replace("-", " ").split())
    out = [
        '                <Author ValidYN="Y">',
        f"                    <LastName>{_x(last)}</LastName>",
        f"                    <ForeName>{_x(fore)}</ForeName>",
        f"                    <Initials>{initials}</Initials>",
    ]
    if first:
        out += [
            "                    <AffiliationInfo>",
            "                        <Affiliation>Department of Integrative Medicine, Example "
            "University Hospital, Exampletown.</Affiliation>",
            "                    </AffiliationInfo>",
        ]
    return [*out, "                </Author>"]


def pubmed_article(p: Paper, rng: random.Random, *, indexed: bool = True) -> str:
    """One <PubmedArticle> as EFetch prints it (indented, char refs for non-ASCII)."""
    status = "MEDLINE" if indexed else "In-Data-Review"
    lines = [
        "<PubmedArticle>",
        f'    <MedlineCitation Status="{status}" Owner="NLM">',
        f'        <PMID Version="1">{p.pmid}</PMID>',
        *_article_xml(p),
        *_comments_xml(p, rng),
        *(_mesh_xml(p) if indexed else []),
        *_keywords_xml(p),
        "    </MedlineCitation>",
        *_pubmed_data_xml(p, rng),
        "</PubmedArticle>",
    ]
    return "\n".join(lines)


def _article_xml(p: Paper) -> list[str]:
    """<DateRevised> and <Article>: journal, title, abstract, authors, types, dates."""
    d = p.pub_date
    lines = [
        "        <DateRevised>",
        f"            <Year>{d.year}</Year>",
        f"            <Month>{d.month:02d}</Month>",
        f"            <Day>{d.day:02d}</Day>",
        "        </DateRevised>",
        '        <Article PubModel="Print-Electronic">',
        "            <Journal>",
        f'                <ISSN IssnType="Electronic">5555-{p.journal[2][:2].upper()}01</ISSN>',
        '                <JournalIssue CitedMedium="Internet">',
        f"                    <Volume>{d.year - 2010}</Volume>",
        f"                    <Issue>{d.month}</Issue>",
        "                    <PubDate>",
    ]
    if p.idx % 17 == 0:  # some issues print a MedlineDate
        months = ["Jan-Feb", "Mar-Apr", "May-Jun", "Jul-Aug", "Sep-Oct", "Nov-Dec"]
        lines.append(
            f"                        <MedlineDate>{d.year} {months[(d.month - 1) // 2]}"
            "</MedlineDate>"
        )
    else:
        lines += [
            f"                        <Year>{d.year}</Year>",
            f"                        <Month>{d.strftime('%b')}</Month>",
            f"                        <Day>{d.day:02d}</Day>",
        ]
    lines += [
        "                    </PubDate>",
        "                </JournalIssue>",
        f"                <Title>{_x(p.journal[0])}</Title>",
        f"                <ISOAbbreviation>{_x(p.journal[1])}</ISOAbbreviation>",
        "            </Journal>",
        f"            <ArticleTitle>{_italics(_x(p.title))}</ArticleTitle>",
        "            <Pagination>",
        f"                <MedlinePgn>e{p.idx + 1000}</MedlinePgn>",
        "            </Pagination>",
    ]
    if p.doi:
        lines.append(f'            <ELocationID EIdType="doi" ValidYN="Y">{p.doi}</ELocationID>')
    if p.sections:
        lines.append("            <Abstract>")
        for label, text in p.sections:
            attrs = f' Label="{label}" NlmCategory="{label}"' if label else ""
            lines.append(
                f"                <AbstractText{attrs}>{_italics(_x(text))}</AbstractText>"
            )
        lines += [
            f"                <CopyrightInformation>© {d.year} The Authors.</CopyrightInformation>",
            "            </Abstract>",
        ]
    if p.authors:
        lines.append('            <AuthorList CompleteYN="Y">')
        for i, (last, fore) in enumerate(p.authors):
            lines += _author_xml(last, fore, i == 0)
        lines.append("            </AuthorList>")
    lines += ["            <Language>eng</Language>", "            <PublicationTypeList>"]
    lines += [
        f'                <PublicationType UI="D0{zlib.crc32(t.encode()) % 100000:05d}">{_x(t)}'
        "</PublicationType>"
        for t in p.pub_types
    ]
    return [
        *lines,
        "            </PublicationTypeList>",
        '            <ArticleDate DateType="Electronic">',
        f"                <Year>{d.year}</Year>",
        f"                <Month>{d.month:02d}</Month>",
        f"                <Day>{d.day:02d}</Day>",
        "            </ArticleDate>",
        "        </Article>",
        "        <MedlineJournalInfo>",
        "            <Country>England</Country>",
        f"            <MedlineTA>{_x(p.journal[1])}</MedlineTA>",
        "        </MedlineJournalInfo>",
    ]


def _comments_xml(p: Paper, rng: random.Random) -> list[str]:
    """Retraction links both ways, and a few citations."""
    d = p.pub_date
    comments = []
    if p.retracted:
        ref_pmid = p.notice_pmid or str(40_000_000 + p.idx)
        comments.append(
            ("RetractionIn", f"{p.journal[1]}. {d.year + 1}. doi: 10.5555/retr.{p.idx}", ref_pmid)
        )
    if p.retracts is not None:
        o = p.retracts
        comments.append(("RetractionOf", f"{o.journal[1]}. {o.pub_date.year}", o.pmid))
    comments += [
        ("Cites", f"Example J. {2010 + i}", str(30_000_000 + p.idx * 7 + i))
        for i in range(rng.choice((0, 0, 1, 2)))
    ]
    if not comments:
        return []
    lines = ["        <CommentsCorrectionsList>"]
    for ref_type, source, ref in comments:
        lines += [
            f'            <CommentsCorrections RefType="{ref_type}">',
            f"                <RefSource>{_x(source)}</RefSource>",
            f'                <PMID Version="1">{ref}</PMID>',
            "            </CommentsCorrections>",
        ]
    return [*lines, "        </CommentsCorrectionsList>"]


def _mesh_xml(p: Paper) -> list[str]:
    if not p.mesh:
        return []
    lines = ["        <MeshHeadingList>"]
    for i, term in enumerate(p.mesh):
        major = "Y" if 0 < i < 3 else "N"
        lines += [
            "            <MeshHeading>",
            f'                <DescriptorName UI="D{zlib.crc32(term.encode()) % 1000000:06d}" '
            f'MajorTopicYN="{major}">{_x(term)}</DescriptorName>',
            "            </MeshHeading>",
        ]
    return [*lines, "        </MeshHeadingList>"]


def _keywords_xml(p: Paper) -> list[str]:
    if not p.keywords:
        return []
    return [
        '        <KeywordList Owner="NOTNLM">',
        *(f'            <Keyword MajorTopicYN="N">{_x(k)}</Keyword>' for k in p.keywords),
        "        </KeywordList>",
    ]


def _pubmed_data_xml(p: Paper, rng: random.Random) -> list[str]:
    """<PubmedData>: history, identifiers and the reference list."""
    d = p.pub_date
    lines = [
        "    <PubmedData>",
        "        <History>",
        '            <PubMedPubDate PubStatus="received">',
        f"                <Year>{d.year - 1}</Year>",
        f"                <Month>{d.month}</Month>",
        f"                <Day>{d.day}</Day>",
        "            </PubMedPubDate>",
        '            <PubMedPubDate PubStatus="pubmed">',
        f"                <Year>{d.year}</Year>",
        f"                <Month>{d.month}</Month>",
        f"                <Day>{d.day}</Day>",
        "            </PubMedPubDate>",
        "        </History>",
        "        <PublicationStatus>ppublish</PublicationStatus>",
        "        <ArticleIdList>",
        f'            <ArticleId IdType="pubmed">{p.pmid}</ArticleId>',
    ]
    if p.doi:
        lines.append(f'            <ArticleId IdType="doi">{p.doi}</ArticleId>')
    lines.append("        </ArticleIdList>")
    if p.references:
        lines.append("        <ReferenceList>")
        for i in range(p.references):
            lines += [
                "            <Reference>",
                f"                <Citation>{rng.choice(LAST)} A, {rng.choice(LAST)} B. "
                f"Example study {i + 1}. Example J. {rng.randint(1995, 2024)};"
                f"{rng.randint(1, 60)}:{rng.randint(1, 900)}.</Citation>",
                "                <ArticleIdList>",
                f'                    <ArticleId IdType="doi">10.5555/ref.{p.idx}.{i}</ArticleId>',
                f'                    <ArticleId IdType="pubmed">{20_000_000 + p.idx * 50 + i}'
                "</ArticleId>",
                "                </ArticleIdList>",
                "            </Reference>",
            ]
        lines.append("        </ReferenceList>")
    return [*lines, "    </PubmedData>"]


EFETCH_HEAD = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
    '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
    "<PubmedArticleSet>\n"
)


def _rfc822(d: date, hour: int) -> str:
    return format_datetime(datetime(d.year, d.month, d.day, hour, 0, tzinfo=UTC))


def _teaser(p: Paper) -> str:
    """The one or two sentences a journal feed shows instead of the abstract."""
    results = next((t for label, t in p.sections if label == "RESULTS"), p.abstract)
    return ". ".join(results.split(". ")[:2]).rstrip(".") + "."


def _full_name(fore: str, last: str) -> str:
    return f"{fore} {last}"


def rss_item(p: Paper, rng: random.Random) -> str:
    title = p.title.rstrip(".")
    if p.retracted:
        title = f"RETRACTED: {title}"
    link = f"https://journals.example.org/{p.journal[2]}/doi/{p.doi}"
    creators = "".join(
        f"\n      <dc:creator>{_x(_full_name(f, last))}</dc:creator>" for last, f in p.authors
    )
    return (
        "    <item>\n"
        f"      <title>{_x(_italics(_x(title)))}</title>\n"
        f"      <link>{link}</link>\n"
        f'      <guid isPermaLink="true">{link}</guid>\n'
        f"      <description><![CDATA[<p>{_x(_teaser(p))}</p>]]></description>{creators}\n"
        f"      <pubDate>{_rfc822(p.pub_date, rng.randint(0, 23))}</pubDate>\n"
        f"      <category>{_x(p.subject.phrases[0])}</category>\n"
        f"      <prism:publicationName>{_x(p.journal[0])}</prism:publicationName>\n"
        f"      <prism:doi>{p.doi}</prism:doi>\n"
        f"      <prism:coverDisplayDate>{p.pub_date.strftime('%B %Y')}</prism:coverDisplayDate>\n"
        f"      <dc:identifier>doi:{p.doi}</dc:identifier>\n"
        "    </item>\n"
    )


def journal_rss(code: str, items: list[str]) -> str:
    title, _iso, _ = journal_for(code)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"\n'
        '     xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '     xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/"\n'
        '     xmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '     xmlns:atom="http://www.w3.org/2005/Atom">\n  <channel>\n'
        f"    <title>{_x(title)}</title>\n"
        f"    <link>https://journals.example.org/{code}</link>\n"
        f"    <description>Latest articles from {_x(title)}</description>\n"
        f'    <atom:link href="https://journals.example.org/{code}/feed/rss" rel="self" '
        'type="application/rss+xml"/>\n'
        "    <language>en-gb</language>\n"
        f"    <lastBuildDate>{format_datetime(NOW)}</lastBuildDate>\n"
        + "".join(items)
        + "  </channel>\n</rss>\n"
    )


def pubmed_rss_item(p: Paper, rng: random.Random) -> str:
    utm = "utm_source=Other&utm_medium=rss&utm_campaign=pubmed-2&fc=20251124060000"
    link = f"https://pubmed.ncbi.nlm.nih.gov/{p.pmid}/?{utm}"
    d = p.pub_date
    cite = f"<p><b>{_x(p.journal[1])}</b>. {d.year} {d.strftime('%b')} {d.day}:e{p.idx + 1000}."
    cite += f" doi: {p.doi}.</p>" if p.doi else "</p>"
    body = "".join(
        f"<p><b>{label}: </b>{_x(text)}</p>" if label else f"<p>{_x(text)}</p>"
        for label, text in p.sections
    )
    trailer = f'<p>PMID:<a href="https://pubmed.ncbi.nlm.nih.gov/{p.pmid}/">{p.pmid}</a>'
    trailer += f" | DOI:<a href=https://doi.org/{p.doi}>{p.doi}</a></p>" if p.doi else "</p>"
    description = f"{cite}<p><b>ABSTRACT</b></p>{body}{trailer}"
    creators = "".join(
        f"\n      <dc:creator>{_x(last)} {''.join(w[0] for w in f.replace('-', ' ').split())}"
        "</dc:creator>"
        for last, f in p.authors
    )
    ids = f"\n      <dc:identifier>pmid:{p.pmid}</dc:identifier>"
    if p.doi:
        ids += f"\n      <dc:identifier>doi:{p.doi}</dc:identifier>"
    return (
        "    <item>\n"
        f"      <title>{_x(_italics(_x(p.title)))}</title>\n"
        f"      <link>{_x(link)}</link>\n"
        f"      <description>{_x(description)}</description>{creators}\n"
        f"      <dc:date>{d.isoformat()}</dc:date>\n"
        f"      <dc:source>{_x(p.journal[0])}</dc:source>{ids}\n"
        f'      <guid isPermaLink="false">pubmed:{p.pmid}</guid>\n'
        f"      <pubDate>{_rfc822(d, rng.randint(0, 23))}</pubDate>\n"
        "    </item>\n"
    )


def pubmed_rss(n: int, items: list[str]) -> str:
    link = f"https://pubmed.ncbi.nlm.nih.gov/rss/search/1Saved{n}Search/?limit=100"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:dc="http://purl.org/dc/elements/'
        '1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://'
        'www.w3.org/2005/Atom" version="2.0">\n  <channel>\n'
        f"    <title>(integrative medicine) AND (saved search {n}) - PubMed</title>\n"
        f"    <link>{_x(link)}</link>\n"
        f"    <description>saved search {n} - PubMed</description>\n"
        "    <generator>PubMed RSS feeds (2.0)</generator>\n"
        f"    <lastBuildDate>{format_datetime(NOW)}</lastBuildDate>\n"
        + "".join(items)
        + "  </channel>\n</rss>\n"
    )


def atom_entry(p: Paper, rng: random.Random, *, with_doi: bool) -> str:
    ident = f"https://doi.org/{p.doi}" if with_doi else f"urn:uuid:{rng.getrandbits(128):032x}"
    authors = "".join(
        f"\n    <author><name>{_x(_full_name(f, last))}</name></author>" for last, f in p.authors
    )
    summary = f"<p>{_x(_teaser(p))}</p>"
    return (
        "  <entry>\n"
        f'    <title type="html">{_x(_italics(_x(p.title.rstrip("."))))}</title>\n'
        f"    <id>{ident}</id>\n"
        f'    <link rel="alternate" type="text/html" href="/articles/{p.pub_date.year}/'
        f'{p.idx}"/>\n'
        f"    <published>{p.pub_date.isoformat()}T08:00:00Z</published>\n"
        f"    <updated>{p.pub_date.isoformat()}T10:00:00Z</updated>{authors}\n"
        f'    <category term="{_x(p.subject.phrases[0])}"/>\n'
        f'    <summary type="html">{_x(summary)}</summary>\n'
        "  </entry>\n"
    )


def atom_feed(code: str, entries: list[str]) -> str:
    title = journal_for(code)[0]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xml:lang="en">\n'
        f"  <title>{_x(title)}</title>\n  <subtitle>Online first articles</subtitle>\n"
        f'  <link rel="self" href="https://{code}.example.org/feeds/online-first.atom"/>\n'
        f'  <link rel="alternate" href="https://{code}.example.org/"/>\n'
        f"  <id>tag:{code}.example.org,2025:online-first</id>\n"
        f"  <updated>{NOW.isoformat()}</updated>\n" + "".join(entries) + "</feed>\n"
    )


def write_corpus(papers: list[Paper], directory: Path, seed: int) -> Corpus:
    rng = random.Random(seed + 1)
    corpus = Corpus(papers=papers)
    (directory / "pubmed").mkdir(parents=True)
    (directory / "feeds").mkdir(parents=True)
    in_pubmed = [p for p in papers if p.role == "pubmed"]
    rng.shuffle(in_pubmed)
    chunks = [in_pubmed[i : i + PER_FILE] for i in range(0, len(in_pubmed), PER_FILE)]
    # A paper in two saved searches: the earlier file has it still in process (no MeSH).
    extra: list[list[tuple[Paper, bool]]] = [[] for _ in chunks]
    indexed = {id(p): True for p in in_pubmed}
    for number, chunk in enumerate(chunks):
        for paper in chunk:
            if paper.twice and len(chunks) > 1:
                other = (number + 1 + rng.randrange(len(chunks) - 1)) % len(chunks)
                if other > number:
                    indexed[id(paper)] = False
                    extra[other].append((paper, True))
                else:
                    extra[other].append((paper, False))
    pubmed_records = 0
    for number, chunk in enumerate(chunks):
        parts = [(p, indexed[id(p)]) for p in chunk] + extra[number]
        body = "\n".join(pubmed_article(p, rng, indexed=ix) for p, ix in parts)
        data = (EFETCH_HEAD + body + "\n</PubmedArticleSet>\n").encode("ascii", "xmlcharrefreplace")
        (directory / "pubmed" / f"search-{number + 1:02d}.xml").write_bytes(data)
        corpus.bytes += len(data)
        pubmed_records += len(parts)
    corpus.files["PubMed EFetch XML"] = len(chunks)
    corpus.records["PubMed EFetch XML"] = pubmed_records

    rss: dict[str, list[str]] = {code: [] for code in RSS_JOURNALS}
    searches: list[list[str]] = [[], [], []]
    atom: dict[str, list[str]] = {code: [] for code in ATOM_JOURNALS}
    for p in sorted(papers, key=lambda p: p.pub_date, reverse=True):
        if p.repeat == "doi" or p.role == "rss":
            rss[p.journal[2]].append(rss_item(p, rng))
        elif p.repeat == "pmid" or p.role == "pubmed-rss":
            searches[p.idx % 3].append(pubmed_rss_item(p, rng))
        elif p.repeat == "title" or p.role in ("atom", "atom-doi"):
            atom[p.journal[2]].append(atom_entry(p, rng, with_doi=p.role == "atom-doi"))
    feeds = [(f"{code}.rss", journal_rss(code, items), "journal RSS 2.0") for code, items in
             rss.items()]  # fmt: skip
    feeds += [(f"pubmed-search-{i + 1}.xml", pubmed_rss(i + 1, items), "PubMed search RSS")
              for i, items in enumerate(searches)]  # fmt: skip
    feeds += [(f"{code}-online-first.atom", atom_feed(code, items), "journal Atom") for
              code, items in atom.items()]  # fmt: skip
    counts = {"journal RSS 2.0": sum(map(len, rss.values())),
              "PubMed search RSS": sum(map(len, searches)),
              "journal Atom": sum(map(len, atom.values()))}  # fmt: skip
    for name, text, kind in feeds:
        data = text.encode("utf-8")
        (directory / "feeds" / name).write_bytes(data)
        corpus.bytes += len(data)
        corpus.files[kind] = corpus.files.get(kind, 0) + 1
        corpus.records[kind] = counts[kind]
    return corpus
