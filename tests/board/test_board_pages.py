"""What the board's pages say: the kanban in the order of the work, an item past its planned
date, the camera for evidence, a spot check in a coordinator's words.

江岸区 has six enterprises of 10 staff with nothing (each a work-coverage item), worked up to
2026-11-20 by its operator and leader, and one 武昌区 enterprise closed the same way:

  待攻坚甲  untouched                                   -> 待攻坚
  推进中乙  planned for 11-10                            -> 推进中, 12 days overdue on 11-22
  推进中己  planned for 11-22                            -> 推进中, due today: not overdue
  待核验丙  planned for 11-01, closure filed             -> 待核验 (not worked: not overdue)
  已销号丁  closure filed and verified                   -> 已销号
  撤销戊    verified, then revoked by a spot check       -> 已撤销销号
"""

import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign.board import services as board
from campaign.board.inputs import ClosureClaim, Plan
from campaign.board.models import BoardItem, SizeMode
from campaign.core.extensions import db
from tests import documents
from tests.conftest import loaded, login, make_campaign, make_org, make_unit, make_user, refs
from tests.timeutil import at

PDF = ("批复文件.pdf", documents.pdf("board pages"))
COVERAGE = {"method": "work_coverage", "instructor": "王指导员", "mass_organizations": "工会"}
NAMES = ["待攻坚甲", "推进中乙", "推进中己", "待核验丙", "已销号丁", "撤销戊"]


@pytest.fixture
def w(app, built_once):
    built = loaded(built_once("tests.board.pages.w", lambda: _build(app)))
    return SimpleNamespace(app=app, **vars(built), storage=Path(app.config["STORAGE_PATH"]))


def _build(app) -> SimpleNamespace:
    campaign = make_campaign(2026)
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    wuchang.position = 2
    w = SimpleNamespace(
        app=app,
        campaign=campaign,
        operator=make_user("jiangan-op", "operator", jiangan),
        leader=make_user("jiangan-leader", "leader", jiangan),
        wuchang_operator=make_user("wuchang-op", "operator", wuchang),
        wuchang_leader=make_user("wuchang-leader", "leader", wuchang),
        coordinator=make_user("city", "coordinator"),
        orgs={name: make_org(campaign, jiangan, name=name, employees=10) for name in NAMES},
        wuchang_org=make_org(campaign, wuchang, name="武昌庚", employees=10),
        storage=Path(app.config["STORAGE_PATH"]),
    )
    board.sync_items(db.session, campaign)
    with at(2026, 11, 20, 10, 0):
        for name, planned in [
            ("推进中乙", date(2026, 11, 10)),
            ("推进中己", date(2026, 11, 22)),
            ("待核验丙", date(2026, 11, 1)),
        ]:
            item = item_of(w, name)
            board.update_plan(db.session, item, Plan.of(item, planned_on=planned), w.operator)
        for name in ("待核验丙", "已销号丁", "撤销戊"):
            close(w, item_of(w, name), w.operator)
        for name in ("已销号丁", "撤销戊"):
            board.verify_closure(db.session, item_of(w, name), w.leader)
        close(w, item_of(w, "武昌庚"), w.wuchang_operator)
        board.verify_closure(db.session, item_of(w, "武昌庚"), w.wuchang_leader)
        revoked = item_of(w, "撤销戊").closures[0]
        board.revoke_closure(db.session, revoked, "抽查不合格：工会未实际成立", w.coordinator)
        db.session.commit()
    del w.app, w.storage
    return refs(w)


def item_of(w, name: str) -> BoardItem:
    org = w.wuchang_org if name == "武昌庚" else w.orgs[name]
    return db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))


def close(w, item: BoardItem, user) -> None:
    claim = ClosureClaim.from_form(COVERAGE)
    board.submit_closure(db.session, item, claim, PDF, user, w.storage)


