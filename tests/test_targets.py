"""Targets per kind and per unit (campaign/targets.py; seed 000: separate targets for 非公 and
社会组织, a 工作覆盖率 target of 100 %, counties above the standard setting their own).

A hand-made world, the city's 党组织覆盖率 target 80 % (the template's):
  甲区: 4 enterprises, 3 with a Party org                        -> 75 %
  乙区: 4 enterprises, 3 with a Party org                        -> 75 %
  丙区: 1 enterprise with a Party org; 2 社会组织, 1 with one      -> 2/3
City: base 11, Party orgs 8 -> 72.7 %; 80 % of 11 is 8.8, so 9 are needed: 1 more.
Enterprises 9, with a Party org 7 (77.8 %); 社会组织 2, with one 1 (50 %).
甲区 sets its own target, 75 %: it reaches it and is no longer named; 乙区 (75 %, the city's
80 %) and 丙区 (66.7 %) are.
"""

import json
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign import display, targets
from campaign.audit import AuditEntry
from campaign.core.accounts import issue_token
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.half_monthly import services as half_monthly
from reports import render, snapshot
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
from tests.timeutil import at, shanghai

DUE = date(2026, 10, 25)
CUTOFF = shanghai(2026, 10, 25, 18)
EDITORS_REASON = "此操作仅限市级专班和系统管理员"


@pytest.fixture
def world(built_once):
    return loaded(built_once("tests.test_targets.world", _build_world))


def _build_world() -> SimpleNamespace:
    with at(2026, 10, 20, 9):
        campaign = make_campaign(2026)
        jia, yi, bing = make_unit("jia", "甲区"), make_unit("yi", "乙区"), make_unit("bing", "丙区")
        jia.position, yi.position, bing.position = 1, 2, 3
        for unit in (jia, yi):
            for _ in range(3):
                make_org(campaign, unit, formal=1, party_org="joint")
            make_org(campaign, unit)
        make_org(campaign, bing, formal=1, party_org="joint")
        make_org(campaign, bing, kind="social", level="district", formal=1, party_org="joint")
        make_org(campaign, bing, kind="social", level="district")
        coordinator = make_user("coord", "coordinator")
        operator = make_user("jia_op", "operator", jia)
        tokens = {
            "coord": issue_token(db.session, coordinator),
            "jia_op": issue_token(db.session, operator),
        }
        db.session.commit()
    return refs(SimpleNamespace(campaign=campaign, cid=campaign.id, tokens=tokens))


def set_target(world, **values):
    with at(2026, 10, 21, 9):
        targets.set_target(db.session, world.campaign, targets.target_from(values), "cli")
        db.session.commit()


def build(world) -> dict:
    period = next(p for p in half_monthly.periods(world.campaign) if p.due_on == DUE)
    with at(2026, 10, 25, 18, 30):
        return snapshot.build(db.session, world.campaign, period, 1, CUTOFF, [])


def named_sentence(data: dict) -> str:
    return next(t for t in data["requirements"] if "未达到" in t)


def test_one_function_answers_each_units_target(world):
    set_target(world, unit="jia", rate="party_org_coverage", percent="75", reason="已高于标准")
    set_target(world, kind="social", rate="party_org_coverage", percent="50")
    set_target(world, unit="yi", kind="social", rate="party_org_coverage", percent="40")
    goals = targets.load(db.session, world.campaign)
    ids = {u.code: u.id for u in db.session.scalars(select(Unit))}
    rate = targets.Rate.PARTY_ORG_COVERAGE
    # 甲区's own target, whatever the kind; the city's elsewhere; the kind's where it has one.
    assert goals.of(rate, ids["jia"]) == targets.Goal(rate, Decimal("75"), "unit", "已高于标准")
    assert goals.of(rate, ids["jia"], "social").percent == 75
    assert (
        goals.of(rate, ids["bing"]).percent == 80 and goals.of(rate, ids["bing"]).source == "city"
    )
    assert goals.of(rate, ids["bing"], "social").source == "kind"
    assert goals.of(rate, ids["yi"], "social").percent == 40  # its own for the kind
    assert goals.of(rate, ids["yi"], "enterprise").percent == 80
    assert goals.of(rate, ids["jia"]).text == "75%（本单位）"
    # 工作覆盖率 has a target: seed 000's 100 %.
    assert goals.of(targets.Rate.WORK_COVERAGE).percent == 100


