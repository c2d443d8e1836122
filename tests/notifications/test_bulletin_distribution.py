"""A bulletin reaches every 主送 unit (issue 18, part 6): in-app and by mail to each unit's
leader and operators, the coordinators and leadership (and the campaign's mailing list),
and each unit's group robot; the notice links straight to the PDF, which opens inline.

Real servers on loopback: aiosmtpd for mail, an HTTP server for the robots.

Campaign 2026 (wuhan-2016): the bulletin after 11-10 is 第6期. Its 主送 units are the units it
ranks, 江岸区 and 武昌区 (both responsible). Review is on: the draft is produced at the
cut-off and told to coordinators and leadership only; 李部长 signs it on 11-11 at 09:00, and
only then is every 主送 unit told.

Who, worked out by hand:
  mailed     李部长 (leadership), 王主任 (coordinator), 江岸区's leader and operator,
             武昌区's operator, the mailing list's 市委办公厅
  in-app     those six users, and 武昌区's leader, who turned mail off for 通报发布 (so only
             in-app for her)
  not told   the admin (not an addressee), 武昌区's former operator (disabled), the draft's
             news never reaches the districts
  robots     the city's (企业微信), 江岸区's (钉钉) and 武昌区's (企业微信): three posts
"""

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign.core import campaigns
from campaign.core.extensions import db
from campaign.core.storage import resolve
from campaign.core.vocab import UnitKind
from notifications.models import Delivery, MailingListEntry, Notification, Preference, UnitWebhook
from reports import services
from tests.conftest import login, make_campaign, make_org, make_unit, make_user
from tests.notifications.loopback import HOST, free_port, robot_server, smtp_server
from tests.timeutil import at, machine_zone

BASE_URL = "https://gongjian.example.cn"
TITLE_6 = "关于全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况的通报（第6期）"
LI, WANG, OFFICE = "li@example.cn", "wang@example.cn", "office@example.org"
JA_LEADER, JA_OP, WC_OP, WC_LEADER = (
    "ja-leader@example.cn",
    "ja-op@example.cn",
    "wc-op@example.cn",
    "wc-leader@example.cn",
)
GONE, ADMIN = "gone@example.cn", "admin@example.cn"


@pytest.fixture(autouse=True)
def utc_machine_zone():
    with machine_zone("UTC"):
        yield


def person(username: str, role: str, unit, email: str, name: str):
    user = make_user(username, role, unit)
    user.email, user.display_name = email, name
    return user


@pytest.fixture
def w(app):
    app.config.update(
        NOTIFY_AFTER_COMMIT=True,
        JOBS_IN_BACKGROUND=False,
        BASE_URL=BASE_URL,
        MAIL_FROM="gongjian@example.cn",
        SMTP_HOST=HOST,
        SMTP_PORT=free_port(),
        SMTP_TLS="",
        SMTP_USER="",
    )
    with at(2026, 11, 6, 10, 0):
        city = make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
        jiangan = make_unit("jiangan", "江岸区")
        wuchang = make_unit("wuchang", "武昌区")
        wuchang.position = 2
        campaign = make_campaign(2026)
        make_org(campaign, jiangan, name="甲", employees=120, formal=3)
        make_org(campaign, wuchang, name="乙", employees=150)
        people = SimpleNamespace(
            li=person("li", "leadership", None, LI, "李部长"),
            wang=person("wang", "coordinator", None, WANG, "王主任"),
            admin=person("admin", "admin", None, ADMIN, "管理员"),
            ja_leader=person("ja_leader", "leader", jiangan, JA_LEADER, "江岸区负责人"),
            ja_op=person("ja_op", "operator", jiangan, JA_OP, "江岸区填报员"),
            wc_op=person("wc_op", "operator", wuchang, WC_OP, "武昌区填报员"),
            wc_leader=person("wc_leader", "leader", wuchang, WC_LEADER, "武昌区负责人"),
            gone=person("gone", "operator", wuchang, GONE, "已调离"),
        )
        people.gone.active = False
        db.session.add(
            Preference(
                user_id=people.wc_leader.id,
                kind="bulletin_published",
                channel="email",
                enabled=False,
            )
        )
        db.session.add(MailingListEntry(campaign_id=campaign.id, name="市委办公厅", email=OFFICE))
        campaigns.update_settings(
            db.session, campaign, campaigns.settings_from({"bulletin_review": "是"}), people.wang
        )
        db.session.commit()
    return SimpleNamespace(
        app=app,
        campaign=campaign,
        city=city,
        jiangan=jiangan,
        wuchang=wuchang,
        port=app.config["SMTP_PORT"],
        settings=services.settings_from(app.config),
        **vars(people),
    )


