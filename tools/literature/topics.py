"""Watch topics: one per clinical protocol, plus each physician's own interests.

Each topic is a PubMed query (condition AND any keyword) and a relevance profile.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from db.models import (
    ClinicalProtocol,
    Discipline,
    Practitioner,
    TopicKind,
    WatchTopic,
)
from tools.errors import InvalidInput, NotFound
from tools.literature.text import tokens
from tools.literature.topic_relevance import TopicProfile


def _quoted(term: str) -> str:
    return '"' + term.replace('"', " ").strip() + '"'


def build_query(
    *, condition_terms: Sequence[str], keywords: Sequence[str], mesh_terms: Sequence[str]
) -> str:
    """A PubMed query: (condition in title/abstract OR its MeSH) AND (any keyword), humans."""
    condition = [f"{_quoted(t)}[tiab]" for t in condition_terms if t.strip()]
    condition += [f"{_quoted(m)}[mh]" for m in mesh_terms if m.strip()]
    if not condition:
        raise InvalidInput("a watch topic needs a condition or a MeSH term")
    query = "(" + " OR ".join(condition) + ")"
    kws = [f"{_quoted(k)}[tiab]" for k in keywords if k.strip()]
    if kws:
        query += " AND (" + " OR ".join(kws) + ")"
    return query


def sync_protocol_topics(*, session: Session) -> list[WatchTopic]:
    """Make the protocol topics match the protocols (idempotent; follows edits)."""
    protocols = session.exec(select(ClinicalProtocol)).all()
    existing = {
        t.protocol_id: t
        for t in session.exec(select(WatchTopic).where(WatchTopic.kind == TopicKind.PROTOCOL)).all()
    }
    topics = []
    for p in protocols:
        terms = [p.condition, *p.keywords]
        query = build_query(
            condition_terms=[p.condition], keywords=p.keywords, mesh_terms=p.mesh_terms
        )
        topic = existing.get(p.id)
        if topic is None:
            topic = WatchTopic(
                kind=TopicKind.PROTOCOL,
                name=p.title,
                protocol_id=p.id,
                terms=terms,
                mesh_terms=list(p.mesh_terms),
                query=query,
            )
        else:
            topic.name, topic.terms, topic.mesh_terms, topic.query = (
                p.title,
                terms,
                list(p.mesh_terms),
                query,
            )
            topic.active = True
        session.add(topic)
        topics.append(topic)
    session.flush()
    return topics


def add_interest(
    *,
    session: Session,
    physician_id: int,
    name: str,
    condition: str,
    keywords: Sequence[str] = (),
    mesh_terms: Sequence[str] = (),
) -> WatchTopic:
    """A physician's own research interest, watched like a protocol."""
    person = session.get(Practitioner, physician_id)
    if person is None:
        raise NotFound("practitioner", physician_id)
    if person.discipline != Discipline.PHYSICIAN:
        raise InvalidInput(f"practitioner {physician_id} is not a physician")
    if not name.strip() or not condition.strip():
        raise InvalidInput("an interest needs a name and a condition or theme")
    topic = WatchTopic(
        kind=TopicKind.INTEREST,
        name=name.strip(),
        physician_id=physician_id,
        terms=[condition.strip(), *[k.strip() for k in keywords if k.strip()]],
        mesh_terms=[m.strip() for m in mesh_terms if m.strip()],
        query=build_query(condition_terms=[condition], keywords=keywords, mesh_terms=mesh_terms),
    )
    session.add(topic)
    session.flush()
    return topic


def active_topics(*, session: Session) -> list[WatchTopic]:
    return list(
        session.exec(
            select(WatchTopic).where(col(WatchTopic.active).is_(True)).order_by(col(WatchTopic.id))
        ).all()
    )


def profile(topic: WatchTopic) -> TopicProfile:
    """The relevance profile: the first term is the condition; a MeSH heading sharing a word
    with it is a synonym ('Migraine Disorders'), any other heading ('Acupuncture Therapy')
    is an intervention and counts as a keyword, else every acupuncture paper would match."""
    assert topic.id is not None
    condition, *keywords = topic.terms or [topic.name]
    condition_words = set(tokens(condition))
    synonyms = [m for m in topic.mesh_terms if condition_words & set(tokens(m))]
    others = [m for m in topic.mesh_terms if m not in synonyms]
    return TopicProfile(
        topic_id=topic.id,
        condition_terms=(condition, *synonyms),
        keywords=tuple(dict.fromkeys([*keywords, *others])),
    )
