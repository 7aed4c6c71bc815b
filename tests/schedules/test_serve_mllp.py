"""`steve serve` with the MLLP listener enabled, as a real process: a lab's message sent over
loopback gets its AA and the result is in the database; SIGTERM stops it cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from db.engine import make_engine
from db.models import LabResult
from tests.support.labs import HL7, exchange, lab_practice, msa
from tests.support.service import (
    free_port,
    running_smtp,
    service_env,
    start_serve,
    stop,
    wait_until,
)
from tools.interop.hl7.mllp import frame


@pytest.mark.process
def test_serve_answers_mllp_and_stores(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    lab_practice(engine)
    port = free_port()
    log = tmp_path / "serve.log"
    with running_smtp() as smtp:
        env = service_env(
            db_url,
            tmp_path / "data",
            smtp,
            STEVE_HL7__MLLP_ENABLED="true",
            STEVE_HL7__MLLP_PORT=str(port),
        )
        proc = start_serve(env, tmp_path, log)
        try:
            assert wait_until(lambda: "HL7 (MLLP) listener on" in log.read_text(), 60), (
                log.read_text()
            )
            payload = (HL7 / "oru_r01_panel_v251.hl7").read_bytes()
            [ack] = exchange(("127.0.0.1", port), [frame(payload=payload)])
        finally:
            code = stop(proc)
    assert msa(ack)[:2] == ["AA", "CNTRL-3456"]
    assert code == 0, log.read_text()
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(LabResult)).one() == 4
    text = log.read_text()
    assert "HL7 message CNTRL-3456: stored (AA)" in text
    assert "EVERYWOMAN" not in text and "555-44-4444" not in text
    engine.dispose()
