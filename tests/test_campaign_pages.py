"""Campaigns on the web (issue 17 part 4): coordinators and admins create a campaign from a
template (wuhan-2016, seed 000's three stages, blank) with its own texts, then add, move and
remove phases and deliverables; a phase or deliverable with delivered work stays (refused with
the units named); nobody else may (403 with the reason). The same through
``POST /api/v1/campaigns``. A city that is not Wuhan reads nothing of Wuhan's campaign."""

import json
import re
from datetime import date, time

import pytest
from sqlalchemy import select

from campaign.audit import AuditEntry
from campaign.core import campaigns, installation
from campaign.core.accounts import issue_token
from campaign.core.extensions import db
from campaign.core.models import Campaign, Phase, Unit, User
from campaign.timeline.models import Deliverable, Task
from tests import documents
from tests.conftest import csrf_token, login, make_unit, make_user
from tests.timeutil import at

ONLY_EDITORS = "只有市级专班和系统管理员可以创建攻坚行动"


@pytest.fixture
def w(app):
    # A city set up by `flask init` that is not Wuhan.
    installation.initialize(db.session, "襄城市", "中共襄城市委组织部", "root", "amber-kettle-19")
    city = db.session.scalar(select(Unit).where(Unit.code == "city"))
    make_unit("east", "东城区", parent=city)
    make_unit("west", "西城区", parent=city)
    make_unit("tjj", "市统计局", kind="department", parent=city)
    make_user("coord", "coordinator")
    make_user("east_op", "operator", db.session.scalar(select(Unit).where(Unit.code == "east")))
    make_user("boss", "leadership")
    db.session.commit()
    return app


def browser(app, username: str, password: str | None = None):
    client = app.test_client()
    response = login(client, username, password) if password else login(client, username)
    assert response.status_code == 302
    return client


def post(client, path: str, **data):
    token = csrf_token(client, "/account/password")  # any page's: the token is the session's
    return client.post(path, data={"csrf_token": token, **data})


def recorded(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


SEED_000_FORM = {
    "template": "seed-000",
    "year": "2027",
    "masthead": "巩固提升活动简报",
    "document_prefix": "襄组巩办",
    "addressees": "各县（市）区委组织部，市直有关部门",
    "report_day_first": "5",
    "report_day_second": "20",
    "bulletin_time": "17:30",
}


def test_a_coordinator_creates_a_campaign_from_seed_000_with_its_own_texts(w):
    client = browser(w, "coord")
    response = post(client, "/campaigns/new", **SEED_000_FORM)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2027))
    assert campaign.name == "襄城市非公经济组织和社会组织党建巩固提升活动（2027年）"
    assert campaign.issuing_body == "中共襄城市委组织部"
    assert (campaign.starts_on, campaign.ends_on) == (date(2027, 4, 1), date(2027, 12, 31))
    assert (campaign.report_day_first, campaign.report_day_second) == (5, 20)
    assert [(p.position, p.name) for p in campaign.phases] == [
        (1, "前期筹备"),
        (2, "组织实施"),
        (3, "考核验收"),
    ]
    assert [(p.starts_on, p.ends_on) for p in campaign.phases] == [
        (date(2027, 4, 1), date(2027, 4, 30)),
        (date(2027, 5, 1), date(2027, 10, 31)),
        (date(2027, 11, 1), date(2027, 12, 31)),
    ]
    # 组织实施's dated milestones are its deliverables, each owed by every unit it names:
    # three responsible units (two districts, one department) for "all", two for districts.
    deliverables = db.session.scalars(
        select(Deliverable).where(Deliverable.campaign_id == campaign.id).order_by(Deliverable.id)
    ).all()
    assert [(d.phase.name, d.name, d.due_on, len(d.tasks)) for d in deliverables] == [
        ("前期筹备", "实施方案（含工作负责人和联络员）", date(2027, 4, 30), 3),
        ("组织实施", "集中排查台账（附表1、附表2）", date(2027, 6, 30), 3),
        ("组织实施", "辖区总台账", date(2027, 8, 31), 2),
        ("组织实施", "巩固提升活动总结材料", date(2027, 10, 31), 3),
    ]
    # The bulletin speaks in the campaign's words, numbered with its 文号 prefix, at its time.
    assert campaigns.bulletin_masthead(campaign) == "巩固提升活动简报"
    assert campaign.document_prefix == "襄组巩办"  # 襄组巩办〔2027〕N号 (reports.services)
    assert campaigns.bulletin_title(campaign, 3) == (
        "关于全市非公经济组织和社会组织党建巩固提升活动进展情况的通报（第3期）"
    )
    assert campaigns.bulletin_time(campaign, time(18)) == time(17, 30)
    [entry] = recorded("campaign.create")
    after = json.loads(entry.after)
    assert entry.user_id is not None
    assert after["template"] == "seed-000" and after["document_prefix"] == "襄组巩办"
    assert after["phases"] == ["前期筹备", "组织实施", "考核验收"]


