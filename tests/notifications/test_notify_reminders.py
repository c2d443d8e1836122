"""Report reminders from the scheduler's job (campaign.scheduler.send_reminders), each window
once however often the job runs, and none lost when a day is skipped.

Campaign 2026 from the wuhan-2016 template starts on 08-14; its first report day is 08-25
(then 09-10, 15 days later). With REMINDER_DAYS "3,1" the windows of the 08-25 report are,
counted by hand: d3 on 08-22 and 08-23 (3 and 2 days left), d1 on 08-24 and 08-25 (1 and
0 days left), overdue from 08-26. On 08-22 ... 08-27 no other report day is within 3 days
(09-10 is 15 days after 08-25).

江岸区 has not reported: its operator 张填报 (with an email) and its leader (without one) are
reminded: per reminder 3 deliveries (张填报 in the app and by mail, the leader in the app).
武昌区 reported on 08-21: it is not reminded. Mail goes to MAIL_FOLDER (no SMTP_HOST).
"""

import email
import email.policy
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign import scheduler
from campaign.core.extensions import db
from campaign.half_monthly import services as half_monthly
from campaign.half_monthly.inputs import ReportText
from notifications.models import Delivery, Event
from tests.conftest import make_campaign, make_unit, make_user
from tests.timeutil import at, machine_zone, shanghai


@pytest.fixture(autouse=True)
def utc_machine_zone():
    with machine_zone("UTC"):  # days are Beijing days whatever the server's zone
        yield


@pytest.fixture
def w(app):
    app.config.update(REMINDER_DAYS="3,1", SMTP_HOST="", BASE_URL="https://gongjian.example.cn")
    campaign = make_campaign(2026)
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    wuchang.position = 2
    operator = make_user("jiangan-op", "operator", jiangan)
    operator.display_name, operator.email = "张填报", "zhang@example.cn"
    leader = make_user("jiangan-leader", "leader", jiangan)
    wuchang_op = make_user("wuchang-op", "operator", wuchang)
    wuchang_op.email = "wuchang@example.cn"
    storage = Path(app.config["STORAGE_PATH"])
    half_monthly.submit_report(
        db.session,
        campaign,
        wuchang,
        date(2026, 8, 25),
        ReportText.from_form(
            {"progress": "完成排查摸底。", "problems": "", "next_steps": "继续推进"}
        ),
        None,
        wuchang_op,
        storage,
        at=shanghai(2026, 8, 21, 10, 0),
    )
    db.session.commit()
    return SimpleNamespace(
        app=app,
        campaign=campaign,
        jiangan=jiangan,
        operator=operator,
        leader=leader,
        mail=Path(app.config["MAIL_FOLDER"]),
    )


def run_job(w, *when) -> None:
    """The hourly reminder job at a Beijing wall-clock time (it emits, then delivers)."""
    with at(*when):
        scheduler.send_reminders(w.app)


def reminders() -> list[tuple[str, str, str]]:
    """Every report_due event: (unit, due day, window), in order."""
    rows = db.session.scalars(select(Event).where(Event.kind == "report_due").order_by(Event.id))
    return [(p["unit"], p["due_on"], p["window"]) for p in (e.payload for e in rows)]


def deliveries() -> list[tuple[str, int | None, str]]:
    stmt = (
        select(Delivery)
        .join(Event, Event.id == Delivery.event_id)
        .where(Event.kind == "report_due")
        .order_by(Delivery.id)
    )
    return [(d.channel, d.user_id, d.status) for d in db.session.scalars(stmt)]


def mailed(w) -> list[tuple[str, str]]:
    """(To, Subject) of every reminder mail written, in order."""
    result = []
    for path in sorted(w.mail.glob("*-report_due.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        result.append((str(message["To"]), str(message["Subject"])))
    return result


def per_reminder(w) -> list[tuple[str, int, str]]:
    return [
        ("inapp", w.operator.id, "sent"),
        ("email", w.operator.id, "sent"),
        ("inapp", w.leader.id, "sent"),
    ]


ZHANG = "张填报 <zhang@example.cn>"
D3 = "【提醒】江岸区半月报送将于8月25日截止（还有3天）"


def test_three_days_before_the_unit_that_has_not_reported_is_reminded_once(w):
    run_job(w, 2026, 8, 22, 9, 5)
    assert reminders() == [("江岸区", "2026-08-25", "d3")]
    assert deliveries() == per_reminder(w)
    assert mailed(w) == [(ZHANG, D3)]

    # The job runs every hour: the same day, nothing more.
    run_job(w, 2026, 8, 22, 10, 5)
    run_job(w, 2026, 8, 22, 20, 5)
    assert reminders() == [("江岸区", "2026-08-25", "d3")]
    assert deliveries() == per_reminder(w)
    assert len(mailed(w)) == 1


def test_each_window_is_sent_once_and_a_skipped_day_loses_nothing(w):
    run_job(w, 2026, 8, 23, 9, 5)  # 2 days before: still the d3 window
    assert reminders() == [("江岸区", "2026-08-25", "d3")]
    assert mailed(w) == [(ZHANG, "【提醒】江岸区半月报送将于8月25日截止（还有2天）")]

    # 08-24 the job did not run; on the due day the d1 reminder goes out, once.
    run_job(w, 2026, 8, 25, 9, 5)
    run_job(w, 2026, 8, 25, 15, 5)
    assert reminders() == [("江岸区", "2026-08-25", "d3"), ("江岸区", "2026-08-25", "d1")]

    # After the due day: overdue, once.
    run_job(w, 2026, 8, 26, 9, 5)
    run_job(w, 2026, 8, 27, 9, 5)
    assert reminders() == [
        ("江岸区", "2026-08-25", "d3"),
        ("江岸区", "2026-08-25", "d1"),
        ("江岸区", "2026-08-25", "overdue"),
    ]
    assert deliveries() == per_reminder(w) * 3
    assert [subject for _, subject in mailed(w)][2] == "【已逾期】江岸区8月25日半月报送尚未完成"
    assert len(mailed(w)) == 3
