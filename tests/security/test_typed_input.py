"""Values of the wrong kind, refused at the edge: the API's schemas (and the page forms read
with them) say what each field accepts, refuse anything else with a Chinese message naming
the field, and nothing is written. The OpenAPI document says the same.

The world is tests/api/test_api.py's two districts; 江岸新企业 (120 staff, no Party org,
应建党组织) is added on 江岸区's board."""

import pytest
from sqlalchemy import func, select, text

from campaign.audit import AuditEntry
from campaign.board import services as board
from campaign.board.models import BoardItem, Closure, ItemState, SpotCheck
from campaign.core.extensions import db
from campaign.core.models import Campaign, Unit
from campaign.core.vocab import Path
from tests.api.test_api import bearer
from tests.conftest import csrf_token, login, make_org, make_user
from tests.timeutil import at


@pytest.fixture
def item(world):
    campaign = db.session.get(Campaign, world.cid)
    jiangan = db.session.scalar(select(Unit).where(Unit.code == "jiangan"))
    org = make_org(campaign, jiangan, name="江岸新企业", employees=120)
    board.sync_items(db.session, campaign, [jiangan.id])
    db.session.commit()
    return db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))


def _plan(client, world, item, body):
    return client.patch(
        f"/api/v1/campaigns/{world.cid}/items/{item.id}/plan",
        json=body,
        headers=bearer(world.tokens["jiangan_op"]),
    )


def _unchanged(item_id: int) -> None:
    db.session.expire_all()
    row = db.session.get(BoardItem, item_id)
    assert (row.state, row.path, row.planned_on) == ("todo", "grow_members", None)
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "item.plan")
        )
        == 0
    )


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"path": "somewhere"}, "path", "「推进路径」无效：somewhere"),
        ({"path": ""}, "path", "「推进路径」无效："),
        (
            {"planned_on": "2026-13-01"},
            "planned_on",
            "「计划完成时间」应为日期，而不是“2026-13-01”",
        ),
        ({"planned_on": "下个月"}, "planned_on", "「计划完成时间」应为日期，而不是“下个月”"),
        ({"planned_on": 20261101}, "planned_on", "「计划完成时间」应为日期，而不是“20261101”"),
    ],
)
def test_a_plan_of_the_wrong_kind_is_refused_by_field_and_nothing_changes(
    client, world, item, body, field, message
):
    with at(2026, 8, 21, 10, 0):
        response = _plan(client, world, item, body)
    assert response.status_code == 422
    assert response.json["message"] == message
    assert response.json["errors"] == {field: message}
    _unchanged(item.id)


def test_a_plan_may_clear_its_date_with_null_and_sets_typed_values(client, world, item):
    with at(2026, 8, 21, 10, 0):
        set_ = _plan(client, world, item, {"path": "joint", "planned_on": "2026-10-01"})
        cleared = _plan(client, world, item, {"planned_on": None})
    assert set_.status_code == cleared.status_code == 200, (set_.json, cleared.json)
    assert set_.json["planned_on"] == "2026-10-01" and set_.json["path"] == "joint"
    assert cleared.json["planned_on"] is None and cleared.json["path"] == "joint"
    db.session.expire_all()
    row = db.session.get(BoardItem, item.id)
    # Read back as the members of the enums; stored as the same text as ever.
    assert row.state is ItemState.IN_PROGRESS and row.path is Path.JOINT
    stored = db.session.execute(
        text("SELECT state, path FROM board_item WHERE id = :id"), {"id": item.id}
    ).one()
    assert tuple(stored) == ("in_progress", "joint")


