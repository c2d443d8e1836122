"""The scheduled jobs of every area, declared in one list with stable ids (the Redash way),
and `flask scheduler run`.

Every job opens an app context, works idempotently and commits itself. Traps avoided:
- several processes running the scheduler (gunicorn workers, a second `scheduler run`): the
  bulletin's unique constraint lets only one of them publish a period;
- a missed run (machine off on the 10th): the catch-up job runs at start and every few
  minutes and produces any bulletin whose cut-off has passed, so nothing is skipped;
- APScheduler's default 1-second misfire grace: ours is an hour, coalesced to one run;
- the debug reloader starting a second scheduler: not started in the reloader's parent.
"""

import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.local import LocalProxy

from campaign.core import jobs as work
from campaign.core.clock import DEFAULT_TZ, now
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.ledger.importing import IMPORTS
from notifications.dispatch import DELIVERIES
from reports import services

log = logging.getLogger("gongjian.scheduler")
CATCH_UP_EVERY = timedelta(minutes=5)
# Every kind of background work, settled by ``settle_abandoned_work`` when its process died.
KINDS: tuple[work.Kind[Any], ...] = (IMPORTS, services.RUNS, DELIVERIES)


def produce_due_bulletins(app: Flask) -> list[int]:
    """Publish every bulletin whose cut-off has passed and that does not exist yet; returns
    the new bulletins' ids. Safe to run anywhere, any number of times, concurrently."""
    settings = services.settings_from(app.config)
    published = []
    with app.app_context():
        session = db.session
        try:
            moment = now()
            work.settle_abandoned(session, services.RUNS, moment)
            session.commit()
            # The 数据质量提示 read the signals the quality.detect job keeps (computed ahead,
            # never at publish time: detection at 1,000,000 organizations takes a minute).
            for campaign in session.scalars(select(Campaign).order_by(Campaign.id)).all():
                for due_on in services.due(session, campaign, settings, moment):
                    try:
                        run = services.start_run(
                            session, campaign, due_on, settings, "schedule", moment=moment
                        )
                        bulletin = services.produce(session, run, settings)
                    except (services.Busy, ValidationFailed):
                        continue  # another process is at it, or has just published it
                    except work.LeaseLost:
                        log.warning(
                            "bulletin %s/%s was taken for dead, redone", campaign.id, due_on
                        )
                        continue
                    except Exception:
                        log.exception(
                            "bulletin %s/%s failed (recorded, retried later)", campaign.id, due_on
                        )
                        continue
                    if run.status == "published":
                        published.append(bulletin.id)
                        log.info("bulletin %s published for %s", bulletin.number, due_on)
                    else:  # "exists": another process published it while this one rendered
                        log.info("bulletin for %s was published meanwhile elsewhere", due_on)
        finally:
            session.remove()
    return published


def deliver_notifications(app: Flask) -> int:
    """Fan out and send pending notifications (also kicked after every commit that emits)."""
    from notifications import dispatch  # noqa: PLC0415

    with app.app_context():
        try:
            return dispatch.process(db.session, app.config)
        finally:
            db.session.remove()


def send_reminders(app: Flask) -> int:
    """Emit the reminders due now (each once per window), then deliver them."""
    from notifications import reminders  # noqa: PLC0415

    with app.app_context():
        try:
            days = reminders.parse_days(app.config.get("REMINDER_DAYS", "3,1"))
            emitted = reminders.remind_all(db.session, now(), days)
        finally:
            db.session.remove()
    deliver_notifications(app)
    return emitted


def remind_unsigned_bulletins(app: Flask) -> int:
    """Remind leadership of every draft bulletin left unsigned past its campaign's hours
    (each once a day), then deliver; returns how many drafts were found overdue."""
    with app.app_context():
        try:
            overdue = services.remind_unsigned(db.session, now())
            db.session.commit()
        finally:
            db.session.remove()
    if overdue:
        deliver_notifications(app)
    return overdue


def settle_abandoned_work(app: Flask) -> int:
    """Settle the work of every kind whose process died (an import left "processing" by a
    restart, a bulletin run, a message being sent); returns how many rows."""
    with app.app_context():
        try:
            moment, settled = now(), 0
            for kind in KINDS:
                settled += work.settle_abandoned(db.session, kind, moment)
            db.session.commit()
        finally:
            db.session.remove()
    if settled:
        log.info("settled %s rows of abandoned work", settled)
    return settled


def _fresh_quality_signals(session: Any, campaign: Campaign) -> None:
    """Compute the campaign's data-quality signals if something was recorded since; a
    failure is logged and the bulletin goes on with the signals as they were."""
    from campaign.quality import services as quality  # noqa: PLC0415

    try:
        if quality.is_stale(session, campaign):
            quality.refresh(session, campaign, "scheduler")
            session.commit()
    except Exception:
        session.rollback()
        log.exception("data-quality signals of campaign %s failed", campaign.id)


def detect_quality_signals(app: Flask) -> int:
    """Compute the data-quality signals of every campaign in which something was recorded
    since they were last computed (campaign/quality); returns how many were computed."""
    from campaign.quality import services as quality  # noqa: PLC0415

    done = 0
    with app.app_context():
        try:
            for campaign in db.session.scalars(select(Campaign).order_by(Campaign.id)).all():
                if quality.is_stale(db.session, campaign):
                    _fresh_quality_signals(db.session, campaign)
                    done += 1
        finally:
            db.session.remove()
    return done


