"""The memory change log: writes to indexed records leave rows in the same transaction."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.changelog import DELETE, ERASE, UPSERT
from db.models import ArticleMatch, CareMessage, Discipline, MemoryChange
from tests.support import factories as f
from tests.support.literature_factories import article, match, topic
from tools.generated_documents import save_document
from tools.notes import add_note, correct_note, delete_note
from tools.preferences import add_preference, remove_preference
from tools.registry import erase_patient


def log(session: Session) -> list[tuple[str, str]]:
    session.flush()
    rows = session.exec(select(MemoryChange).order_by(col(MemoryChange.id))).all()
    return [(r.source, r.op) for r in rows]


def clear(session: Session) -> None:
    for row in session.exec(select(MemoryChange)).all():
        session.delete(row)
    session.flush()


def test_a_note_written_corrected_and_deleted_is_logged(session: Session) -> None:
    doc = f.practitioner(session)
    pat = f.patient(session, physician=doc)
    clear(session)
    note = add_note(session=session, patient_id=pat.id, practitioner_id=doc.id, body="Sleep better")
    assert log(session) == [(f"note:{note.id}", UPSERT)]
    correct_note(session=session, note_id=note.id, body="Sleep much better")
    delete_note(session=session, note_id=note.id)
    assert log(session)[1:] == [(f"note:{note.id}", UPSERT), (f"note:{note.id}", DELETE)]


def test_changes_that_do_not_touch_the_text_are_not_logged(session: Session) -> None:
    doc = f.practitioner(session)
    coach = f.practitioner(session, discipline=Discipline.HEALTH_COACHING)
    pat = f.patient(session, physician=doc)
    msg = CareMessage(
        patient_id=pat.id,
        sender_id=doc.id,
        recipient_id=coach.id,
        subject="Magnesium",
        body="Started 200 mg",
    )
    session.add(msg)
    session.flush()
    clear(session)
    from db.engine import utcnow

    msg.acknowledged_at = utcnow()  # reading a message changes nothing memory holds
    session.add(msg)
    assert log(session) == []
    msg.body = "Started 300 mg"
    session.add(msg)
    assert log(session) == [(f"message:{msg.id}", UPSERT)]


def test_the_log_rolls_back_with_the_write(engine: Engine) -> None:
    with Session(engine) as s:
        doc = f.practitioner(s)
        pat = f.patient(s, physician=doc)
        s.commit()
        before = len(log(s))
        add_note(session=s, patient_id=pat.id, practitioner_id=doc.id, body="Draft")
        assert len(log(s)) == before + 1
        s.rollback()
    with Session(engine) as s:
        assert len(log(s)) == before


def test_an_article_that_gains_a_pmid_drops_its_old_memory_id(session: Session) -> None:
    a = article(session, no_pmid=True, doi="10.1000/mg.1")
    clear(session)
    a.pmid = "39100777"
    session.add(a)
    assert log(session) == [("doi:10.1000/mg.1", DELETE), (f"article:{a.id}", UPSERT)]


def test_a_new_topic_match_reindexes_the_article(session: Session) -> None:
    a = article(session)
    t = topic(session, physician=f.practitioner(session), name="Magnesium")
    clear(session)
    match(session, article=a, topic=t)
    assert (f"article:{a.id}", UPSERT) in log(session)
    assert session.exec(select(ArticleMatch)).first() is not None


def test_preferences_and_documents_are_logged(session: Session) -> None:
    doc = f.practitioner(session)
    pat = f.patient(session, physician=doc)
    clear(session)
    pref = add_preference(session=session, practitioner_id=doc.id, text="Labs first")
    written = save_document(
        session=session,
        kind="briefing",
        key=f"2026-11-23:{pat.id}",
        title="Briefing",
        markdown="Text [note:1]",
        patient_id=pat.id,
    )
    written_again = save_document(
        session=session,
        kind="briefing",
        key=f"2026-11-23:{pat.id}",
        title="Briefing",
        markdown="New text [note:1]",
        patient_id=pat.id,
    )
    assert written_again.id == written.id  # same (kind, key): replaced, not duplicated
    remove_preference(session=session, preference_id=pref.id)
    assert log(session) == [
        (f"preference:{pref.id}", UPSERT),
        (f"generated_document:{written.id}", UPSERT),
        (f"generated_document:{written.id}", UPSERT),
        (f"preference:{pref.id}", DELETE),
    ]


def test_erasing_a_patient_logs_an_erasure(session: Session) -> None:
    doc = f.practitioner(session)
    pat = f.patient(session, physician=doc)
    add_note(session=session, patient_id=pat.id, practitioner_id=doc.id, body="Note")
    clear(session)
    erase_patient(session=session, patient_id=pat.id)
    assert log(session) == [(f"patient:{pat.id}", ERASE)]
