"""Users from the CLI: hashed passwords, unit roles, API tokens."""

import pytest

from campaign.core.accounts import authenticate, user_for_token
from campaign.core.extensions import db
from campaign.core.models import ApiToken, User
from tests.conftest import csrf_token, login, make_unit


def test_create_user_from_cli_with_password_on_stdin(app, runner):
    make_unit("jiangan", "江岸区")
    db.session.commit()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "li",
            "--role",
            "operator",
            "--unit",
            "jiangan",
            "--password-stdin",
        ],
        input="tide-lantern-47\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).where(User.username == "li"))
    assert user.unit.code == "jiangan" and user.role == "operator"
    assert "tide-lantern-47" not in user.password_hash  # stored hashed
    assert authenticate(db.session, "li", "tide-lantern-47") == user
    assert authenticate(db.session, "li", "wrong") is None


def test_unit_roles_need_a_unit_and_nothing_is_created_otherwise(app, runner):
    result = runner.invoke(
        args=["users", "create", "li", "--role", "leader", "--password-stdin"],
        input="tide-lantern-47\n",
    )
    assert result.exit_code != 0 and "必须指定所属单位" in result.output
    result = runner.invoke(
        args=[
            "users",
            "create",
            "li",
            "--role",
            "operator",
            "--unit",
            "nowhere",
            "--password-stdin",
        ],
        input="tide-lantern-47\n",
    )
    assert "单位代码“nowhere”不存在" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_short_password_refused(app, runner):
    result = runner.invoke(
        args=["users", "create", "boss", "--role", "leadership", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code != 0 and "「密码」至少10个字符（现有5个）" in result.output


def test_token_is_printed_once_and_only_its_hash_is_kept(app, runner):
    runner.invoke(
        args=["users", "create", "boss", "--role", "leadership", "--password-stdin"],
        input="long-enough-pw\n",
    )
    result = runner.invoke(args=["users", "token", "boss"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("gj_")
    assert user_for_token(db.session, token).username == "boss"
    assert db.session.scalar(db.select(ApiToken.token_hash)) != token
    assert user_for_token(db.session, token + "x") is None
    assert "不存在" in runner.invoke(args=["users", "token", "ghost"]).output


def test_inactive_user_cannot_log_in(app, client, runner):
    runner.invoke(
        args=["users", "create", "gone", "--role", "coordinator", "--password-stdin"],
        input="long-enough-pw\n",
    )
    user = db.session.scalar(db.select(User).where(User.username == "gone"))
    user.active = False
    db.session.commit()
    response = login(client, "gone", "long-enough-pw")
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "next_url, lands_on",
    [
        ("/campaigns/7", "/campaigns/7"),
        ("//evil.example/x", "/"),
        ("/%09/evil.example/y", "/"),  # a tab between the slashes: browsers drop it
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
    ],
)
def test_login_only_redirects_within_the_site(app, client, runner, next_url, lands_on):
    runner.invoke(
        args=["users", "create", "boss", "--role", "leadership", "--password-stdin"],
        input="long-enough-pw\n",
    )
    token = csrf_token(client)
    response = client.post(
        f"/login?next={next_url}",
        data={"username": "boss", "password": "long-enough-pw", "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on
