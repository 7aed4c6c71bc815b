"""Files and payloads cut into messages, and bytes decoded as MSH-18 declares."""

from __future__ import annotations

import pytest

from tools.interop.hl7.splitting import decode_payload, split_messages

MSH = "MSH|^~\\&|LAB|FAC|STEVE|CLINIC|20240101||ORU^R01|{cid}|P|2.5.1"


@pytest.mark.parametrize("separator", ["\r", "\n", "\r\n"])
def test_messages_split_at_msh_whatever_the_segment_separator(separator: str) -> None:
    text = separator.join([MSH.format(cid="1"), "PID|||1", "", MSH.format(cid="2"), "PID|||2"])
    messages = split_messages(text=text + separator)
    assert [len(m) for m in messages] == [2, 2]
    assert messages[1][1] == "PID|||2"


def test_segments_before_the_first_msh_are_kept_as_a_message_of_their_own() -> None:
    messages = split_messages(text="PID|||1\r" + MSH.format(cid="1"))
    assert messages == [["PID|||1"], [MSH.format(cid="1")]]


def test_batch_envelope_segments_are_dropped() -> None:
    text = "\n".join(["FHS|^~\\&", "BHS|^~\\&", MSH.format(cid="1"), "BTS|1", "FTS|1"])
    assert split_messages(text=text) == [[MSH.format(cid="1")]]


def _msh_with_charset(charset: str) -> str:
    return MSH.format(cid="1") + "||||||" + charset


def test_msh_18_latin_1_is_honoured() -> None:
    text = _msh_with_charset("8859/1") + "\rPID|||1||M\xdcLLER"
    assert decode_payload(data=text.encode("latin-1")).endswith("M\xdcLLER")


def test_undeclared_charset_reads_utf_8_then_falls_back_to_latin_1() -> None:
    text = MSH.format(cid="1") + "\rPID|||1||M\xdcLLER"
    assert decode_payload(data=text.encode("utf-8")).endswith("M\xdcLLER")
    assert decode_payload(data=text.encode("latin-1")).endswith("M\xdcLLER")


def test_msh_18_is_the_eighteenth_field() -> None:
    assert _msh_with_charset("8859/1").split("|")[17] == "8859/1"
