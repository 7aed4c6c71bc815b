"""The scheduler and its jobs: stable ids, missed runs, the morning misfire policy, the
digest and task-summary emails, the briefing seam, settings checked at start-up."""

from __future__ import annotations

import threading
import time as clock
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session, select

from db.models import (
    Discipline,
    JobRun,
    OutboxMessage,
    Patient,
    RunOutcome,
    Task,
    TaskCreate,
)
from schedules import scheduler as sched
from schedules.history import record_run
from schedules.jobs import JobContext, JobSpec, do_digest, do_morning, do_task_summaries, job_specs
from tests.support import factories
from tests.support.service import physician_day, service_config, utc
from tools.errors import ConfigError
from tools.tasks import create_task

DAY = date(2026, 11, 23)  # a Monday


def _ctx(engine, tmp_path, now: datetime, **kw) -> JobContext:
    """The job context `steve serve` builds (app.wiring), at `now`; `config`: settings by
    their flat names, the rest replaces the context's seams."""
    from app.wiring import job_context

    settings = service_config(tmp_path / "data", **kw.pop("config", {}))
    ctx = job_context(settings, engine=engine, instance="serve:test:1", memory=False)
    return replace(ctx, clock=lambda: now, **kw)


def _outbox(engine) -> list[OutboxMessage]:
    with Session(engine, expire_on_commit=False) as s:
        return list(s.exec(select(OutboxMessage)).all())


# ------------------------------------------------------------------ misfire policy


def test_on_time_morning_run_sends_the_agenda(engine, tmp_path) -> None:
    with Session(engine, expire_on_commit=False) as s:
        doc, _ = physician_day(s, DAY)
    result = do_morning(_ctx(engine, tmp_path, utc(DAY, time(7, 0))), doc.id)
    assert result.outcome == RunOutcome.OK, result.detail
    assert result.counts["appointments"] == 2 and result.counts["sent"] == 1
    [row] = _outbox(engine)
    assert row.key == f"briefing:{doc.id}:{DAY.isoformat()}"
    assert "09:00" in row.text_body and "Pat0" in row.text_body
    eml = list((tmp_path / "data" / "outbox").iterdir())
    assert len(eml) == 1


def test_a_late_run_before_the_first_appointment_sends_once(engine, tmp_path) -> None:
    with Session(engine, expire_on_commit=False) as s:
        doc, _ = physician_day(s, DAY)
    ctx = _ctx(engine, tmp_path, utc(DAY, time(8, 40)))  # down 07:00-08:40; clinic at 09:00
    assert do_morning(ctx, doc.id).outcome == RunOutcome.OK
    again = do_morning(ctx, doc.id)
    assert again.counts.get("already_queued") == 1
    assert len(_outbox(engine)) == 1


def test_a_late_run_after_the_first_appointment_is_missed_with_the_reason_and_a_task(
    engine, tmp_path
) -> None:
    with Session(engine, expire_on_commit=False) as s:
        doc, _ = physician_day(s, DAY)
    ctx = _ctx(engine, tmp_path, utc(DAY, time(9, 20)))
    result = record_run(
        engine=engine,
        job=f"morning-briefing:{doc.id}",
        instance=ctx.instance,
        body=lambda: do_morning(ctx, doc.id),
    )
    assert result.outcome == RunOutcome.MISSED
    assert result.detail == (
        "missed: ran at 09:20, after the first appointment at 09:00 (Europe/London); not sent"
    )
    assert _outbox(engine) == []
    with Session(engine, expire_on_commit=False) as s:
        run = s.exec(select(JobRun)).one()
        [task] = s.exec(select(Task)).all()
    assert run.outcome == RunOutcome.MISSED and run.detail == result.detail
    # Nobody else in the practice: the physician hears of it, once, with no patient names.
    assert task.assignee_id == doc.id and task.source_ref == f"missed-briefing:{doc.id}:{DAY}"
    assert "Pat0" not in task.title + (task.details or "")
    assert do_morning(ctx, doc.id).counts["team_task"] == 0
    # By hand, --force sends anyway.
    assert do_morning(ctx, doc.id, force=True).outcome == RunOutcome.OK


