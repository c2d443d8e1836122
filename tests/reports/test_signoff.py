"""Review and 签发 (issue 18, part 5) and the 发文字号 (part 3).

The ledger is make_two_districts() (tests/conftest.py); the campaign is 2026 from the
wuhan-2016 template, whose report days are 08-25, 09-10, 09-25, 10-10, 10-25, 11-10, ...: the
bulletin after 11-10 is 第6期, after 10-25 第5期. "Today" is 2026-11-12 09:00 Beijing time.

People: 王主任 (coordinator), 李部长 and 张副部长 (leadership: the signers), 江岸区's operator
and leader, and an admin.

With review off (the default) a bulletin is published at once and numbered then: the first
"武组专〔2026〕1号", the next "2号", dated the day it is published. With review on it is a
draft: only coordinators, admins and the signers see it (others: 404); coordinators edit
the text of 下步工作要求 (the figures in it are the system's: a figure not in the generated
text is refused); a signer (leadership, or a city-level unit's leader) signs it, once.
"""

import json
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign import display
from campaign.audit import AuditEntry
from campaign.core import campaigns
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.storage import resolve
from notifications.models import Event
from reports import services, snapshot
from reports.models import Bulletin
from tests.conftest import csrf_token, loaded, login, make_two_districts, make_user, refs
from tests.reports.test_bulletin import flat, pdftotext
from tests.security.test_double_submission import at_once
from tests.timeutil import at, machine_zone, shanghai

NOV_10, OCT_25 = date(2026, 11, 10), date(2026, 10, 25)


@pytest.fixture(autouse=True)
def utc_machine_zone():
    with machine_zone("UTC"):
        yield


@pytest.fixture
def w(app, built_once):
    app.config["JOBS_IN_BACKGROUND"] = False
    built = loaded(built_once("tests.reports.signoff.w", _build))
    with at(2026, 11, 12, 9, 0):
        yield SimpleNamespace(
            app=app,
            campaign=built.campaign,
            cid=built.campaign.id,
            settings=services.settings_from(app.config),
            **built.users,
        )


def _build() -> SimpleNamespace:
    with at(2026, 11, 6, 10, 0):
        built = make_two_districts()
        users = {
            "coord": make_user("coord", "coordinator"),
            "boss": make_user("boss", "leadership"),
            "deputy": make_user("deputy", "leadership"),
            "admin": make_user("admin", "admin"),
            "jiangan_op": make_user("jiangan_op", "operator", built.jiangan),
            "jiangan_leader": make_user("jiangan_leader", "leader", built.jiangan),
        }
        users["boss"].display_name = "李部长"
        users["coord"].display_name = "王主任"
        db.session.commit()
    return refs(SimpleNamespace(campaign=built.campaign, users=users))


def produce(w, due: date = NOV_10) -> Bulletin:
    bulletin = services.generate(db.session, w.campaign, due, w.settings, "cli")
    db.session.commit()
    return bulletin


def review_on(w) -> None:
    campaigns.update_settings(
        db.session, w.campaign, campaigns.settings_from({"bulletin_review": "是"}), w.coord
    )
    db.session.commit()


@pytest.fixture
def draft(w, built_once) -> Bulletin:
    """Review on, and 第6期 (11-10) produced: a draft waiting for 签发, signed within 16 hours
    of its cut-off (the default), that is by 11-11 10:00. Made once per process (the PDF drawn
    once), copied back for each test."""

    def build() -> int:
        review_on(w)
        return produce(w).id

    return db.session.get_one(Bulletin, built_once("tests.reports.signoff.draft", build))


def client_for(w, username: str):
    client = w.app.test_client()
    assert login(client, username).status_code == 302
    return client


