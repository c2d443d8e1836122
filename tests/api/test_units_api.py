"""The units API: GET /api/v1/units (?scope=all: the whole tree), POST /api/v1/units,
PATCH /api/v1/units/<code>, with the pages' permissions and refusals (422 naming each
field, 403 with the reason, 404), nothing half-written."""

import pytest
from sqlalchemy import func, select

from campaign.core.accounts import issue_token
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.core.vocab import UnitKind
from campaign.timeline.models import Task
from tests.conftest import make_campaign, make_unit, make_user
from tests.timeutil import at

MANAGERS_ONLY = "单位管理仅限市级专班和系统管理员"


@pytest.fixture
def tokens(app):
    city = make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
    jiangan = make_unit("jiangan", "江岸区", parent=city)
    jiangan.position = 1
    make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    made = {
        name: issue_token(db.session, make_user(name, role, unit))
        for name, role, unit in [
            ("coord", "coordinator", None),
            ("root", "admin", None),
            ("boss", "leadership", None),
            ("jiangan_op", "operator", jiangan),
        ]
    }
    db.session.commit()
    return made


def call(client, tokens, who, method, path, **kw):
    return client.open(
        path, method=method, headers={"Authorization": f"Bearer {tokens[who]}"}, **kw
    )


def test_the_whole_tree_for_managers_only(client, tokens):
    answer = call(client, tokens, "coord", "GET", "/api/v1/units?scope=all")
    assert answer.status_code == 200
    assert answer.json == [
        {
            "code": "city",
            "name": "市委组织部",
            "kind": "city",
            "parent": None,
            "is_responsible": False,
            "position": 0,
            "active": True,
        },
        {
            "code": "jiangan",
            "name": "江岸区",
            "kind": "district",
            "parent": "city",
            "is_responsible": True,
            "position": 1,
            "active": True,
        },
        {
            "code": "erqi",
            "name": "二七街道",
            "kind": "street",
            "parent": "jiangan",
            "is_responsible": False,
            "position": 0,
            "active": True,
        },
    ]
    refused = call(client, tokens, "boss", "GET", "/api/v1/units?scope=all")
    assert refused.status_code == 403 and refused.json["message"] == MANAGERS_ONLY
    # Without scope, what it always was: the responsible units one may read.
    assert [u["code"] for u in call(client, tokens, "boss", "GET", "/api/v1/units").json] == [
        "jiangan"
    ]
    bad = call(client, tokens, "coord", "GET", "/api/v1/units?scope=every")
    assert bad.status_code == 422 and "「scope」应为 responsible 或 all" in str(bad.json)


def test_post_adds_a_unit_with_its_tasks_in_the_running_campaign(client, tokens):
    with at(2026, 9, 1, 10):
        make_campaign(2026)
        db.session.commit()
        answer = call(
            client,
            tokens,
            "root",
            "POST",
            "/api/v1/units",
            json={"code": "qiaokou", "name": "硚口区", "kind": "district", "parent": "city"},
        )
    assert answer.status_code == 201, answer.json
    assert answer.json == {
        "code": "qiaokou",
        "name": "硚口区",
        "kind": "district",
        "parent": "city",
        "is_responsible": True,
        "position": 2,
        "active": True,
    }
    qiaokou = db.session.scalar(select(Unit).where(Unit.code == "qiaokou"))
    # wuhan-2016: 2 deliverables of districts and 2 of every unit.
    assert (
        db.session.scalar(select(func.count()).select_from(Task).where(Task.unit_id == qiaokou.id))
        == 4
    )


def test_post_refusals_name_each_field_and_keep_nothing(client, tokens):
    answer = call(
        client,
        tokens,
        "coord",
        "POST",
        "/api/v1/units",
        json={
            "code": "jiangan",
            "name": "甲\u0007乙",
            "kind": "street",
            "parent": "erqi",
            "is_responsible": True,
        },
    )
    assert answer.status_code == 422
    errors = answer.json["errors"]
    assert errors["code"] == "「单位代码」“jiangan”已被“江岸区”（jiangan）使用"
    assert "控制字符（U+0007，第2个字）" in errors["name"]
    assert errors["parent"] == "「上级单位」“二七街道”（erqi）是街道：街道只能在区之下"
    assert errors["is_responsible"] == "「责任单位」街道不能是责任单位：只有区和市直部门报送台账"
    typed = call(
        client,
        tokens,
        "coord",
        "POST",
        "/api/v1/units",
        json={"code": "x", "name": "某", "kind": "county", "position": -1},
    )
    assert typed.status_code == 422
    assert typed.json["errors"]["kind"] == "「类型」无效：county"
    assert typed.json["errors"]["position"] == "「排序」应为非负整数，而不是“-1”"
    op = call(
        client,
        tokens,
        "jiangan_op",
        "POST",
        "/api/v1/units",
        json={"code": "x", "name": "某区", "kind": "district", "parent": "city"},
    )
    assert op.status_code == 403 and op.json["message"] == MANAGERS_ONLY
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 3


def test_patch_moves_retires_and_refuses_a_cycle(client, tokens):
    make_unit(
        "qiaokou", "硚口区", parent=db.session.scalar(select(Unit).where(Unit.code == "city"))
    )
    db.session.commit()
    cycle = call(client, tokens, "coord", "PATCH", "/api/v1/units/jiangan", json={"parent": "erqi"})
    assert cycle.status_code == 422
    assert cycle.json["errors"] == {
        "parent": "「上级单位」“二七街道”（erqi）是“江岸区”（jiangan）本身或其下级单位：不能把单位移到自己之下"
    }
    moved = call(
        client,
        tokens,
        "coord",
        "PATCH",
        "/api/v1/units/erqi",
        json={"parent": "qiaokou", "name": "二七新街道", "position": 4},
    )
    assert moved.status_code == 200
    assert (moved.json["parent"], moved.json["name"], moved.json["position"]) == (
        "qiaokou",
        "二七新街道",
        4,
    )
    used = call(client, tokens, "coord", "PATCH", "/api/v1/units/jiangan", json={"active": False})
    assert used.status_code == 422
    assert used.json["errors"] == {
        "active": "单位“江岸区”（jiangan）还有1个启用的用户，不能撤销：请先停用这些用户或把他们改到其他单位"
    }
    retired = call(client, tokens, "root", "PATCH", "/api/v1/units/erqi", json={"active": False})
    assert retired.status_code == 200 and retired.json["active"] is False
    op = call(client, tokens, "jiangan_op", "PATCH", "/api/v1/units/jiangan", json={"name": "x"})
    assert op.status_code == 403 and op.json["message"] == MANAGERS_ONLY
    hidden = call(
        client, tokens, "jiangan_op", "PATCH", "/api/v1/units/qiaokou", json={"name": "x"}
    )
    assert hidden.status_code == 404
    assert call(client, tokens, "coord", "PATCH", "/api/v1/units/nope", json={}).status_code == 404
