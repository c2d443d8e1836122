"""The verifying departments (issue 17 part 5, seed 004's 落实工作责任): a department with a
remit reads, city-wide and read-only, the organizations in it by their tags (商务: 外商投资;
工商: every enterprise; 教育: private schools …) and nothing else (404), adds check notes to
them (recorded), and owes its 落实专项工作责任情况报告 as a deliverable of its own."""

import io
import json
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign.audit import AuditEntry
from campaign.core import units
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.core.vocab import UnitKind
from campaign.ledger.models import CheckNote, Organization
from campaign.ledger.services import update_organization
from campaign.timeline.models import Deliverable, Task, TaskStatus
from tests import documents
from tests.conftest import (
    csrf_token,
    loaded,
    login,
    make_campaign,
    make_org,
    make_unit,
    make_user,
    refs,
)


def _org(campaign, unit, name, tags, **kw):
    org = make_org(campaign, unit, name=name, category=tags[0], **kw)
    update_organization(db.session, campaign, org, {"tags": tags}, None)
    return org


@pytest.fixture
def w(app, built_once):
    built = loaded(built_once("tests.test_verifying_departments.w", _build))
    return type("W", (), {"app": app, **vars(built)})


def _build() -> SimpleNamespace:
    city = make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
    east = make_unit("east", "东城区", parent=city)
    west = make_unit("west", "西城区", parent=city)
    make_unit("mzj", "市民政局", kind=UnitKind.DEPARTMENT, parent=city)
    departments = {}
    for code, name, remit in [
        ("swj", "市商务局", "commerce"),
        ("gsj", "市工商局", "aic"),
        ("jyj", "市教育局", "education"),
        ("jxw", "市经信委", "economy"),
    ]:
        unit = make_unit(code, name, kind=UnitKind.DEPARTMENT, parent=city, responsible=False)
        units.set_remit(db.session, unit, remit, "test")
        departments[code] = unit
    campaign = make_campaign(2026)
    orgs = {
        "甲": _org(
            campaign, east, "东城甲外资制造有限公司", ["foreign", "above_scale"], employees=300
        ),
        "乙": _org(campaign, east, "东城乙商贸有限公司", ["other"]),
        "丙": _org(campaign, east, "东城丙民办学校", ["school"], kind="social", level="district"),
        "丁": _org(campaign, west, "西城丁外资贸易有限公司", ["foreign"]),
        "戊": _org(
            campaign, west, "西城戊律师事务所", ["law_firm"], kind="social", level="district"
        ),
    }
    for code in departments:
        make_user(f"{code}_user", "verifier", departments[code])
    make_user("coord", "coordinator")
    make_user("east_op", "operator", east)
    db.session.commit()
    return refs(SimpleNamespace(campaign=campaign, orgs=orgs, departments=departments))


def browser(w, username):
    client = w.app.test_client()
    assert login(client, username).status_code == 302
    return client


def listed(client, w) -> set[str]:
    html = client.get(f"/campaigns/{w.campaign.id}/remit").get_data(as_text=True)
    return {name for name, org in w.orgs.items() if org.name in html}


@pytest.mark.parametrize(
    "username, remit",
    [
        ("swj_user", {"甲", "丁"}),  # 商务: 外商投资, in both districts
        ("gsj_user", {"甲", "乙", "丁"}),  # 工商: every enterprise
        ("jyj_user", {"丙"}),  # 教育: private schools
        ("jxw_user", {"甲"}),  # 经信: 规模以上 (甲 is also 外商投资)
    ],
)
def test_a_department_reads_exactly_the_organizations_in_its_remit(w, username, remit):
    client = browser(w, username)
    assert listed(client, w) == remit
    cid = w.campaign.id
    for name, org in w.orgs.items():
        status = client.get(f"/campaigns/{cid}/organizations/{org.id}").status_code
        assert status == (200 if name in remit else 404), name
    # Nothing else of the units: their pages, ledgers and exports are not found.
    for path in (
        f"/campaigns/{cid}/units/east",
        f"/campaigns/{cid}/units/west/ledger",
        f"/campaigns/{cid}/units/east/ledger.xlsx",
        f"/campaigns/{cid}/ledger.xlsx",
    ):
        assert client.get(path).status_code in (403, 404), path


def test_others_have_no_remit_page_and_read_organizations_as_before(w):
    cid = w.campaign.id
    east_op = browser(w, "east_op")
    assert east_op.get(f"/campaigns/{cid}/remit").status_code == 404
    assert east_op.get(f"/campaigns/{cid}/organizations/{w.orgs['甲'].id}").status_code == 200
    assert east_op.get(f"/campaigns/{cid}/organizations/{w.orgs['丁'].id}").status_code == 404
    coord = browser(w, "coord")
    assert coord.get(f"/campaigns/{cid}/organizations/{w.orgs['丁'].id}").status_code == 200