def get(client, path: str):
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def audit(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def events_of(kind: str) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def pdf_text(bulletin: Bulletin) -> str:
    return flat(pdftotext(str(resolve(bulletin.pdf_path))))


def base(w) -> str:
    return f"/campaigns/{w.cid}/bulletins"


# ---- the 发文字号 without review ----------------------------------------------------------


def test_without_review_each_bulletin_is_published_with_the_next_number(w, runner):
    sixth = produce(w)
    assert (sixth.status, sixth.document_seq, sixth.document_number) == (
        "published",
        1,
        "武组专〔2026〕1号",
    )
    data = json.loads(sixth.snapshot)
    # Produced on 11-12 (补发), dated on its report day, the day its figures stand for.
    assert (data["document_number"], data["signed_on"]) == ("武组专〔2026〕1号", "2026-11-10")
    assert "draft" not in data
    assert "武组专〔2026〕1号" in pdf_text(sixth)

    # A new prefix applies to what is numbered next; the count goes on.
    campaigns.update_settings(
        db.session, w.campaign, campaigns.settings_from({"document_prefix": "武组通"}), w.coord
    )
    db.session.commit()
    fifth = produce(w, OCT_25)
    assert (fifth.number, fifth.document_number) == (5, "武组通〔2026〕2号")
    assert [e.after for e in audit("bulletin.publish")][1].find("武组通〔2026〕2号") > 0
    # The one told about it: the published event says its number.
    assert [e.payload["document_number"] for e in events_of("bulletin_published")] == [
        "武组专〔2026〕1号",
        "武组通〔2026〕2号",
    ]
    result = runner.invoke(args=["bulletin", "verify", "6"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "settings, field, message",
    [
        (
            {"bulletin_review": "也许"},
            "bulletin_review",
            "「通报须经审核签发后发布」应为“是”或“否”，而不是“也许”",
        ),
        (
            {"document_prefix": "武组〔专"},
            "document_prefix",
            "「发文字号前缀（如“武组专”）」只能由文字组成，不能含“〔”（年份和序号由系统编排）",
        ),
        ({"document_prefix": "  "}, "document_prefix", "「发文字号前缀（如“武组专”）」不能为空"),
        (
            {"bulletin_sign_hours": "0"},
            "bulletin_sign_hours",
            "「草稿截止后多少小时未签发即提醒签发人」应在1至168小时之间（0）",
        ),
    ],
)
def test_the_review_settings_refuse_what_they_cannot_be(w, settings, field, message):
    with pytest.raises(ValidationFailed) as refused:
        campaigns.settings_from(settings)
    assert refused.value.problems == [(field, message)]


def test_the_settings_page_turns_review_on(w):
    coord = client_for(w, "coord")
    path = f"/campaigns/{w.cid}/settings"
    page = coord.get(path).get_data(as_text=True)
    assert '<select id="bulletin_review" name="bulletin_review">' in page
    form = {
        f: page.split(f'name="{f}" type="text" value="', 1)[1].split('"', 1)[0]
        for f, (_, kind) in campaigns.SETTINGS.items()
        if kind not in ("yesno", "date", "due")  # due: a date input, empty
    }
    window = {"starts_on": w.campaign.starts_on, "ends_on": w.campaign.ends_on}
    form |= {k: v.isoformat() for k, v in window.items()} | {"bulletin_review": "是"}
    form |= {"csrf_token": csrf_token(coord, path)}
    answer = coord.post(path, data=form)
    assert answer.status_code == 302
    db.session.refresh(w.campaign)
    assert w.campaign.bulletin_review is True
    page = coord.get(path).get_data(as_text=True)
    assert '<option value="是" selected>' in page


# ---- the draft: who sees it -------------------------------------------------------------


def test_with_review_the_bulletin_is_a_draft_only_reviewers_and_signers_see(w, draft):
    assert (draft.status, draft.document_seq, draft.document_number) == ("draft", None, "")
    assert json.loads(draft.snapshot)["draft"] is True
    assert "文件（草稿）关于全市" in pdf_text(draft)
    # Nobody but the reviewers is told; the district hears nothing yet.
    assert events_of("bulletin_published") == []
    (told,) = events_of("bulletin_draft")
    assert told.payload["path"] == f"{base(w)}/6/draft"
    assert [e.action for e in db.session.scalars(select(AuditEntry))][-1] == "bulletin.draft"

    for username in ("coord", "boss", "deputy", "admin"):
        client = client_for(w, username)
        assert "待签发" in get(client, base(w)).get_data(as_text=True), username
        assert get(client, f"{base(w)}/6/draft").status_code == 200, username
        assert get(client, f"{base(w)}/6.pdf").status_code == 200, username
    for username in ("jiangan_op", "jiangan_leader"):
        client = client_for(w, username)
        page = get(client, base(w)).get_data(as_text=True)
        assert "第6期" not in page and "尚无通报" in page, username
        for path in ("6/draft", "6.pdf", "6.xlsx", "6/snapshot.json"):
            assert get(client, f"{base(w)}/{path}").status_code == 404, (username, path)
        token = csrf_token(client, base(w))  # the form's token, as his own pages carry it
        for path in ("6/draft", "6/sign"):
            response = client.post(f"{base(w)}/{path}", data={"csrf_token": token})
            assert response.status_code == 404, (username, path)
    # The draft PDF opens in the viewer; ?download=1 saves it.
    coord = client_for(w, "coord")
    assert get(coord, f"{base(w)}/6.pdf").headers["Content-Disposition"].startswith("inline")
    saved = get(coord, f"{base(w)}/6.pdf?download=1").headers["Content-Disposition"]
    assert saved.startswith("attachment")


# ---- editing the draft ------------------------------------------------------------------


def edit(client, w, text: str):
    path = f"{base(w)}/6/draft"
    return client.post(path, data={"requirements": text, "csrf_token": csrf_token(client, path)})


def test_a_coordinator_rewords_the_requirements_and_the_change_is_recorded(w, draft):
    before = json.loads(draft.snapshot)["requirements"]
    old_pdf = draft.pdf_path
    coord = client_for(w, "coord")
    page = get(coord, f"{base(w)}/6/draft").get_data(as_text=True)
    assert before[0] in page

    reworded = ["各区要对照目标倒排工期，确保11月20日前全部达标。"] + before[1:]
    assert any("11月20日" in p for p in before)  # the date is in the generated text
    response = edit(coord, w, "\n".join(reworded) + "\n\n")
    assert response.status_code == 302
    db.session.refresh(draft)
    assert json.loads(draft.snapshot)["requirements"] == reworded
    assert draft.pdf_path != old_pdf and resolve(old_pdf).exists()  # the earlier file stays
    assert "各区要对照目标倒排工期" in pdf_text(draft)
    (entry,) = audit("bulletin.edit")
    assert entry.actor == "coord"
    assert json.loads(entry.before)["requirements"].startswith(f"1．{before[0]}")
    assert json.loads(entry.after)["requirements"].startswith(
        "1．各区要对照目标倒排工期，确保11月20日前全部达标。\n2．"
    )

    # The record reads in Chinese, as the audit pages show it.
    assert display.audit_action(entry.action) == "修改通报草稿"
    assert (
        "下步工作要求：1．各区要对照目标倒排工期，确保11月20日前全部达标。\n2．"
        in display.audit_values(entry.after)
    )
    # The same text again changes nothing and records nothing.
    assert edit(coord, w, "\n".join(reworded)).status_code == 302
    assert len(audit("bulletin.edit")) == 1

    # A leader signs; he does not edit. An operator does not even see it.
    boss = client_for(w, "boss")
    refused = edit(boss, w, "改")
    assert refused.status_code == 403
    assert "此操作仅限市级专班和系统管理员" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "下步工作要求不能为空：至少写一段"),
        ("\n  \n", "下步工作要求不能为空：至少写一段"),
        (
            "要抓紧。\n全市还需组建999个党组织。",
            "第2段中的数字“999”不是本期通报的数据：数字由系统按截止时的数据生成，"
            "不能手工改动，只能修改文字",
        ),
        (
            "全市还需组建９９９个党组织。",  # full-width digits are digits
            "第1段中的数字“999”不是本期通报的数据：数字由系统按截止时的数据生成，"
            "不能手工改动，只能修改文字",
        ),
        ("要抓紧\x07。", "第1段含有控制字符，请删除后再保存"),
        ("长" * 601, "第1段过长（601字），每段最多600字"),
        ("\n".join(["一段。"] * 21), "下步工作要求最多20段，现有21段"),
    ],
)
def test_a_wording_that_cannot_be_printed_as_it_stands_is_refused_whole(w, draft, text, message):
    kept = (draft.snapshot, draft.pdf_path)
    response = edit(client_for(w, "coord"), w, text)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(draft)
    assert (draft.snapshot, draft.pdf_path) == kept
    assert audit("bulletin.edit") == []


