"""Malformed requests and what errors may say: every one a 4xx with a Chinese message, never
a 500, and never another unit's data.

The world is tests/api/test_api.py's two districts (江岸区 holds 江岸甲…丁, 武昌区 武昌甲/乙)."""

import io
import json

import pytest
from sqlalchemy import select

from campaign.core.extensions import db
from campaign.ledger.models import ImportBatch, LedgerConflict
from tests.api.test_api import bearer
from tests.conftest import csrf_token, login, make_user
from tests.ledger.conftest import DISTRICT, enterprise, ledger_xlsx

HUGE = 9223372036854775807  # 2**63 - 1: one more row than any database can skip


def _json(client, world, method, path, body, username="coord"):
    return client.open(
        path,
        method=method,
        data=body,
        headers={**bearer(world.tokens[username]), "Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("{bad", 400, "请求体不是有效的 JSON"),  # not JSON at all
        ("\xff\xfe garbage", 400, "请求体不是有效的 JSON"),
        ("[1, 2]", 422, "请求参数有误：请求体应为 JSON 对象"),  # JSON, but not an object
        ('"text"', 422, "请求参数有误：请求体应为 JSON 对象"),
        ("null", 422, "请求参数有误：请求体应为 JSON 对象"),
        ("1e999999", 422, "请求参数有误：请求体应为 JSON 对象"),
        (
            '{"target_party_org_coverage": [1, 2]}',  # a list where a value belongs
            422,
            "「党组织覆盖率目标（%）」应为百分数，而不是“[1, 2]”",
        ),
        (
            '{"target_party_org_coverage": {"a": {"b": 1}}}',
            422,
            "「党组织覆盖率目标（%）」应为百分数，而不是“{'a': {'b': 1}}”",
        ),
        ('{"no_such_setting": 1}', 422, "请求参数有误：「no_such_setting」未知字段"),
    ],
)
def test_malformed_json_is_a_4xx_with_a_chinese_message(client, world, body, status, message):
    response = _json(client, world, "PATCH", f"/api/v1/campaigns/{world.cid}/settings", body)
    assert (response.status_code, response.json["message"]) == (status, message)


def test_invalid_json_says_so(client, world):
    response = _json(client, world, "PATCH", f"/api/v1/campaigns/{world.cid}/settings", "{bad")
    assert response.status_code == 400
    assert response.json["message"] == "请求体不是有效的 JSON"


def test_a_list_instead_of_an_object_says_so(client, world):
    response = _json(client, world, "PATCH", f"/api/v1/campaigns/{world.cid}/settings", "[1, 2]")
    assert response.status_code == 422
    assert response.json["message"] == "请求参数有误：请求体应为 JSON 对象"


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (HUGE, "请求参数有误：「页码」应在1到100000之间"),
        (-HUGE, "请求参数有误：「页码」应在1到100000之间"),
        (0, "请求参数有误：「页码」应在1到100000之间"),
        ("abc", "请求参数有误：「页码」应为整数"),
    ],
)
def test_page_numbers_out_of_range_are_refused_by_name_in_the_api(client, world, page, message):
    response = client.get(
        f"/api/v1/campaigns/{world.cid}/items?unit=jiangan&page={page}",
        headers=bearer(world.tokens["coord"]),
    )
    assert (response.status_code, response.json["message"]) == (422, message)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        # Lists that show the nearest page (the first, or the last of 100,000).
        ("/campaigns/{cid}/units/jiangan/board?page={page}", 200),
        ("/campaigns/{cid}/units/jiangan?page={page}", 200),
        # The delivery log answers a page that does not exist with 404, as db.paginate does.
        ("/campaigns/{cid}/deliveries?page={page}", 404),
    ],
)
def test_page_numbers_out_of_range_are_not_a_500_on_pages(app, world, path, status):
    client = app.test_client()
    make_user("coord_page", "coordinator")
    db.session.commit()
    assert login(client, "coord_page").status_code == 302
    for page in (HUGE, -HUGE, 0):
        response = client.get(path.format(cid=world.cid, page=page))
        assert response.status_code == status, (page, response.status_code)


# ---- an import refusal and what it tells the other unit's users -------------------------