def page(w, username: str, path: str) -> str:
    client = w.app.test_client()
    login(client, username)
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def section(html: str, element_id: str) -> str:
    """The markup from the element with ``element_id`` to the end of the page."""
    return html.split(f'id="{element_id}"', 1)[1]


def columns(html: str) -> list[str]:
    return re.findall(r"<h3>([^<]+)</h3>", html)


def card(html: str, name: str) -> str:
    """The text of the board card of ``name``."""
    markup = re.search(rf'<a class="card[^>]*>\s*<div class="org">{name}</div>.*?</a>', html, re.S)
    assert markup, name
    return re.sub(r"<[^>]+>", "", markup.group(0))


def test_the_board_runs_in_the_order_of_the_work_and_keeps_revoked_closures_apart(w):
    with at(2026, 11, 22, 10, 0):
        html = page(w, "jiangan-op", f"/campaigns/{w.campaign.id}/units/jiangan/board")
    flow = section(html, "kanban")
    assert columns(flow) == ["待攻坚（1）", "推进中（2）", "待核验（1）", "已销号（1）"]
    apart = section(html, "kanban-apart").split('id="kanban"')[0]
    assert columns(apart) == ["已撤销销号（1）"]
    assert "撤销戊" in apart and "撤销戊" not in flow
    assert "需重新攻坚" in apart
    # Above the flow, where the unit sees it first.
    assert html.index('id="kanban-apart"') < html.index('id="kanban"')


def test_without_revoked_closures_there_is_nothing_apart(w):
    with at(2026, 11, 22, 10, 0):
        html = page(w, "wuchang-op", f"/campaigns/{w.campaign.id}/units/wuchang/board")
    assert 'id="kanban-apart"' not in html and "已撤销销号" not in html
    assert columns(section(html, "kanban")) == [
        "待攻坚（0）",
        "推进中（0）",
        "待核验（0）",
        "已销号（1）",
    ]


def test_an_item_past_its_planned_date_says_by_how_many_days(w):
    with at(2026, 11, 22, 10, 0):
        late = page(
            w, "jiangan-op", f"/campaigns/{w.campaign.id}/items/{item_of(w, '推进中乙').id}"
        )
        today = page(
            w, "jiangan-op", f"/campaigns/{w.campaign.id}/items/{item_of(w, '推进中己').id}"
        )
        awaiting = page(
            w, "jiangan-leader", f"/campaigns/{w.campaign.id}/items/{item_of(w, '待核验丙').id}"
        )
        html = page(w, "jiangan-op", f"/campaigns/{w.campaign.id}/units/jiangan/board")
    # 11-10 to 11-22: 12 days.
    assert re.search(r'id="item-overdue">逾期12天（计划11月10日完成）<', late)
    # Due today is not late; a closure awaiting verification is no longer the unit's to work.
    assert "item-overdue" not in today and "逾期" not in today
    assert "item-overdue" not in awaiting
    assert "逾期12天" in card(html, "推进中乙")
    assert "逾期" not in card(html, "推进中己") and "逾期" not in card(html, "待核验丙")
    with at(2026, 11, 23, 10, 0):  # a day on, a day more
        late = page(
            w, "jiangan-op", f"/campaigns/{w.campaign.id}/items/{item_of(w, '推进中乙').id}"
        )
    assert "逾期13天（计划11月10日完成）" in late


def test_the_evidence_can_be_taken_with_the_phones_camera(w):
    with at(2026, 11, 22, 10, 0):
        html = page(
            w, "jiangan-op", f"/campaigns/{w.campaign.id}/items/{item_of(w, '推进中乙').id}"
        )
    (document,) = re.findall(r'<input id="document"[^>]*>', html)
    assert 'accept="image/*,application/pdf"' in document
    assert re.search(r"\scapture[\s>]", document)


