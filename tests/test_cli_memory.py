"""`steve memory reindex/search`, on the embedded store in the data directory."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import run, run_json


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
