"""空壳/僵尸/影子 enterprises leave the base only when 工商 confirms (seed 004: 工商部门负责……
剔除“空壳”“僵尸”“影子”企业; issue 17 part 5): the district proposes, the enterprise stays in the
base meanwhile; the department whose remit is every enterprise (市工商局) confirms it (it
leaves, the reason saying who proposed and who confirmed) or does not (it stays, his reason
kept). Nobody else decides: the coordinators are told why (403); another district, or 商务
(whose remit is foreign enterprises only), does not see the proposal (404). Social organizations stay the coordinators' to take out.

The world: 东城区 with 东城甲 (enterprise, 120 staff) and 东城丙 (a law firm); 西城区 with
西城乙 (enterprise). The base is 3 before and after a proposal, 2 once 甲's is confirmed.
"""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign import display
from campaign.audit import AuditEntry
from campaign.core import units
from campaign.core.accounts import issue_token
from campaign.core.extensions import db
from campaign.core.models import User
from campaign.core.vocab import UnitKind
from campaign.ledger.models import ExclusionProposal, Organization
from tests.conftest import csrf_token, login, make_campaign, make_org, make_unit, make_user

REASON = "区市场监管局核实：无经营场所、无员工"


@pytest.fixture
def w(app):
    city = make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
    east = make_unit("east", "东城区", parent=city)
    west = make_unit("west", "西城区", parent=city)
    for code, name, remit in [("gsj", "市工商局", "aic"), ("swj", "市商务局", "commerce")]:
        unit = make_unit(code, name, kind=UnitKind.DEPARTMENT, parent=city, responsible=False)
        units.set_remit(db.session, unit, remit, "test")
        make_user(f"{code}_user", "verifier", unit).display_name = f"{name} 核查员"
    campaign = make_campaign(2026)
    orgs = {
        "甲": make_org(campaign, east, name="东城甲", employees=120),
        "丙": make_org(campaign, east, name="东城丙", kind="social", category="law_firm"),
        "乙": make_org(campaign, west, name="西城乙"),
    }
    make_user("coord", "coordinator")
    make_user("east_op", "operator", east).display_name = "东城区 张填报"
    make_user("west_op", "operator", west)
    db.session.commit()
    return SimpleNamespace(app=app, cid=campaign.id, orgs={k: o.id for k, o in orgs.items()})


def browser(w, username):
    client = w.app.test_client()
    assert login(client, username).status_code == 302
    client.csrf = csrf_token(client, f"/campaigns/{w.cid}/exclusions")
    return client


def post(client, path, **form):
    return client.post(path, data={"csrf_token": client.csrf, **form})


def flashed(client) -> str:
    """The messages waiting to be shown to ``client``, taken as a page would take them."""
    with client.session_transaction() as session:
        return " ".join(message for _, message in session.pop("_flashes", []))


def org(w, name) -> SimpleNamespace:
    """The organization as the database has it now (the read's transaction ended, so the
    pages' writes do not wait on it)."""
    db.session.expire_all()
    found = db.session.get(Organization, w.orgs[name])
    shown = SimpleNamespace(
        id=found.id,
        in_base=found.in_base,
        operating_status=found.operating_status,
        exclusion_note=found.exclusion_note,
        exclusion_decided_by_id=found.exclusion_decided_by_id,
    )
    db.session.rollback()
    return shown


def base(w) -> int:
    count = len(db.session.scalars(select(Organization.id).where(Organization.in_base)).all())
    db.session.rollback()
    return count


def proposals(*fields: str) -> list[tuple]:
    rows = db.session.scalars(select(ExclusionProposal).order_by(ExclusionProposal.id)).all()
    found = [tuple(getattr(p, f) for f in fields) for p in rows]
    db.session.rollback()
    return found


def proposals_table(client, w) -> str:
    html = client.get(f"/campaigns/{w.cid}/exclusions").get_data(as_text=True)
    return html.split('id="exclusion-proposals"', 1)[1].split("</table>", 1)[0]


