"""Hostile input to the account pages, the users API and the user commands: a username that
exists, a retired, unknown or non-responsible unit, weak or wrong passwords, control
characters and huge values, the same form posted many times at once, the last admin. Each
answers a 4xx (or exit code 1) with a Chinese message naming the field, and nothing is
half-written: no user, no change, no entry in the change record."""

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from campaign.audit import AuditEntry
from campaign.core.accounts import authenticate, issue_token
from campaign.core.extensions import db
from campaign.core.models import Unit, User
from campaign.core.vocab import UnitKind
from tests.conftest import PASSWORD, csrf_token, login, make_unit, make_user
from tests.security.test_double_submission import api_clients, at_once, logged_in, post_api

FORM = {
    "username": "li_op",
    "display_name": "李填报",
    "role": "operator",
    "unit": "jiangan",
    "phone": "",
    "email": "",
}


@pytest.fixture
def w(app):
    """江岸区 with its street 二七街道, 黄陂区 (retired), an admin with a token, an operator."""
    jiangan = make_unit("jiangan", "江岸区")
    make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    make_unit("huangpi", "黄陂区").active = False
    admin = make_user("root", "admin")
    make_user("jiangan_op", "operator", jiangan)
    app.token = issue_token(db.session, admin)
    db.session.commit()
    return app


def state() -> tuple[int, int]:
    """How many users, and how many entries in the change record."""
    db.session.remove()
    return (
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(AuditEntry)),
    )


def admin_page(app):
    client = app.test_client()
    assert login(client, "root").status_code == 302
    return client


def create_on_page(client, **changes):
    token = csrf_token(client, "/users/new")
    return client.post("/users/new", data={"csrf_token": token, **FORM, **changes})


def create_by_api(app, **changes):
    return app.test_client().post(
        "/api/v1/users",
        json={**FORM, **changes},
        headers={"Authorization": f"Bearer {app.token}"},
    )


def refused_on_page(response) -> str:
    assert response.status_code == 422, response.status_code
    html = response.get_data(as_text=True)
    assert "未保存，请修改以下问题" in html
    return html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"username": "jiangan_op"}, "username", "「用户名」“jiangan_op”已被使用"),
        ({"unit": "huangpi"}, "unit", "单位“黄陂区”（huangpi）已撤销，不能再有用户"),
        ({"unit": "nowhere"}, "unit", "单位代码“nowhere”不存在"),
        ({"unit": "erqi"}, "unit", "单位“二七街道”不是责任单位"),
        ({"unit": ""}, "unit", "单位填报员和单位负责人必须指定所属单位"),
        ({"role": "superuser"}, "role", "「角色」无效：superuser"),
        ({"username": "li\x01op"}, "username", "「用户名」含有不可见的控制字符（U+0001，第3个字）"),
        ({"username": "李四"}, "username", "「用户名」“李四”不可用"),
        ({"username": "x" * 100_000}, "username", "「用户名」“" + "x" * 40 + "…”不可用"),
        ({"display_name": "李\x07"}, "display_name", "「姓名」含有不可见的控制字符（U+0007"),
        ({"display_name": "李" * 100_000}, "display_name", "「姓名」超过80个字（现有100000个字）"),
        ({"display_name": "  "}, "display_name", "「姓名」必填"),
        ({"phone": "call me"}, "phone", "「手机号码」格式不正确"),
        ({"phone": "1" * 5000}, "phone", "「手机号码」超过20个字"),
        ({"email": "not-an-address"}, "email", "「电子邮件」格式不正确"),
        ({"email": "a@b.cn" + "\u0085"}, "email", "「电子邮件」含有不可见的控制字符"),
    ],
)
def test_a_bad_new_user_is_refused_by_field_on_the_page_and_the_api(w, changes, field, message):
    before = state()
    html = refused_on_page(create_on_page(admin_page(w), **changes))
    assert str(escape(message)) in html
    answer = create_by_api(w, **changes)
    assert answer.status_code == 422
    assert answer.json["errors"][field].startswith(message)
    assert len(answer.json["message"]) < 1000  # a huge value is not echoed back
    assert state() == before


def test_every_problem_of_a_form_is_told_at_once(w):
    html = refused_on_page(
        create_on_page(
            admin_page(w),
            username="jiangan_op",
            display_name="李" * 81,
            unit="huangpi",
            phone="x",
            email="y",
        )
    )
    for message in (
        "「用户名」“jiangan_op”已被使用",
        "「姓名」超过80个字",
        "单位“黄陂区”（huangpi）已撤销",
        "「手机号码」格式不正确",
        "「电子邮件」格式不正确",
    ):
        assert message in html


def test_a_nul_character_is_refused_before_anything_reads_it(w):
    before = state()
    answer = create_on_page(admin_page(w), display_name="李\x00四")
    assert answer.status_code == 400
    assert state() == before


def test_the_create_form_posted_many_times_at_once_creates_one_user(w):
    before_users, before_entries = state()
    clients = logged_in(w, "root", 8, "/users/new")

    def send(k: int, client):
        return client.post("/users/new", data={"csrf_token": client.csrf, **FORM})

    answers = at_once(clients, send)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 7, statuses
    for answer in answers:
        if answer.status_code == 409:
            assert "已创建（同一表单重复提交），未重复创建" in answer.get_data(as_text=True)
    assert state() == (before_users + 1, before_entries + 1)