def test_a_closure_by_no_known_method_is_refused_naming_the_field(client, world, item):
    with at(2026, 8, 21, 10, 0):
        response = client.post(
            f"/api/v1/campaigns/{world.cid}/items/{item.id}/closures",
            data={"method": "self_declared", "formal_members": "三"},
            headers=bearer(world.tokens["jiangan_op"]),
            content_type="multipart/form-data",
        )
    assert response.status_code == 422
    assert response.json["errors"] == {
        "method": "请选择组建方式",
        "formal_members": "「正式党员数」应为非负整数，而不是“三”",
    }
    assert response.json["message"] == (
        "请求参数有误：「method」请选择组建方式，「正式党员数」应为非负整数，而不是“三”"
    )
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0
    db.session.expire_all()
    assert db.session.get(BoardItem, item.id).state == "todo"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            "state=bogus",
            "state",
            "「状态」应为 open（全部未销号）或 todo、in_progress、awaiting、closed、reopened，"
            "而不是“bogus”",
        ),
        ("kind=company", "kind", "「类型」无效：company"),
        ("path=x", "path", "「推进路径」无效：x"),
        ("overdue=x", "overdue", "请求参数有误：「overdue」应为 true 或 false"),
    ],
)
def test_a_board_filter_of_no_known_value_is_refused_not_an_empty_list(
    client, world, item, query, field, message
):
    response = client.get(
        f"/api/v1/campaigns/{world.cid}/items?unit=jiangan&{query}",
        headers=bearer(world.tokens["coord"]),
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {field}
    assert response.json["message"] == message


def test_board_filters_of_known_values_are_read(client, world, item):
    response = client.get(
        f"/api/v1/campaigns/{world.cid}/items?unit=jiangan&state=todo&kind=enterprise"
        "&path=grow_members&overdue=false",
        headers=bearer(world.tokens["coord"]),
    )
    assert response.status_code == 200
    assert [i["organization"]["name"] for i in response.json] == ["江岸新企业"]
    assert response.json[0]["state"] == "todo" and response.json[0]["target"] == "party_org"


def test_a_setting_of_the_wrong_kind_reads_as_the_settings_page_says_it(client, world):
    response = client.patch(
        f"/api/v1/campaigns/{world.cid}/settings",
        json={"report_day_first": "五号", "target_required_coverage": "99.999"},
        headers=bearer(world.tokens["coord"]),
    )
    assert response.status_code == 422
    assert response.json["errors"] == {
        "report_day_first": "「半月报送日（一）」应为整数，而不是“五号”",
        "target_required_coverage": "「应建尽建率目标（%）」最多保留两位小数（99.999）",
    }
    assert response.json["message"] == (
        "「半月报送日（一）」应为整数，而不是“五号”；「应建尽建率目标（%）」最多保留两位小数（99.999）"
    )
    db.session.expire_all()
    assert db.session.get(Campaign, world.cid).report_day_first == 10


def test_the_spot_check_page_refuses_a_seed_that_is_no_number(app, world):
    make_user("coord_page", "coordinator")
    db.session.commit()
    client = app.test_client()
    assert login(client, "coord_page").status_code == 302
    page = f"/campaigns/{world.cid}/spot-checks"
    response = client.post(
        page,
        data={"csrf_token": csrf_token(client, page), "mode": "count", "size": "2", "seed": "abc"},
        follow_redirects=True,
    )
    assert "「随机种子」应为非负整数，而不是“abc”" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SpotCheck)) == 0


# ---- what the OpenAPI document says -------------------------------------------------------


@pytest.fixture
def spec(client, world):
    return client.get("/api/v1/openapi.json").json


def _form(spec, path: str) -> dict:
    """The fields of an endpoint's multipart form (fields and files in one body)."""
    body = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    return spec["components"]["schemas"][name]["properties"]


def test_the_document_lists_the_values_each_field_accepts(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["Plan"]["properties"]["path"]["enum"] == [
        "standalone",
        "joint",
        "grow_members",
        "none",
    ]
    assert schemas["Plan"]["properties"]["planned_on"]["format"] == "date"
    assert schemas["Plan"]["properties"]["measures"]["maxLength"] == 2000
    assert schemas["Item"]["properties"]["state"]["enum"] == [
        "todo",
        "in_progress",
        "awaiting",
        "closed",
        "reopened",
    ]
    assert "todo：待攻坚" in schemas["Item"]["properties"]["state"]["description"]
    assert schemas["DrawRequest"]["properties"]["mode"]["enum"] == ["count", "percent"]
    assert schemas["DrawRequest"]["properties"]["kind"]["enum"] == ["spot_check", "lookback"]
    day = schemas["Settings"]["properties"]["report_day_first"]
    assert (day["type"], day["minimum"], day["maximum"]) == ("integer", 1, 28)
    coverage = schemas["Settings"]["properties"]["target_party_org_coverage"]
    assert (coverage["type"], coverage["minimum"], coverage["maximum"]) == ("number", 0, 100)
    assert schemas["ReportInput"]["properties"]["progress"]["maxLength"] == 5000
    assert schemas["Task"]["properties"]["status"]["enum"] == [
        "open",
        "submitted",
        "accepted",
        "returned",
    ]
    closure = _form(spec, "/api/v1/campaigns/{campaign_id}/items/{item_id}/closures")
    assert closure["method"]["enum"] == ["standalone", "joint", "functional", "work_coverage"]
    assert (closure["formal_members"]["type"], closure["formal_members"]["minimum"]) == (
        "integer",
        0,
    )
    assert closure["established_on"]["format"] == "date"
    assert closure["document"]["format"] == "binary"
    delivery = _form(spec, "/api/v1/campaigns/{campaign_id}/tasks/{task_id}/submissions")
    assert (delivery["note"]["maxLength"], delivery["file"]["format"]) == (2000, "binary")