def test_a_district_proposes_and_only_the_aic_confirmation_takes_it_out(w):
    east, west, coord, swj, gsj = (
        browser(w, u) for u in ("east_op", "west_op", "coord", "swj_user", "gsj_user")
    )
    jia = f"/campaigns/{w.cid}/organizations/{w.orgs['甲']}"
    assert post(east, f"{jia}/exclude", status="shell", reason=REASON).status_code == 302
    assert "已提请工商部门确认剔除“东城甲”；确认前仍在党建基数内。" in flashed(east)
    assert (org(w, "甲").in_base, org(w, "甲").operating_status, base(w)) == (True, "normal", 3)
    [(proposal,)] = proposals("id")
    confirm = f"/campaigns/{w.cid}/exclusion-proposals/{proposal}/confirm"

    # The district's page and the coordinator's list say it waits for 工商; not 西城区's.
    assert "待工商部门确认剔除" in east.get(f"/campaigns/{w.cid}/units/east").get_data(as_text=True)
    row = proposals_table(coord, w)
    for shown in ("东城区", "东城甲", "空壳", REASON, "东城区 张填报", "待工商部门确认"):
        assert shown in row, shown
    assert "东城甲" not in proposals_table(west, w)
    assert post(west, f"{jia}/exclude", status="shell", reason="x").status_code == 404
    assert post(west, confirm, note="").status_code == 404

    # Nobody but 工商 decides: the coordinator is told why; 商务 (东城甲 is no foreign
    # enterprise) does not see it.
    refused = post(coord, confirm, note="")
    assert refused.status_code == 403
    assert "剔除“空壳”“僵尸”“影子”企业须由工商部门核实确认" in refused.get_data(as_text=True)
    assert post(swj, confirm, note="").status_code == 404
    assert base(w) == 3

    # 工商 reads it with its buttons, and confirms: 甲 leaves the base.
    assert "确认剔除" in proposals_table(gsj, w)
    assert post(gsj, confirm, note="经核实已吊销营业执照").status_code == 302
    assert "已确认：“东城甲”剔除出党建基数。" in flashed(gsj)
    jia_row = org(w, "甲")
    gsj_user = db.session.scalar(select(User.id).where(User.username == "gsj_user"))
    assert (jia_row.in_base, jia_row.operating_status, base(w)) == (False, "shell", 2)
    assert jia_row.exclusion_note == f"{REASON}（东城区提请，市工商局确认：经核实已吊销营业执照）"
    assert jia_row.exclusion_decided_by_id == gsj_user
    assert "工商部门已确认" in proposals_table(coord, w)
    # Twice is once.
    assert post(gsj, confirm, note="").status_code == 302
    assert "该剔除申请已确认，未重复处理" in flashed(gsj)

    # The organization's change record, in plain Chinese.
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "organization", AuditEntry.object_id == str(jia_row.id))
        .order_by(AuditEntry.id)
    ).all()
    shown = [(e.who, e.action, e.after) for e in display.change_record(db.session, entries)]
    assert [s[:2] for s in shown[1:]] == [
        ("东城区 张填报", "提请工商部门确认剔除"),
        ("市工商局 核查员", "剔除出基数"),
        ("市工商局 核查员", "工商部门确认剔除"),
    ]
    assert "提请剔除类型：空壳" in shown[1][2] and REASON in shown[1][2]
    assert "工商部门意见：经核实已吊销营业执照" in shown[3][2]


