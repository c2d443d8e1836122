"""/api/v1: bearer tokens, scoping by unit, figures, and settings changes.

The ledger is the same hand-worked one as in tests/test_permissions.py
(campaign 2026, wuhan-2016 template, default thresholds 50/100/3):

江岸区 (jiangan):
  江岸甲  enterprise, 120 employees, 3 formal, standalone, founded 2026-06-01
  江岸乙  enterprise,  60 employees, 1 formal, joint,      founded 2026-10-01
  江岸丙  enterprise,  20 employees, no members, 指导员 only
  江岸丁  enterprise, 200 employees, 空壳 (shell) -> excluded
武昌区 (wuchang):
  武昌甲  enterprise, 150 employees, nothing           -> must have a Party org
  武昌乙  law firm (social), 2 formal, joint, no date  -> must have a Party org

Counts worked out by hand are in JIANGAN, WUCHANG and CITY below.
"""

import hashlib
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign.core.accounts import issue_token
from campaign.core.clock import now
from campaign.core.extensions import db
from campaign.core.models import ApiToken, User
from campaign.ledger.models import Organization
from tests.conftest import login, make_two_districts, make_user

JIANGAN = {
    "base": 3,  # 甲 乙 丙; 丁 is a shell
    "excluded": 1,
    "with_party_org": 2,  # 甲 乙
    "standalone": 1,  # 甲
    "work_covered": 3,  # 甲 乙 (Party org), 丙 (指导员)
    "required": 1,  # 甲 (3 formal members, 120 employees); 乙 only needs a member
    "required_met": 1,
    "member_required": 2,  # 甲 120, 乙 60 (丁 is out of the base)
    "member_required_met": 2,
    "party_org_required_by_size": 1,  # 甲
    "party_org_required_by_size_met": 1,
}
WUCHANG = {
    "base": 2,
    "excluded": 0,
    "with_party_org": 1,  # 乙
    "standalone": 0,
    "work_covered": 1,
    "required": 2,  # 甲 (150 employees), 乙 (law firm)
    "required_met": 1,
    "member_required": 1,  # 甲 (the law firm is not an enterprise)
    "member_required_met": 0,
    "party_org_required_by_size": 1,
    "party_org_required_by_size_met": 0,
}
CITY = {k: JIANGAN[k] + WUCHANG[k] for k in JIANGAN}

JIANGAN_UNIT = {
    "code": "jiangan",
    "name": "江岸区",
    "kind": "district",
    "parent": None,
    "is_responsible": True,
    "position": 0,
    "active": True,
}
WUCHANG_UNIT = {
    "code": "wuchang",
    "name": "武昌区",
    "kind": "district",
    "parent": None,
    "is_responsible": True,
    "position": 2,
    "active": True,
}


@pytest.fixture
def world(built_once):
    return SimpleNamespace(**built_once("tests.api.world", _build_world))


def _build_world() -> dict:
    built = make_two_districts()
    jiangan, wuchang, campaign = built.jiangan, built.wuchang, built.campaign

    tokens = {}
    for username, role, unit in [
        ("jiangan_op", "operator", jiangan),
        ("jiangan_leader", "leader", jiangan),
        ("coord", "coordinator", None),
        ("boss", "leadership", None),
        ("root", "admin", None),
    ]:
        tokens[username] = issue_token(db.session, make_user(username, role, unit))
    make_user("wuchang_op", "operator", wuchang)  # token via the CLI in one test
    db.session.commit()
    return {"cid": campaign.id, "tokens": tokens}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def get(client, world, username, path, **kw):
    return client.get(path, headers=bearer(world.tokens[username]), **kw)


def patch_settings(client, world, username, body):
    return client.patch(
        f"/api/v1/campaigns/{world.cid}/settings", headers=bearer(world.tokens[username]), json=body
    )


# ---- tokens -------------------------------------------------------------------------