def test_a_spot_check_says_what_was_drawn_in_words_and_keeps_the_seed_in_its_record(w):
    with at(2026, 11, 22, 10, 0):
        check = board.draw(db.session, w.campaign, None, SizeMode.COUNT, 1, w.coordinator, seed=7)
        db.session.commit()
        html = page(w, "city", f"/campaigns/{w.campaign.id}/spot-checks/{check.id}")
        jiangan = db.session.scalar(
            select(BoardItem.unit_id).where(BoardItem.id == item_of(w, "已销号丁").id)
        )
        scoped = board.draw(
            db.session, w.campaign, [jiangan], SizeMode.PERCENT, 100, w.coordinator, seed=7
        )
        db.session.commit()
        scoped_html = page(w, "city", f"/campaigns/{w.campaign.id}/spot-checks/{scoped.id}")
    # Verified closures: 已销号丁 (江岸区) and 武昌庚 (武昌区); 撤销戊's was revoked.
    summary = re.search(r'<p id="draw-summary">([^<]*)</p>', html).group(1)
    assert summary == "2026-11-22 10:00，从全市2个已核验销号的组织中随机抽取1个，逐个检查。"
    scoped_summary = re.search(r'<p id="draw-summary">([^<]*)</p>', scoped_html).group(1)
    assert (
        scoped_summary
        == "2026-11-22 10:00，从江岸区1个已核验销号的组织中随机抽取1个（100%），逐个检查。"
    )
    record = section(html, "draw-record").split("</details>")[0]
    assert "<summary>抽取记录（供复核）</summary>" in record
    assert "随机种子 7" in record and "与本页一致" in record
    outside = html.replace(record, "")
    assert "种子" not in outside and "重抽" not in outside and "总体" not in outside
    assert 'id="draw-mismatch"' not in html


def test_departments_named_on_a_spot_checks_team_read_it_and_record_its_findings(w):
    # 市委统战部 (统战: spot checks only) is named on the team; 市工商局 is not; 市民政局 has
    # no remit and cannot be. The draw (seed 7, 2 of 2) takes 已销号丁 and 武昌庚.
    from campaign.audit import AuditEntry
    from campaign.core import units
    from campaign.core.vocab import UnitKind
    from tests.conftest import csrf_token

    depts = {}
    for code, name, remit in [("tzb", "市委统战部", "united_front"), ("gsj", "市工商局", "aic")]:
        depts[code] = make_unit(code, name, kind=UnitKind.DEPARTMENT, responsible=False)
        units.set_remit(db.session, depts[code], remit, "test")
        make_user(f"{code}_user", "verifier", depts[code])
    mzj = make_unit("mzj", "市民政局", kind=UnitKind.DEPARTMENT)
    db.session.commit()
    cid = w.campaign.id
    with at(2026, 11, 22, 10, 0):
        clients = {}
        for username in ("city", "tzb_user", "gsj_user"):
            clients[username] = w.app.test_client()
            login(clients[username], username)
        coord = clients["city"]
        form_page = coord.get(f"/campaigns/{cid}/spot-checks").get_data(as_text=True)
        team = section(form_page, "team").split("</div>", 1)[0]
        assert "市委统战部" in team and "市工商局" in team and "市民政局" not in team
        token = csrf_token(coord, f"/campaigns/{cid}/spot-checks")
        draw = {"csrf_token": token, "kind": "spot_check", "mode": "count", "size": "2"}
        refused = coord.post(
            f"/campaigns/{cid}/spot-checks", data={**draw, "seed": "7", "team": [str(mzj.id)]}
        )
        assert refused.status_code == 302
        assert "「检查组成员」市民政局不是在用的核查部门" in coord.get(
            refused.headers["Location"]
        ).get_data(as_text=True)
        drawn = coord.post(
            f"/campaigns/{cid}/spot-checks",
            data={**draw, "seed": "7", "team": [str(depts["tzb"].id)]},
        )
        check_url = drawn.headers["Location"]
        assert re.search(r"/spot-checks/\d+$", check_url)

        # 统战 reads it (and its list), and records a finding; 工商 (not on it) does not.
        tzb, gsj = clients["tzb_user"], clients["gsj_user"]
        html = tzb.get(check_url).get_data(as_text=True)
        assert '<p id="team">检查组成员：市委统战部</p>' in html
        assert "已销号丁" in html and "武昌庚" in html
        assert check_url.rsplit("/", 1)[1] in tzb.get(f"/campaigns/{cid}/spot-checks").get_data(
            as_text=True
        )
        assert gsj.get(check_url).status_code == 404
        listed = gsj.get(f"/campaigns/{cid}/spot-checks")
        assert listed.status_code == 200 and "尚无抽查" in listed.get_data(as_text=True)
        result_id = re.search(r'name="result_id" value="(\d+)"', html).group(1)
        token = csrf_token(tzb, check_url)
        finding = {"csrf_token": token, "result_id": result_id, "verdict": "pass", "notes": ""}
        assert tzb.post(check_url, data=finding).status_code == 302
        assert "合格" in section(tzb.get(check_url).get_data(as_text=True), "results")
        # The drawn closure's evidence, for the team.
        document = re.search(r'href="(/campaigns/\d+/closures/\d+/document)"', html).group(1)
        shown = tzb.get(document)
        assert shown.status_code == 200 and shown.data.startswith(b"%PDF")
        shown.close()
        assert gsj.get(document).status_code == 404
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "spot_check.draw"))
    assert '"team_unit_ids": [' + str(depts["tzb"].id) + "]" in entry.after


