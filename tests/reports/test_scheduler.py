"""The bulletin scheduler: when it fires, and that every period's bulletin is published
exactly once whatever happens (a missed run, a failed render, two scheduler processes, a
process killed half-way).

Campaign 2026 from the wuhan-2016 template has its report days on the 10th and 25th from
08-25 to 12-25 (DOMAIN.md §2). Counted by hand, 08-25, 09-10, 09-25, 10-10, 10-25, 11-10:
the bulletin following 10-25 is 第5期 and the one following 11-10 is 第6期. Its data are
cut off on the report day at BULLETIN_TIME (18:00 by default) Beijing time, and the
scheduler publishes once the cut-off has passed.

Bulletins are produced by the job itself, ``campaign.scheduler.produce_due_bulletins(app)``,
with the clock moved by time_machine (UTC instants; the process zone is UTC). The tests
across processes run a small script (RUNNER) in fresh Python processes against the test's
database and storage, as a second `flask scheduler run` or a web worker would.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import select

from campaign import audit, scheduler
from campaign.core import clock
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.core.storage import resolve
from notifications.models import Event
from reports import fonts, render, services
from reports.models import Bulletin, BulletinRun
from tests.conftest import make_campaign, make_org, make_unit
from tests.timeutil import at, machine_zone, shanghai

ROOT = Path(__file__).resolve().parents[2]
# A character no installed face can draw (Unicode plane 15, private use): it would print as
# a box, so the render is refused.
NO_GLYPH = "\U000f0000"
# How long a helper process may take before the test gives up on it (a hang, not a timing).
HANG = 120

RUNNER = """
import json
import os
import time
from datetime import datetime
from pathlib import Path

import time_machine

from app import create_app
from campaign import scheduler
from reports import render

app = create_app()  # DATABASE_URL, STORAGE_PATH and SECRET_KEY from the environment
if os.environ.get("GJ_STALL_RENDER"):
    # Test-only: hold the run inside the render, so that the test can kill it there.
    def stalled(document, progress=None):
        time.sleep(600)
    render.pdf = stalled
Path(os.environ["GJ_READY"]).touch()
go = Path(os.environ["GJ_GO"])
while not go.exists():  # released together with the other process
    time.sleep(0.01)
with time_machine.travel(datetime.fromisoformat(os.environ["GJ_AT"]), tick=True):
    print(json.dumps(scheduler.produce_due_bulletins(app)))