def test_cli_issues_a_working_token(client, runner, world):
    result = runner.invoke(args=["users", "token", "wuchang_op"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("gj_") and "\n" not in token
    response = client.get("/api/v1/units", headers=bearer(token))
    assert response.status_code == 200
    assert response.json == [WUCHANG_UNIT]


def test_cli_token_for_unknown_user_fails(runner, world):
    result = runner.invoke(args=["users", "token", "nobody"])
    assert result.exit_code != 0
    assert "不存在" in result.output


def test_only_the_tokens_hash_is_stored(world):
    token = world.tokens["coord"]
    stored = db.session.scalars(db.select(ApiToken.token_hash)).all()
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_each_issued_token_works_and_is_distinct(client, world):
    user = db.session.scalar(db.select(User).where(User.username == "coord"))
    second = issue_token(db.session, user)
    db.session.commit()
    assert second != world.tokens["coord"]
    for token in (second, world.tokens["coord"]):
        assert client.get("/api/v1/campaigns", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer gj_not-a-real-token"},
        {"Authorization": "Token {coord}"},
        {"Authorization": "Basic {coord}"},
        {"Authorization": "{coord}"},
    ],
    ids=["none", "empty", "wrong", "token-scheme", "basic-scheme", "no-scheme"],
)
def test_missing_or_wrong_token_is_401_json(client, world, headers):
    headers = {k: v.format(**world.tokens) for k, v in headers.items()}
    for path in ("/api/v1/campaigns", f"/api/v1/campaigns/{world.cid}/figures", "/api/v1/units"):
        response = client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.is_json
        assert "令牌" in response.json["message"]


def test_scheme_is_case_insensitive(client, world):
    response = client.get(
        "/api/v1/units", headers={"Authorization": f"bearer {world.tokens['coord']}"}
    )
    assert response.status_code == 200


def test_revoked_token_is_401(client, world):
    token = world.tokens["coord"]
    row = db.session.scalar(
        db.select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest())
    )
    row.revoked_at = now()
    db.session.commit()
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 401


def test_inactive_users_token_is_401(client, world):
    db.session.scalar(db.select(User).where(User.username == "coord")).active = False
    db.session.commit()
    assert get(client, world, "coord", "/api/v1/units").status_code == 401


def test_a_logged_in_browser_session_is_not_an_api_credential(client, world):
    """Session cookies are ignored, so a cross-site page cannot drive the API."""
    assert login(client, "coord").status_code == 302
    assert client.get("/api/v1/units").status_code == 401
    response = client.patch(
        f"/api/v1/campaigns/{world.cid}/settings", json={"target_party_org_coverage": "10"}
    )
    assert response.status_code == 401
    assert settings_now(client, world)["target_party_org_coverage"] == "80.00"


# ---- OpenAPI ---------------------------------------------------------------------------


def test_openapi_document_is_served_without_a_token(client, world):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["info"]["title"] == "Gongjian API"
    # The API grows (ledger upload etc.); these paths must stay.
    assert set(spec["paths"]) >= {
        "/api/v1/campaigns",
        "/api/v1/campaigns/{campaign_id}",
        "/api/v1/campaigns/{campaign_id}/settings",
        "/api/v1/campaigns/{campaign_id}/phases",
        "/api/v1/campaigns/{campaign_id}/figures",
        "/api/v1/units",
        "/api/v1/units/{code}",
    }
    assert "patch" in spec["paths"]["/api/v1/campaigns/{campaign_id}/settings"]
    assert "get" in spec["paths"]["/api/v1/campaigns/{campaign_id}/figures"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }


# ---- units -----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["jiangan_op", "jiangan_leader"])
def test_unit_user_lists_only_its_unit(client, world, username):
    response = get(client, world, username, "/api/v1/units")
    assert response.status_code == 200
    assert response.json == [JIANGAN_UNIT]


@pytest.mark.parametrize("username", ["coord", "boss", "root"])
def test_city_wide_roles_list_every_responsible_unit(client, world, username):
    response = get(client, world, username, "/api/v1/units")
    assert response.status_code == 200
    assert response.json == [JIANGAN_UNIT, WUCHANG_UNIT]  # the street is not a responsible unit


