"""The 数据质量 page, its judgement form, the overview's block and /api/v1/.../signals: who
sees them (coordinators and admins; everyone else 404) and what they show.

The ledger is tests.conftest.make_two_districts plus two rows that contradict themselves:
江岸区 "党员多" (2 employees, 3 formal members: members_exceed_employees) and 武昌区 "空支部"
(单独组建 with no formal member: party_org_without_members). Nothing else is a signal
(one instructor, 张三, in one organization).
"""

from types import SimpleNamespace

import pytest

from campaign import audit
from campaign.core.accounts import issue_token
from campaign.core.extensions import db
from campaign.quality import services as quality
from campaign.quality.models import QualitySignal, SignalCode, SignalStatus
from tests.conftest import csrf_token, loaded, login, make_org, make_two_districts, make_user, refs
from tests.timeutil import at


@pytest.fixture
def world(built_once):
    with at(2026, 10, 20, 10, 0):
        yield loaded(built_once("tests.quality.pages.world", _build_world))


def _build_world() -> SimpleNamespace:
    with at(2026, 10, 20, 10, 0):
        built = make_two_districts()
        make_org(built.campaign, built.jiangan, name="党员多", employees=2, formal=3)
        make_org(built.campaign, built.wuchang, name="空支部", employees=30, party_org="standalone")
        tokens = {}
        for username, role, unit in [
            ("coord", "coordinator", None),
            ("admin", "admin", None),
            ("boss", "leadership", None),
            ("jiangan_op", "operator", built.jiangan),
            ("jiangan_leader", "leader", built.jiangan),
        ]:
            tokens[username] = issue_token(db.session, make_user(username, role, unit))
        quality.refresh(db.session, built.campaign)
        db.session.commit()
        signals = {
            s.code: s
            for s in db.session.scalars(db.select(QualitySignal).order_by(QualitySignal.id))
        }
        return refs(SimpleNamespace(**vars(built), tokens=tokens, signals=signals))


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_the_detection_found_the_two_rows_and_nothing_else(world):
    assert set(world.signals) == {
        SignalCode.MEMBERS_EXCEED_EMPLOYEES,
        SignalCode.PARTY_ORG_WITHOUT_MEMBERS,
    }
    assert world.signals[SignalCode.MEMBERS_EXCEED_EMPLOYEES].unit_id == world.jiangan.id


def test_coordinators_see_the_page_by_unit_and_by_signal(client, world):
    login(client, "coord")
    page = client.get(f"/campaigns/{world.campaign.id}/quality")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "数据质量线索" in html
    assert "1个组织填报的党员数（正式加预备）多于从业人员数，请核实。" in html
    assert "党员多（" in html and "党员3名，从业人员2人" in html
    # Filtered by unit: only 武昌区's signal.
    only = client.get(f"/campaigns/{world.campaign.id}/quality?unit=wuchang").get_data(as_text=True)
    assert "空支部" in only and "党员多（" not in only


@pytest.mark.parametrize("username", ["boss", "jiangan_op", "jiangan_leader"])
def test_everyone_else_gets_404(client, world, username):
    login(client, username)
    assert client.get(f"/campaigns/{world.campaign.id}/quality").status_code == 404
    signal = world.signals[SignalCode.MEMBERS_EXCEED_EMPLOYEES]
    response = client.post(
        f"/campaigns/{world.campaign.id}/quality/signals/{signal.id}",
        data={
            "status": "checked_ok",
            "note": "看过",
            "csrf_token": csrf_token(client, f"/campaigns/{world.campaign.id}"),
        },
    )
    assert response.status_code == 404
    assert db.session.get(QualitySignal, signal.id).status == SignalStatus.OPEN


def test_a_coordinator_marks_a_signal_with_a_note_recorded(client, world):
    login(client, "coord")
    signal = world.signals[SignalCode.MEMBERS_EXCEED_EMPLOYEES]
    url = f"/campaigns/{world.campaign.id}/quality/signals/{signal.id}"
    token = csrf_token(client, f"/campaigns/{world.campaign.id}/quality")
    refused = client.post(
        url, data={"status": "needs_fix", "note": "", "csrf_token": token}, follow_redirects=True
    )
    assert "请填写核实说明" in refused.get_data(as_text=True)
    wrong = client.post(
        url, data={"status": "maybe", "note": "x", "csrf_token": token}, follow_redirects=True
    )
    assert "「核实结果」应为" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(QualitySignal, signal.id).status == SignalStatus.OPEN

    done = client.post(
        url,
        data={"status": "needs_fix", "note": "从业人员漏填，已通知江岸区更正", "csrf_token": token},
        follow_redirects=True,
    )
    assert "已将江岸区的线索标记为“需整改”。" in done.get_data(as_text=True)
    db.session.expire_all()
    marked = db.session.get(QualitySignal, signal.id)
    assert marked.status == SignalStatus.NEEDS_FIX and marked.reviewed_by.username == "coord"
    entry = db.session.scalars(
        db.select(audit.AuditEntry).where(audit.AuditEntry.action == "quality_signal.review")
    ).one()
    assert entry.actor == "coord" and entry.object_id == str(signal.id)


