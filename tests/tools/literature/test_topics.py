"""Watch topics from protocols and interests, with their PubMed queries."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from db.models import ClinicalProtocol, Discipline, TopicKind, WatchTopic
from tests.support import factories
from tools.errors import InvalidInput, NotFound
from tools.literature.topics import add_interest, build_query, profile, sync_protocol_topics


def test_query_shape() -> None:
    q = build_query(
        condition_terms=["irritable bowel syndrome"],
        keywords=["low FODMAP", 'pep"permint'],
        mesh_terms=["Irritable Bowel Syndrome"],
    )
    assert q == (
        '("irritable bowel syndrome"[tiab] OR "Irritable Bowel Syndrome"[mh]) AND '
        '("low FODMAP"[tiab] OR "pep permint"[tiab])'
    )
    with pytest.raises(InvalidInput):
        build_query(condition_terms=[" "], keywords=["x"], mesh_terms=[])


def test_sync_follows_protocol_edits(session: Session) -> None:
    p = ClinicalProtocol(
        title="IBS protocol",
        condition="irritable bowel syndrome",
        keywords=["low FODMAP"],
        mesh_terms=["Irritable Bowel Syndrome"],
        last_reviewed_on=date(2026, 1, 1),
    )
    session.add(p)
    session.flush()
    first = sync_protocol_topics(session=session)
    p.keywords = ["low FODMAP", "peppermint oil"]
    second = sync_protocol_topics(session=session)
    session.commit()
    topics = session.exec(select(WatchTopic)).all()
    assert len(topics) == 1 and first[0].id == second[0].id
    assert topics[0].terms == ["irritable bowel syndrome", "low FODMAP", "peppermint oil"]
    prof = profile(topics[0])
    assert prof.condition_terms == ("irritable bowel syndrome", "Irritable Bowel Syndrome")
    assert prof.keywords == ("low FODMAP", "peppermint oil")


def test_physician_interests(session: Session) -> None:
    doc = factories.practitioner(session)
    acu = factories.practitioner(session, discipline=Discipline.ACUPUNCTURE)
    t = add_interest(
        session=session,
        physician_id=doc.id,
        name="Long COVID fatigue",
        condition="post-acute COVID-19 syndrome",
        keywords=["fatigue", "pacing"],
    )
    assert t.kind == TopicKind.INTEREST and "pacing" in t.query
    with pytest.raises(InvalidInput, match="not a physician"):
        add_interest(session=session, physician_id=acu.id, name="x", condition="y")
    with pytest.raises(NotFound):
        add_interest(session=session, physician_id=999, name="x", condition="y")
    with pytest.raises(InvalidInput):
        add_interest(session=session, physician_id=doc.id, name=" ", condition="y")


def test_intervention_mesh_headings_are_keywords_not_synonyms(session: Session) -> None:
    session.add(
        ClinicalProtocol(
            title="Migraine",
            condition="migraine",
            keywords=["magnesium"],
            mesh_terms=["Migraine Disorders", "Acupuncture Therapy"],
        )
    )
    session.flush()
    (topic,) = sync_protocol_topics(session=session)
    prof = profile(topic)
    assert prof.condition_terms == ("migraine", "Migraine Disorders")
    assert prof.keywords == ("magnesium", "Acupuncture Therapy")