def test_unit_user_reads_own_unit_and_its_street_but_not_another_district(client, world):
    own = get(client, world, "jiangan_op", "/api/v1/units/jiangan")
    assert own.status_code == 200 and own.json == JIANGAN_UNIT
    street = get(client, world, "jiangan_op", "/api/v1/units/erqi")
    assert street.status_code == 200
    assert street.json["parent"] == "jiangan" and street.json["name"] == "二七街道"

    other = get(client, world, "jiangan_op", "/api/v1/units/wuchang")
    missing = get(client, world, "jiangan_op", "/api/v1/units/no-such-unit")
    assert other.status_code == missing.status_code == 404
    assert other.is_json and other.json == missing.json  # forbidden looks like missing


def test_coordinator_reads_any_unit(client, world):
    assert get(client, world, "coord", "/api/v1/units/wuchang").json == WUCHANG_UNIT
    assert get(client, world, "coord", "/api/v1/units/no-such-unit").status_code == 404


# ---- campaigns --------------------------------------------------------------------------


def test_campaign_and_phases_are_readable_by_every_role(client, world):
    for username in world.tokens:
        campaign = get(client, world, username, f"/api/v1/campaigns/{world.cid}")
        assert campaign.status_code == 200
        assert campaign.json["starts_on"] == "2026-08-14"
        assert campaign.json["ends_on"] == "2026-12-30"
        assert campaign.json["target_party_org_coverage"] == "80.00"
        phases = get(client, world, username, f"/api/v1/campaigns/{world.cid}/phases").json
        assert [p["position"] for p in phases] == list(range(1, len(phases) + 1))
    assert get(client, world, "coord", "/api/v1/campaigns/9999").status_code == 404
    assert get(client, world, "coord", "/api/v1/campaigns/9999/phases").status_code == 404


# ---- figures -----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["jiangan_op", "jiangan_leader"])
def test_unit_user_figures_cover_only_its_unit(client, world, username):
    response = get(client, world, username, f"/api/v1/campaigns/{world.cid}/figures")
    assert response.status_code == 200
    body = response.json
    assert body["as_of"] is None
    assert len(body["units"]) == 1
    # The figures name each unit without its place in the tree.
    unit = {k: v for k, v in JIANGAN_UNIT.items() if k not in ("position", "active")}
    assert body["units"][0]["unit"] == unit
    assert body["units"][0]["figures"]["counts"] == JIANGAN
    assert body["overall"] == body["units"][0]["figures"]
    overall = body["overall"]
    assert overall["party_org_coverage"] == pytest.approx(2 / 3)
    assert overall["work_coverage"] == pytest.approx(1.0)
    assert overall["standalone_rate"] == pytest.approx(0.5)
    assert overall["required_coverage"] == pytest.approx(1.0)
    assert overall["member_rate"] == pytest.approx(1.0)
    assert overall["party_org_rate_by_size"] == pytest.approx(1.0)


@pytest.mark.parametrize("username", ["coord", "boss", "root"])
def test_city_wide_figures_sum_the_units(client, world, username):
    body = get(client, world, username, f"/api/v1/campaigns/{world.cid}/figures").json
    assert [u["unit"]["code"] for u in body["units"]] == ["jiangan", "wuchang"]
    assert body["units"][0]["figures"]["counts"] == JIANGAN
    assert body["units"][1]["figures"]["counts"] == WUCHANG
    assert body["overall"]["counts"] == CITY
    assert (
        body["overall"]["counts"]["base"]
        == sum(u["figures"]["counts"]["base"] for u in body["units"])
        == 5
    )
    overall = body["overall"]
    assert overall["party_org_coverage"] == pytest.approx(3 / 5)
    assert overall["work_coverage"] == pytest.approx(4 / 5)
    assert overall["standalone_rate"] == pytest.approx(1 / 3)
    assert overall["required_coverage"] == pytest.approx(2 / 3)
    assert overall["member_rate"] == pytest.approx(2 / 3)
    assert overall["party_org_rate_by_size"] == pytest.approx(1 / 2)
    wuchang = body["units"][1]["figures"]
    assert wuchang["standalone_rate"] == 0.0
    assert wuchang["member_rate"] == 0.0