def test_the_overview_counts_open_signals_per_unit_for_coordinators_only(client, world):
    login(client, "coord")
    html = client.get(f"/campaigns/{world.campaign.id}").get_data(as_text=True)
    assert 'id="quality"' in html
    assert "江岸区 <a" in html and ">1条</a>" in html
    client.post(
        "/logout", data={"csrf_token": csrf_token(client, f"/campaigns/{world.campaign.id}")}
    )
    login(client, "jiangan_op")
    assert 'id="quality"' not in client.get(f"/campaigns/{world.campaign.id}").get_data(
        as_text=True
    )


def test_the_api_returns_the_open_signals_with_codes_units_and_rows(client, world):
    url = f"/api/v1/campaigns/{world.campaign.id}/signals"
    response = client.get(url, headers=bearer(world.tokens["coord"]))
    assert response.status_code == 200
    by_code = {s["code"]: s for s in response.json}
    assert set(by_code) == {"members_exceed_employees", "party_org_without_members"}
    one = by_code["members_exceed_employees"]
    assert one["unit"] == "jiangan" and one["status"] == "open" and one["total"] == 1
    assert one["rows"][0]["name"] == "党员多"
    assert one["rows"][0]["detail"] == "党员3名，从业人员2人"
    only = client.get(url + "?unit=wuchang", headers=bearer(world.tokens["admin"])).json
    assert [s["code"] for s in only] == ["party_org_without_members"]
    for username in ("boss", "jiangan_op", "jiangan_leader"):
        assert client.get(url, headers=bearer(world.tokens[username])).status_code == 404
    bad = client.get(url + "?code=nonsense", headers=bearer(world.tokens["coord"]))
    assert bad.status_code == 422 and "线索代码" in bad.json["message"]


def test_a_judged_signal_leaves_the_api_list(client, world):
    signal = world.signals[SignalCode.PARTY_ORG_WITHOUT_MEMBERS]
    url = f"/api/v1/campaigns/{world.campaign.id}/signals/{signal.id}"
    refused = client.patch(
        url, json={"status": "checked_ok"}, headers=bearer(world.tokens["coord"])
    )
    assert refused.status_code == 422 and "请填写核实说明" in refused.json["message"]
    done = client.patch(
        url,
        json={"status": "checked_ok", "note": "功能型党组织，党员组织关系在原单位"},
        headers=bearer(world.tokens["coord"]),
    )
    assert done.status_code == 200 and done.json["status"] == "checked_ok"
    listed = client.get(
        f"/api/v1/campaigns/{world.campaign.id}/signals", headers=bearer(world.tokens["coord"])
    ).json
    assert [s["code"] for s in listed] == ["members_exceed_employees"]


def test_the_openapi_document_describes_the_signals(client, world):
    spec = client.get("/api/v1/openapi.json").json
    path = spec["paths"]["/api/v1/campaigns/{campaign_id}/signals"]
    assert "get" in path
    assert "patch" in spec["paths"]["/api/v1/campaigns/{campaign_id}/signals/{signal_id}"]
    codes = spec["components"]["schemas"]["Signal"]["properties"]["code"]["enum"]
    assert "evidence_reused" in codes and "founding_burst" in codes


def test_a_hostile_note_is_refused_by_name_and_nothing_is_kept(client, world):
    signal = world.signals[SignalCode.MEMBERS_EXCEED_EMPLOYEES]
    url = f"/api/v1/campaigns/{world.campaign.id}/signals/{signal.id}"
    for note in ("长" * 1001, "看过\x07了"):
        response = client.patch(
            url, json={"status": "needs_fix", "note": note}, headers=bearer(world.tokens["coord"])
        )
        assert response.status_code == 422, response.json
        assert "核实说明" in response.json["message"]
    db.session.expire_all()
    assert db.session.get(QualitySignal, signal.id).status == SignalStatus.OPEN
    assert not db.session.scalars(
        db.select(audit.AuditEntry).where(audit.AuditEntry.action == "quality_signal.review")
    ).all()
    unknown = client.patch(
        f"/api/v1/campaigns/{world.campaign.id}/signals/999999",
        json={"status": "needs_fix", "note": "x"},
        headers=bearer(world.tokens["coord"]),
    )
    assert unknown.status_code == 404
