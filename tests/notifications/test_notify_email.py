"""Email over a real SMTP server on loopback (aiosmtpd): the bulletin mailed with its PDF,
retried with back-off while the server is down and sent exactly once when it is back.

The campaign is 2026 from the wuhan-2016 template: its report days are 08-25, 09-10, 09-25,
10-10, 10-25, 11-10, ..., so the bulletin after 2026-11-10 is 第6期 (period 10-26 to 11-10),
cut off at 18:00 Beijing time; 集中组建 ends on 11-20, 10 days later.

The ledger, two districts, worked out by hand (DOMAIN.md §5-§6):
  江岸区
    甲  enterprise, 120 staff, 3 formal, 单独组建 founded 2026-06-01 -> must have one, has it
    乙  enterprise,  60 staff, 1 formal, 联合组建 founded 2026-11-01 -> new in 第6期
    丙  enterprise,  20 staff, nothing
  武昌区
    丁  enterprise, 150 staff, nothing                               -> must have one, has none
At the 11-10 cut-off: base 4, Party orgs 2 (甲 乙) = 50.0%; at 10-25 only 甲: 1/4 = 25.0%,
so +25.0 points; 80% of 4 is 3.2, so 4 are needed: 2 more; must have a Party org 2 (甲 丁),
met 1: 应建尽建率 50.0%; new Party orgs 1 (乙); 江岸区 66.7% and 武昌区 0.0% are both below
80%: 2 units below target.

Recipients of a bulletin: the leadership users (王书记 with an email, 李副书记 without one:
in-app only), the campaign's mailing list (市委办公厅) and, 江岸区 being one of its 主送
units, 江岸区's operator (tests/notifications/test_bulletin_distribution.py has them all).
"""

import hashlib
import io
import warnings
from datetime import date, timedelta
from types import SimpleNamespace

import pypdf
import pytest
from sqlalchemy import select

from campaign.core.extensions import db
from campaign.core.storage import resolve
from campaign.core.vocab import UnitKind
from notifications import dispatch, events
from notifications.models import Delivery, MailingListEntry, Notification
from reports import charts, services
from reports.models import Bulletin, BulletinRun
from tests.conftest import make_campaign, make_org, make_unit, make_user
from tests.notifications.loopback import HOST, free_port, smtp_server
from tests.timeutil import shanghai

TITLE_6 = "关于全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况的通报（第6期）"
BASE_URL = "https://gongjian.example.cn"
BOSS, OFFICE, OPERATOR = "boss@example.cn", "office@example.org", "op@example.cn"


@pytest.fixture
def w(app):
    app.config.update(
        NOTIFY_AFTER_COMMIT=True,  # deliver right after the commit that wrote the event ...
        JOBS_IN_BACKGROUND=False,  # ... inline, so the test sees the outcome
        BASE_URL=BASE_URL,
        MAIL_FROM="gongjian@example.cn",
        SMTP_HOST=HOST,
        SMTP_PORT=free_port(),  # nothing listens there until a test starts its server
        SMTP_TLS="",
        SMTP_USER="",
    )
    make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
    jiangan = make_unit("jiangan", "江岸区")
    campaign = make_campaign(2026)
    make_org(
        campaign,
        jiangan,
        name="甲",
        employees=120,
        formal=3,
        party_org="standalone",
        founded_on=date(2026, 6, 1),
    )
    make_org(
        campaign,
        jiangan,
        name="乙",
        employees=60,
        formal=1,
        party_org="joint",
        founded_on=date(2026, 11, 1),
    )
    make_org(campaign, jiangan, name="丙", employees=20)
    wuchang = make_unit("wuchang", "武昌区")
    wuchang.position = 2
    make_org(campaign, wuchang, name="丁", employees=150)
    boss = make_user("boss", "leadership")
    boss.display_name, boss.email = "王书记", BOSS
    deputy = make_user("deputy", "leadership")
    deputy.display_name = "李副书记"
    operator = make_user("jiangan-op", "operator", jiangan)
    operator.email = OPERATOR
    db.session.add(MailingListEntry(campaign_id=campaign.id, name="市委办公厅", email=OFFICE))
    db.session.commit()
    return SimpleNamespace(
        app=app,
        campaign=campaign,
        jiangan=jiangan,
        boss=boss,
        deputy=deputy,
        operator=operator,
        port=app.config["SMTP_PORT"],
    )


