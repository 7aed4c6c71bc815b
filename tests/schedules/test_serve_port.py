"""`steve serve` whose HTTP port is taken exits non-zero with one line naming the port, before
any job runs; and if uvicorn stops by itself later, the process stops with it."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.cli import serve as serve_cli
from app.settings import Settings
from db.engine import make_engine, migrate
from db.models import JobRun
from tests.support.service import ROOT, running_smtp, service_env


def _occupied() -> socket.socket:
    """A real listener on a loopback port, as another program would hold it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock


@pytest.mark.process
def test_serve_with_its_port_taken_exits_with_one_line(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    holder = _occupied()
    port = holder.getsockname()[1]
    try:
        with running_smtp() as smtp:
            env = service_env(db_url, tmp_path / "data", smtp, PYTHONPATH=str(ROOT))
            run = subprocess.run(
                [sys.executable, "-m", "app.cli.main", "serve", "--port", str(port)],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=90,
            )
    finally:
        holder.close()
    assert run.returncode != 0, run.stdout + run.stderr
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0]
    with Session(engine) as s:
        assert s.exec(select(JobRun)).all() == []  # it stopped before leading or running jobs
    engine.dispose()


def test_http_that_stops_by_itself_stops_the_process(tmp_path: Path, monkeypatch) -> None:
    """The later failure: uvicorn given a socket it cannot serve on ends by itself; the
    supervisor marks the failure and stops the process's loops (exit non-zero follows)."""
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    bad = socket.socket()  # never bound nor listening: uvicorn cannot start on it
    bad.close()
    stop, failed = threading.Event(), threading.Event()
    monkeypatch.setattr(serve_cli, "settings", lambda: settings)
    thread = threading.Thread(target=serve_cli._run_http, args=(bad, "127.0.0.1", 1, stop, failed))
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert failed.is_set() and stop.is_set()
