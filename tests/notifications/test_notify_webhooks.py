"""企业微信 / 钉钉 group robots, played by an HTTP server on loopback that records what it is
sent: the city's robot hears bulletins, a district's robot its reminders, each in its API's
JSON; a robot that refuses the message (non-zero errcode) fails the delivery with its reason.

No PDF is rendered: the events are emitted as the services emit them, with the payload their
templates (templates/notifications/*.txt) read.
"""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign.core.extensions import db
from campaign.core.vocab import UnitKind
from notifications import events
from notifications.models import Delivery, UnitWebhook
from tests.conftest import make_campaign, make_unit
from tests.notifications.loopback import robot_server

BASE_URL = "https://gongjian.example.cn"
TITLE_6 = "关于全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况的通报（第6期）"
WECOM_PATH = "/cgi-bin/webhook/send?key=city-robot"
DINGTALK_PATH = "/robot/send?access_token=jiangan-robot"


@pytest.fixture
def w(app):
    app.config.update(NOTIFY_AFTER_COMMIT=True, JOBS_IN_BACKGROUND=False, BASE_URL=BASE_URL)
    city = make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    campaign = make_campaign(2026)
    db.session.commit()
    return SimpleNamespace(app=app, campaign=campaign, city=city, jiangan=jiangan, wuchang=wuchang)


def hook(unit, flavour: str, url: str) -> None:
    db.session.add(UnitWebhook(unit_id=unit.id, flavour=flavour, url=url))
    db.session.commit()


def published(w) -> None:
    """第6期 published (the headline figures as reports.services puts them in the event)."""
    events.emit(
        db.session,
        "bulletin_published",
        bulletin_id=1,
        campaign_id=w.campaign.id,
        number=6,
        due_on="2026-11-10",
        title=TITLE_6,
        issuing_body="中共武汉市委组织部",
        cutoff="2026-11-10 18:00",
        coverage="50.0%",
        change="提高25.0个百分点",
        target="80",
        gap=2,
        required_coverage="50.0%",
        new_party_orgs=1,
        closures=0,
        below_target=2,
        days_left=10,
        path=f"/campaigns/{w.campaign.id}/bulletins",
    )
    db.session.commit()


def report_due(w, unit) -> None:
    """The d3 reminder for the 08-25 report, as notifications.reminders emits it."""
    events.emit(
        db.session,
        "report_due",
        dedupe_key=f"report:{w.campaign.id}:{unit.id}:2026-08-25:d3",
        campaign_id=w.campaign.id,
        unit_id=unit.id,
        unit=unit.name,
        window="d3",
        due_on="2026-08-25",
        days_left=3,
        path=f"/campaigns/{w.campaign.id}/units/{unit.code}/reports/2026-08-25",
    )
    db.session.commit()


def webhook_deliveries() -> list[Delivery]:
    return list(
        db.session.scalars(
            select(Delivery).where(Delivery.channel == "webhook").order_by(Delivery.id)
        )
    )


def test_the_city_robot_gets_bulletins_and_a_district_robot_its_reminders(w):
    with robot_server({"errcode": 0, "errmsg": "ok"}) as robot:
        hook(w.city, "wecom", robot.url(WECOM_PATH))
        hook(w.jiangan, "dingtalk", robot.url(DINGTALK_PATH))

        published(w)
        report_due(w, w.jiangan)
        report_due(w, w.wuchang)  # 武昌区 has no robot: nothing posted for it

    assert [path for path, _ in robot.posts] == [WECOM_PATH, DINGTALK_PATH]

    # 企业微信: {"msgtype": "markdown", "markdown": {"content": ...}}, the subject in bold.
    wecom = robot.posts[0][1]
    assert set(wecom) == {"msgtype", "markdown"}
    assert wecom["msgtype"] == "markdown"
    assert set(wecom["markdown"]) == {"content"}
    content = wecom["markdown"]["content"]
    assert content.startswith(
        f"**【通报】{TITLE_6}**\n\n"
        "中共武汉市委组织部发布了第6期工作进展通报（数据截至2026-11-10 18:00）。\n\n"
        "全市党组织覆盖率 50.0%（较上期提高25.0个百分点），距80%目标还需组建 2 个党组织；\n"
        "应建尽建率 50.0%；本期新建党组织 1 个，核验销号 0 个；\n"
        "未达目标单位 2 个；距集中组建截止还有 10 天。\n"
    )
    assert content.endswith(f"{BASE_URL}/campaigns/{w.campaign.id}/bulletins")

    assert [(d.address, d.status, d.attempts) for d in webhook_deliveries()] == [
        (f"wecom|{robot.url(WECOM_PATH)}", "sent", 1),
        (f"dingtalk|{robot.url(DINGTALK_PATH)}", "sent", 1),
    ]

    # 钉钉: {"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}. The day and
    # the hour are two things: "8月25日24时", as task_due.txt writes it.
    subject = "【提醒】江岸区半月报送将于8月25日截止（还有3天）"
    assert robot.posts[1][1] == {
        "msgtype": "markdown",
        "markdown": {
            "title": subject,
            "text": f"**{subject}**\n\n"
            "江岸区应于8月25日24时前（北京时间）报送本期半月进展情况，还有3天。"
            "报送时系统自动冻结台账数据，只需填写工作进展、存在问题和下步打算。\n\n"
            f"报送入口：{BASE_URL}/campaigns/{w.campaign.id}/units/jiangan/reports/2026-08-25",
        },
    }


def test_a_robot_that_refuses_the_message_fails_the_delivery_with_its_reason(w):
    refusal = {"errcode": 310000, "errmsg": "keywords not in content"}
    with robot_server(refusal) as robot:
        hook(w.jiangan, "dingtalk", robot.url(DINGTALK_PATH))
        report_due(w, w.jiangan)

    assert len(robot.posts) == 1  # it was asked, and said no
    (delivery,) = webhook_deliveries()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "群机器人拒收：keywords not in content"
    assert delivery.next_attempt_at > delivery.created_at  # to be retried later