def test_figures_as_of_count_party_orgs_from_their_founding_day(client, world):
    path = f"/api/v1/campaigns/{world.cid}/figures"
    after = get(client, world, "jiangan_op", path, query_string={"as_of": "2026-10-15"}).json
    before = get(client, world, "jiangan_op", path, query_string={"as_of": "2026-09-30"}).json
    on_the_day = get(client, world, "jiangan_op", path, query_string={"as_of": "2026-10-01"}).json
    assert after["as_of"] == "2026-10-15"
    assert before["as_of"] == "2026-09-30"

    # 2026-10-15: 江岸甲 (founded 06-01) and 江岸乙 (founded 10-01) both count.
    assert after["overall"]["counts"] == JIANGAN
    assert on_the_day["overall"]["counts"] == JIANGAN
    # 2026-09-30: 江岸乙's joint Party org does not exist yet; it has no other coverage, so
    # its member alone does not meet 应有党员 (the Party's work must reach it too, as the
    # board asks before it closes the item): 50人以上有党员率 counts 甲 only.
    assert before["overall"]["counts"] == {
        **JIANGAN,
        "with_party_org": 1,
        "work_covered": 2,
        "member_required_met": 1,
    }
    assert before["overall"]["party_org_coverage"] == pytest.approx(1 / 3)
    assert before["overall"]["standalone_rate"] == pytest.approx(1.0)


def test_figures_as_of_keeps_party_orgs_without_a_founding_date(client, world):
    """武昌乙's joint org has no recorded date: it counts on any day."""
    body = get(
        client,
        world,
        "coord",
        f"/api/v1/campaigns/{world.cid}/figures",
        query_string={"as_of": "2026-01-01"},
    ).json
    assert body["units"][1]["figures"]["counts"]["with_party_org"] == 1
    # 江岸: 甲 founded 2026-06-01 and 乙 2026-10-01, so neither counts yet.
    assert body["units"][0]["figures"]["counts"]["with_party_org"] == 0
    assert body["units"][0]["figures"]["standalone_rate"] is None  # no Party org to divide by


def test_figures_reject_a_bad_date_and_unknown_campaign(client, world):
    path = f"/api/v1/campaigns/{world.cid}/figures"
    assert (
        get(client, world, "coord", path, query_string={"as_of": "2026-13-01"}).status_code == 422
    )
    missing = get(client, world, "coord", "/api/v1/campaigns/9999/figures")
    assert missing.status_code == 404 and missing.is_json


# ---- settings -------------------------------------------------------------------------------


def settings_now(client, world):
    return get(client, world, "coord", f"/api/v1/campaigns/{world.cid}").json


@pytest.mark.parametrize("value", ["85", 85, "85%"])
def test_coordinator_changes_the_coverage_target(client, world, value):
    response = patch_settings(client, world, "coord", {"target_party_org_coverage": value})
    assert response.status_code == 200
    assert response.json["target_party_org_coverage"] == "85.00"
    assert settings_now(client, world)["target_party_org_coverage"] == "85.00"


def test_admin_changes_settings_too(client, world):
    response = patch_settings(
        client, world, "root", {"report_day_first": 5, "report_day_second": 20}
    )
    assert response.status_code == 200
    assert (response.json["report_day_first"], response.json["report_day_second"]) == (5, 20)


def test_threshold_change_rejudges_the_ledger(client, world):
    """With 应建 from 60 employees, 江岸乙 (60, joint) becomes required and already met."""
    response = patch_settings(client, world, "coord", {"party_org_required_employees": 60})
    assert response.status_code == 200
    assert response.json["party_org_required_employees"] == 60
    body = get(client, world, "coord", f"/api/v1/campaigns/{world.cid}/figures").json
    assert body["units"][0]["figures"]["counts"] == {
        **JIANGAN,
        "required": 2,
        "required_met": 2,
        "party_org_required_by_size": 2,
        "party_org_required_by_size_met": 2,
    }
    assert body["units"][1]["figures"]["counts"] == WUCHANG  # 武昌甲 has 150 either way


