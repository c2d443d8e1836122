"""/api/v1/users: admins list, create (a one-time password in the answer, once), change,
disable/enable users and reset their passwords; everyone else gets 403 with the reason for
the list, 404 for a user. The world is tests/api/test_api.py's."""

import pytest
from sqlalchemy import select

from campaign.audit import AuditEntry
from campaign.core.accounts import authenticate, user_for_token
from campaign.core.extensions import db
from campaign.core.models import User
from tests.api.test_api import bearer

ADMINS_ONLY = "用户管理仅限系统管理员"
NEW = {
    "username": "hankou_op",
    "display_name": "汉口填报员",
    "role": "operator",
    "unit": "jiangan",
    "phone": "13900000000",
    "email": "hk@example.cn",
}


def as_(world, username: str) -> dict:
    return bearer(world.tokens[username])


def stored(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_an_admin_creates_a_user_and_reads_his_one_time_password_once(client, world):
    answer = client.post("/api/v1/users", json=NEW, headers=as_(world, "root"))
    assert answer.status_code == 201, answer.json
    password = answer.json["one_time_password"]
    assert answer.json["user"] == {
        "username": "hankou_op",
        "display_name": "汉口填报员",
        "role": "operator",
        "unit": "jiangan",
        "phone": "13900000000",
        "email": "hk@example.cn",
        "active": True,
        "must_change_password": True,
        "last_login_at": None,
        "created_at": answer.json["user"]["created_at"],
    }
    assert authenticate(db.session, "hankou_op", password) is not None
    shown = client.get("/api/v1/users/hankou_op", headers=as_(world, "root"))
    assert shown.status_code == 200 and "one_time_password" not in shown.json
    listed = client.get("/api/v1/users?q=hankou", headers=as_(world, "root"))
    assert [u["username"] for u in listed.json] == ["hankou_op"]


def test_the_same_post_twice_creates_one_user(client, world):
    first = client.post("/api/v1/users", json=NEW, headers=as_(world, "root"))
    second = client.post("/api/v1/users", json=NEW, headers=as_(world, "root"))
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json["message"].startswith(
        "用户“hankou_op”已创建（同一表单重复提交），未重复创建"
    )
    other = client.post(
        "/api/v1/users", json={**NEW, "display_name": "另一个人"}, headers=as_(world, "root")
    )
    assert other.status_code == 422
    assert other.json["errors"] == {"username": "「用户名」“hankou_op”已被使用"}


def test_patch_changes_a_user_and_disabling_revokes_his_token_at_once(client, world):
    answer = client.patch(
        "/api/v1/users/jiangan_op",
        json={"display_name": "江岸 张三", "role": "leader", "phone": "027-85000000"},
        headers=as_(world, "root"),
    )
    assert answer.status_code == 200, answer.json
    assert (answer.json["display_name"], answer.json["role"], answer.json["phone"]) == (
        "江岸 张三",
        "leader",
        "027-85000000",
    )
    token = world.tokens["jiangan_op"]
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 200
    off = client.patch(
        "/api/v1/users/jiangan_op", json={"active": False}, headers=as_(world, "root")
    )
    assert off.status_code == 200 and off.json["active"] is False
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 401
    assert user_for_token(db.session, token) is None
    on = client.patch("/api/v1/users/jiangan_op", json={"active": True}, headers=as_(world, "root"))
    assert on.json["active"] is True
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 401  # stays revoked

    entries = db.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.object_type == "user", AuditEntry.object_id == str(stored("jiangan_op").id)
        )
    ).all()
    assert entries[-3:] == ["user.update", "user.disable", "user.enable"]


def test_a_password_reset_answers_the_one_time_password(client, world):
    answer = client.post("/api/v1/users/jiangan_op/password-reset", headers=as_(world, "root"))
    assert answer.status_code == 200
    assert answer.json["user"]["must_change_password"] is True
    assert authenticate(db.session, "jiangan_op", answer.json["one_time_password"]) is not None


@pytest.mark.parametrize("username", ["jiangan_op", "jiangan_leader", "coord", "boss"])
def test_only_admins_administer_users(client, world, username):
    headers = as_(world, username)
    listed = client.get("/api/v1/users", headers=headers)
    assert listed.status_code == 403 and listed.json["message"] == ADMINS_ONLY
    created = client.post("/api/v1/users", json=NEW, headers=headers)
    assert created.status_code == 403 and created.json["message"] == ADMINS_ONLY
    for answer in (
        client.get("/api/v1/users/root", headers=headers),
        client.patch("/api/v1/users/root", json={"active": False}, headers=headers),
        client.post("/api/v1/users/root/password-reset", headers=headers),
        client.get("/api/v1/users/nobody", headers=headers),
    ):
        assert answer.status_code == 404 and answer.json["message"] == "未找到，或无权查看"
    assert stored("hankou_op") is None and stored("root").active


def test_the_openapi_document_says_what_is_valid(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    new = schemas["NewUser"]
    assert set(new["required"]) == {"username", "display_name", "role"}
    assert new["properties"]["username"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9_.\\-]{1,39}$"
    assert new["properties"]["role"]["enum"] == [
        "coordinator",
        "operator",
        "leader",
        "leadership",
        "admin",
        "verifier",
    ]
    assert new["properties"]["display_name"]["maxLength"] == 80
    assert new["properties"]["email"]["maxLength"] == 200
    assert new["properties"]["phone"]["maxLength"] == 20
    changes = schemas["UserChanges"]
    assert "required" not in changes and changes["properties"]["active"]["type"] == "boolean"