# ---- 签发 -------------------------------------------------------------------------------


def sign(client, w, number: int = 6):
    path = f"{base(w)}/{number}/draft"
    return client.post(f"{base(w)}/{number}/sign", data={"csrf_token": csrf_token(client, path)})


def test_a_leader_signs_the_draft_which_is_then_numbered_archived_and_told(w, draft, runner):
    coord = client_for(w, "coord")
    reworded = ["请各区抓紧。"] + json.loads(draft.snapshot)["requirements"][1:]
    assert edit(coord, w, "\n".join(reworded)).status_code == 302

    refused = sign(coord, w)
    assert refused.status_code == 403
    assert "通报须由领导签发（角色为“领导”的用户），市级专班可审核修改文字" in refused.get_data(
        as_text=True
    )

    with at(2026, 11, 13, 8, 30):  # signed the next morning: dated that day
        boss = client_for(w, "boss")
        response = sign(boss, w)
        assert response.status_code == 302
        assert response.headers["Location"] == base(w)
    db.session.refresh(draft)
    assert (draft.status, draft.document_seq, draft.document_number) == (
        "published",
        1,
        "武组专〔2026〕1号",
    )
    assert (draft.signed_by_id, draft.signed_at) == (w.boss.id, shanghai(2026, 11, 13, 8, 30))
    data = json.loads(draft.snapshot)
    assert "draft" not in data
    assert data["requirements"] == reworded  # the signed text
    assert (data["document_number"], data["signed_on"], data["signed_by"]) == (
        "武组专〔2026〕1号",
        "2026-11-13",
        "李部长",
    )
    text = pdf_text(draft)
    assert (
        "文件武组专〔2026〕1号关于全市" in text and "（草稿）" not in text and "请各区抓紧" in text
    )
    # The archive, for a district too, lists it with its number.
    page = get(client_for(w, "jiangan_op"), base(w)).get_data(as_text=True)
    assert "第6期" in page and "武组专〔2026〕1号" in page
    (entry,) = audit("bulletin.sign")
    assert entry.actor == "boss"
    assert json.loads(entry.after)["document_number"] == "武组专〔2026〕1号"
    (told,) = events_of("bulletin_published")
    assert told.payload["path"] == f"{base(w)}/6.pdf"  # straight to the PDF
    assert told.payload["document_number"] == "武组专〔2026〕1号"

    # Signed is signed: no second 签发, no more edits.
    again = sign(client_for(w, "deputy"), w)
    assert again.status_code == 409
    said = "第6期通报已由李部长于2026-11-13 08:30签发（武组专〔2026〕1号），不能再修改或重复签发"
    assert said in again.get_data(as_text=True)
    late = edit(coord, w, "再改一次。")
    assert late.status_code == 409 and said in late.get_data(as_text=True)
    assert len(audit("bulletin.sign")) == 1 and len(events_of("bulletin_published")) == 1

    # The stored snapshot renders the archived PDF again, byte for byte.
    result = runner.invoke(args=["bulletin", "verify", "6"])
    assert result.exit_code == 0, result.output


