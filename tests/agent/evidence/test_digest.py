"""The weekly research digest: selection, ranking, grouping, retractions, reviews, rendering."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from agent.documents.verify import verify
from agent.evidence.digest import INTERESTS, Digest, build_digest, week_bounds
from db.models import Article, ClinicalProtocol, EvidenceGrade, Practitioner
from tests.support import factories
from tests.support import literature_factories as lf
from tests.support.composers import ScriptedComposer
from tools.citations import find_refs
from tools.errors import NotFound

LONDON = ZoneInfo("Europe/London")
WEEK_OF = date(2025, 3, 5)  # Wednesday: the week is Mon 3 - Sun 9 March 2025
NOW = datetime(2025, 3, 10, 7, tzinfo=UTC)
IN_WEEK = datetime(2025, 3, 5, 12, tzinfo=UTC)
REVIEWED = date(2025, 1, 15)


@dataclass
class Practice:
    doc: Practitioner
    colleague: Practitioner
    ibs: ClinicalProtocol  # the doc's own
    migraine: ClinicalProtocol  # the colleague's
    shared: ClinicalProtocol  # nobody's
    articles: dict[str, Article]


def _practice(session: Session) -> Practice:
    doc = factories.practitioner(session, name="Jane Hale", title="Dr")
    colleague = factories.practitioner(session, name="Omar Reyes")
    ibs = lf.protocol(session, title="Low-FODMAP for IBS", owner=doc, last_reviewed_on=REVIEWED)
    migraine = lf.protocol(
        session, title="Magnesium for migraine", owner=colleague, last_reviewed_on=REVIEWED
    )
    shared = lf.protocol(session, title="Anti-inflammatory diet", last_reviewed_on=REVIEWED)
    t_ibs = lf.topic(session, protocol=ibs, terms=["IBS", "low-FODMAP"])
    t_mig = lf.topic(session, protocol=migraine, terms=["migraine"])
    lf.topic(session, protocol=shared, terms=["inflammation"])
    t_gut = lf.topic(session, physician=doc, name="Gut-brain axis", terms=["gut-brain"])
    t_other = lf.topic(session, physician=colleague, name="Sleep", terms=["sleep"])
    A = lf.article
    arts = {
        "sr": A(session, title="FODMAP meta-analysis", grade=EvidenceGrade.SYSTEMATIC_REVIEW),
        "obs": A(session, title="FODMAP cohort", grade=EvidenceGrade.OBSERVATIONAL),
        "rct": A(session, title="FODMAP small trial", grade=EvidenceGrade.RCT),
        "mig": A(session, title="Magnesium trial", grade=EvidenceGrade.RCT),
        "gut": A(session, title="Gut-brain and IBS", grade=EvidenceGrade.NARRATIVE),
        "sleep": A(session, title="Sleep hygiene trial", grade=EvidenceGrade.RCT),
        "old": A(session, title="Old FODMAP trial", first_seen_at=datetime(2025, 2, 1, tzinfo=UTC)),
        "retracted_now": A(
            session,
            title="Fraudulent FODMAP trial",
            retracted=True,
            retraction_notes=["Retraction in: Gut 2025"],
            first_seen_at=datetime(2025, 1, 20, tzinfo=UTC),
            updated_at=datetime(2025, 3, 6, tzinfo=UTC),
        ),
        "retracted_long_ago": A(
            session,
            title="Long-retracted trial",
            retracted=True,
            first_seen_at=datetime(2024, 6, 1, tzinfo=UTC),
        ),
    }
    M = lf.match
    M(session, article=arts["sr"], topic=t_ibs, score=0.75, terms=["IBS"], at=IN_WEEK)  # 1.50
    M(session, article=arts["obs"], topic=t_ibs, score=0.9, terms=["IBS"], at=IN_WEEK)  # 1.44
    M(session, article=arts["rct"], topic=t_ibs, score=0.5, at=IN_WEEK)  # 0.90
    M(session, article=arts["mig"], topic=t_mig, score=0.7, terms=["migraine"], at=IN_WEEK)
    # Matched to an IBS protocol topic and, more strongly, to the doc's interest: listed once.
    M(session, article=arts["gut"], topic=t_ibs, score=0.6, terms=["IBS"], at=IN_WEEK)
    M(session, article=arts["gut"], topic=t_gut, score=0.9, terms=["gut-brain"], at=IN_WEEK)
    M(session, article=arts["sleep"], topic=t_other, score=0.9, at=IN_WEEK)  # not the doc's
    M(session, article=arts["old"], topic=t_ibs, score=0.9)  # matched last month
    M(session, article=arts["retracted_now"], topic=t_ibs, score=0.8)
    M(session, article=arts["retracted_long_ago"], topic=t_ibs, score=0.8)
    session.commit()
    return Practice(doc, colleague, ibs, migraine, shared, arts)


def _build(session: Session, p: Practice, **kw: object) -> Digest:
    kw.setdefault("tz", LONDON)
    kw.setdefault("now", NOW)
    return build_digest(session=session, physician_id=p.doc.id, week_of=WEEK_OF, **kw)  # type: ignore[arg-type]


def test_sections_grouping_and_ranking(session: Session) -> None:
    p = _practice(session)
    d = _build(session, p)
    assert (d.week_start, d.week_end) == (date(2025, 3, 3), date(2025, 3, 9))
    assert [s.title for s in d.sections] == [
        "Low-FODMAP for IBS",  # the doc's own protocol first
        INTERESTS,
        "Magnesium for migraine",  # a colleague's protocol: the practice shares its protocols
    ]
    ibs, interests, mig = d.sections
    assert ibs.owned and not mig.owned and interests.protocol_id is None
    # relevance x (1 + rank/5): review 0.75x2.0 > cohort 0.9x1.6 > trial 0.5x1.8
    assert [i.title for i in ibs.items] == [
        "FODMAP meta-analysis",
        "FODMAP cohort",
        "FODMAP small trial",
    ]
    assert [i.title for i in interests.items] == ["Gut-brain and IBS"]
    assert interests.items[0].matched_terms == ("gut-brain", "IBS")
    all_titles = [i.title for s in d.sections for i in s.items]
    assert "Sleep hygiene trial" not in all_titles and "Old FODMAP trial" not in all_titles
    assert not d.empty
    md = d.markdown
    assert md.index("## Low-FODMAP for IBS") < md.index("## Your interests")
    assert md.index("FODMAP meta-analysis") < md.index("FODMAP cohort") < md.index("small trial")
    assert "systematic review / meta-analysis · matches: IBS; relevance 0.75" in md


def test_retractions_come_first(session: Session) -> None:
    p = _practice(session)
    d = _build(session, p)
    assert [r.title for r in d.retractions] == ["Fraudulent FODMAP trial"]
    assert d.retractions[0].retraction_note == "Retraction in: Gut 2025"
    for doc_text, heading in ((d.markdown, "## Retractions"), (d.text, "RETRACTIONS")):
        assert doc_text.index(heading) < doc_text.index("FODMAP meta-analysis")
        assert "RETRACTED: Fraudulent FODMAP trial" in doc_text.replace("**", "")
    assert d.html.index("Retractions") < d.html.index("FODMAP meta-analysis")
    assert "Long-retracted trial" not in d.markdown
    # A retracted article matched this week goes to retractions, not to its protocol section.
    bad = lf.article(session, title="Retracted on arrival", retracted=True, first_seen_at=IN_WEEK)
    lf.match(session, article=bad, topic=lf.topic(session, protocol=p.ibs), at=IN_WEEK)
    d = _build(session, p)
    assert {r.title for r in d.retractions} == {"Fraudulent FODMAP trial", "Retracted on arrival"}
    assert "Retracted on arrival" not in [i.title for s in d.sections for i in s.items]


def test_week_boundaries_follow_the_time_zone(session: Session) -> None:
    doc = factories.practitioner(session)
    t = lf.topic(session, physician=doc, name="edges")
    new_york = ZoneInfo("America/New_York")  # EST until 9 March 2025 02:00, then EDT
    cases = {
        "Sunday before, 23:00 EST": (datetime(2025, 3, 3, 4, tzinfo=UTC), False),
        "Monday 00:30 EST": (datetime(2025, 3, 3, 5, 30, tzinfo=UTC), True),
        "Sunday 23:30 EDT": (datetime(2025, 3, 10, 3, 30, tzinfo=UTC), True),
        "Monday after, 00:30 EDT": (datetime(2025, 3, 10, 4, 30, tzinfo=UTC), False),
    }
    for title, (at, _) in cases.items():
        lf.match(session, article=lf.article(session, title=title), topic=t, at=at)
    d = build_digest(
        session=session, physician_id=doc.id, week_of=date(2025, 3, 9), tz=new_york, now=NOW
    )
    listed = {i.title for s in d.sections for i in s.items}
    assert listed == {title for title, (_, inside) in cases.items() if inside}
    _, _, start, end = week_bounds(date(2025, 3, 9), new_york)
    assert (start, end) == (
        datetime(2025, 3, 3, 5, tzinfo=UTC),
        datetime(2025, 3, 10, 4, tzinfo=UTC),
    )


def test_reviews_due_for_own_and_unowned_protocols(session: Session) -> None:
    p = _practice(session)
    d = _build(session, p)
    # IBS: strong evidence since its review (January 15), including last month's trial, not in
    # this week's articles; the migraine protocol is the colleague's; the shared one has no
    # evidence and its interval has not passed.
    assert [r.protocol_title for r in d.reviews] == ["Low-FODMAP for IBS"]
    (review,) = d.reviews
    assert [e.title for e in review.evidence] == [
        "Old FODMAP trial",
        "FODMAP meta-analysis",
        "FODMAP small trial",
    ]
    assert "## Protocol reviews due" in d.markdown and "Protocol reviews due" in d.html
    assert "matches: IBS; relevance 0.75" in d.markdown
    # The shared protocol falls due on its interval: unowned, so the doc is prompted too.
    p.shared.last_reviewed_on = date(2023, 1, 1)
    session.add(p.shared)
    d = _build(session, p)
    assert [r.protocol_title for r in d.reviews] == ["Low-FODMAP for IBS", "Anti-inflammatory diet"]
    colleague = build_digest(
        session=session, physician_id=p.colleague.id, week_of=WEEK_OF, tz=LONDON, now=NOW
    )
    assert [r.protocol_title for r in colleague.reviews] == [
        "Magnesium for migraine",
        "Anti-inflammatory diet",
    ]


def test_untrusted_title_is_escaped(session: Session) -> None:
    doc = factories.practitioner(session)
    t = lf.topic(session, physician=doc)
    evil = '<script>alert("x")</script> Magnesium & sleep'
    a = lf.article(session, title=evil, url='javascript:alert(1)" onmouseover="x')
    lf.match(session, article=a, topic=t, at=IN_WEEK)
    d = build_digest(session=session, physician_id=doc.id, week_of=WEEK_OF, tz=LONDON, now=NOW)
    assert "<script>" not in d.html and "javascript:" not in d.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Magnesium &amp; sleep" in d.html
    assert "\\<script\\>" in d.markdown
    assert f'href="https://pubmed.ncbi.nlm.nih.gov/{a.pmid}/"' in d.html
    assert evil in d.text  # plain text has no markup to escape


def test_empty_week_is_a_friendly_digest(session: Session) -> None:
    doc = factories.practitioner(session, name="Ada Quiet")
    d = build_digest(session=session, physician_id=doc.id, week_of=WEEK_OF, tz=LONDON, now=NOW)
    assert d.empty and d.sections == [] and d.retractions == [] and d.refs == []
    for rendered in (d.markdown, d.html, d.text):
        assert "No new articles matched your topics this week" in rendered
        assert "Ada Quiet" in rendered
    assert d.subject == "Research digest, Mon 3 Mar - Sun 9 Mar 2025"
    with pytest.raises(NotFound, match="no practitioner with id 9999"):
        build_digest(session=session, physician_id=9999, week_of=WEEK_OF, tz=LONDON)


def test_every_item_cites_its_ref(session: Session) -> None:
    p = _practice(session)
    d = _build(session, p)
    items = [*d.retractions, *(i for s in d.sections for i in s.items)]
    assert items
    for item in items:
        assert item.ref in find_refs(d.markdown)
        if item in d.retractions:
            continue
        checked = verify(item.summary_text, allowed_refs={item.ref})
        assert checked.dropped == [] and 1 <= checked.kept_count <= 2
        assert f"[{item.ref}]" in item.summary_md
    assert set(d.refs) == {i.ref for i in items} | {e.ref for r in d.reviews for e in r.evidence}
    assert set(find_refs(d.markdown)) == set(d.refs)


def test_composer_adds_a_verified_overview(session: Session) -> None:
    p = _practice(session)
    sr = p.articles["sr"].ref
    composer = ScriptedComposer(
        f"A meta-analysis supports low-FODMAP diets [{sr}]. Invented claim [pmid:123456789]."
    )
    d = _build(session, p, composer=composer)
    assert d.overview == f"A meta-analysis supports low-FODMAP diets [{sr}]."
    assert d.overview_dropped == 1
    assert "## This week in brief" in d.markdown and "This week in brief" in d.html
    assert "pmid:123456789" not in d.markdown + d.html + d.text
    _, facts = composer.calls[0]
    assert {f.ref for f in facts} <= {i.ref for s in d.sections for i in s.items}
    unverifiable = _build(session, p, composer=ScriptedComposer("No citations at all."))
    assert unverifiable.overview is None and "This week in brief" not in unverifiable.markdown
    assert re.search(r"FODMAP meta-analysis", unverifiable.markdown)


def test_an_overview_sentence_with_a_wrong_number_is_removed(session: Session) -> None:
    """The overview is checked with its facts, as briefings are: a sentence citing the right
    article but stating a figure that article's facts do not state goes."""
    p = _practice(session)
    sr = p.articles["sr"]
    sr.sample_size = 1240
    session.commit()
    composer = ScriptedComposer(
        f"A meta-analysis of 1,240 patients supports low-FODMAP diets [{sr.ref}]. "
        f"It pooled 9,999 patients [{sr.ref}]."
    )
    d = _build(session, p, composer=composer)
    assert d.overview == f"A meta-analysis of 1,240 patients supports low-FODMAP diets [{sr.ref}]."
    assert d.overview_dropped == 1
    assert "9,999" not in d.markdown + d.html + d.text
    _, facts = composer.calls[0]
    assert "Sample size: n = 1,240" in [f.text for f in facts if f.ref == sr.ref]