def test_the_wuhan_template_keeps_its_bulletin_as_before(w):
    campaign = campaigns.create_from_template(db.session, "wuhan-2016", 2026)
    assert campaigns.bulletin_title(campaign, 2) == (
        "关于全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况的通报（第2期）"
    )
    assert campaign.document_prefix == "武组专"
    assert campaigns.bulletin_masthead(campaign) == f"{campaign.issuing_body}文件"
    assert campaigns.bulletin_time(campaign, time(18)) == time(18)
    assert len(campaign.phases) == 8


def test_bad_input_is_named_by_field_and_nothing_is_created(w):
    client = browser(w, "coord")
    cases = [
        ({"template": "shanghai", "year": "2027"}, "没有名为“shanghai”的模板"),
        ({"template": "blank", "year": "1999"}, "年份“1999”无效"),
        ({"template": "blank", "year": "明年"}, "「年份」应为整数"),
        (
            {
                "template": "blank",
                "year": "2027",
                "starts_on": "2027-06-01",
                "ends_on": "2027-05-01",
            },
            "结束日期（2027-05-01）不能早于开始日期（2027-06-01）",
        ),
        (
            {"template": "seed-000", "year": "2027", "ends_on": "2027-09-30"},
            "行动期间（2027-04-01至2027-09-30）应包含各阶段",
        ),
        ({"template": "blank", "year": "2027", "bulletin_time": "25:00"}, "应为时间"),
        (
            {
                "template": "blank",
                "year": "2027",
                "report_day_first": "25",
                "report_day_second": "10",
            },
            "第二个半月报送日应晚于第一个",
        ),
    ]
    for form, message in cases:
        response = post(client, "/campaigns/new", **form)
        assert response.status_code == 422, form
        assert message in response.get_data(as_text=True), form
    db.session.expire_all()
    assert db.session.scalar(select(Campaign.id)) is None
    # The same campaign twice: the second is refused.
    assert post(client, "/campaigns/new", template="blank", year="2027").status_code == 302
    response = post(client, "/campaigns/new", template="blank", year="2027")
    assert response.status_code == 409
    assert "未重复创建" in response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["east_op", "boss"])
def test_nobody_else_creates_a_campaign_or_edits_phases(w, username):
    campaign = campaigns.create_from_template(db.session, "seed-000", 2027)
    db.session.commit()
    client = browser(w, username)
    for path in ("/campaigns/new", f"/campaigns/{campaign.id}/phases"):
        response = client.get(path)
        assert response.status_code == 403
        assert "市级专班和系统管理员" in response.get_data(as_text=True)
    response = client.post("/campaigns/new", data={"template": "blank", "year": "2028"})
    assert response.status_code in (400, 403)
    db.session.expire_all()
    assert db.session.scalar(select(Campaign.id).where(Campaign.year == 2028)) is None