def test_drafts_are_numbered_in_the_order_they_are_signed(w, draft):
    produce(w, OCT_25)  # 第5期, after 第6期 (the draft)
    deputy = client_for(w, "deputy")  # either leader signs
    assert sign(deputy, w, 6).status_code == 302
    assert sign(deputy, w, 5).status_code == 302
    numbers = dict(db.session.execute(select(Bulletin.number, Bulletin.document_number)).all())
    assert numbers == {6: "武组专〔2026〕1号", 5: "武组专〔2026〕2号"}


def test_leaders_signing_at_once_sign_it_once(w, draft):
    clients = []
    for username in ("boss", "deputy", "boss", "deputy"):
        client = client_for(w, username)
        client.csrf = csrf_token(client, f"{base(w)}/6/draft")
        clients.append(client)

    answers = at_once(
        clients, lambda k, c: c.post(f"{base(w)}/6/sign", data={"csrf_token": c.csrf})
    )
    for answer in answers:
        assert not isinstance(answer, BaseException), answer
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [302, 409, 409, 409]
    db.session.expire_all()
    assert db.session.scalars(select(Bulletin.document_number)).all() == ["武组专〔2026〕1号"]
    assert len(audit("bulletin.sign")) == 1
    assert len(events_of("bulletin_published")) == 1


# ---- the reminder -----------------------------------------------------------------------


def test_a_draft_left_unsigned_reminds_the_signers_once_a_day(w, draft):
    # Signed within 16 hours of the cut-off (the default): 11-10 18:00, due 11-11 10:00.
    assert w.campaign.bulletin_sign_hours == 16

    def remind(moment) -> int:
        with at(*moment):
            count = services.remind_unsigned(db.session, shanghai(*moment))
            db.session.commit()
        return count

    assert remind((2026, 11, 11, 9, 59)) == 0
    assert events_of("bulletin_unsigned") == []
    remind((2026, 11, 11, 10, 0))
    remind((2026, 11, 11, 15, 0))  # the same day: told once
    remind((2026, 11, 12, 9, 0))  # the next day: told again
    told = events_of("bulletin_unsigned")
    assert [e.payload["day"] for e in told] == ["2026-11-11", "2026-11-12"]
    assert told[0].payload["path"] == f"{base(w)}/6/draft"
    assert told[0].payload["waiting_since"] == "2026-11-10 18:00"

    with at(2026, 11, 12, 9, 5):
        assert sign(client_for(w, "boss"), w).status_code == 302
    assert remind((2026, 11, 13, 9, 0)) == 0  # signed: nobody is reminded