def refresh_forecasts(app: Flask) -> int:
    """Compute again the kept forecast of every campaign in which something was recorded
    since, or whose day changed (campaign/forecast: the pages read it); returns how many."""
    from campaign.forecast import services as forecast  # noqa: PLC0415

    done = 0
    with app.app_context():
        try:
            for campaign in db.session.scalars(select(Campaign).order_by(Campaign.id)).all():
                try:
                    if forecast.is_stale(db.session, campaign):
                        forecast.refresh(db.session, campaign)
                        db.session.commit()
                        done += 1
                except Exception:
                    db.session.rollback()
                    log.exception("forecast of campaign %s failed", campaign.id)
        finally:
            db.session.remove()
    return done


def report_days(app: Flask) -> str:
    """The cron day list: the report days of every campaign (10 and 25 by default)."""
    with app.app_context():
        try:
            rows = db.session.execute(
                select(Campaign.report_day_first, Campaign.report_day_second)
            ).all()
        finally:
            db.session.remove()
    days = sorted({d for row in rows for d in row} or {10, 25})
    return ",".join(str(d) for d in days)


def jobs(app: Flask) -> list[dict]:
    """Every periodic job, with a stable id (re-adding replaces, never duplicates)."""
    at = services.settings_from(app.config).at
    return [
        {
            "id": "bulletins.on_report_days",
            "func": produce_due_bulletins,
            "trigger": CronTrigger(
                day=report_days(app), hour=at.hour, minute=at.minute, timezone=DEFAULT_TZ
            ),
        },
        {
            # Make-up and retry: at start, then every few minutes.
            "id": "bulletins.catch_up",
            "func": produce_due_bulletins,
            "trigger": IntervalTrigger(seconds=CATCH_UP_EVERY.total_seconds()),
            # The scheduler's timers run on the wall clock, even when a test moved the
            # campaign's clock (campaign/core/clock.py): "now" for APScheduler is the real now.
            "next_run_time": datetime.now(UTC),
        },
        {
            # Messages a process left unsent (it died, SMTP was down): retried with back-off.
            "id": "notifications.deliver",
            "func": deliver_notifications,
            "trigger": IntervalTrigger(minutes=1),
            "next_run_time": datetime.now(UTC),
        },
        {
            # Hourly in office hours: a day the job did not run loses no reminder.
            "id": "notifications.reminders",
            "func": send_reminders,
            "trigger": CronTrigger(hour="8-20", minute=5, timezone=DEFAULT_TZ),
        },
        {
            # Drafts waiting for 签发 past their hours: leadership reminded once a day.
            "id": "bulletins.sign_reminders",
            "func": remind_unsigned_bulletins,
            "trigger": IntervalTrigger(seconds=CATCH_UP_EVERY.total_seconds()),
        },
        {
            # Work whose process died, settled even when nothing of its kind starts again
            # (an import shows as interrupted on its page before this, without a write).
            "id": "jobs.settle_abandoned",
            "func": settle_abandoned_work,
            "trigger": IntervalTrigger(seconds=CATCH_UP_EVERY.total_seconds()),
            "next_run_time": datetime.now(UTC),
        },
        {
            # Data-quality signals, recomputed only when something was recorded since.
            "id": "quality.detect",
            "func": detect_quality_signals,
            "trigger": IntervalTrigger(seconds=CATCH_UP_EVERY.total_seconds()),
        },
        {
            # The kept forecast the pages read: again when something was recorded since or
            # the day changed; at start too, so a new day's pages do not wait.
            "id": "forecast.refresh",
            "func": refresh_forecasts,
            "trigger": IntervalTrigger(seconds=CATCH_UP_EVERY.total_seconds()),
            "next_run_time": datetime.now(UTC),
        },
    ]


def build(app: Flask, factory: Callable[..., BaseScheduler] = BackgroundScheduler) -> BaseScheduler:
    """A scheduler with every job added (not started)."""
    scheduler = factory(timezone=DEFAULT_TZ)
    for job in jobs(app):
        scheduler.add_job(
            args=[app],
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
            **job,
        )
    return scheduler


_start_lock = threading.Lock()


def start_in_web_process(app: Flask) -> None:
    """GONGJIAN_SCHEDULER=1: the scheduler in a thread of a web process (single-process
    set-ups). Several such processes are harmless (bulletins are unique), only wasteful."""
    if "gongjian.scheduler" in app.extensions:
        return
    with _start_lock:
        if "gongjian.scheduler" in app.extensions:
            return
        if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
            return  # the reloader's parent process: its child serves (and schedules)
        scheduler = build(app)
        scheduler.start()
        app.extensions["gongjian.scheduler"] = scheduler


def run_forever(app: Flask) -> None:
    """`flask scheduler run`: the scheduler as its own process."""
    if (running := app.extensions.pop("gongjian.scheduler", None)) is not None:
        running.shutdown(wait=False)
    scheduler = build(app, BlockingScheduler)
    for job in scheduler.get_jobs():
        log.info("job %s: %s", job.id, job.trigger)
    scheduler.start()


scheduler_cli = AppGroup("scheduler", help="定时任务：通报在每月10日、25日生成。")


@scheduler_cli.command("run")
def run() -> None:
    """Run the scheduler as its own process (one per deployment; more are harmless)."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("gongjian").setLevel(logging.INFO)  # what was published, what failed
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()  # the app, not its proxy
    click.echo("定时任务已启动（Ctrl-C 停止）：")
    for job in jobs(app):
        click.echo(f"  {job['id']}: {job['trigger']}")
    run_forever(app)