def test_a_physicians_own_send_time_and_zone(engine, tmp_path) -> None:
    with Session(engine, expire_on_commit=False) as s:
        doc, _ = physician_day(s, DAY, starts=(time(14, 0),))  # 09:00 in New York
    ny = ZoneInfo("America/New_York")
    config = {"briefing_send_times": {str(doc.id): "06:30 America/New_York"}}
    settings = service_config(tmp_path, **config)
    specs = {s.id: s for s in job_specs(engine=engine, settings=settings)}
    spec = specs[f"morning-briefing:{doc.id}"]
    assert spec.signature == "daily 06:30 America/New_York"
    nxt = spec.trigger.get_next_fire_time(None, datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    assert nxt == datetime(2026, 11, 23, 6, 30, tzinfo=ny)
    # 13:50 London is 08:50 in New York: late, but before the 09:00 (NY) appointment.
    ctx = _ctx(engine, tmp_path, utc(DAY, time(13, 50)), config=config)
    assert do_morning(ctx, doc.id).outcome == RunOutcome.OK


def test_no_appointments_and_no_tasks_means_no_email(engine, tmp_path) -> None:
    with Session(engine, expire_on_commit=False) as s:
        doc, _ = physician_day(s, DAY, starts=())
    result = do_morning(_ctx(engine, tmp_path, utc(DAY, time(7))), doc.id)
    assert result.outcome == RunOutcome.SKIPPED and _outbox(engine) == []


# ----------------------------------------------------------- content and seams


def test_html_escapes_names_and_the_briefings_arrive_through_the_seam(engine, tmp_path) -> None:
    with Session(engine, expire_on_commit=False) as s:
        doc, appts = physician_day(s, DAY, starts=(time(9),))
        pat = s.get(Patient, appts[0].patient_id)
        pat.given_name = "<script>x</script>"
        s.add(pat)
        s.commit()
    calls = []

    def briefings(*, session, physician_id, day):
        calls.append((physician_id, day))
        return [
            ("Briefing for 09:00", "Decide on **iron**", "<p>Decide on <strong>iron</strong></p>")
        ]

    ctx = _ctx(engine, tmp_path, utc(DAY, time(7)), briefings=briefings)
    assert do_morning(ctx, doc.id).outcome == RunOutcome.OK
    [row] = _outbox(engine)
    assert calls == [(doc.id, DAY)]
    assert "&lt;script&gt;" in row.html_body and "<script>" not in row.html_body
    assert "<strong>iron</strong>" in row.html_body and "Decide on **iron**" in row.text_body


def test_a_failing_briefing_graph_still_sends_the_agenda(engine, tmp_path) -> None:
    with Session(engine, expire_on_commit=False) as s:
        doc, _ = physician_day(s, DAY)

    def broken(**_kw):
        raise TimeoutError("model for Ms Rao did not answer")

    result = do_morning(_ctx(engine, tmp_path, utc(DAY, time(7)), briefings=broken), doc.id)
    assert result.outcome == RunOutcome.PARTIAL
    assert "Rao" not in (result.detail or "") and "timed out" in (result.detail or "")
    [row] = _outbox(engine)
    assert "could not be prepared" in row.text_body and "Pat1" in row.text_body


def test_staff_get_their_task_summary(engine, tmp_path) -> None:
    with Session(engine, expire_on_commit=False) as s:
        doc, _ = physician_day(s, DAY)
        nurse = factories.practitioner(s, discipline=Discipline.NURSE, email="n@practice.test")
        create_task(
            session=s,
            data=TaskCreate(
                title="Call lab about the GI-MAP",
                assignee_id=nurse.id,
                created_by_id=doc.id,
                due_on=DAY,
            ),
        )
        s.commit()
    result = do_task_summaries(_ctx(engine, tmp_path, utc(DAY, time(7))))
    assert result.counts["people"] == 1 and result.counts["sent"] == 1
    [row] = _outbox(engine)
    assert row.key == f"tasks:{nurse.id}:{DAY.isoformat()}"
    assert "Call lab about the GI-MAP" in row.text_body and doc.name in row.text_body


def test_weekly_digest_is_one_email_per_physician_and_week(engine, tmp_path) -> None:
    with Session(engine, expire_on_commit=False) as s:
        doc, _ = physician_day(s, DAY, starts=())
    ctx = _ctx(engine, tmp_path, utc(DAY, time(7, 30)))
    assert do_digest(ctx, doc.id).outcome == RunOutcome.OK
    assert do_digest(ctx, doc.id).counts.get("already_queued") == 1
    [row] = _outbox(engine)
    assert row.key == f"digest:{doc.id}:2026-W47"  # Monday the 23rd reports last week
    assert "Research digest" in row.subject


# ------------------------------------------------------------------- the scheduler

_calls: list[datetime | None] = []
_called = threading.Event()


def probe(*, context: JobContext | None = None, scheduled_for: datetime | None = None) -> None:
    assert (
        context is not None and context.instance == "serve:test:1"
    )  # the executor hands every job its context
    _calls.append(scheduled_for)
    _called.set()


def _probe_spec(every_hours: int = 1) -> JobSpec:
    return JobSpec(
        "probe",
        "probe",
        "tests.schedules.test_scheduler:probe",
        (),
        IntervalTrigger(hours=every_hours),
        f"every {every_hours}h",
        "test probe",
    )


def test_restarts_never_add_copies_and_keep_a_missed_run(engine, tmp_path) -> None:
    context = JobContext(engine=engine, settings=service_config(tmp_path), instance="serve:test:1")
    first = sched.build_scheduler(context=context)
    first.start(paused=True)
    assert sched.sync_jobs(first, [_probe_spec()])["added"] == 1
    missed = datetime.now(UTC) - timedelta(hours=3)
    first.modify_job("probe", next_run_time=missed)  # it was due while we were down
    clock.sleep(0.3)  # let the paused scheduler's thread see the change before shutdown
    sched.stop(first)

    _calls.clear()
    _called.clear()
    second = sched.build_scheduler(context=context)
    counts = sched.start(second, [_probe_spec()])
    try:
        assert counts == {"added": 0, "replaced": 0, "kept": 1, "removed": 0}
        assert _called.wait(10)
        clock.sleep(0.5)
        assert len(_calls) == 1  # coalesced: one late run, not three
        # The run is stamped with the latest of the missed times (missed + 3 x 1 h).
        assert _calls[0] is not None
        assert abs((_calls[0] - (missed + timedelta(hours=3))).total_seconds()) < 1
        assert [j.id for j in second.get_jobs()] == ["probe"]
        # A changed schedule replaces the job; one that is gone is removed.
        assert sched.sync_jobs(second, [_probe_spec(2)])["replaced"] == 1
        assert sched.sync_jobs(second, [])["removed"] == 1
    finally:
        sched.stop(second)


def test_job_specs_have_stable_ids(engine, tmp_path) -> None:
    with Session(engine, expire_on_commit=False) as s:
        doc, _ = physician_day(s, DAY, starts=())
    settings = service_config(tmp_path)
    ids = [s.id for s in job_specs(engine=engine, settings=settings)]
    assert ids == [s.id for s in job_specs(engine=engine, settings=settings)]
    assert f"morning-briefing:{doc.id}" in ids and f"weekly-digest:{doc.id}" in ids
    assert {"follow-up-sweep", "deliver-outbox", "memory-sync", "task-summaries"} <= set(ids)
    no_lit = service_config(tmp_path, literature_refresh_cron=None)
    assert "literature-refresh" not in [s.id for s in job_specs(engine=engine, settings=no_lit)]


def test_a_failing_run_fails_alone_and_says_no_more_than_its_class(engine) -> None:
    def body():
        raise ValueError("Ms Rao's ferritin 12")

    result = record_run(engine=engine, job="x", instance="cli:t:1", body=body)
    assert result.outcome == RunOutcome.FAILED and result.detail == "failed (ValueError)"


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("STEVE_LITERATURE_REFRESH_CRON", "0 25 * * *", "invalid cron"),
        ("STEVE_LITERATURE_REFRESH_CRON", "every day", "five fields"),
        ("STEVE_BRIEFING_SEND_TIMES", '{"3": "06:30 Mars/Olympus"}', "unknown time zone"),
        ("STEVE_BRIEFING_SEND_TIME", "7am", "expected HH:MM"),
        ("STEVE_DIGEST_WEEKDAY", "someday", "invalid weekday"),
        ("STEVE_SMTP_SECURITY", "ssl", "starttls, tls or none"),
    ],
)
def test_bad_schedule_settings_are_one_line_config_errors(monkeypatch, var, value, needle) -> None:
    from app.settings import load_settings

    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert var in str(info.value)


