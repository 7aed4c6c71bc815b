"""`steve literature fetch/digest/summary` and `steve protocols due/ack/snooze`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, select

from db.models import GeneratedDocument, MemoryChange
from tests.support import paths
from tests.support.cli import practice_engine, run, run_json

FIXTURES = paths.FIXTURES


@pytest.fixture
def demo_practice(demo_copy) -> None:
    result = demo_copy("--patients", "20")
    assert result is None or "articles read" in result.stderr


def test_fetch_offline_reports_problems_and_is_idempotent(demo_practice, tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    shutil.copy(FIXTURES / "pubmed" / "efetch_integrative.xml", saved / "week.xml")
    shutil.copy(FIXTURES / "pubmed" / "efetch_truncated.xml", saved / "broken.xml")
    shutil.copy(FIXTURES / "feeds" / "error-page.html", saved / "feed.rss")
    first = run("literature", "fetch", "--offline", str(saved))
    assert first.exit_code == 0, first.stderr
    assert "problem: offline:broken.xml" in first.stderr
    assert "problem: offline:feed.rss" in first.stderr
    again = run_json("literature", "fetch", "--offline", str(saved))
    assert again["new"] == 0 and again["updated"] == 0  # the demo already read week.xml
    assert len(again["problems"]) == 2


def test_fetch_bad_input(demo_practice, tmp_path: Path) -> None:
    missing = run("literature", "fetch", "--offline", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "is not a directory" in missing.stderr
    bad = run("literature", "fetch", "--relevance", "magic")
    assert bad.exit_code == 1 and "unknown relevance 'magic'" in bad.stderr
    online = run("literature", "fetch")
    assert online.exit_code == 2 and "set STEVE_NCBI_EMAIL" in online.stderr


def test_summary_cites_every_sentence(demo_practice) -> None:
    out = run_json("literature", "summary", "39100001", "39100002")
    assert out["mode"] == "deterministic" and out["model_calls"] == 0 and out["dropped"] == []
    assert set(out["refs"]) == {"pmid:39100001", "pmid:39100002"}
    assert "[pmid:39100001]" in out["markdown"] and "[pmid:39100002]" in out["markdown"]
    unknown = run("literature", "summary", "11111111")
    assert unknown.exit_code == 1 and "11111111" in unknown.stderr
    html = run("literature", "summary", "39100001", "--format", "html")
    assert html.exit_code == 0 and "<h1" in html.stdout and "[pmid:39100001]" in html.stdout
    bad = run("literature", "summary", "PMC123")
    assert bad.exit_code == 1 and "'PMC123' is not a PMID" in bad.stderr


def test_digest_for_a_physician(demo_practice) -> None:
    out = run_json("literature", "digest", "--physician", "marsh")
    assert out["refs"], "the demo's week of reading should reach the digest"
    assert "pmid:39100002" in out["refs"]
    html = run("literature", "digest", "--physician", "marsh", "--format", "html")
    assert html.exit_code == 0 and "<html" in html.stdout.lower()
    bad = run("literature", "digest", "--physician", "marsh", "--format", "pdf")
    assert bad.exit_code == 1 and "unknown format 'pdf'" in bad.stderr
    nobody = run("literature", "digest", "--physician", "nobody")
    assert nobody.exit_code == 1
    # Kept once per physician and week (reruns replace it) and owed to memory.
    engine = practice_engine()
    with Session(engine) as session:
        docs = session.exec(
            select(GeneratedDocument).where(GeneratedDocument.kind == "digest")
        ).all()
        assert len(docs) == 1 and docs[0].markdown == out["markdown"]
        owed = session.exec(
            select(MemoryChange).where(MemoryChange.source == f"generated_document:{docs[0].id}")
        ).all()
        assert owed
    engine.dispose()


def test_protocol_reviews_due_ack_snooze(demo_practice) -> None:
    due = run_json("protocols", "due")
    assert due, "the demo has protocols past their review date"
    first, *rest = due
    shown = run_json("protocols", "show", str(first["review_id"]))
    assert shown["mode"] == "deterministic" and shown["refs"]
    assert shown["markdown"].count("[") >= len(shown["refs"])  # every source is cited inline
    assert run("protocols", "show", "99999").exit_code == 1
    ack = run("protocols", "ack", str(first["review_id"]), "--by", "marsh")
    assert ack.exit_code == 0
    assert first["review_id"] not in [r["review_id"] for r in run_json("protocols", "due")]
    twice = run("protocols", "ack", str(first["review_id"]), "--by", "marsh")
    assert twice.exit_code == 1
    if rest:
        past = run(
            "protocols",
            "snooze",
            str(rest[0]["review_id"]),
            "--until",
            "2000-01-01",
            "--by",
            "marsh",
        )
        assert past.exit_code == 1
        ok = run(
            "protocols",
            "snooze",
            str(rest[0]["review_id"]),
            "--until",
            "2099-01-01",
            "--by",
            "marsh",
        )
        assert ok.exit_code == 0
        assert rest[0]["review_id"] not in [r["review_id"] for r in run_json("protocols", "due")]
    assert run("protocols", "ack", "99999", "--by", "marsh").exit_code == 1


def test_interests_and_topics(demo_practice) -> None:
    added = run_json(
        "literature",
        "interest",
        "--physician",
        "marsh",
        "--name",
        "Sleep",
        "--condition",
        "insomnia",
        "--keywords",
        "melatonin, CBT-I",
    )
    assert added["query"] == '("insomnia"[tiab]) AND ("melatonin"[tiab] OR "CBT-I"[tiab])'
    listed = run_json("literature", "topics")
    assert added["topic_id"] in [t["id"] for t in listed]
    assert sum(t["kind"] == "protocol" for t in listed) == 10
    nurse = run("literature", "interest", "--physician", "keane", "--name", "x", "--condition", "y")
    assert nurse.exit_code == 1 and "not a physician" in nurse.stderr


def test_blended_relevance_uses_embeddings(demo_practice, tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    shutil.copy(FIXTURES / "feeds" / "sleep-rss1.xml", saved / "sleep.rdf")  # not in the demo
    out = run_json("literature", "fetch", "--offline", str(saved), "--relevance", "blended")
    assert out["problems"] == [] and out["new"] > 0
    assert out["matches"] > 0