def test_a_blank_campaign_gets_phases_added_moved_and_removed(w):
    client = browser(w, "root", "amber-kettle-19")
    assert post(client, "/campaigns/new", template="blank", year="2027").status_code == 302
    db.session.expire_all()
    campaign = db.session.scalar(select(Campaign))
    assert campaign.name == "襄城市“两新”组织党建工作（2027年）" and campaign.phases == []
    path = f"/campaigns/{campaign.id}/phases"
    for name, starts, ends in [
        ("动员部署", "2027-01-05", "2027-01-31"),
        ("集中攻坚", "2027-02-01", "2027-10-31"),
        ("总结验收", "2027-11-01", "2027-12-20"),
    ]:
        response = post(client, path, action="add", name=name, starts_on=starts, ends_on=ends)
        assert response.status_code == 302
    # Refused: a phase ending before it starts, one outside the campaign, one without a name.
    for form, message in [
        ({"name": "甲", "starts_on": "2027-03-01", "ends_on": "2027-02-01"}, "不能早于开始日期"),
        ({"name": "乙", "starts_on": "2027-12-01", "ends_on": "2028-01-15"}, "应在行动期间"),
        ({"starts_on": "2027-03-01", "ends_on": "2027-04-01"}, "「阶段名称」不能为空"),
    ]:
        assert post(client, path, action="add", **form).status_code == 302
        assert message in client.get(path).get_data(as_text=True), form
    db.session.expire_all()
    names = lambda: [p.name for p in db.session.get(Campaign, campaign.id).phases]  # noqa: E731
    assert names() == ["动员部署", "集中攻坚", "总结验收"]

    third = db.session.scalar(select(Phase).where(Phase.name == "总结验收"))
    assert post(client, path, action="up", phase_id=str(third.id)).status_code == 302
    db.session.expire_all()
    assert names() == ["动员部署", "总结验收", "集中攻坚"]
    first = db.session.scalar(select(Phase).where(Phase.name == "动员部署"))
    post(client, path, action="up", phase_id=str(first.id))  # already first: nothing moves
    post(client, path, action="remove", phase_id=str(first.id))
    db.session.expire_all()
    assert names() == ["总结验收", "集中攻坚"]
    assert [p.position for p in db.session.get(Campaign, campaign.id).phases] == [1, 2]
    assert len(recorded("phase.create")) == 3
    assert len(recorded("phase.move")) == 1
    [removed] = recorded("phase.delete")
    assert json.loads(removed.before)["name"] == "动员部署"
    # A phase of another campaign, or none, is not found here.
    assert post(client, path, action="remove", phase_id="99999").status_code == 404


def test_a_phase_or_deliverable_with_delivered_work_stays(w, tmp_path):
    from campaign.timeline import tasks

    campaign = campaigns.create_from_template(db.session, "seed-000", 2027)
    db.session.commit()
    plan = db.session.scalar(select(Deliverable).where(Deliverable.code == "work_plan"))
    east_task = db.session.scalar(
        select(Task)
        .join(Task.unit)
        .where(Task.deliverable_id == plan.id, Task.unit.has(code="east"))
    )
    with at(2027, 4, 20, 10):
        tasks.submit_task(
            db.session,
            east_task,
            "方案已报",
            ("方案.pdf", documents.pdf("方案")),
            "east_op",
            tmp_path,
        )
    db.session.commit()
    client = browser(w, "coord")
    prepare = campaign.phases[0]
    response = post(
        client, f"/campaigns/{campaign.id}/phases", action="remove", phase_id=str(prepare.id)
    )
    assert response.status_code == 302
    page = client.get(f"/campaigns/{campaign.id}/phases").get_data(as_text=True)
    assert "东城区已报送阶段“前期筹备”的材料，不能删除" in page
    response = post(
        client,
        f"/campaigns/{campaign.id}/deliverables/{plan.id}",
        action="drop",
        reason="不再需要",
    )
    page = client.get(f"/campaigns/{campaign.id}/timeline").get_data(as_text=True)
    assert "东城区已报送“实施方案（含工作负责人和联络员）”的材料，不能删除" in page
    db.session.expire_all()
    assert [p.name for p in db.session.get(Campaign, campaign.id).phases][0] == "前期筹备"
    assert not db.session.get(Deliverable, plan.id).dropped
    # The last phase, with nothing delivered, goes with its deliverables and their tasks.
    last = db.session.get(Campaign, campaign.id).phases[2]
    post(client, f"/campaigns/{campaign.id}/phases", action="remove", phase_id=str(last.id))
    db.session.expire_all()
    assert [p.name for p in db.session.get(Campaign, campaign.id).phases] == [
        "前期筹备",
        "组织实施",
    ]