BAD_SETTINGS = [
    ({"member_required_employees": -1}, "member_required_employees", "不能为负数"),
    ({"target_party_org_coverage": 120}, "target_party_org_coverage", "应在0%至100%之间"),
    ({"target_required_coverage": "-0.01"}, "target_required_coverage", "应在0%至100%之间"),
    ({"ends_on": "2026-08-13"}, "ends_on", "不能早于开始日期"),
    ({"starts_on": "2026-09-01", "ends_on": "2026-08-31"}, "ends_on", "不能早于开始日期"),
    ({"ends_on": "2026-02-30"}, "ends_on", "应为日期"),
    ({"standalone_formal_members": "三"}, "standalone_formal_members", "应为整数"),
    ({"report_day_first": 29}, "report_day_first", "应在1至28日之间"),
    ({"bulletin_named_units": 11}, "bulletin_named_units", "应在1至10个之间"),
    ({"report_day_first": 25}, "report_day_second", "应晚于第一个"),
    ({"name": "  "}, "name", "不能为空"),
]


@pytest.mark.parametrize("body, field, message", BAD_SETTINGS, ids=[f for _, f, _ in BAD_SETTINGS])
def test_bad_settings_are_refused_with_a_chinese_message(client, world, body, field, message):
    before = settings_now(client, world)
    response = patch_settings(client, world, "coord", body)
    assert response.status_code == 422
    assert response.is_json
    assert message in response.json["message"]
    assert message in response.json["errors"][field]
    assert settings_now(client, world) == before


def test_one_bad_field_refuses_the_whole_change(client, world):
    before = settings_now(client, world)
    response = patch_settings(
        client,
        world,
        "coord",
        {"target_party_org_coverage": "85", "member_required_employees": -1, "name": "新名称"},
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"member_required_employees"}
    assert settings_now(client, world) == before
    assert settings_now(client, world)["target_party_org_coverage"] == "80.00"


def test_every_problem_is_reported_at_once(client, world):
    response = patch_settings(
        client, world, "coord", {"member_required_employees": -1, "target_party_org_coverage": 120}
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {
        "member_required_employees",
        "target_party_org_coverage",
    }


@pytest.mark.parametrize("username", ["jiangan_op", "jiangan_leader", "boss"])
def test_non_editors_get_403_with_the_reason_on_settings(client, world, username):
    # They read the campaign and its settings, so the refusal says why (not 404).
    before = settings_now(client, world)
    response = patch_settings(client, world, username, {"target_party_org_coverage": "85"})
    assert response.status_code == 403
    assert response.json["message"] == "此操作仅限市级专班和系统管理员"
    assert settings_now(client, world) == before


def test_settings_of_unknown_campaign_is_404(client, world):
    response = client.patch(
        "/api/v1/campaigns/9999/settings",
        headers=bearer(world.tokens["coord"]),
        json={"target_party_org_coverage": "85"},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"target_party_org_coverage": "85", "year": 2030}, {"timezone": "UTC"}, {"id": 7}],
    ids=["with-year", "timezone", "id"],
)
def test_unknown_or_read_only_fields_are_refused(client, world, body):
    before = settings_now(client, world)
    response = patch_settings(client, world, "coord", body)
    assert response.status_code == 422
    field = next(k for k in body if k != "target_party_org_coverage")
    assert f"「{field}」未知字段" in response.get_json()["message"]
    assert settings_now(client, world) == before


def test_null_is_refused_rather_than_stored_as_text(client, world):
    before = settings_now(client, world)
    response = patch_settings(client, world, "coord", {"name": None})
    assert response.status_code == 422
    assert settings_now(client, world)["name"] == before["name"]


# ---- values that once reached the database and answered 500 -----------------------------