def publish(w) -> Bulletin:
    settings = services.settings_from(w.app.config)
    return services.generate(
        db.session,
        w.campaign,
        date(2026, 11, 10),
        settings,
        "cli",
        moment=shanghai(2026, 11, 10, 18, 1),
    )


def deliveries(channel: str | None = None) -> list[Delivery]:
    stmt = select(Delivery).order_by(Delivery.id)
    if channel:
        stmt = stmt.where(Delivery.channel == channel)
    return list(db.session.scalars(stmt))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_published_bulletin_is_mailed_with_its_pdf_to_leadership_and_the_list(w):
    with smtp_server(w.port) as box:
        bulletin = publish(w)

    # One mail per recipient: 王书记, the mailing list and 江岸区's operator; not 李副书记
    # (no address).
    assert sorted(r for m in box.mails for r in m.rcpt_tos) == [BOSS, OFFICE, OPERATOR]
    pdf_on_disk = resolve(bulletin.pdf_path).read_bytes()
    for mail in box.mails:
        message = mail.message
        # Headers RFC 2047-encoded: the raw mail is plain ASCII and decodes to the Chinese.
        mail.raw.decode("ascii")
        assert "=?utf-8?" in mail.raw.split(b"\r\n\r\n", 1)[0].decode().lower()
        assert mail.subject == "【通报】" + TITLE_6
        assert str(message["From"]) == "攻坚系统 <gongjian@example.cn>"
        assert mail.mail_from == "gongjian@example.cn"

        body = message.get_body(preferencelist=("plain",))
        assert body.get_content_charset() == "utf-8"
        text = mail.text
        assert (
            "中共武汉市委组织部发布了第6期工作进展通报（武组专〔2026〕1号，"
            "数据截至2026-11-10 18:00）。" in text
        )
        assert (
            "全市党组织覆盖率 50.0%（较上期提高25.0个百分点），距80%目标还需组建 2 个党组织；"
            in text
        )
        assert "应建尽建率 50.0%；本期新建党组织 1 个，核验销号 0 个；" in text
        assert "未达目标单位 2 个；距集中组建截止还有 10 天。" in text
        assert f"{BASE_URL}/campaigns/{w.campaign.id}/bulletins/6.pdf" in text

        # The attachment is the archived PDF, byte for byte, and opens as a PDF.
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == "通报第6期.pdf"
        data = attachment.get_content()
        assert sha256(data) == bulletin.pdf_sha256 == sha256(pdf_on_disk)
        assert len(pypdf.PdfReader(io.BytesIO(data)).pages) == bulletin.pdf_pages
    (to_boss,) = box.to(BOSS)
    assert str(to_boss.message["To"]) == f"王书记 <{BOSS}>"
    assert len({m.message["Message-ID"] for m in box.mails}) == 3

    # In the notification centre of both leadership users and the operator, linking to the PDF.
    notes = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert [(n.user_id, n.kind, n.title, n.link) for n in notes] == [
        (
            u.id,
            "bulletin_published",
            "【通报】" + TITLE_6,
            f"/campaigns/{w.campaign.id}/bulletins/6.pdf",  # a path: in-app needs no BASE_URL
        )
        for u in (w.boss, w.deputy, w.operator)
    ]
    # The log: every delivery sent at the first attempt.
    log = sorted((d.channel, d.user_id or 0, d.address, d.status, d.attempts) for d in deliveries())
    assert log == [
        ("email", 0, OFFICE, "sent", 1),
        ("email", w.boss.id, BOSS, "sent", 1),
        ("email", w.operator.id, OPERATOR, "sent", 1),
        ("inapp", w.boss.id, "", "sent", 1),
        ("inapp", w.deputy.id, "", "sent", 1),
        ("inapp", w.operator.id, "", "sent", 1),
    ]