def test_deliverables_are_reordered_within_their_phase(w):
    campaign = campaigns.create_from_template(db.session, "seed-000", 2027)
    db.session.commit()
    client = browser(w, "coord")
    summary = db.session.scalar(select(Deliverable).where(Deliverable.code == "summary"))
    url = f"/campaigns/{campaign.id}/deliverables/{summary.id}"
    assert post(client, url, action="up").status_code == 302
    assert post(client, url, action="up").status_code == 302
    db.session.expire_all()
    build = db.session.scalars(
        select(Deliverable)
        .where(Deliverable.phase_id == summary.phase_id)
        .order_by(Deliverable.position, Deliverable.id)
    ).all()
    assert [d.name for d in build] == [
        "巩固提升活动总结材料",
        "集中排查台账（附表1、附表2）",
        "辖区总台账",
    ]
    assert len(recorded("deliverable.move")) == 2
    page = client.get(f"/campaigns/{campaign.id}/timeline").get_data(as_text=True)
    assert page.index("巩固提升活动总结材料</td>") < page.index("辖区总台账</td>")


def test_pages_of_a_campaign_of_another_city_say_nothing_of_wuhan(w):
    client = browser(w, "coord")
    post(client, "/campaigns/new", **SEED_000_FORM)
    db.session.expire_all()
    campaign = db.session.scalar(select(Campaign))
    cid = campaign.id
    paths = [
        "/campaigns/new",
        f"/campaigns/{cid}",
        f"/campaigns/{cid}/settings",
        f"/campaigns/{cid}/phases",
        f"/campaigns/{cid}/timeline",
        f"/campaigns/{cid}/board",
        f"/campaigns/{cid}/reports",
        f"/campaigns/{cid}/bulletins",
        f"/campaigns/{cid}/units/east",
        f"/campaigns/{cid}/units/east/ledger",
        f"/campaigns/{cid}/change-requests",
        f"/campaigns/{cid}/exclusions",
        "/units",
        "/notifications",
    ]
    seen = 0
    with at(2027, 5, 10, 9):
        client = browser(w, "coord")  # a session of that day
        for path in paths:
            response = client.get(path)
            if response.status_code != 200:
                continue
            seen += 1
            html = response.get_data(as_text=True)
            # The template list of /campaigns/new names the Wuhan template as a choice; its
            # label is the one place a user reads of it, by choice.
            if path == "/campaigns/new":
                html = re.sub(r"<select id=\"template\".*?</select>", "", html, flags=re.S)
            assert "武汉" not in html, path
            assert "百日攻坚" not in html, path
            assert "襄城市" in html, path
    assert seen >= 8
    assert "百日攻坚" not in campaigns.bulletin_title(campaign, 1)


def test_the_api_creates_a_campaign_for_coordinators_only(w, client):
    coord = issue_token(db.session, db.session.scalar(select(User).where(User.username == "coord")))
    op = issue_token(db.session, db.session.scalar(select(User).where(User.username == "east_op")))
    db.session.commit()
    body = {
        "template": "seed-000",
        "year": 2027,
        "document_prefix": "襄组巩办",
        "report_day_first": 5,
        "report_day_second": 20,
    }
    refused = client.post("/api/v1/campaigns", json=body, headers={"Authorization": f"Bearer {op}"})
    assert refused.status_code == 403
    assert ONLY_EDITORS in refused.get_data(as_text=True)
    bad = client.post(
        "/api/v1/campaigns",
        json={"template": "nowhere", "year": 2027},
        headers={"Authorization": f"Bearer {coord}"},
    )
    assert bad.status_code == 422 and "没有名为“nowhere”的模板" in bad.get_data(as_text=True)
    no_year = client.post(
        "/api/v1/campaigns",
        json={"template": "blank"},
        headers={"Authorization": f"Bearer {coord}"},
    )
    assert no_year.status_code == 422 and "year" in no_year.get_json()["errors"]
    made = client.post("/api/v1/campaigns", json=body, headers={"Authorization": f"Bearer {coord}"})
    assert made.status_code == 201, made.get_data(as_text=True)
    data = made.get_json()
    assert data["name"] == "襄城市非公经济组织和社会组织党建巩固提升活动（2027年）"
    assert data["document_prefix"] == "襄组巩办" and data["report_day_first"] == 5
    assert [p["name"] for p in data["phases"]] == ["前期筹备", "组织实施", "考核验收"]
    again = client.post(
        "/api/v1/campaigns", json=body, headers={"Authorization": f"Bearer {coord}"}
    )
    assert again.status_code == 409
