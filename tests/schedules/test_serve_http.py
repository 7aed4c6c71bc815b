"""`steve serve` also serves the HTTP API and web app, and stops both on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from db.engine import make_engine, migrate
from tests.support.clock_shift import child_pythonpath
from tests.support.service import free_port, running_smtp, service_env, wait_until

pytestmark = pytest.mark.process


def test_serve_answers_http_and_stops_cleanly(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    engine.dispose()
    port = free_port()
    log = tmp_path / "serve.log"
    with running_smtp() as smtp:
        env = service_env(db_url, tmp_path / "data", smtp, PYTHONPATH=child_pythonpath())
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli.main", "serve", "--port", str(port)],
                env=env,
                cwd=tmp_path,
                stdout=out,
                stderr=out,
            )
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return httpx.get(f"{base}/api/me", timeout=1).status_code == 401
            except httpx.TransportError:
                return False

        try:
            assert wait_until(answers, timeout=60), log.read_text()
            me = httpx.get(f"{base}/api/me", timeout=5)
            assert me.json()["error"]["code"]  # the API's error body, not a stack trace
            assert httpx.get(f"{base}/login", timeout=5).status_code == 200
            assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(30)
    assert code == 0, log.read_text()
    assert f"web app and API at http://127.0.0.1:{port}" in log.read_text()
