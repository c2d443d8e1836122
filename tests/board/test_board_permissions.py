"""Who may see and act on board items: another district's items are 404, operators never verify."""

import io

import pytest

from campaign.board.models import BoardItem
from campaign.board.services import sync_items
from campaign.core.extensions import db
from tests import documents
from tests.conftest import csrf_token, login, make_two_districts, make_user
from tests.timeutil import at

PDF = documents.pdf("批复")


@pytest.fixture
def world(app):
    built = make_two_districts()
    for username, role, unit in [
        ("jiangan_op", "operator", built.jiangan),
        ("jiangan_leader", "leader", built.jiangan),
        ("wuchang_op", "operator", built.wuchang),
        ("wuchang_leader", "leader", built.wuchang),
        ("coord", "coordinator", None),
    ]:
        make_user(username, role, unit)
    sync_items(db.session, built.campaign)
    db.session.commit()
    # 江岸丙 (20 staff, 指导员) meets its target; 武昌甲 (150 staff, nothing) must have a Party org.
    items = {i.organization.name: i.id for i in db.session.scalars(db.select(BoardItem))}
    return built, items


def client_as(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def submit(client, cid, item_id):
    token = csrf_token(client, f"/campaigns/{cid}/items/{item_id}")
    return client.post(
        f"/campaigns/{cid}/items/{item_id}",
        data={
            "csrf_token": token,
            "action": "close",
            "method": "joint",
            "joint_form": "区域联建",
            "party_org_name": "中共武昌甲联合支部",
            "established_on": "2026-11-18",
            "formal_members": "0",
            "secretary": "张三",
            "document": (io.BytesIO(PDF), "批复.pdf"),
        },
        content_type="multipart/form-data",
    )


def test_items_of_another_district_are_404_on_pages(app, world):
    built, items = world
    cid, wuchang_item = built.campaign.id, items["武昌甲"]
    client = client_as(app, "jiangan_op")
    assert client.get(f"/campaigns/{cid}/items/{wuchang_item}").status_code == 404
    assert client.get(f"/campaigns/{cid}/units/wuchang/board").status_code == 404
    token = csrf_token(client, f"/campaigns/{cid}/units/jiangan/board")
    response = client.post(
        f"/campaigns/{cid}/items/{wuchang_item}", data={"csrf_token": token, "action": "verify"}
    )
    assert response.status_code == 404


def test_an_operator_cannot_verify_and_the_leader_can(app, world):
    built, items = world
    cid, item_id = built.campaign.id, items["武昌甲"]
    with at(2026, 11, 20, 10, 0):
        operator = client_as(app, "wuchang_op")
        assert submit(operator, cid, item_id).status_code == 302
        assert db.session.get(BoardItem, item_id).state == "awaiting"
        token = csrf_token(operator, f"/campaigns/{cid}/items/{item_id}")
        refused = operator.post(
            f"/campaigns/{cid}/items/{item_id}", data={"csrf_token": token, "action": "verify"}
        )
        assert refused.status_code == 403
        assert "只有本单位负责人可以核验或退回销号" in refused.get_data(as_text=True)
        leader = client_as(app, "wuchang_leader")
        token = csrf_token(leader, f"/campaigns/{cid}/items/{item_id}")
        done = leader.post(
            f"/campaigns/{cid}/items/{item_id}", data={"csrf_token": token, "action": "verify"}
        )
        assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(BoardItem, item_id).state == "closed"


def test_another_districts_leader_cannot_verify(app, world):
    built, items = world
    cid, item_id = built.campaign.id, items["武昌甲"]
    with at(2026, 11, 20, 10, 0):
        assert submit(client_as(app, "wuchang_op"), cid, item_id).status_code == 302
        other = client_as(app, "jiangan_leader")
        token = csrf_token(other, f"/campaigns/{cid}/units/jiangan/board")
        response = other.post(
            f"/campaigns/{cid}/items/{item_id}", data={"csrf_token": token, "action": "verify"}
        )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(BoardItem, item_id).state == "awaiting"


def test_api_items_are_scoped_and_operators_cannot_verify(app, world, runner):
    built, items = world
    cid, item_id = built.campaign.id, items["武昌甲"]
    token = runner.invoke(args=["users", "token", "jiangan_op"]).output.strip()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        client.get(f"/api/v1/campaigns/{cid}/items?unit=wuchang", headers=headers).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/campaigns/{cid}/items/{item_id}/verify", headers=headers, json={}
        ).status_code
        == 404
    )
    own = client.get(f"/api/v1/campaigns/{cid}/items?unit=jiangan", headers=headers).get_json()
    assert {i["unit"] for i in own} <= {"jiangan"}


def test_spot_checks_are_for_coordinators_only(app, world):
    built, _ = world
    cid = built.campaign.id
    assert client_as(app, "jiangan_op").get(f"/campaigns/{cid}/spot-checks").status_code == 404
    assert client_as(app, "coord").get(f"/campaigns/{cid}/spot-checks").status_code == 200