@pytest.mark.parametrize("value", ["NaN", "sNaN"])
def test_not_a_number_target_is_refused(client, world, value):
    response = patch_settings(client, world, "coord", {"target_party_org_coverage": value})
    assert response.status_code == 422
    assert "应为百分数" in response.json["errors"]["target_party_org_coverage"]
    assert settings_now(client, world)["target_party_org_coverage"] == "80.00"


@pytest.mark.parametrize("value", [2**31, 10**20])
def test_absurdly_large_threshold_is_refused(client, world, value):
    """2**31 no longer fits PostgreSQL's INTEGER, 10**20 not SQLite's either."""
    before = settings_now(client, world)
    response = patch_settings(client, world, "coord", {"member_required_employees": value})
    assert response.status_code == 422
    assert "过大" in response.json["errors"]["member_required_employees"]
    assert settings_now(client, world) == before


# ---- exclusions ---------------------------------------------------------------------


def org_id(name: str) -> int:
    return db.session.scalar(select(Organization.id).where(Organization.name == name))


def exclusion(client, world, username, name, action, body):
    path = f"/api/v1/campaigns/{world.cid}/organizations/{org_id(name)}/{action}"
    return client.post(path, headers=bearer(world.tokens[username]), json=body)


def wuchang_counts(client, world):
    body = get(client, world, "coord", f"/api/v1/campaigns/{world.cid}/figures").json
    return body["units"][1]["figures"]["counts"]


def test_a_social_organization_revoked_through_the_api_leaves_the_base_and_comes_back(
    client, world
):
    # 武昌乙 (law firm, joint Party org) 撤销登记: 武昌's base 甲 乙 -> 甲; excluded 0 -> 1;
    # with a Party org 1 -> 0; must have one 2 -> 1 (甲).
    answer = exclusion(
        client,
        world,
        "coord",
        "武昌乙",
        "exclude",
        {"status": "revoked", "reason": "市司法局：吊销执业许可证"},
    )
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["kind"], body["operating_status"], body["in_base"]) == ("social", "revoked", False)
    assert body["exclusion_note"] == "市司法局：吊销执业许可证"
    got = wuchang_counts(client, world)
    expected = {"base": 1, "excluded": 1, "with_party_org": 0, "required": 1}
    assert {k: got[k] for k in expected} == expected

    answer = exclusion(
        client, world, "coord", "武昌乙", "restore", {"reason": "复核：许可证已恢复"}
    )
    assert (answer.status_code, answer.json["in_base"], answer.json["operating_status"]) == (
        200,
        True,
        "normal",
    )
    assert wuchang_counts(client, world) == WUCHANG


def test_the_api_refuses_an_exit_of_the_other_kind_naming_the_field(client, world):
    answer = exclusion(
        client, world, "coord", "武昌甲", "exclude", {"status": "revoked", "reason": "核实"}
    )
    assert answer.status_code == 422
    message = "「剔除类型」：非公企业不能按“撤销登记”剔除（可选：空壳、僵尸、影子）"
    assert message in answer.json["errors"]["status"]
    answer = exclusion(
        client, world, "coord", "武昌乙", "exclude", {"status": "closed", "reason": "核实"}
    )
    assert answer.status_code == 422
    assert "剔除类型应为：非公企业空壳、僵尸、影子；社会组织注销、撤销登记、长期停止活动" in str(
        answer.json["errors"]
    )
    assert wuchang_counts(client, world) == WUCHANG


def test_only_coordinators_exclude_and_only_what_they_may_see(client, world):
    body = {"status": "deregistered", "reason": "核实"}
    assert exclusion(client, world, "jiangan_op", "武昌乙", "exclude", body).status_code == 404
    # A district's operator proposes his enterprise's exclusion: it stays in the base until
    # 工商 confirms it (tests/ledger/test_exclusion_proposals.py).
    answer = exclusion(
        client, world, "jiangan_op", "江岸甲", "exclude", {**body, "status": "shell"}
    )
    assert (answer.status_code, answer.json["in_base"]) == (200, True)
    assert wuchang_counts(client, world) == WUCHANG