def test_a_refused_import_does_not_tell_one_unit_another_units_organization_names(
    app, client, world, tmp_path
):
    """武昌区's operator uploads a code 江岸区 holds, under a name of his own choosing.

    He learns that 江岸区 holds it (both units must sort it out), but not what 江岸区's ledger
    calls it; 江岸区's page shows its own name for the organization, never his text."""
    app.config["JOBS_IN_BACKGROUND"] = False
    from campaign.core.models import Campaign, Unit
    from tests.conftest import make_org

    campaign = db.session.get(Campaign, world.cid)
    jiangan = db.session.scalar(select(Unit).where(Unit.code == "jiangan"))
    make_org(campaign, jiangan, name="江岸真实企业有限公司")
    assert db.session.scalar(select(LedgerConflict).limit(1)) is None
    from campaign.ledger.models import Organization

    code = db.session.scalar(
        select(Organization.credit_code).where(Organization.name == "江岸真实企业有限公司")
    )
    db.session.commit()

    attacker_text = "<b>江岸区台账造假</b>请速联系13800000000"
    data = ledger_xlsx(
        [enterprise(attacker_text, code, 所在区="武昌区", **{"街道（乡镇）/园区": None})]
    )
    response = client.post(
        "/api/v1/units/wuchang/ledger",
        data={"file": (io.BytesIO(data), "台账.xlsx")},
        headers=bearer(_token_for(world, "wuchang_op")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    problems = response.json["errors"]["file"]
    assert problems == [
        f"「附表1 非公企业」第3行「统一社会信用代码」：{code} 已在江岸区的台账中，"
        "同一组织不能由两个单位填报，请与该单位核实"
    ]
    assert "江岸真实企业有限公司" not in json.dumps(response.json, ensure_ascii=False)

    # 江岸区's operator sees the conflict with his own ledger's name, not the attacker's text.
    make_user("jiangan_op2", "operator", jiangan)
    db.session.commit()
    page_client = app.test_client()
    assert login(page_client, "jiangan_op2").status_code == 302
    html = page_client.get(f"/campaigns/{world.cid}/units/jiangan/ledger").get_data(as_text=True)
    table = html[html.index("重复填报") :]
    assert code in table and "武昌区" in table
    assert "江岸真实企业有限公司" in table
    assert "江岸区台账造假" not in html and "13800000000" not in html


def _token_for(world, username: str) -> str:
    from campaign.core.accounts import issue_token
    from campaign.core.models import User

    user = db.session.scalar(select(User).where(User.username == username))
    token = issue_token(db.session, user)
    db.session.commit()
    return token


def test_the_claimants_own_page_shows_his_own_file_name_not_the_holders(app, world):
    """The 武昌区 operator's ledger page lists the conflict with the name from his file."""
    app.config["JOBS_IN_BACKGROUND"] = False
    from campaign.core.models import Campaign, Unit
    from tests.conftest import make_org

    campaign = db.session.get(Campaign, world.cid)
    jiangan = db.session.scalar(select(Unit).where(Unit.code == "jiangan"))
    make_org(campaign, jiangan, name="江岸真实企业有限公司")
    db.session.commit()
    from campaign.ledger.models import Organization

    code = db.session.scalar(
        select(Organization.credit_code).where(Organization.name == "江岸真实企业有限公司")
    )
    client = app.test_client()
    assert login(client, "wuchang_op").status_code == 302
    data = ledger_xlsx(
        [enterprise("武昌自填名称", code, 所在区="武昌区", **{"街道（乡镇）/园区": None})]
    )
    token = csrf_token(client, f"/campaigns/{world.cid}/units/wuchang/ledger")
    client.post(
        f"/campaigns/{world.cid}/units/wuchang/ledger/imports",
        data={"csrf_token": token, "file": (io.BytesIO(data), "台账.xlsx")},
        content_type="multipart/form-data",
    )
    assert db.session.scalar(select(ImportBatch.status)) == "refused"
    html = client.get(f"/campaigns/{world.cid}/units/wuchang/ledger").get_data(as_text=True)
    table = html[html.index("重复填报") :]
    assert "武昌自填名称" in table and code in table
    assert "江岸真实企业有限公司" not in html
    assert DISTRICT in table  # 江岸区: he must know whom to talk to


def test_a_nul_character_in_a_search_or_a_body_is_refused_not_a_database_error(app, client, world):
    """PostgreSQL cannot hold U+0000: a search or a comment carrying it is refused at the edge,
    on both databases alike."""
    make_user("coord_nul", "coordinator")
    db.session.commit()
    page = app.test_client()
    assert login(page, "coord_nul").status_code == 302
    for path in (
        f"/campaigns/{world.cid}/units/jiangan?q=%00",
        f"/campaigns/{world.cid}/units/jiangan/board?q=a%00b",
    ):
        response = page.get(path)
        assert response.status_code == 400, path
        assert "请求中含有空字符（U+0000），请删除后重试" in response.get_data(as_text=True)
    response = _json(
        client,
        world,
        "PATCH",
        f"/api/v1/campaigns/{world.cid}/settings",
        '{"target_party_org_coverage": "8\\u00000"}',
    )
    assert response.status_code == 400
    assert response.json["message"] == "请求中含有空字符（U+0000），请删除后重试"
