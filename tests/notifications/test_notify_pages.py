"""The notification pages: a user's channel choices, the coordinators' delivery log with
resend, and a unit's group-robot webhook — who may use them (404 otherwise) and what they do.

江岸区 has an operator 张填报 and a leader 李书记, both with an email; 武昌区 a leader; the
city a coordinator. Mail goes to MAIL_FOLDER (no SMTP_HOST); delivery runs inline right after
each commit that wrote an event.
"""

import email
import email.policy
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign import audit, scheduler
from campaign.core.extensions import db
from campaign.core.vocab import UnitKind
from notifications import events
from notifications.kinds import KINDS, USER_CHANNELS
from notifications.models import Delivery, Notification, UnitWebhook
from tests.conftest import csrf_token, login, make_campaign, make_unit, make_user

ZHANG, LI = "zhang@example.cn", "li@example.cn"
SUBJECT = "【提醒】江岸区半月报送将于8月25日截止（还有3天）"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=jiangan"


@pytest.fixture
def w(app):
    app.config.update(NOTIFY_AFTER_COMMIT=True, JOBS_IN_BACKGROUND=False, SMTP_HOST="")
    make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
    campaign = make_campaign(2026)
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    operator = make_user("jiangan-op", "operator", jiangan)
    operator.display_name, operator.email = "张填报", ZHANG
    leader = make_user("jiangan-leader", "leader", jiangan)
    leader.display_name, leader.email = "李书记", LI
    make_user("wuchang-leader", "leader", wuchang)
    make_user("coord", "coordinator")
    db.session.commit()
    return SimpleNamespace(
        app=app,
        campaign=campaign,
        jiangan=jiangan,
        wuchang=wuchang,
        operator=operator,
        leader=leader,
        mail=Path(app.config["MAIL_FOLDER"]),
    )


def client_of(w, username: str):
    client = w.app.test_client()
    login(client, username)
    return client


def remind(w) -> None:
    """江岸区's d3 reminder for the 08-25 report, as notifications.reminders emits it."""
    events.emit(
        db.session,
        "report_due",
        dedupe_key=f"report:{w.campaign.id}:{w.jiangan.id}:2026-08-25:d3",
        campaign_id=w.campaign.id,
        unit_id=w.jiangan.id,
        unit="江岸区",
        window="d3",
        due_on="2026-08-25",
        days_left=3,
        path=f"/campaigns/{w.campaign.id}/units/jiangan/reports/2026-08-25",
    )
    db.session.commit()


