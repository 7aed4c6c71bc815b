"""The MLLP listener with real socket clients on loopback: a frame in, stored, its ACK back
on the same connection; AE/AR with nothing stored; several connections at once; a clean
stop with connections open."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from db.models import ImportReview, LabResult
from schedules.lab_intake import LabIntake
from schedules.mllp_listener import MllpListener
from tests.support.labs import HL7, NOW, ZONE, exchange, lab_practice, msa
from tools.errors import ConfigError
from tools.interop.hl7.mllp import frame


@pytest.fixture
def listener(engine: Engine) -> Iterator[MllpListener]:
    lab_practice(engine)
    running = MllpListener(
        intake=LabIntake(engine=engine, zone=ZONE), host="127.0.0.1", port=0, clock=lambda: NOW
    )
    running.start()
    yield running
    running.stop()


def _framed(name: str) -> bytes:
    return frame(payload=(HL7 / name).read_bytes())


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_a_message_is_stored_before_its_aa(listener: MllpListener, engine: Engine) -> None:
    [ack] = exchange(listener.address, [_framed("oru_r01_panel_v251.hl7")])
    assert msa(ack)[:2] == ["AA", "CNTRL-3456"]
    assert ack.startswith("MSH|^~\\&|STEVE||GHH LAB|ELAB-3")
    assert _count(engine, LabResult) == 4


def test_a_frame_split_across_sends(listener: MllpListener, engine: Engine) -> None:
    data = _framed("oru_r01_multi_obr_v251.hl7")
    [ack] = exchange(listener.address, [data[:7], data[7:100], data[100:]])
    assert msa(ack)[0] == "AA"
    assert _count(engine, LabResult) == 3


def test_held_for_review_is_aa_saying_so(listener: MllpListener, engine: Engine) -> None:
    [ack] = exchange(listener.address, [_framed("oru_r01_unknown_patient_v23.hl7")])
    assert msa(ack)[:3] == ["AA", "RL-000917", "held for review: patient not matched by identifier"]
    assert _count(engine, ImportReview) == 1


def test_malformed_obx_ae_and_garbage_ar(listener: MllpListener, engine: Engine) -> None:
    ae, ar = exchange(
        listener.address,
        [_framed("oru_r01_malformed_obx_v251.hl7"), frame(payload=b"not an HL7 message")],
        answers=2,
    )
    assert msa(ae)[:2] == ["AE", "CNTRL-BAD-1"] and "OBX-5 of OBX 3" in msa(ae)[2]
    assert "ERR||OBX^3^5" in ae
    assert msa(ar)[0] == "AR"
    assert "see note" not in ae  # the value is never echoed
    assert _count(engine, LabResult) == 0


def test_not_an_oru_is_ar(listener: MllpListener) -> None:
    [ack] = exchange(listener.address, [_framed("adt_a01_v251.hl7")])
    assert msa(ack)[:2] == ["AR", "ADT-0001"]


def test_several_connections_at_once(listener: MllpListener, engine: Engine) -> None:
    names = [
        "oru_r01_panel_v251.hl7",
        "oru_r01_multi_obr_v251.hl7",
        "oru_r01_sn_ce_tx_v251.hl7",
        "oru_r01_unknown_patient_v23.hl7",
    ]
    answers: dict[str, str] = {}

    def send(name: str) -> None:
        [answers[name]] = exchange(listener.address, [_framed(name)])

    threads = [threading.Thread(target=send, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert {n: msa(a)[0] for n, a in answers.items()} == dict.fromkeys(names, "AA")
    assert _count(engine, LabResult) == 4 + 3 + 5


def test_stop_with_a_connection_open(engine: Engine) -> None:
    running = MllpListener(intake=LabIntake(engine=engine, zone=ZONE), host="127.0.0.1", port=0)
    address = running.start()
    idle = socket.create_connection(address, timeout=10)
    time.sleep(0.3)
    started = time.monotonic()
    running.stop()
    assert time.monotonic() - started < 5
    assert idle.recv(10) == b""  # closed by the listener
    idle.close()
    with pytest.raises(OSError):
        socket.create_connection(address, timeout=2).close()


def test_a_port_in_use_is_one_line(listener: MllpListener, engine: Engine) -> None:
    host, port = listener.address
    second = MllpListener(intake=LabIntake(engine=engine, zone=ZONE), host=host, port=port)
    with pytest.raises(ConfigError, match=f"cannot listen for HL7 \\(MLLP\\) on {host}:{port}"):
        second.start()


def test_a_database_that_cannot_take_it_is_ar_send_again(tmp_path) -> None:
    from db.engine import make_engine

    broken = make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'steve.db'}")
    running = MllpListener(intake=LabIntake(engine=broken, zone=ZONE), host="127.0.0.1", port=0)
    running.start()
    try:
        [ack] = exchange(running.address, [_framed("oru_r01_panel_v251.hl7")])
    finally:
        running.stop()
        broken.dispose()
    assert msa(ack)[0] == "AR" and "send again" in msa(ack)[2]