"""


@pytest.fixture(autouse=True)
def utc_machine_zone():
    with machine_zone("UTC"):
        yield


def small_campaign(created_at: datetime):
    """Two districts, three enterprises; the campaign set up here at ``created_at``."""
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    jiangan.position, wuchang.position = 1, 2
    campaign = make_campaign(2026)
    make_org(
        campaign,
        jiangan,
        name="江岸甲",
        employees=120,
        formal=3,
        party_org="standalone",
        founded_on=date(2026, 6, 1),
    )
    make_org(campaign, jiangan, name="江岸乙", employees=20)
    make_org(campaign, wuchang, name="武昌甲", employees=150)
    campaign.created_at = created_at
    db.session.commit()
    return campaign


def published() -> list[Bulletin]:
    db.session.rollback()  # see what the job (or another process) committed
    return list(db.session.scalars(select(Bulletin).order_by(Bulletin.due_on)))


def attempts() -> list[BulletinRun]:
    db.session.rollback()
    return list(db.session.scalars(select(BulletinRun).order_by(BulletinRun.id)))


def published_events() -> list[dict]:
    db.session.rollback()
    return [
        e.payload
        for e in db.session.scalars(select(Event).where(Event.kind == "bulletin_published"))
    ]


def stored_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["STORAGE_PATH"]).rglob("*") if p.is_file())


def run_job_at(*moment) -> list[int]:
    with at(*moment):
        return scheduler.produce_due_bulletins(current_app._get_current_object())


# ---- 1. when the job fires -------------------------------------------------------------------


def on_report_days(app):
    [job] = [j for j in scheduler.jobs(app) if j["id"] == "bulletins.on_report_days"]
    return job["trigger"]


def fire_times(trigger, start: datetime, end: datetime) -> list[str]:
    """Every time the trigger fires from ``start`` until ``end``, as ISO strings."""
    times, moment = [], trigger.get_next_fire_time(None, start)
    while moment is not None and moment < end:
        times.append(moment.isoformat())
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return times


NOV_1, JAN_1 = shanghai(2026, 11, 1, 0, 0), shanghai(2027, 1, 1, 0, 0)


def test_the_job_fires_on_the_10th_and_25th_at_the_cutoff_time_only(app):
    assert fire_times(on_report_days(app), NOV_1, JAN_1) == [
        "2026-11-10T18:00:00+08:00",
        "2026-11-25T18:00:00+08:00",
        "2026-12-10T18:00:00+08:00",
        "2026-12-25T18:00:00+08:00",
    ]

    app.config["BULLETIN_TIME"] = "09:30"
    assert fire_times(on_report_days(app), NOV_1, JAN_1) == [
        "2026-11-10T09:30:00+08:00",
        "2026-11-25T09:30:00+08:00",
        "2026-12-10T09:30:00+08:00",
        "2026-12-25T09:30:00+08:00",
    ]


def test_the_job_fires_on_the_campaigns_own_report_days(app):
    make_campaign(2026, report_day_first=5, report_day_second=20)
    db.session.commit()
    assert fire_times(on_report_days(app), NOV_1, JAN_1) == [
        "2026-11-05T18:00:00+08:00",
        "2026-11-20T18:00:00+08:00",
        "2026-12-05T18:00:00+08:00",
        "2026-12-20T18:00:00+08:00",
    ]


def test_the_jobs_have_stable_ids_and_still_run_when_late(app):
    built = scheduler.build(app)
    assert not built.running  # building does not start anything
    jobs = {job.id: job for job in built.get_jobs()}
    assert len(jobs) == len(built.get_jobs())  # one id per job
    assert {"bulletins.on_report_days", "bulletins.catch_up"} <= set(jobs)
    for name in ("bulletins.on_report_days", "bulletins.catch_up"):
        assert jobs[name].func is scheduler.produce_due_bulletins
    for job in jobs.values():
        assert job.args == (app,)
        assert job.coalesce is True  # missed firings run once, not once each
        assert job.max_instances == 1
        # APScheduler's default grace of 1 s skips a job that starts a little late.
        assert job.misfire_grace_time >= 600


# ---- 2. what the job produces as the clock moves ---------------------------------------------


def test_the_bulletin_is_published_once_at_the_cutoff_and_not_before(app):
    small_campaign(created_at=shanghai(2026, 11, 10, 9, 0))

    assert run_job_at(2026, 11, 10, 17, 59) == []
    assert published() == [] and attempts() == []

    new = run_job_at(2026, 11, 10, 18, 0)
    [bulletin] = published()
    assert new == [bulletin.id]
    assert (bulletin.due_on, bulletin.number, bulletin.trigger) == (
        date(2026, 11, 10),
        6,
        "schedule",
    )
    assert bulletin.cutoff_at == shanghai(2026, 11, 10, 18, 0)
    assert "（第6期）" in bulletin.title

    # Again the same evening, the next day, on days between report days, just before the
    # next cut-off: nothing new.
    for moment in [(2026, 11, 10, 18, 5), (2026, 11, 11, 18, 0), (2026, 11, 18, 12, 0)]:
        assert run_job_at(*moment) == []
    assert run_job_at(2026, 11, 25, 17, 59) == []
    assert [b.id for b in published()] == [bulletin.id]
    assert [r.status for r in attempts()] == ["published"]
    assert [e["bulletin_id"] for e in published_events()] == [bulletin.id]


def test_a_missed_run_is_made_up_once_but_not_periods_before_the_set_up(app):
    # Set up on 11-03, after 10-25's cut-off: 第1-5期 were before this system and are never
    # made up. The machine is off on the 10th and back on the 12th.
    small_campaign(created_at=shanghai(2026, 11, 3, 10, 0))

    new = run_job_at(2026, 11, 12, 10, 0)
    [bulletin] = published()
    assert new == [bulletin.id]
    assert (bulletin.due_on, bulletin.number) == (date(2026, 11, 10), 6)
    assert bulletin.cutoff_at == shanghai(2026, 11, 10, 18, 0)  # the data as of the 10th

    assert run_job_at(2026, 11, 12, 10, 5) == []
    assert run_job_at(2026, 11, 13, 10, 0) == []
    assert [b.due_on for b in published()] == [date(2026, 11, 10)]
    assert len(attempts()) == 1


# ---- 3. a failure is recorded and retried, waiting longer each time --------------------------


def test_a_failed_render_is_recorded_and_retried_with_back_off(app):
    assert fonts.missing_glyphs(f"江岸区{NO_GLYPH}") == [NO_GLYPH]  # precondition on this machine
    small_campaign(created_at=shanghai(2026, 11, 10, 9, 0))
    jiangan = db.session.scalar(select(Unit).where(Unit.code == "jiangan"))
    jiangan.name = f"江岸区{NO_GLYPH}"
    db.session.commit()

    assert run_job_at(2026, 11, 10, 18, 0) == []
    [failed] = attempts()
    assert failed.status == "failed"
    assert "已安装字体无法显示" in failed.error and NO_GLYPH in failed.error
    assert published() == [] and published_events() == []
    assert stored_files(app) == []  # nothing half-written left behind

    # Waits 5 minutes before trying again ...
    assert run_job_at(2026, 11, 10, 18, 1) == []
    assert len(attempts()) == 1
    assert run_job_at(2026, 11, 10, 18, 6) == []
    assert [r.status for r in attempts()] == ["failed", "failed"]
    # ... then 10 after the second failure (18:06 + 10 min = 18:16).
    assert run_job_at(2026, 11, 10, 18, 14) == []
    assert len(attempts()) == 2

    jiangan = db.session.scalar(select(Unit).where(Unit.code == "jiangan"))
    jiangan.name = "江岸区"
    db.session.commit()
    new = run_job_at(2026, 11, 10, 18, 17)
    [bulletin] = published()
    assert new == [bulletin.id] and bulletin.due_on == date(2026, 11, 10)
    assert [r.status for r in attempts()] == ["failed", "failed", "published"]
    assert run_job_at(2026, 11, 10, 18, 30) == []
    assert len(published()) == 1 and len(attempts()) == 3
    assert [e["bulletin_id"] for e in published_events()] == [bulletin.id]


def test_a_period_failing_for_days_is_still_retried_every_two_hours(app):
    campaign = small_campaign(created_at=shanghai(2026, 11, 10, 9, 0))
    # Forty failures two hours apart, the last one ending on 11-15 at 12:00.
    for n in range(40):
        end = shanghai(2026, 11, 15, 12, 0) - timedelta(hours=2 * (39 - n))
        db.session.add(
            BulletinRun(
                campaign_id=campaign.id,
                due_on=date(2026, 11, 10),
                trigger="schedule",
                status="failed",
                error="程序错误",
                started_at=end,
                heartbeat_at=end,
                finished_at=end,
            )
        )
    db.session.commit()

    assert run_job_at(2026, 11, 15, 13, 59) == []
    assert len(attempts()) == 40
    settings = services.settings_from(app.config)
    moment = shanghai(2026, 11, 15, 14, 0)
    assert services.due(db.session, campaign, settings, moment) == [date(2026, 11, 10)]


def test_a_run_taken_for_dead_while_it_renders_stops_and_the_period_is_redone_once(
    app, monkeypatch
):
    small_campaign(created_at=shanghai(2026, 11, 10, 9, 0))
    real_pdf = render.pdf

    def three_silent_minutes(document, progress=None):
        # Past the 2-minute lease without a report: the scheduler's job (in another process,
        # here its own session) takes the run for dead meanwhile.
        with at(2026, 11, 10, 18, 3):
            assert scheduler.settle_abandoned_work(app) == 1
        return real_pdf(document, progress)

    monkeypatch.setattr(render, "pdf", three_silent_minutes)
    assert run_job_at(2026, 11, 10, 18, 0) == []
    [run] = attempts()
    assert (run.status, run.error) == (
        "abandoned",
        "进程在生成过程中中断（未生成通报，将自动重新生成）",
    )
    assert published() == [] and published_events() == [] and stored_files(app) == []

    monkeypatch.setattr(render, "pdf", real_pdf)
    new = run_job_at(2026, 11, 10, 18, 5)
    [bulletin] = published()
    assert new == [bulletin.id]
    assert [r.status for r in attempts()] == ["abandoned", "published"]
    assert [e["bulletin_id"] for e in published_events()] == [bulletin.id]


# ---- 4 and 5. several processes against one database -----------------------------------------


class Job:
    """``produce_due_bulletins`` in a fresh Python process at a Beijing wall-clock time,
    against the test's database and storage. Started early (loading takes seconds), it waits
    at the start line until ``release`` lets it go, together with the others of its group."""

    def __init__(self, app, folder: Path, name: str, moment: datetime, group="go", stall=False):
        script = folder / "runner.py"
        if not script.exists():
            script.write_text(RUNNER)
        self.ready, self.go = folder / f"{name}.ready", folder / group
        self.out, self.err = folder / f"{name}.out", folder / f"{name}.err"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "STORAGE_PATH": app.config["STORAGE_PATH"],
            "SECRET_KEY": "test-secret",
            "GONGJIAN_SCHEDULER": "0",
            "GJ_AT": moment.astimezone(UTC).isoformat(),
            "GJ_READY": str(self.ready),
            "GJ_GO": str(self.go),
        }
        if stall:
            env["GJ_STALL_RENDER"] = "1"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(
                [sys.executable, str(script)], cwd=ROOT, env=env, stdout=out, stderr=err
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + HANG
        while not self.ready.exists():
            assert self.process.poll() is None, self.stderr()
            assert time.monotonic() < deadline, "the helper process never got ready"
            time.sleep(0.02)

    def result(self) -> list[int]:
        """The ids of the bulletins it published (it must end normally)."""
        try:
            code = self.process.wait(HANG)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the helper process hung\n{self.stderr()}")
        assert code == 0, self.stderr()
        return json.loads(self.out.read_text())

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stderr(self) -> str:
        return self.err.read_text()


def release(*jobs: Job) -> None:
    """Wait until every process has loaded, then let them all go at once."""
    for job in jobs:
        job.wait_ready()
    jobs[0].go.touch()


@pytest.fixture
def jobs():
    """The helper processes started by a test; none outlives it."""
    started: list[Job] = []
    yield started
    for job in started:
        if job.process.poll() is None:
            job.kill()


def test_two_scheduler_processes_publish_each_period_once(app, tmp_path, jobs):
    # Set up on 10-20; on 11-12 the bulletins of 10-25 (第5期) and 11-10 (第6期) are due.
    small_campaign(created_at=shanghai(2026, 10, 20, 10, 0))
    db.session.rollback()
    moment = shanghai(2026, 11, 12, 10, 0)
    jobs += [Job(app, tmp_path, "a", moment), Job(app, tmp_path, "b", moment)]
    release(*jobs)
    reported = jobs[0].result() + jobs[1].result()

    bulletins = published()
    assert [(b.due_on, b.number) for b in bulletins] == [
        (date(2026, 10, 25), 5),
        (date(2026, 11, 10), 6),
    ]
    ids = sorted(b.id for b in bulletins)
    assert set(reported) == set(ids)
    # Each its own 发文字号, whichever published first, the number printed as stored.
    numbers = {b.document_number for b in bulletins}
    assert numbers == {"武组专〔2026〕1号", "武组专〔2026〕2号"}
    assert all(json.loads(b.snapshot)["document_number"] == b.document_number for b in bulletins)
    assert sorted(e["bulletin_id"] for e in published_events()) == ids
    runs = attempts()
    assert {r.status for r in runs} <= {"published", "exists"}, [(r.status, r.error) for r in runs]
    assert sorted(r.bulletin_id for r in runs if r.status == "published") == ids
    # Only the published files are kept (a run that lost removes its own).
    kept = {resolve(p) for b in bulletins for p in (b.pdf_path, b.xlsx_path, b.html_path)}
    assert set(stored_files(app)) == kept


def test_a_run_that_loses_at_publication_keeps_nothing_and_reports_nothing(app, monkeypatch):
    """The interleaving the two processes above only sometimes hit: another process checked
    before this run was recorded, so both went ahead; it publishes while this run renders."""
    campaign = small_campaign(created_at=shanghai(2026, 11, 10, 9, 0))
    campaign_id = campaign.id
    real_pdf, other = render.pdf, {}

    def other_process_publishes_first(document, progress=None):
        if not other:  # once (its own render comes back here)
            other["started"] = True
            with app.app_context():  # its own session and connection
                run = BulletinRun(
                    campaign_id=campaign_id,
                    due_on=date(2026, 11, 10),
                    trigger="schedule",
                    step="排队",
                    started_at=clock.now(),
                    heartbeat_at=clock.now(),
                )
                db.session.add(run)
                db.session.commit()
                settings = services.settings_from(app.config)
                other["bulletin"] = services.produce(db.session, run, settings).id
                db.session.remove()
        return real_pdf(document, progress)

    monkeypatch.setattr(render, "pdf", other_process_publishes_first)
    new = run_job_at(2026, 11, 10, 18, 0)

    [bulletin] = published()
    assert bulletin.id == other["bulletin"]
    assert sorted(r.status for r in attempts()) == ["exists", "published"]
    assert [e["bulletin_id"] for e in published_events()] == [bulletin.id]
    entries = db.session.scalars(
        select(audit.AuditEntry).where(audit.AuditEntry.action == "bulletin.publish")
    ).all()
    assert [e.object_id for e in entries] == [str(bulletin.id)]
    pdf, xlsx = resolve(bulletin.pdf_path), resolve(bulletin.xlsx_path)
    assert set(stored_files(app)) == {pdf, xlsx, resolve(bulletin.html_path)}
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == bulletin.pdf_sha256
    # This job published nothing: it must not report (nor log) the other's bulletin as its own.
    assert new == []


def test_a_run_killed_half_way_is_redone_once_after_a_restart(app, tmp_path, jobs):
    small_campaign(created_at=shanghai(2026, 11, 10, 9, 0))
    db.session.rollback()
    # The restart is started now too, so that both load at once; it waits for its turn. It
    # comes four minutes later, past the 2-minute lease after which a silent run counts as dead
    # (and before the 5 minutes a failed run waits: a run whose process died is not a failure
    # that could repeat, so it is redone at once).
    killed = Job(app, tmp_path, "killed", shanghai(2026, 11, 12, 10, 0), stall=True)
    restart = Job(app, tmp_path, "restart", shanghai(2026, 11, 12, 10, 4), group="go-restart")
    jobs += [killed, restart]
    release(killed)
    deadline = time.monotonic() + HANG
    while not [r for r in attempts() if (r.status, r.step) == ("running", "绘制图表、排版")]:
        assert killed.process.poll() is None, killed.stderr()
        assert time.monotonic() < deadline, "the run never got past 汇总数据"
        time.sleep(0.05)
    killed.kill()  # the data summed up, in the middle of the render

    [run] = attempts()
    assert run.status == "running"  # nothing could be recorded: the process just died
    assert published() == [] and published_events() == []
    assert stored_files(app) == []

    release(restart)
    new = restart.result()

    runs = attempts()
    assert [r.status for r in runs] == ["abandoned", "published"], [
        (r.status, r.error) for r in runs
    ]
    old, redo = runs
    assert old.id == run.id and old.bulletin_id is None and "中断" in old.error
    [bulletin] = published()
    assert new == [bulletin.id] and redo.bulletin_id == bulletin.id
    assert (bulletin.due_on, bulletin.number) == (date(2026, 11, 10), 6)
    assert [e["bulletin_id"] for e in published_events()] == [bulletin.id]
    pdf = resolve(bulletin.pdf_path)
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == bulletin.pdf_sha256
    assert len(PdfReader(pdf).pages) == bulletin.pdf_pages >= 1
    xlsx = resolve(bulletin.xlsx_path)
    assert hashlib.sha256(xlsx.read_bytes()).hexdigest() == bulletin.xlsx_sha256
    assert set(stored_files(app)) == {pdf, xlsx, resolve(bulletin.html_path)}
