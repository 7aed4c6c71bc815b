"""Patient data files are private and the API docs load nothing from elsewhere (issue 11,
item 15): the data directory, steve.db (+ -wal/-shm), chat.sqlite, chroma/ and the outbox
are 0700/0600 whatever the umask, `steve init` tightens what an older Steve left readable,
and /docs and /redoc are served from Steve's own files.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from agent.chat.checkpoint import open_checkpointer
from memory.store import MemoryStore
from schedules.email.delivery import EmlTransport
from tests.support.api import client
from tests.support.cli import run
from tests.support.memory_fakes import WordHash


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """The usual 022: files would be world-readable unless Steve makes them private."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_init_creates_a_private_data_directory(tmp_path: Path) -> None:
    assert run("init", "--no-admin").exit_code == 0
    data = tmp_path / "steve-data"
    assert mode(data) == 0o700
    assert mode(data / "steve.db") == 0o600
    for extra in ("steve.db-wal", "steve.db-shm"):
        if (data / extra).exists():
            assert mode(data / extra) == 0o600


def test_init_tightens_what_an_older_steve_left_readable(tmp_path: Path) -> None:
    data = tmp_path / "steve-data"
    (data / "chroma" / "segment").mkdir(parents=True)
    (data / "chroma" / "chroma.sqlite3").write_bytes(b"")
    (data / "outbox").mkdir()
    (data / "outbox" / "briefing.eml").write_text("Subject: x\n")
    sqlite3.connect(str(data / "steve.db")).close()  # 0644, as SQLite makes it
    assert mode(data / "steve.db") == 0o644 and mode(data / "chroma") == 0o755

    result = run("init", "--no-admin")
    assert result.exit_code == 0, result.stderr
    for path in [data, *data.rglob("*")]:
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path


def test_chat_store_is_private(tmp_path: Path) -> None:
    path = tmp_path / "chat" / "chat.sqlite"
    with open_checkpointer(db_url=f"sqlite:///{tmp_path / 'steve.db'}", sqlite_path=path):
        pass
    assert mode(path.parent) == 0o700
    for name in ("chat.sqlite", "chat.sqlite-wal", "chat.sqlite-shm"):
        if (path.parent / name).exists():
            assert mode(path.parent / name) == 0o600, name


def test_chroma_directory_is_private(tmp_path: Path) -> None:
    MemoryStore.persistent(tmp_path / "chroma", WordHash())
    assert mode(tmp_path / "chroma") == 0o700


def test_outbox_files_are_private(tmp_path: Path) -> None:
    message = EmailMessage()
    message["Subject"] = "Tomorrow's patients"
    message.set_content("body")
    EmlTransport(tmp_path / "outbox").send(message, key="briefing:1:2026-11-23")
    assert mode(tmp_path / "outbox") == 0o700
    (eml,) = (tmp_path / "outbox").iterdir()
    assert mode(eml) == 0o600


# ------------------------------------------------------------------------- docs


def test_docs_and_redoc_load_nothing_from_a_cdn(engine, db_url) -> None:
    c = client(engine, db_url)
    for page in ("/docs", "/redoc"):
        r = c.get(page)
        assert r.status_code == 200
        assert "http://" not in r.text and "https://" not in r.text  # no other origin
        assert "<script>" not in r.text  # no inline script
        sources = re.findall(r"(?:src|href)='([^']+)'", r.text)
        assert sources and all(s.startswith("/docs-assets/") for s in sources), sources
        for source in sources:
            asset = c.get(source)
            assert asset.status_code == 200 and asset.content, source
        csp = r.headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]+)", csp)
        assert script_src and script_src.group(1).strip() == "'self'"
        assert "https:" not in csp and "cdn" not in csp
    spec = c.get("/openapi.json")
    assert spec.status_code == 200 and "/api/tasks" in spec.json()["paths"]
