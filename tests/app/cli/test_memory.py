"""`steve memory reindex/search`, on the embedded store in the data directory."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.cli import run, run_json


def test_reindex_then_search(_isolated_data_dir: Path) -> None:
    assert run("demo", "--patients", "15").exit_code == 0
    built = run_json("memory", "reindex")
    assert built["indexed"]["notes"] > 0 and built["indexed"]["articles"] == 20
    assert built["vectors"]["literature"] == 20
    again = run_json("memory", "reindex")  # idempotent: a rebuild gives the same store
    assert again["vectors"] == built["vectors"]
    hits = run_json("memory", "search", "fish oil for low mood", "-k", "3")
    assert hits[0]["id"] == "pmid:39100011"  # omega-3 and depressive symptoms
    mine = run_json("memory", "search", "how is the treatment going", "--patient", "3")
    assert mine and all(h["id"].split(":")[0] in ("note", "message") for h in mine)
    assert (_isolated_data_dir / "chroma").is_dir()


def test_memory_bad_input(monkeypatch) -> None:
    assert run("init", "--no-admin").exit_code == 0  # memory commands need the practice
    empty = run("memory", "search", "   ")
    assert empty.exit_code == 1 and "search text is empty" in empty.stderr
    monkeypatch.setenv("STEVE_EMBEDDINGS_PROVIDER", "openai")
    needs = run("memory", "search", "x")
    assert needs.exit_code == 2 and "STEVE_EMBEDDINGS_MODEL" in needs.stderr
    monkeypatch.setenv("STEVE_EMBEDDINGS_PROVIDER", "word2vec")
    unknown = run("memory", "search", "x")
    assert unknown.exit_code == 2 and "unknown embeddings provider" in unknown.stderr
    monkeypatch.setenv("STEVE_EMBEDDINGS_PROVIDER", "local")
    monkeypatch.setenv("STEVE_CHROMA_URL", "http://127.0.0.1:1")
    down = run("memory", "search", "x")
    assert down.exit_code == 2 and "is not reachable" in down.stderr


def test_preferences_sync_and_erasure(_isolated_data_dir: Path) -> None:
    assert run("demo", "--patients", "15").exit_code == 0
    run_json("memory", "reindex")
    pref = run_json("preferences", "add", "Labs first, then the plan", "--for", "marsh")
    listed = run_json("preferences", "list", "--for", "marsh")
    assert [p["text"] for p in listed] == ["Labs first, then the plan"]
    synced = run_json("memory", "sync")
    assert synced["upserted"] == 1 and synced["skipped"] == []
    assert run_json("memory", "sync")["changes"] == 0  # nothing owed twice

    empty = run("preferences", "add", "   ", "--for", "marsh")
    assert empty.exit_code == 1 and "needs some text" in empty.stderr
    gone = run("preferences", "remove", "999")
    assert gone.exit_code == 1 and "no preference with id 999" in gone.stderr
    assert run("preferences", "remove", str(pref["id"])).exit_code == 0
    assert run_json("preferences", "list", "--for", "marsh") == []

    unconfirmed = run("patient", "erase", "3")
    assert unconfirmed.exit_code == 1 and "--yes" in unconfirmed.stderr
    assert run_json("memory", "search", "how is it going", "--patient", "3")
    erased = run("patient", "erase", "3", "--yes")
    assert erased.exit_code == 0, erased.stderr
    removed = re.search(r"(\d+) memory vector\(s\) about them removed", erased.stdout)
    assert removed and int(removed.group(1)) > 0
    assert run("memory", "search", "how is it going", "--patient", "3").exit_code == 1
    again = run("patient", "erase", "3", "--yes")
    assert again.exit_code == 1 and "no patient with id 3" in again.stderr
