"""`steve serve`: the scheduler (one leader among any number of processes) until stopped."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from types import FrameType
from typing import TYPE_CHECKING

import typer

from app.cli.common import console, engine, fail, handle_errors, settings
from app.settings import Settings
from db.engine import head_revision, schema_revision
from schedules.config import outbox_dir
from tools.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from schedules.mllp_listener import MllpListener

log = logging.getLogger("steve.serve")


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # APScheduler's own lines repeat ours (start, end) and add nothing we keep.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _check_smtp(s: Settings) -> None:
    """Say at start-up if the mail server cannot be reached; the outbox keeps what waits."""
    from schedules.email.delivery import DeliveryError, SmtpTransport

    smtp = s.email.smtp
    if smtp is None:
        log.info("no SMTP server configured: emails go to %s as .eml files", outbox_dir(s))
        return
    try:
        SmtpTransport(smtp, mail_from=s.email.mail_from).check()
    except DeliveryError as exc:
        log.warning("SMTP check failed at start-up: %s (emails wait in the outbox)", exc)
    else:
        log.info("SMTP server %s:%s answers", smtp.host, smtp.port)


@handle_errors
def serve(
    http: bool = typer.Option(True, "--http/--no-http", help="Also serve the API and web app."),
    host: str | None = typer.Option(None, "--host", help="API address (STEVE_API__HOST)."),
    port: int | None = typer.Option(None, "--port", help="API port (STEVE_API__PORT)."),
) -> None:
    """Run the scheduled jobs (morning briefings, digests, sweeps, email delivery) and the
    HTTP API and web app.

    Several `steve serve` processes may share one PostgreSQL database: one leads and runs the
    jobs, the others stand by and take over if it dies or its scheduler stops working (every
    process serves HTTP; `GET /health` says whether it leads and how its scheduler is). A
    port already taken is an error before anything starts. Stop with Ctrl-C or SIGTERM.

    With STEVE_HL7__MLLP_ENABLED=true it also takes laboratories' HL7 v2 results over MLLP
    (STEVE_HL7__MLLP_HOST, STEVE_HL7__MLLP_PORT), answering each message with its ACK.
    """
    from app.api import listen_socket
    from app.wiring import job_context
    from schedules.history import instance_name
    from schedules.serve import serve as serve_loop

    s = settings()  # an invalid cron or zone: one line, exit 2
    eng = engine()
    have, need = schema_revision(eng), head_revision()
    if have != need:
        raise ConfigError(
            f"the database schema is at {have}, this Steve needs {need}; run `steve init`"
        )
    host, port = host or s.api.host, port or s.api.port
    # Bound before any job can start: a port already taken is one line and exit 2.
    sock = listen_socket(host, port) if http else None
    mllp = _start_mllp(s, eng) if s.hl7.mllp_enabled else None
    _configure_logging()
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    _check_smtp(s)
    http_failed = threading.Event()
    if sock is not None:
        # A daemon thread: uvicorn installs no signal handlers off the main thread, so ours
        # stay in charge and `stop` ends both loops.
        threading.Thread(
            target=_run_http,
            args=(sock, host, port, stop, http_failed),
            daemon=True,
            name="steve-http",
        ).start()
        console.print(f"steve serve: web app and API at http://{host}:{port}", highlight=False)
    console.print("steve serve: running (Ctrl-C to stop)", highlight=False)
    try:
        context = job_context(s, engine=eng, instance=instance_name("serve"))
        serve_loop(context=context, stop=stop)
    finally:
        if mllp is not None:
            mllp.stop()
        eng.dispose()
    if http_failed.is_set():
        fail(f"the web app and API on {host}:{port} stopped; steve serve stopped with it", 3)


def _start_mllp(s: Settings, eng: Engine) -> MllpListener:
    """The HL7 (MLLP) listener, bound and accepting (a port in use: one line, exit 2)."""
    from schedules.lab_intake import LabIntake
    from schedules.mllp_listener import MllpListener

    listener = MllpListener(
        intake=LabIntake(engine=eng, zone=s.zone, source=s.hl7.source, lab=s.hl7.lab),
        host=s.hl7.mllp_host,
        port=s.hl7.mllp_port,
        idle_seconds=s.hl7.mllp_idle_seconds,
    )
    host, port = listener.start()
    console.print(f"steve serve: HL7 (MLLP) listener on {host}:{port}", highlight=False)
    return listener


def _run_http(
    sock: socket.socket, host: str, port: int, stop: threading.Event, failed: threading.Event
) -> None:
    """uvicorn until `stop`; if it ends by itself (it could not start, or it crashed), the
    whole process stops and exits non-zero: never a `steve serve` without its HTTP."""
    from app.api import serve_http

    try:
        serve_http(settings(), host, port, stop=stop, sock=sock)
    except BaseException as exc:  # uvicorn's start-up failure is a SystemExit
        log.error("HTTP server on %s:%s failed (%s)", host, port, type(exc).__name__)
    finally:
        if not stop.is_set():
            failed.set()
            stop.set()