def test_mail_fails_while_the_server_is_down_and_goes_out_once_when_it_is_back(w):
    bulletin = publish(w)  # nothing listens on SMTP_PORT

    # The bulletin is published and archived whatever the mail server does.
    assert db.session.scalars(select(Bulletin.number)).all() == [6]
    assert db.session.scalars(select(BulletinRun.status)).all() == ["published"]
    assert sha256(resolve(bulletin.pdf_path).read_bytes()) == bulletin.pdf_sha256
    # In-app went out; both mails failed, said in Chinese, to be retried after a minute.
    assert [(d.user_id, d.status) for d in deliveries("inapp")] == [
        (w.boss.id, "sent"),
        (w.deputy.id, "sent"),
        (w.operator.id, "sent"),
    ]
    mails = deliveries("email")
    assert sorted(d.address for d in mails) == [BOSS, OFFICE, OPERATOR]
    for d in mails:
        assert (d.status, d.attempts) == ("failed", 1)
        assert d.last_error.startswith(f"邮件服务器 {HOST}:{w.port} 发送失败："), d.last_error
        # The first back-off is one minute from the attempt.
        assert d.next_attempt_at - d.claimed_at == timedelta(minutes=1)
    # Each mail's back-off runs from its own attempt (a few milliseconds apart).
    earliest = min(d.next_attempt_at for d in mails)
    retry_at = max(d.next_attempt_at for d in mails)

    with smtp_server(w.port) as box:
        # Before the back-off has passed: nothing is tried (the server would take it).
        assert dispatch.process(db.session, w.app.config, earliest - timedelta(seconds=1)) == 0
        assert box.mails == []
        assert [d.attempts for d in deliveries("email")] == [1, 1, 1]

        # After it: each mail goes out once.
        assert dispatch.process(db.session, w.app.config, retry_at) == 3
        assert sorted(r for m in box.mails for r in m.rcpt_tos) == [BOSS, OFFICE, OPERATOR]
        assert [(d.status, d.attempts, d.last_error) for d in deliveries("email")] == [
            ("sent", 2, ""),
            ("sent", 2, ""),
            ("sent", 2, ""),
        ]
        for mail in box.mails:
            (attachment,) = list(mail.message.iter_attachments())
            assert sha256(attachment.get_content()) == bulletin.pdf_sha256

        # And never again.
        assert dispatch.process(db.session, w.app.config, retry_at + timedelta(hours=1)) == 0
        assert len(box.mails) == 3
    assert db.session.query(Notification).count() == 3


def test_a_short_mail_is_seven_bit_clean_too(w):
    # A mail whose every line is short (here 台账审核) must not go out as raw 8-bit UTF-8:
    # smtplib does not declare BODY=8BITMIME, so it has to be base64 or quoted-printable.
    with smtp_server(w.port) as box:
        events.emit(
            db.session,
            "ledger_reviewed",
            campaign_id=w.campaign.id,
            unit_id=w.jiangan.id,
            unit="江岸区",
            outcome="审核通过",
            comment="",
            actor="市级专班",
            path=f"/campaigns/{w.campaign.id}/units/jiangan",
        )
        db.session.commit()

    (mail,) = box.to(OPERATOR)
    assert mail.subject == "【台账审核】江岸区台账审核通过"
    assert mail.text == (
        "江岸区报送的台账已由市级专班审核：审核通过。\n"
        "\n"
        f"台账：{BASE_URL}/campaigns/{w.campaign.id}/units/jiangan\n"
    )
    assert mail.message.get_body(preferencelist=("plain",)).get_content_charset() == "utf-8"
    assert mail.message["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
    mail.raw.decode("ascii")


def test_the_ranking_chart_of_a_city_with_one_district_has_room_for_its_axis():
    # Found while mailing the bulletin of a one-district campaign: the bar chart is 1.04 in
    # high, matplotlib gives up its layout ("Tight layout not applied") and the PDF shows the
    # chart without its x tick labels, axis title and "目标 80%" label. (Pure: no PDF.)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = charts.by_unit([{"name": "江岸区", "party_org_coverage": 2 / 3}], 80.0)
    assert svg.lstrip().startswith("<?xml")