def test_the_create_call_sent_many_times_at_once_creates_one_user(w):
    before_users, before_entries = state()
    answers = post_api(api_clients(w, w.token, 8), "/api/v1/users", FORM)
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert state() == (before_users + 1, before_entries + 1)


def test_changing_a_user_to_a_retired_unit_or_a_unit_role_without_one_is_refused(w):
    client = admin_page(w)
    token = csrf_token(client, "/users/jiangan_op")
    before = state()
    to_retired = client.post(
        "/users/jiangan_op",
        data={"csrf_token": token, **FORM, "username": "jiangan_op", "unit": "huangpi"},
    )
    assert "单位“黄陂区”（huangpi）已撤销，不能再有用户" in refused_on_page(to_retired)
    api = w.test_client()
    headers = {"Authorization": f"Bearer {w.token}"}
    root = api.patch("/api/v1/users/root", json={"role": "operator"}, headers=headers)
    assert root.status_code == 422
    assert root.json["errors"]["unit"] == "单位填报员和单位负责人必须指定所属单位"
    huge = api.patch("/api/v1/users/jiangan_op", json={"email": "a" * 10**6}, headers=headers)
    assert huge.status_code == 422 and "「电子邮件」超过200个字" in huge.json["message"]
    wrong_kind = api.patch("/api/v1/users/jiangan_op", json={"active": "maybe"}, headers=headers)
    assert wrong_kind.status_code == 422
    assert wrong_kind.json["errors"]["active"] == "「状态」（active）应为 true 或 false"
    assert state() == before


def test_a_user_of_a_retired_unit_is_not_enabled_again(w):
    op = db.session.scalar(select(User).where(User.username == "jiangan_op"))
    op.active = False
    db.session.scalar(select(Unit).where(Unit.code == "jiangan")).active = False
    db.session.commit()
    answer = w.test_client().patch(
        "/api/v1/users/jiangan_op",
        json={"active": True},
        headers={"Authorization": f"Bearer {w.token}"},
    )
    assert answer.status_code == 422
    assert answer.json["message"] == "单位“江岸区”已撤销：请先把该用户改到在用的单位，再启用"


def test_huge_and_wrong_passwords_are_refused_without_a_500(w):
    client = w.test_client()
    assert login(client, "jiangan_op", "x" * 1_000_000).status_code == 401
    assert login(client, "jiangan_op").status_code == 302
    token = csrf_token(client, "/account/password")
    before = state()
    answer = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "old_password": "y" * 1_000_000,
            "new_password": "z" * 1_000_000,
            "new_password_again": "z" * 1_000_000,
        },
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "「原密码」不正确" in html and "「新密码」最多128个字符（现有1000000个）" in html
    control = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "old_password": PASSWORD,
            "new_password": "tide-lantern\x1b47-xyz",
            "new_password_again": "tide-lantern\x1b47-xyz",
        },
    )
    assert "「新密码」含有不可见的控制字符（U+001B" in control.get_data(as_text=True)
    assert state() == before
    assert authenticate(db.session, "jiangan_op", PASSWORD) is not None


def test_guessing_the_old_password_counts_as_failed_logins(w):
    client = w.test_client()
    assert login(client, "jiangan_op").status_code == 302
    token = csrf_token(client, "/account/password")
    statuses = [
        client.post(
            "/account/password",
            data={
                "csrf_token": token,
                "old_password": f"guess-{n}",
                "new_password": "maple-orbit-stair-58",
                "new_password_again": "maple-orbit-stair-58",
            },
        ).status_code
        for n in range(7)
    ]
    assert statuses[:5] == [422] * 5 and statuses[-1] == 429  # LOGIN_ACCOUNT_FAILURES: 5


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("tide-lamp", "「密码」至少10个字符（现有9个）"),
        ("iloveyou2026", "「密码」太容易被猜到"),
        ("li_op-strong-47", "「密码」不能包含用户名"),
        ("13800000000x", "「密码」太容易被猜到"),  # his phone number
        ("aaaaaaaaaaaaaaa", "「密码」太容易被猜到"),
    ],
)
def test_the_cli_refuses_a_weak_password(w, runner, password, message):
    before = state()
    result = runner.invoke(
        args=[
            *("users", "create", "li_op", "--role", "operator", "--unit", "jiangan"),
            *("--phone", "13800000000", "--password-stdin"),
        ],
        input=password + "\n",
    )
    assert result.exit_code == 1 and message in result.output
    assert state() == before


def test_the_last_admin_is_not_disabled_by_the_cli(w, runner):
    result = runner.invoke(args=["users", "disable", "root"])
    assert result.exit_code == 1 and "至少须保留一名启用的系统管理员" in result.output
    assert db.session.scalar(select(User.active).where(User.username == "root")) is True


def test_reset_password_from_the_cli_prints_it_once_and_ends_his_sessions(w, runner):
    client = w.test_client()
    assert login(client, "jiangan_op").status_code == 302
    result = runner.invoke(args=["users", "reset-password", "jiangan_op"])
    assert result.exit_code == 0
    password = result.output.splitlines()[1]
    assert client.get("/notifications").headers["Location"].startswith("/login")
    assert authenticate(db.session, "jiangan_op", PASSWORD) is None
    assert login(w.test_client(), "jiangan_op", password).headers["Location"] == (
        "/account/password"
    )
    assert "不存在" in runner.invoke(args=["users", "reset-password", "ghost"]).output