def test_a_hung_feed_times_out_and_fails_that_run_only(engine, tmp_path) -> None:
    from schedules.jobs import do_literature
    from tests.support.service import running_silent

    with running_silent() as silent:
        feeds = {"feed_urls": [f"http://127.0.0.1:{silent.port}/rss"], "http_timeout_seconds": 0.5}
        ctx = _ctx(engine, tmp_path, utc(DAY, time(5)), config=feeds)
        for _ in range(2):  # and the next run fires, and times out the same way
            began = clock.monotonic()
            result = record_run(
                engine=engine,
                job="literature-refresh",
                instance="t",
                body=lambda: do_literature(ctx),
            )
            assert clock.monotonic() - began < 10
            assert result.outcome == RunOutcome.PARTIAL and result.counts["problems"] == 1
    with Session(engine) as s:
        runs = s.exec(select(JobRun).where(JobRun.job == "literature-refresh")).all()
    assert [r.outcome for r in runs] == [RunOutcome.PARTIAL, RunOutcome.PARTIAL]


def test_scheduled_briefings_read_the_same_briefing_settings_as_steve_brief(engine) -> None:
    from app import wiring
    from app.settings import Settings

    settings = Settings(briefing_lookback_days=14, briefing_evidence_days=7)
    ctx = wiring.job_context(settings, engine=engine, instance="t", memory=False)
    assert ctx.settings is settings  # the service's briefings read the one settings object
    with Session(engine) as session:
        context = wiring.briefing_context(session, settings, actor="t", model=None)
    assert context.limits.briefing_lookback_days == 14
    assert context.limits.briefing_evidence_days == 7
