"""The ACK that answers a lab's message: AA when it was taken, AE when it is an ORU^R01 with
an error (ERR and MSA-3 name segment and field), AR when it is not one we take (not an
ORU^R01, unsupported version, unreadable MSH). MSA-2 echoes the message's control id.
Built with hl7apy in the version of the message (2.5 when that is not supported)."""

from __future__ import annotations

from datetime import datetime

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message

from tools.interop.hl7.header import FALLBACK_VERSION, SUPPORTED_VERSIONS
from tools.interop.hl7.records import Problem, ReadOutcome

#: hl7apy's ER7 output ends segments with \r, as MLLP peers expect.
SEGMENT_END = "\r"
_OLD_ERR_VERSIONS = ("2.3", "2.3.1", "2.4")  # ERR-1 only (ELD); ERR-2..4 from 2.5


def ack_code(*, outcome: ReadOutcome) -> str:
    """AA, AE or AR for one read message."""
    if outcome.rejected:
        return "AR"
    return "AE" if outcome.problems else "AA"


def build_ack(
    *,
    outcome: ReadOutcome,
    control_id: str,
    sent_at: datetime,
    application: str = "STEVE",
    facility: str = "",
    note: str = "",
) -> str:
    """The ACK for `outcome` as ER7 text (segments ended by \\r), to frame for MLLP.
    `control_id` is the ACK's own MSH-10; `sent_at` its MSH-7; `note` the MSA-3 text of an
    AA (e.g. "held for review"; never a patient value)."""
    header = outcome.header
    version = (
        header.version if header and header.version in SUPPORTED_VERSIONS else FALLBACK_VERSION
    )
    code = ack_code(outcome=outcome)
    ack = Message("ACK", version=version, validation_level=VALIDATION_LEVEL.TOLERANT)
    ack.msh.msh_3 = application
    if facility:
        ack.msh.msh_4 = facility
    if header is not None:
        if header.sending_application:
            ack.msh.msh_5 = header.sending_application
        if header.sending_facility:
            ack.msh.msh_6 = header.sending_facility
    ack.msh.msh_7 = sent_at.strftime("%Y%m%d%H%M%S")
    ack.msh.msh_9 = "ACK^R01" if version in _OLD_ERR_VERSIONS else "ACK^R01^ACK"
    ack.msh.msh_10 = control_id
    ack.msh.msh_11 = header.processing_id if header and header.processing_id else "P"
    ack.msh.msh_12 = version
    ack.msa.msa_1 = code
    ack.msa.msa_2 = header.control_id if header is not None else ""
    if outcome.problems:
        ack.msa.msa_3 = _escape(str(outcome.problems[0]))[:80]
        for problem in outcome.problems:
            _add_err(ack=ack, problem=problem, version=version, code=code)
    elif note:
        ack.msa.msa_3 = _escape(note)[:80]
    return str(ack.to_er7())


def _add_err(*, ack: Message, problem: Problem, version: str, code: str) -> None:
    err = ack.add_segment("ERR")
    segment = problem.segment if len(problem.segment) == 3 else ""
    occurrence = str(problem.occurrence or 1) if segment else ""
    fld = str(problem.field) if problem.field is not None else ""
    reason = _escape(problem.reason).replace("&", "and")
    if version in _OLD_ERR_VERSIONS:
        err.err_1 = f"{segment}^{occurrence}^{fld}^{problem.code}&{reason}&HL70357"
        return
    err.err_2 = f"{segment}^{occurrence}^{fld}"
    err.err_3 = f"{problem.code}^{reason}^HL70357"
    err.err_4 = "E"
    if code == "AE":
        err.err_8 = _escape(str(problem))


def _escape(text: str) -> str:
    """Problem text made safe for an ER7 field (it holds no separators of its own)."""
    return (
        text.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("~", "\\R\\")
        .replace("&", "\\T\\")
    )