def test_a_unit_with_its_own_lower_target_is_not_named_the_others_are(world):
    before = build(world)
    # With the city's 80 % for all, 甲区 (75 %) is named with 乙区 and 丙区, worst first.
    assert "丙区、甲区、乙区未达到80%" in named_sentence(before) or (
        "丙区、乙区、甲区未达到80%" in named_sentence(before)
    )

    set_target(world, unit="jia", rate="party_org_coverage", percent="75", reason="已高于标准")
    data = build(world)
    units = {u["name"]: u for u in data["units"]}
    assert (units["甲区"]["reaches"], units["甲区"]["own_target"], units["甲区"]["gap"]) == (
        True,
        True,
        0,
    )
    assert Decimal(units["甲区"]["target"]) == 75
    # 乙区 at 75 % against 80 %: 4 × 80 % = 3.2, so 4 are needed, 1 more.
    assert (units["乙区"]["reaches"], units["乙区"]["own_target"], units["乙区"]["gap"]) == (
        False,
        False,
        1,
    )
    # 丙区: 3 × 80 % = 2.4, so 3 are needed, 1 more.
    assert (units["丙区"]["reaches"], units["丙区"]["gap"]) == (False, 1)
    sentence = named_sentence(data)
    assert "全市党组织覆盖率为72.7%，距80%的目标还需组建1个党组织。" in sentence
    assert "丙区、乙区未达到80%" in sentence
    assert "甲区" not in sentence
    assert data["campaign"]["own_targets"] is True

    # The document says whose target each unit in the table of units below target has.
    html = render.html(data)
    assert "未达到目标（设有本单位目标的按本单位目标，其余按全市目标80%）" in html
    assert "甲区" not in html.split("三、未达目标的单位")[1].split("四、")[0]


def test_a_named_unit_with_its_own_higher_target_is_named_with_it(world):
    set_target(world, unit="bing", rate="party_org_coverage", percent="90")
    set_target(world, unit="jia", rate="party_org_coverage", percent="75")
    sentence = named_sentence(build(world))
    # 丙区 (66.7 % of its own 90 %) and 乙区 (75 % of the city's 80 %), worst first.
    assert "丙区（本单位目标90%）、乙区未达到目标（全市目标80%）" in sentence


def test_per_kind_targets_in_the_bulletin(world):
    set_target(world, kind="enterprise", rate="party_org_coverage", percent="85")
    set_target(world, kind="social", rate="party_org_coverage", percent="50")
    data = build(world)
    assert data["campaign"]["kind_targets"] is True
    enterprise = data["by_kind"]["enterprise"]["targets"]
    social = data["by_kind"]["social"]["targets"]
    # Enterprises 7 of 9 against 85 %: 9 × 85 % = 7.65, so 8 are needed, 1 more.
    assert enterprise["party_org_coverage"] == {
        "percent": "85.00",
        "source": "kind",
        "own": False,
        "reaches": False,
        "gap": 1,
    }
    # 社会组织 1 of 2 against 50 %: reached.
    assert (social["party_org_coverage"]["reaches"], social["party_org_coverage"]["gap"]) == (
        True,
        0,
    )
    # No kind target for 工作覆盖率: the city's 100 %. Enterprises work-covered 7 of 9.
    assert enterprise["work_coverage"]["percent"] == "100.00"
    assert enterprise["work_coverage"]["gap"] == 2
    assert data["overall"]["targets"]["work_coverage"]["percent"] == "100.00"
    html = render.html(data)
    assert "非公企业党组织覆盖率目标85%，未达到，还差1个" in html
    assert "社会组织党组织覆盖率目标50%，已达到" in html
    assert "工作覆盖率72.7%（目标100%）" in html


def coordinator_client(app):
    client = app.test_client()
    login(client, "coord")
    return client


def post_target(client, world, **values):
    url = f"/campaigns/{world.cid}/settings"
    data = {"csrf_token": csrf_token(client, url), "action": "set", **values}
    return client.post(f"/campaigns/{world.cid}/targets", data=data)


def change_record() -> list[display.ShownEntry]:
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_(["target.set", "target.remove"]))
        .order_by(AuditEntry.id)
    )
    return display.change_record(db.session, entries)


