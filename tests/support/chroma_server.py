"""A real Chroma server for tests: `chroma run` on a free loopback port in a given folder
(the `chroma_url` fixture in tests/memory/conftest.py starts one per session)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.service import free_port

STARTUP_TIMEOUT = 30.0


def chroma_executable() -> str:
    return str(Path(sys.executable).with_name("chroma"))


@contextmanager
def running_chroma(data: Path) -> Iterator[str]:
    """URL of a Chroma server keeping its files in `data`, stopped (SIGTERM) on exit."""
    import chromadb
    from chromadb.config import Settings

    executable = chroma_executable()
    if not os.path.exists(executable):
        pytest.skip(f"no chroma executable at {executable}")
    port = free_port()
    log = (data / "server.log").open("w")
    proc = subprocess.Popen(
        [executable, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data / "db")],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma server exited with {proc.returncode}; see {log.name}")
            try:
                client = chromadb.HttpClient(
                    host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False)
                )
                client.heartbeat()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"chroma server not ready after {STARTUP_TIMEOUT:.0f} s; see {log.name}"
                    ) from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()
