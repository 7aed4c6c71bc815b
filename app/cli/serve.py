"""`steve serve`: the scheduler (one leader among any number of processes) until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from app.cli.common import console, engine, handle_errors, settings
from schedules.config import from_settings
from tools.db import head_revision, schema_revision
from tools.errors import ConfigError

log = logging.getLogger("steve.serve")


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # APScheduler's own lines repeat ours (start, end) and add nothing we keep.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _check_smtp() -> None:
    """Say at start-up if the mail server cannot be reached; the outbox keeps what waits."""
    from schedules.delivery import DeliveryError, make_transport

    config = from_settings(settings())
    if config.smtp is None:
        log.info("no SMTP server configured: emails go to %s as .eml files", config.outbox_dir)
        return
    transport = make_transport(config)
    try:
        transport._connect()  # type: ignore[attr-defined]
    except DeliveryError as exc:
        log.warning("SMTP check failed at start-up: %s (emails wait in the outbox)", exc)
    else:
        log.info("SMTP server %s:%s answers", config.smtp.host, config.smtp.port)


@handle_errors
def serve() -> None:
    """Run the scheduled jobs (morning briefings, digests, sweeps, email delivery).

    Several `steve serve` processes may share one PostgreSQL database: one leads and runs the
    jobs, the others stand by and take over if it dies. Stop with Ctrl-C or SIGTERM.
    """
    from schedules.serve import serve as serve_loop

    config = from_settings(settings())  # an invalid cron or zone: one line, exit 2
    eng = engine()
    have, need = schema_revision(eng), head_revision()
    if have != need:
        raise ConfigError(
            f"the database schema is at {have}, this Steve needs {need}; run `steve init`"
        )
    _configure_logging()
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    _check_smtp()
    from app.cli.memory import open_store

    console.print("steve serve: running (Ctrl-C to stop)", highlight=False)
    try:
        serve_loop(engine=eng, config=config, stop=stop, open_memory_store=open_store)
    finally:
        eng.dispose()