def test_the_settings_page_sets_changes_and_removes_a_units_target_on_the_record(app, world):
    client = coordinator_client(app)
    page = client.get(f"/campaigns/{world.cid}/settings").get_data(as_text=True)
    assert "按组织类型、按单位的目标" in page and "尚未设定" in page

    saved = post_target(
        client,
        world,
        unit="jia",
        kind="all",
        rate="party_org_coverage",
        percent="75",
        reason="覆盖率已高于全市标准",
    )
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "目标已保存" in page
    table = page.split('id="target-table"')[1].split("</table>")[0]
    assert "甲区" in table and "75%" in table and "覆盖率已高于全市标准" in table

    changed = post_target(
        client, world, unit="jia", kind="all", rate="party_org_coverage", percent="76.5"
    )
    assert changed.status_code == 302
    (row,) = targets.load(db.session, world.campaign).rows
    assert (row.percent, row.reason) == (Decimal("76.5"), "")

    record = change_record()
    assert [e.action for e in record] == ["设置目标", "设置目标"]
    assert record[0].after == (
        "适用单位：甲区；组织类型：全部组织；指标：党组织覆盖率；目标（%）：75；理由：覆盖率已高于全市标准"
    )
    assert record[1].before == (
        "适用单位：甲区；组织类型：全部组织；指标：党组织覆盖率；目标（%）：75；理由：覆盖率已高于全市标准"
    )
    assert record[1].after == (
        "适用单位：甲区；组织类型：全部组织；指标：党组织覆盖率；目标（%）：76.5；理由：（空）"
    )
    assert record[0].who == "coord"

    url = f"/campaigns/{world.cid}/settings"
    removed = client.post(
        f"/campaigns/{world.cid}/targets",
        data={"csrf_token": csrf_token(client, url), "action": "remove", "target_id": row.id},
    )
    assert removed.status_code == 302
    assert targets.load(db.session, world.campaign).rows == []
    last = change_record()[-1]
    assert last.action == "删除目标" and last.before.startswith("适用单位：甲区")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"unit": "jia", "rate": "party_org_coverage", "percent": "120"},
            "「目标（%）」应在0%至100%之间（120%）",
        ),
        (
            {"unit": "jia", "rate": "party_org_coverage", "percent": "七十"},
            "「目标（%）」应为百分数，而不是“七十”",
        ),
        (
            {"unit": "nope", "rate": "party_org_coverage", "percent": "70"},
            "没有代码为“nope”的责任单位",
        ),
        (
            {"unit": "jia", "rate": "speed", "percent": "70"},
            "「指标」应为党组织覆盖率、应建尽建率或工作覆盖率",
        ),
        ({"unit": "jia", "rate": "party_org_coverage"}, "「目标（%）」必填"),
        (
            {"unit": "", "kind": "all", "rate": "party_org_coverage", "percent": "70"},
            "全市党组织覆盖率目标请在上方",
        ),
        (
            {"unit": "jia", "rate": "party_org_coverage", "percent": "70", "reason": "长" * 201},
            "「理由」最多200个字",
        ),
        (
            {"unit": "jia", "rate": "party_org_coverage", "percent": "70", "reason": "响铃\x07"},
            "「理由」",
        ),
    ],
)
def test_a_refused_target_says_why_and_keeps_nothing(app, world, values, message):
    client = coordinator_client(app)
    response = post_target(client, world, **values)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert targets.load(db.session, world.campaign).rows == []
    assert change_record() == []


def test_operators_are_refused_with_the_reason_on_the_page_and_the_api(app, world):
    client = app.test_client()
    login(client, "jia_op")
    token = csrf_token(client, f"/campaigns/{world.cid}")
    page = client.post(
        f"/campaigns/{world.cid}/targets",
        data={"csrf_token": token, "unit": "jia", "rate": "party_org_coverage", "percent": "10"},
    )
    assert page.status_code == 403 and EDITORS_REASON in page.get_data(as_text=True)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {world.tokens['jia_op']}"}
    url = f"/api/v1/campaigns/{world.cid}/settings/targets"
    body = {"unit": "jia", "rate": "party_org_coverage", "percent": "10"}
    refused = api.put(url, json=body, headers=headers)
    assert refused.status_code == 403 and refused.json["message"] == EDITORS_REASON
    assert api.get(url, headers=headers).json == []  # reading is everyone's
    assert (
        api.get(f"/api/v1/campaigns/{world.cid + 99}/settings/targets", headers=headers).status_code
        == 404
    )
    assert targets.load(db.session, world.campaign).rows == []