def mailed_to(w) -> list[str]:
    """The address of every mail written, in order."""
    result = []
    for path in sorted(w.mail.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert str(message["Subject"]) == SUBJECT
        result.append(message["To"].addresses[0].addr_spec)
    return result


def deliveries() -> list[tuple[str, int | None, str]]:
    return [
        (d.channel, d.user_id, d.status)
        for d in db.session.scalars(select(Delivery).order_by(Delivery.id))
    ]


def checked(html: str, name: str) -> bool:
    tag = re.search(rf'<input type="checkbox" name="{re.escape(name)}"[^>]*>', html)
    assert tag, name
    return "checked" in tag.group(0)


def test_unchecking_email_for_reminders_keeps_them_in_the_app(w):
    op = client_of(w, "jiangan-op")
    page = op.get("/notifications/preferences").get_data(as_text=True)
    assert checked(page, "report_due:email") and checked(page, "report_due:inapp")

    form = {f"{kind}:{channel}": "on" for kind in KINDS for channel in USER_CHANNELS}
    del form["report_due:email"]
    form["csrf_token"] = csrf_token(op, "/notifications/preferences")
    assert op.post("/notifications/preferences", data=form).status_code == 302
    page = op.get("/notifications/preferences").get_data(as_text=True)
    assert not checked(page, "report_due:email") and checked(page, "report_due:inapp")
    assert checked(page, "closure_returned:email")  # only that one box changed

    remind(w)

    # 张填报: in the app only; 李书记 (default choices): in the app and by mail.
    assert sorted(deliveries(), key=lambda d: (d[1], d[0])) == [
        ("inapp", w.operator.id, "sent"),
        ("email", w.leader.id, "sent"),
        ("inapp", w.leader.id, "sent"),
    ]
    assert mailed_to(w) == [LI]
    page = op.get("/notifications").get_data(as_text=True)
    assert SUBJECT in page


def test_the_delivery_log_is_for_coordinators_and_resend_sends_again(w):
    remind(w)
    assert [
        (d.address, d.status)
        for d in db.session.scalars(
            select(Delivery).where(Delivery.channel == "email").order_by(Delivery.address)
        )
    ] == [(LI, "sent"), (ZHANG, "sent")]
    assert sorted(mailed_to(w)) == [LI, ZHANG]

    log = f"/campaigns/{w.campaign.id}/deliveries"
    for username in ("jiangan-op", "jiangan-leader"):
        assert client_of(w, username).get(log).status_code == 404

    coord = client_of(w, "coord")
    page = coord.get(log)
    assert page.status_code == 200
    table = page.get_data(as_text=True)
    assert table.count(SUBJECT) == 4  # 2 users x (mail, in-app)
    assert ZHANG in table and LI in table

    # An operator cannot resend; a coordinator can: a new, logged delivery, sent again.
    to_li = db.session.scalar(select(Delivery).where(Delivery.address == LI))
    resend = f"{log}/{to_li.id}/resend"
    operator = client_of(w, "jiangan-op")
    token = csrf_token(operator, "/notifications/preferences")
    assert operator.post(resend, data={"csrf_token": token}).status_code == 404
    assert db.session.query(Delivery).count() == 4

    assert coord.post(resend, data={"csrf_token": csrf_token(coord, log)}).status_code == 302
    copy = db.session.scalar(select(Delivery).where(Delivery.key == f"{to_li.key}:resend:1"))
    assert (copy.channel, copy.user_id, copy.address) == ("email", w.leader.id, LI)
    (entry,) = db.session.scalars(
        select(audit.AuditEntry).where(audit.AuditEntry.action == "delivery.resend")
    ).all()
    assert entry.object_id == str(to_li.id)

    scheduler.deliver_notifications(w.app)  # the minute job
    db.session.expire_all()
    assert db.session.get(Delivery, copy.id).status == "sent"
    assert sorted(mailed_to(w)) == [LI, LI, ZHANG]
    # In-app rows are not doubled by a mail resend.
    assert db.session.query(Notification).count() == 2


def test_a_district_leader_sets_the_own_units_robot_only(w):
    leader = client_of(w, "jiangan-leader")
    page = "/units/jiangan/webhook"
    assert leader.get(page).status_code == 200
    token = csrf_token(leader, page)
    response = leader.post(page, data={"csrf_token": token, "flavour": "dingtalk", "url": DINGTALK})
    assert response.status_code == 302
    hook = db.session.scalar(select(UnitWebhook).where(UnitWebhook.unit_id == w.jiangan.id))
    assert (hook.flavour, hook.url, hook.updated_by_id) == ("dingtalk", DINGTALK, w.leader.id)
    (entry,) = db.session.scalars(
        select(audit.AuditEntry).where(audit.AuditEntry.action == "webhook.set")
    ).all()
    assert (entry.user_id, entry.object_type, entry.object_id) == (
        w.leader.id,
        "unit",
        str(w.jiangan.id),
    )
    # The robot's token is a secret: the change record keeps its first 4 characters only.
    assert json.loads(entry.after) == {
        "flavour": "dingtalk",
        "url": "https://oapi.dingtalk.com/robot/send?access_token=jian…",
    }

    # Another district's robot: not found, and nothing set.
    other = "/units/wuchang/webhook"
    assert leader.get(other).status_code == 404
    data = {"csrf_token": token, "flavour": "wecom", "url": "https://example.cn/hook"}
    assert leader.post(other, data=data).status_code == 404
    # The city's robot is the coordinators'.
    assert leader.get("/units/city/webhook").status_code == 404

    # An operator: not even the own unit's (he sees his unit, so he is told why).
    operator = client_of(w, "jiangan-op")
    assert operator.get(page).status_code == 403
    token = csrf_token(operator, "/notifications/preferences")
    data = {"csrf_token": token, "flavour": "wecom", "url": "https://example.cn/hook"}
    refused = operator.post(page, data=data)
    assert refused.status_code == 403
    assert "单位群机器人由本单位负责人设置" in refused.get_data(as_text=True)

    assert db.session.scalars(select(UnitWebhook.url)).all() == [DINGTALK]


def test_the_delivery_log_pages_through_every_row_and_keeps_the_status_filter(w):
    from notifications.models import Event
    from notifications.views import LOG_PER_PAGE

    event = Event(kind="report_due", campaign_id=w.campaign.id)
    db.session.add(event)
    db.session.flush()
    # 70 deliveries, oldest first: 消息001..消息070; every 7th failed, the others sent.
    for n in range(1, 71):
        db.session.add(
            Delivery(
                key=f"page-test:{n}",
                event_id=event.id,
                channel="email",
                address=ZHANG,
                subject=f"消息{n:03d}",
                status="failed" if n % 7 == 0 else "sent",
            )
        )
    db.session.commit()
    coord = client_of(w, "coord")
    log = f"/campaigns/{w.campaign.id}/deliveries"

    def subjects(url: str) -> list[int]:
        page = coord.get(url)
        assert page.status_code == 200, url
        return [
            int(n) for n in re.findall(r"<td class=\"text wrap\"[^>]*>消息(\d{3})</td>", page.text)
        ]

    assert LOG_PER_PAGE == 50
    first = coord.get(log).text
    assert subjects(log) == list(range(70, 20, -1))  # newest first
    assert "第1/2页，共70条" in first and f'href="{log}?page=2"' in first
    assert subjects(f"{log}?page=2") == list(range(20, 0, -1))  # the rest, not the newest 50 again
    assert f'href="{log}?page=1">上一页' in coord.get(f"{log}?page=2").text

    failed = [n for n in range(70, 0, -1) if n % 7 == 0]
    assert subjects(f"{log}?status=failed") == failed
    sent = [n for n in range(70, 0, -1) if n % 7]
    assert subjects(f"{log}?status=sent") == sent[:50]
    on_first = coord.get(f"{log}?status=sent").text
    assert f'href="{log}?status=sent&amp;page=2">下一页' in on_first
    assert subjects(f"{log}?status=sent&page=2") == sent[50:]  # still only sent ones

    # Past the last page (or below the first) there is nothing: a 404, filtered or not.
    for url in (f"{log}?page=3", f"{log}?status=failed&page=2", f"{log}?page=0"):
        assert coord.get(url).status_code == 404, url
    assert subjects(f"{log}?page=x") == subjects(log)  # not a number: the first page
    assert subjects(f"{log}?status=nonsense") == subjects(log)  # unknown filter: all rows

    # A resend from page 2 of a filter comes back to that page of that filter.
    to_resend = db.session.scalar(select(Delivery).where(Delivery.subject == "消息005"))
    back = coord.post(
        f"{log}/{to_resend.id}/resend?status=sent&page=2",
        data={"csrf_token": csrf_token(coord, log)},
    )
    assert back.status_code == 302 and back.location.endswith(f"{log}?status=sent&page=2")