def test_the_api_draws_with_a_team_named_by_unit_codes_and_refuses_a_department_without_remit(w):
    # As on the page: 市委统战部 (统战) may be on the team; 市民政局 (no remit) may not, nor a
    # code that names no unit; a department's user does not draw (checks are the city's).
    from campaign.core import units
    from campaign.core.accounts import issue_token
    from campaign.core.models import User
    from campaign.core.vocab import UnitKind

    tzb = make_unit("tzb", "市委统战部", kind=UnitKind.DEPARTMENT, responsible=False)
    units.set_remit(db.session, tzb, "united_front", "test")
    make_user("tzb_user", "verifier", tzb)
    make_unit("mzj", "市民政局", kind=UnitKind.DEPARTMENT)

    def bearer(username: str) -> dict:
        user = db.session.scalar(select(User).where(User.username == username))
        return {"Authorization": f"Bearer {issue_token(db.session, user)}"}

    coord, dept = bearer("city"), bearer("tzb_user")
    db.session.commit()
    client = w.app.test_client()
    url = f"/api/v1/campaigns/{w.campaign.id}/spot-checks"
    draw = {"kind": "spot_check", "mode": "count", "size": 2, "seed": 7}
    with at(2026, 11, 22, 10, 0):
        refused = client.post(url, headers=coord, json={**draw, "team": ["mzj"]})
        assert refused.status_code == 422
        assert refused.get_json()["errors"]["team"] == (
            "「检查组成员」市民政局不是在用的核查部门：只能选择有核查职责的市直部门"
        )
        unknown = client.post(url, headers=coord, json={**draw, "team": ["nope"]})
        assert unknown.status_code == 422
        assert unknown.get_json()["errors"]["team"] == "「检查组成员」没有单位代码为nope的单位"
        assert client.post(url, headers=dept, json={**draw, "team": ["tzb"]}).status_code == 404
        drawn = client.post(url, headers=coord, json={**draw, "team": ["tzb"]})
        assert drawn.status_code == 201, drawn.get_json()
        assert drawn.get_json()["team"] == ["tzb"]
        assert len(drawn.get_json()["drawn"]) == 2  # 已销号丁 and 武昌庚, the two verified
    schema = client.get("/api/v1/openapi.json").get_json()
    fields = schema["components"]["schemas"]["DrawRequest"]["properties"]
    assert "有核查职责的在用市直部门的单位代码" in fields["team"]["description"]