def hooks(w, robot) -> dict[str, str]:
    paths = {
        "city": "/cgi-bin/webhook/send?key=city",
        "jiangan": "/robot/send?access_token=jiangan",
        "wuchang": "/cgi-bin/webhook/send?key=wuchang",
    }
    for unit, flavour in ((w.city, "wecom"), (w.jiangan, "dingtalk"), (w.wuchang, "wecom")):
        db.session.add(
            UnitWebhook(unit_id=unit.id, flavour=flavour, url=robot.url(paths[unit.code]))
        )
    db.session.commit()
    return paths


def recipients(box) -> list[str]:
    return sorted(r for m in box.mails for r in m.rcpt_tos)


def notices(kind: str) -> list[tuple[int, str]]:
    return sorted(
        (n.user_id, n.link)
        for n in db.session.scalars(select(Notification).where(Notification.kind == kind))
    )


def test_the_signed_bulletin_reaches_every_addressed_unit_and_the_draft_none(w):
    with smtp_server(w.port) as box, robot_server({"errcode": 0, "errmsg": "ok"}) as robot:
        paths = hooks(w, robot)
        with at(2026, 11, 10, 18, 1):
            draft = services.generate(
                db.session, w.campaign, date(2026, 11, 10), w.settings, "schedule"
            )
        # The draft: the reviewers and the signer only; no district, no robot.
        assert recipients(box) == [LI, WANG]
        draft_page = f"/campaigns/{w.campaign.id}/bulletins/6/draft"
        assert notices("bulletin_draft") == [(w.li.id, draft_page), (w.wang.id, draft_page)]
        assert robot.posts == []
        box.mails.clear()

        with at(2026, 11, 11, 9, 0):
            services.sign(db.session, draft, w.li, w.settings)
            db.session.commit()

    pdf_path = f"/campaigns/{w.campaign.id}/bulletins/6.pdf"
    assert recipients(box) == sorted([LI, WANG, JA_LEADER, JA_OP, WC_OP, OFFICE])
    for mail in box.mails:
        assert mail.subject == "【通报】" + TITLE_6
        assert "第6期工作进展通报（武组专〔2026〕1号，数据截至2026-11-10 18:00）" in mail.text
        assert f"{BASE_URL}{pdf_path}" in mail.text
        (attachment,) = list(mail.message.iter_attachments())
        assert attachment.get_content() == resolve(draft.pdf_path).read_bytes()
    told = [w.li, w.wang, w.ja_leader, w.ja_op, w.wc_op, w.wc_leader]
    assert notices("bulletin_published") == sorted((u.id, pdf_path) for u in told)
    assert not db.session.scalars(
        select(Delivery).where(Delivery.user_id.in_([w.admin.id, w.gone.id]))
    ).all()

    # Each robot once: the city's and both districts', with the PDF's address.
    assert sorted(path for path, _ in robot.posts) == sorted(paths.values())
    for _, body in robot.posts:
        text = body["markdown"].get("content") or body["markdown"]["text"]
        assert f"{BASE_URL}{pdf_path}" in text and "武组专〔2026〕1号" in text

    # The notice's link opens the PDF in a phone's viewer; download is still offered.
    with at(2026, 11, 11, 9, 30):
        client = w.app.test_client()
        assert login(client, "wc_op").status_code == 302
        response = client.get(pdf_path)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("inline")
        response.close()
        response = client.get(pdf_path + "?download=1")
        assert response.headers["Content-Disposition"].startswith("attachment")
        response.close()
        page = client.get(f"/campaigns/{w.campaign.id}/bulletins").get_data(as_text=True)
        assert f'href="{pdf_path}?download=1"' in page


def test_without_review_the_bulletin_reaches_them_at_the_cutoff(w):
    campaigns.update_settings(
        db.session, w.campaign, campaigns.settings_from({"bulletin_review": "否"}), w.wang
    )
    db.session.commit()
    with smtp_server(w.port) as box, at(2026, 11, 10, 18, 1):
        services.generate(db.session, w.campaign, date(2026, 11, 10), w.settings, "schedule")
    assert recipients(box) == sorted([LI, WANG, JA_LEADER, JA_OP, WC_OP, OFFICE])