def test_the_api_reads_and_writes_targets(app, world):
    api = app.test_client()
    headers = {"Authorization": f"Bearer {world.tokens['coord']}"}
    url = f"/api/v1/campaigns/{world.cid}/settings/targets"
    answer = api.put(
        url, json={"kind": "social", "rate": "work_coverage", "percent": 90}, headers=headers
    )
    assert answer.status_code == 200
    (listed,) = answer.json
    assert {k: listed[k] for k in ("unit", "unit_name", "kind", "rate", "percent")} == {
        "unit": None,
        "unit_name": "全市",
        "kind": "social",
        "rate": "work_coverage",
        "percent": "90",
    }
    refused = api.put(
        url, json={"unit": "jia", "rate": "party_org_coverage", "percent": 101}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json["errors"]["percent"] == "「目标（%）」应在0%至100%之间（101%）"
    assert api.delete(f"{url}/{listed['id']}", headers=headers).status_code == 204
    assert api.delete(f"{url}/{listed['id']}", headers=headers).status_code == 409
    assert api.get(url, headers=headers).json == []
    settings = api.patch(
        f"/api/v1/campaigns/{world.cid}/settings",
        json={"target_work_coverage": "95"},
        headers=headers,
    )
    assert settings.status_code == 200 and settings.json["target_work_coverage"] == "95.00"


def test_the_overview_and_the_wall_chart_compare_each_unit_with_its_own_target(app, world):
    set_target(world, unit="jia", rate="party_org_coverage", percent="75")
    set_target(world, kind="social", rate="party_org_coverage", percent="50")
    client = coordinator_client(app)
    overview = client.get(f"/campaigns/{world.cid}").get_data(as_text=True)
    rows = overview.split('id="unit-figures"')[1].split("</table>")[0].split("<tr>")
    jia = next(r for r in rows if "甲区" in r)
    yi = next(r for r in rows if "乙区" in r)
    assert 'class="reached">75.0%<br><span class="small muted own-target">目标75%（本单位）' in jia
    assert 'class="below">75.0%' in yi and "本单位" not in yi
    # 工作覆盖率 with its target; 非公 / 社会组织 against theirs.
    assert "目标100%" in overview
    kinds = overview.split('id="kind-figures"')[1].split("</table>")[0]
    social = kinds.split("社会组织")[1]
    assert 'class="reached">50.0%</td><td>50%</td>' in social

    board = client.get(f"/campaigns/{world.cid}/board").get_data(as_text=True)
    tiles = board.split('id="tiles"')[1]
    jia_tile = tiles.split("甲区")[0].rsplit("<a ", 1)[1]
    yi_tile = tiles.split("乙区")[0].rsplit("<a ", 1)[1]
    assert "below" not in jia_tile and "below" in yi_tile
    assert "目标75%（本单位）" in tiles.split("甲区")[1].split("</a>")[0]

    unit_board = client.get(f"/campaigns/{world.cid}/units/jia/board").get_data(as_text=True)
    assert "党组织覆盖率 75.0%（目标≥75%（本单位））" in unit_board

    # The unit's own page judges its streets and kinds by its own target too.
    unit_page = client.get(f"/campaigns/{world.cid}/units/jia").get_data(as_text=True)
    total = unit_page.split('id="area-figures"')[1].split('class="total"')[1].split("</tr>")[0]
    assert (
        'class="reached">75.0%<br><span class="small muted own-target">目标75%（本单位）' in total
    )


def test_the_audit_record_of_a_setting_names_the_work_coverage_target(app, world):
    client = coordinator_client(app)
    url = f"/campaigns/{world.cid}/settings"
    form = {"csrf_token": csrf_token(client, url), "target_work_coverage": "95"}
    assert client.post(url, data=form).status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "campaign.settings"))
    assert json.loads(entry.after) == {"target_work_coverage": "95"}
    (shown,) = display.change_record(db.session, [entry])
    assert shown.after == "工作覆盖率目标（%）：95"