def test_the_reminder_reaches_the_signers_only(w, draft):
    from notifications import dispatch

    with at(2026, 11, 11, 10, 0):
        services.remind_unsigned(db.session, shanghai(2026, 11, 11, 10, 0))
        db.session.commit()
        dispatch.fan_out_pending(db.session)
    (event,) = events_of("bulletin_unsigned")
    users = {
        d.user_id
        for d in db.session.scalars(
            select(dispatch.Delivery).where(dispatch.Delivery.event_id == event.id)
        )
    }
    assert users == {w.boss.id, w.deputy.id}
    draft_told = events_of("bulletin_draft")[0]
    users = {
        d.user_id
        for d in db.session.scalars(
            select(dispatch.Delivery).where(dispatch.Delivery.event_id == draft_told.id)
        )
    }
    assert users == {w.coord.id, w.boss.id, w.deputy.id}


def test_requirements_figures_come_from_the_snapshot(w, draft):
    """The figures a coordinator may keep are those of the generated text (recomputed)."""
    data = json.loads(draft.snapshot)
    assert snapshot.requirements(data) == data["requirements"]
    assert services.figures_in("覆盖率５８.３%，还需组建12个") == ["58.3", "12"]


def test_the_scheduler_reminds_on_its_round(w, draft):
    from campaign import scheduler

    assert "bulletins.sign_reminders" in {job["id"] for job in scheduler.jobs(w.app)}
    with at(2026, 11, 11, 9, 0):
        assert scheduler.remind_unsigned_bulletins(w.app) == 0
    with at(2026, 11, 11, 10, 5):
        assert scheduler.remind_unsigned_bulletins(w.app) == 1
    assert [e.payload["day"] for e in events_of("bulletin_unsigned")] == ["2026-11-11"]


# ---- the API ----------------------------------------------------------------------------


def test_the_api_hides_drafts_and_signs_once(w, draft):
    from campaign.core.accounts import issue_token

    tokens = {
        name: issue_token(db.session, getattr(w, name)) for name in ("coord", "boss", "jiangan_op")
    }
    db.session.commit()
    api = f"/api/v1/campaigns/{w.cid}/bulletins"

    def call(method: str, name: str, path: str = ""):
        client = w.app.test_client()
        response = client.open(
            api + path, method=method, headers={"Authorization": f"Bearer {tokens[name]}"}
        )
        response.get_data()
        response.close()
        return response

    assert call("GET", "jiangan_op").json == []
    for path in ("/6", "/6/pdf", "/6/sign"):
        assert (
            call("POST" if path.endswith("sign") else "GET", "jiangan_op", path).status_code == 404
        )
    (listed,) = call("GET", "coord").json
    assert (listed["status"], listed["document_number"]) == ("draft", "")
    refused = call("POST", "coord", "/6/sign")
    assert refused.status_code == 403

    signed = call("POST", "boss", "/6/sign")
    assert signed.status_code == 200
    assert (signed.json["status"], signed.json["document_number"]) == (
        "published",
        "武组专〔2026〕1号",
    )
    again = call("POST", "boss", "/6/sign")
    assert again.status_code == 409
    assert "不能再修改或重复签发" in again.json["message"]
    (listed,) = call("GET", "jiangan_op").json
    assert listed["document_number"] == "武组专〔2026〕1号"


def test_a_wording_based_on_text_changed_meanwhile_is_refused_not_overwritten(w, draft):
    path = f"{base(w)}/6/draft"
    forms = {}
    for username in ("coord", "admin"):  # both open the draft
        client = client_for(w, username)
        page = client.get(path).get_data(as_text=True)
        based_on = page.split('name="based_on" value="', 1)[1].split('"', 1)[0]
        assert based_on == draft.snapshot_sha256
        forms[username] = (client, {"based_on": based_on, "csrf_token": csrf_token(client, path)})
    first = json.loads(draft.snapshot)["requirements"]

    client, form = forms["coord"]
    mine = ["王主任的文字。"] + first[1:]
    assert client.post(path, data=form | {"requirements": "\n".join(mine)}).status_code == 302
    client, form = forms["admin"]
    theirs = ["管理员的文字。"] + first[1:]
    refused = client.post(path, data=form | {"requirements": "\n".join(theirs)})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert services.EDITED_MEANWHILE in page
    assert "王主任的文字。" in page  # the page shows the text as it now stands
    db.session.refresh(draft)
    assert json.loads(draft.snapshot)["requirements"] == mine
    assert len(audit("bulletin.edit")) == 1
