"""The production shape on one PostgreSQL database: gunicorn with two web workers (each with
the scheduler switched on by mistake) and two `flask scheduler run` processes, all racing for
the same bulletin period. One bulletin comes out, and one email per recipient."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from campaign.core.extensions import db
from campaign.core.vocab import Role
from notifications.models import Delivery, Event, MailingListEntry
from reports.models import Bulletin, BulletinRun
from tests.conftest import BACKENDS, make_campaign, make_org, make_unit, make_user
from tests.notifications.loopback import smtp_server
from tests.timeutil import at, clock_env, shanghai

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _count(model, *where) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


# Several processes on one database is the PostgreSQL deployment; `make test` always has one.
@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs TEST_DATABASES=…,postgresql")
@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_web_workers_and_two_schedulers_publish_one_bulletin_and_one_mail_each(
    app, backend, tmp_path
):
    with at(2026, 11, 10, 19, 0):  # the moment the processes below start from, too
        campaign = make_campaign()
        # Set up in Gongjian on 11-09: of the past report days, only 11-10 (18:00) is due.
        campaign.created_at = shanghai(2026, 11, 9, 9, 0)
        unit = make_unit("jiangan", "江岸区")
        make_org(campaign, unit, party_org="standalone", formal=3)
        make_org(campaign, unit)
        leader = make_user("lingdao", Role.LEADERSHIP)
        leader.email = "lingdao@example.cn"
        db.session.add(
            MailingListEntry(campaign_id=campaign.id, name="市委办", email="swb@example.cn")
        )
        db.session.commit()

    web_log = tmp_path / "gunicorn.log"
    with smtp_server() as mailbox, web_log.open("wb") as web_err:
        env = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "STORAGE_PATH": str(tmp_path / "storage"),
            "SECRET_KEY": "deployment-test",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mailbox.port),
            "MAIL_FOLDER": str(tmp_path / "mail"),
            # 11-10 at 19:00, an hour after that day's cut-off and long before 11-25's, whatever
            # day the suite runs on: the processes make up exactly the 11-10 bulletin.
            **clock_env(shanghai(2026, 11, 10, 19, 0)),
        }
        web = subprocess.Popen(
            # Port 0: the kernel picks a free port as gunicorn binds it (a port picked beforehand
            # can be taken by another process's outgoing connection in between).
            [BIN / "gunicorn", "-w", "2", "-b", "127.0.0.1:0", "app:create_app()"],
            cwd=ROOT,
            env={**env, "GONGJIAN_SCHEDULER": "1"},  # the mistake the database must absorb
            stdout=subprocess.DEVNULL,
            stderr=web_err,
        )
        schedulers = [
            subprocess.Popen(
                [BIN / "flask", "--app", "app", "scheduler", "run"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        processes = [web, *schedulers]
        try:

            def listening() -> str | None:
                found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", web_log.read_text())
                return found and found.group(1)

            def web_up():
                try:
                    return requests.get(f"{listening()}/login", timeout=2).ok
                except requests.RequestException:
                    return False

            assert _wait(listening, 60) and _wait(web_up, 180), web_log.read_text(errors="replace")
            base = listening()
            for _ in range(8):  # reach both workers, so both start their scheduler
                requests.get(f"{base}/login", timeout=5)

            assert _wait(lambda: len(mailbox.mails) >= 2, 90), "no bulletin mail arrived"
            time.sleep(8)  # let every racer finish its attempt and its delivery round
        finally:
            for p in processes:
                p.send_signal(signal.SIGTERM)
            for p in processes:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()

    assert _count(Bulletin) == 1
    bulletin = db.session.scalar(select(Bulletin))
    assert (bulletin.number, bulletin.due_on.isoformat()) == (6, "2026-11-10")
    assert _count(Event, Event.kind == "bulletin_published") == 1
    # Two recipients (the leadership user and the distribution list), one mail each.
    assert sorted(a for m in mailbox.mails for a in m.rcpt_tos) == [
        "lingdao@example.cn",
        "swb@example.cn",
    ]
    assert _count(Delivery, Delivery.channel == "email", Delivery.status == "sent") == 2
    runs = db.session.scalars(select(BulletinRun.status)).all()
    assert runs.count("published") == 1
    assert set(runs) <= {"published", "exists"}