def test_not_confirmed_it_stays_in_the_base_with_the_reason_and_may_be_proposed_again(w):
    west, gsj = browser(w, "west_op"), browser(w, "gsj_user")
    yi = f"/campaigns/{w.cid}/organizations/{w.orgs['乙']}"
    post(west, f"{yi}/exclude", status="zombie", reason="长期未经营")
    # A second proposal while one waits is told so.
    post(west, f"{yi}/exclude", status="shadow", reason="多重注册")
    assert "“西城乙”的剔除申请正等待工商部门确认，未重复提请" in flashed(west)
    [(proposal,)] = proposals("id")
    reject = f"/campaigns/{w.cid}/exclusion-proposals/{proposal}/reject"
    post(gsj, reject, note="  ")
    assert "「意见」不能为空：请写明不予确认的理由" in flashed(gsj)
    post(gsj, reject, note="经核实仍在正常经营")
    assert "未予确认：“西城乙”仍在党建基数内。" in flashed(gsj)
    assert proposals("state", "decision_note") == [("rejected", "经核实仍在正常经营")]
    assert (org(w, "乙").in_base, org(w, "乙").operating_status, base(w)) == (True, "normal", 3)
    assert "经核实仍在正常经营" in proposals_table(west, w)
    # Rejected, it may be proposed again (with better evidence).
    post(west, f"{yi}/exclude", status="zombie", reason="补充：连续两年未年报")
    assert proposals("state") == [("rejected",), ("pending",)]


def test_a_social_organization_is_still_the_coordinators_to_take_out(w):
    east, coord = browser(w, "east_op"), browser(w, "coord")
    bing = f"/campaigns/{w.cid}/organizations/{w.orgs['丙']}"
    refused = post(east, f"{bing}/exclude", status="deregistered", reason="x")
    assert refused.status_code == 403
    post(coord, f"{bing}/exclude", status="deregistered", reason="市民政局：已办理注销登记")
    assert (org(w, "丙").in_base, base(w)) == (False, 2)
    assert proposals("id") == []


def test_the_api_proposes_lists_and_confirms(w, client):
    def bearer(username):
        user = db.session.scalar(select(User).where(User.username == username))
        return {"Authorization": f"Bearer {issue_token(db.session, user)}"}

    east, gsj, coord = bearer("east_op"), bearer("gsj_user"), bearer("coord")
    db.session.commit()
    jia = f"/api/v1/campaigns/{w.cid}/organizations/{w.orgs['甲']}/exclude"
    answer = client.post(jia, headers=east, json={"status": "shadow", "reason": "多重注册"})
    assert answer.status_code == 200 and answer.get_json()["in_base"] is True
    listed = client.get(f"/api/v1/campaigns/{w.cid}/exclusion-proposals", headers=gsj).get_json()
    assert [(p["name"], p["unit"], p["status"], p["state"]) for p in listed] == [
        ("东城甲", "east", "shadow", "pending")
    ]
    decide = f"/api/v1/campaigns/{w.cid}/exclusion-proposals/{listed[0]['id']}/confirm"
    assert client.post(decide, headers=coord, json={}).status_code == 403
    answer = client.post(decide, headers=gsj, json={})
    assert answer.status_code == 200 and answer.get_json()["state"] == "confirmed"
    assert client.post(decide, headers=gsj, json={}).status_code == 409
    assert (org(w, "甲").in_base, base(w)) == (False, 2)


def test_a_hostile_proposal_is_refused_naming_its_field_and_nothing_is_kept(w):
    from campaign.core.errors import ValidationFailed
    from campaign.ledger import services

    jia = db.session.get(Organization, w.orgs["甲"])
    op = db.session.scalar(select(User).where(User.username == "east_op"))
    for status, reason, field, said in [
        ("shell", "  ", "reason", "剔除时必须填写理由"),
        ("revoked", "核实", "status", "「剔除类型」：非公企业不能按“撤销登记”剔除"),
        ("shell", "核实\x07", "reason", "剔除理由"),
        ("shell", "长" * 1001, "reason", "剔除理由"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            services.propose_exclusion(db.session, jia, status, reason, op)
        [(where, message)] = refused.value.problems
        assert (where, said in message) == (field, True), message
        db.session.rollback()
    assert proposals("id") == []