def test_a_department_adds_a_check_note_recorded_and_read_by_others(w):
    cid, jia = w.campaign.id, w.orgs["甲"]
    client = browser(w, "swj_user")
    page = f"/campaigns/{cid}/organizations/{jia.id}"
    token = csrf_token(client, page)
    response = client.post(
        page, data={"csrf_token": token, "text": "经核实为外商投资企业，职工300人"}
    )
    assert response.status_code == 302
    # An empty note is refused; a note on an organization outside the remit is not found.
    client.post(page, data={"csrf_token": token, "text": "   "})
    assert "「核查意见」不能为空" in client.get(page).get_data(as_text=True)
    outside = f"/campaigns/{cid}/organizations/{w.orgs['乙'].id}"
    assert client.post(outside, data={"csrf_token": token, "text": "x"}).status_code == 404
    # A coordinator reads it, and may not add one (403 with the reason).
    coord = browser(w, "coord")
    html = coord.get(page).get_data(as_text=True)
    assert "市商务局" in html and "经核实为外商投资企业，职工300人" in html
    refused = coord.post(page, data={"csrf_token": csrf_token(coord, page), "text": "我来写"})
    assert refused.status_code == 403
    assert "核查意见由职责范围内的核查部门填写" in refused.get_data(as_text=True)
    db.session.expire_all()
    [note] = db.session.scalars(select(CheckNote)).all()
    assert (note.organization_id, note.unit.name, note.text) == (
        jia.id,
        "市商务局",
        "经核实为外商投资企业，职工300人",
    )
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "organization.check_note")
    ).all()
    assert entry.object_id == str(jia.id) and entry.user_id is not None
    assert json.loads(entry.after) == {
        "text": "经核实为外商投资企业，职工300人",
        "unit": "市商务局",
    }
    # Read-only: the organization itself did not change.
    assert db.session.get(Organization, jia.id).employees == 300


def test_the_responsibility_report_reaches_each_department_as_its_task(w, tmp_path):
    swj = w.departments["swj"]
    # What the departments owe (seed 004: 市直有关部门细化工作方案; 各相关市直部门11月底…报送落实
    # 专项工作责任情况): not the ledger (every responsible unit's), not the districts'.
    owed = db.session.execute(
        select(Deliverable.name, Task.due_on)
        .join(Task)
        .where(Task.unit_id == swj.id)
        .order_by(Task.due_on)
    ).all()
    assert [tuple(r) for r in owed] == [
        ("部门工作方案", date(2026, 8, 17)),
        ("落实专项工作责任情况报告", date(2026, 11, 30)),
    ]
    task = db.session.scalar(
        select(Task)
        .join(Deliverable)
        .where(Task.unit_id == swj.id, Deliverable.code == "dept_responsibility")
    )
    client = browser(w, "swj_user")
    path = f"/campaigns/{w.campaign.id}/tasks/{task.id}"
    assert client.get(path).status_code == 200
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "action": "submit",
            "note": "市商务局落实专项工作责任情况",
            "file": (io.BytesIO(documents.pdf("报告")), "报告.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task.id).status == TaskStatus.SUBMITTED
    # Another department's task is not found.
    other = db.session.scalars(select(Task).where(Task.unit_id == w.departments["gsj"].id)).first()
    assert client.get(f"/campaigns/{w.campaign.id}/tasks/{other.id}").status_code == 404


def test_a_department_user_needs_a_unit_with_a_remit_and_the_remit_is_checked(w, runner):
    from campaign.core.accounts import create_user

    mzj = db.session.scalar(select(Unit).where(Unit.code == "mzj"))
    with pytest.raises(ValidationFailed) as refused:
        create_user(db.session, "mz_check", "verifier", "amber-kettle-road-19", "mzj")
    assert "没有核查职责" in str(refused.value)
    db.session.rollback()
    result = runner.invoke(args=["units", "remit", "mzj", "police"])
    assert result.exit_code != 0 and "核查职责“police”无效" in result.output
    result = runner.invoke(args=["units", "remit", "east", "tax"])
    assert result.exit_code != 0 and "不是市直部门" in result.output
    result = runner.invoke(args=["units", "remit", "mzj", "tax"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Unit, mzj.id).remit == "tax"


def test_the_api_gives_a_department_its_remit_and_nobody_else_one(w, client):
    from campaign.core.accounts import issue_token
    from campaign.core.models import User

    def token(username):
        user = db.session.scalar(select(User).where(User.username == username))
        return {"Authorization": f"Bearer {issue_token(db.session, user)}"}

    swj, op = token("swj_user"), token("east_op")
    db.session.commit()
    path = f"/api/v1/campaigns/{w.campaign.id}/remit"
    answer = client.get(path, headers=swj)
    assert answer.status_code == 200
    assert {(o["name"], o["unit"]) for o in answer.get_json()} == {
        ("东城甲外资制造有限公司", "east"),
        ("西城丁外资贸易有限公司", "west"),
    }
    assert client.get(f"{path}?q=西城", headers=swj).get_json()[0]["tags"] == ["foreign"]
    assert client.get(path, headers=op).status_code == 404
    # Nor does a department read a unit's ledger through the API.
    ledger = f"/api/v1/units/east/ledger?campaign_id={w.campaign.id}"
    assert client.get(ledger, headers=swj).status_code == 404
