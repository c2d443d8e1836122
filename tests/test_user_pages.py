"""Accounts on the pages: an admin creates, changes, disables, enables a user and resets his
password (a one-time password shown once); a user with a one-time password sees nothing but
the password page until he has set his own; every user changes his own password; only admins
administer users (403 for the list and the form, 404 for a user's page); each change is in
the change record, in Chinese, without a password."""

import re

import pytest
from sqlalchemy import func, select

from campaign.audit import AuditEntry
from campaign.core.accounts import authenticate, issue_token, user_for_token
from campaign.core.extensions import db
from campaign.core.models import User
from campaign.core.vocab import Role
from tests.conftest import PASSWORD, csrf_token, login, make_campaign, make_unit, make_user
from tests.timeutil import at

NEW_PASSWORD = "maple-orbit-stair-58"
ADMINS_ONLY = "用户管理仅限系统管理员"


@pytest.fixture
def w(app):
    """江岸区 (responsible, with its street 二七街道), an admin, an operator, a coordinator."""
    from campaign.core.vocab import UnitKind

    jiangan = make_unit("jiangan", "江岸区")
    make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    make_unit("wuchang", "武昌区")
    make_campaign(2026)
    make_user("root", "admin")
    make_user("jiangan_op", "operator", jiangan)
    make_user("coord", "coordinator")
    db.session.commit()
    return app


def browser(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    answer = login(client, username, password)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def overview(client):
    """The overview page as a browser lands on it from "/" (or where it is sent instead)."""
    return client.get("/", follow_redirects=True)


def one_time_password(response) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'id="one-time-password">([^<]+)<', html)
    assert match, html
    return match.group(1)


def problems(response) -> list[str]:
    return re.findall(r"<li>(.*?)</li>", response.get_data(as_text=True))


def create(admin, **fields):
    form = {
        "username": "li_op",
        "display_name": "李填报",
        "role": "operator",
        "unit": "jiangan",
        "phone": "13800000000",
        "email": "li@example.cn",
        **fields,
    }
    return admin.post("/users/new", data={"csrf_token": csrf_token(admin, "/users/new"), **form})


def post(client, path: str, page: str, **form):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **form})


def change_password(client, old: str, new: str = NEW_PASSWORD, again: str | None = None):
    return post(
        client,
        "/account/password",
        "/account/password",
        old_password=old,
        new_password=new,
        new_password_again=new if again is None else again,
    )


def test_an_admin_creates_an_operator_who_must_set_his_own_password(w):
    admin = browser(w, "root")
    created = create(admin)
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"  # the password is kept by no cache
    password = one_time_password(created)
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", password)
    assert "仅显示这一次" in created.get_data(as_text=True)

    li = user("li_op")
    assert (li.role, li.unit.code, li.display_name, li.phone, li.email) == (
        Role.OPERATOR,
        "jiangan",
        "李填报",
        "13800000000",
        "li@example.cn",
    )
    assert li.must_change_password and password not in li.password_hash
    listing = admin.get("/users").get_data(as_text=True)
    assert "li_op" in listing and "待改密码" in listing

    # His first login goes to the password page, and so does every other page until then.
    him = w.test_client()
    first = login(him, "li_op", password)
    assert first.headers["Location"] == "/account/password"
    for page in ("/", "/notifications", "/users"):
        answer = him.get(page)
        assert (answer.status_code, answer.headers["Location"]) == (302, "/account/password")
    assert him.get("/account/password").status_code == 200

    changed = change_password(him, password)
    assert changed.status_code == 302 and changed.headers["Location"] == "/"
    assert (
        overview(him).request.path == "/campaigns/1/home"
    )  # his 待办  # this browser stays logged in
    assert not user("li_op").must_change_password
    assert authenticate(db.session, "li_op", password) is None
    assert authenticate(db.session, "li_op", NEW_PASSWORD) is not None


def test_the_change_record_of_an_account_says_it_in_chinese_without_passwords(w):
    admin = browser(w, "root")
    password = one_time_password(create(admin))
    saved = post(
        admin,
        "/users/li_op",
        "/users/li_op",
        display_name="李四",
        role="leader",
        unit="jiangan",
        phone="027-85000000",
        email="li@example.cn",
    )
    assert saved.status_code == 302
    reset = post(admin, "/users/li_op/reset-password", "/users/li_op")
    second = one_time_password(reset)

    page = admin.get("/users/li_op").get_data(as_text=True)
    assert "创建用户" in page and "修改用户" in page and "重置密码" in page
    assert "角色：单位填报员" in page and "角色：单位负责人" in page
    assert "姓名：李填报" in page and "姓名：李四" in page
    assert "所属单位：江岸区（jiangan）" in page
    assert "登录后须修改密码：是" in page
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "user"))
    for entry in entries:
        for secret in (password, second):
            assert secret not in entry.before and secret not in entry.after
        assert "password_hash" not in entry.after


def test_a_reset_ends_his_sessions_and_gives_a_one_time_password(w):
    admin = browser(w, "root")
    him = browser(w, "jiangan_op")
    assert overview(him).request.path == "/campaigns/1/home"  # his 待办
    reset = post(admin, "/users/jiangan_op/reset-password", "/users/jiangan_op")
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    password = one_time_password(reset)

    assert him.get("/").headers["Location"].startswith("/login")  # logged out at once
    assert authenticate(db.session, "jiangan_op", PASSWORD) is None
    again = w.test_client()
    assert login(again, "jiangan_op", password).headers["Location"] == "/account/password"


def test_disabling_ends_his_sessions_and_tokens_and_enabling_lets_him_in_again(w):
    admin = browser(w, "root")
    him = browser(w, "jiangan_op")
    token = issue_token(db.session, user("jiangan_op"))
    db.session.commit()

    disabled = post(admin, "/users/jiangan_op/disable", "/users/jiangan_op")
    assert disabled.status_code == 302
    assert him.get("/").headers["Location"].startswith("/login")
    assert user_for_token(db.session, token) is None
    assert login(w.test_client(), "jiangan_op").status_code == 401
    assert "停用" in admin.get("/users?status=disabled").get_data(as_text=True)

    enabled = post(admin, "/users/jiangan_op/enable", "/users/jiangan_op")
    assert enabled.status_code == 302
    assert login(w.test_client(), "jiangan_op").status_code == 302
    assert user_for_token(db.session, token) is None  # revoked for good


def test_an_admin_may_not_disable_or_demote_himself(w):
    admin = browser(w, "root")
    refused = post(admin, "/users/root/disable", "/users/root")
    assert refused.status_code == 302
    page = admin.get("/users/root").get_data(as_text=True)
    assert "不能停用自己的账号" in page and user("root").active
    demoted = post(
        admin, "/users/root", "/users/root", display_name="root", role="coordinator", unit=""
    )
    assert demoted.status_code == 422
    assert "不能取消自己的系统管理员角色（请由另一名系统管理员操作）" in problems(demoted)
    assert user("root").role == Role.ADMIN


def test_last_login_is_shown_to_admins(w):
    admin = browser(w, "root")
    assert "从未登录" in admin.get("/users/jiangan_op").get_data(as_text=True)
    with at(2026, 11, 20, 9, 30):
        browser(w, "jiangan_op")
    page = admin.get("/users/jiangan_op").get_data(as_text=True)
    assert "2026-11-20 09:30" in page
    assert "2026-11-20 09:30" in admin.get("/users").get_data(as_text=True)


def test_every_user_changes_his_own_password_with_the_old_one(w):
    him = browser(w, "jiangan_op")
    laptop = browser(w, "jiangan_op")

    wrong = change_password(him, "not-my-password")
    assert wrong.status_code == 422 and "「原密码」不正确" in problems(wrong)
    mismatch = change_password(him, PASSWORD, NEW_PASSWORD, "something-else-entirely")
    assert "两次输入的新密码不一致" in problems(mismatch)
    weak = change_password(him, PASSWORD, "1234567890")
    assert any(p.startswith("「新密码」太容易被猜到") for p in problems(weak))
    same = change_password(him, PASSWORD, PASSWORD)
    assert "「新密码」不能与原密码相同" in problems(same)
    assert authenticate(db.session, "jiangan_op", PASSWORD) is not None  # nothing changed

    done = change_password(him, PASSWORD)
    assert done.status_code == 302
    assert overview(him).request.path == "/campaigns/1/home"  # his 待办
    assert laptop.get("/").headers["Location"].startswith("/login")  # his other session ended
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password"))
    assert entry.actor == "jiangan_op" and NEW_PASSWORD not in entry.after


@pytest.mark.parametrize("username", ["jiangan_op", "coord"])
def test_only_admins_administer_users(w, username):
    other = browser(w, username)
    for page in ("/users", "/users/new"):
        answer = other.get(page)
        assert answer.status_code == 403 and ADMINS_ONLY in answer.get_data(as_text=True)
    assert other.get("/users/root").status_code == 404
    assert other.get("/users/nobody").status_code == 404
    token = csrf_token(other, "/account/password")
    for action in ("disable", "enable", "reset-password"):
        answer = other.post(f"/users/root/{action}", data={"csrf_token": token})
        assert answer.status_code == 404
    created = other.post("/users/new", data={"csrf_token": token, "username": "x1"})
    assert created.status_code == 403
    assert user("root").active and user("x1") is None
    assert 'id="nav-users"' not in overview(other).get_data(as_text=True)


def test_the_admin_sees_the_menu_entry_and_404_for_an_unknown_user(w):
    admin = browser(w, "root")
    assert 'id="nav-users"' in overview(admin).get_data(as_text=True)
    assert admin.get("/users/nobody").status_code == 404


def test_forms_without_their_csrf_token_change_nothing(w):
    admin = browser(w, "root")
    answer = admin.post(
        "/users/new",
        data={"username": "li_op", "display_name": "李", "role": "leadership"},
    )
    assert answer.status_code == 400
    assert admin.post("/users/jiangan_op/disable").status_code == 400
    assert admin.post("/users/jiangan_op/reset-password").status_code == 400
    him = browser(w, "jiangan_op")
    assert (
        him.post(
            "/account/password",
            data={"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        ).status_code
        == 400
    )
    assert user("li_op") is None and user("jiangan_op").active
    assert authenticate(db.session, "jiangan_op", PASSWORD) is not None


def test_the_list_filters_by_name_role_and_status(w):
    admin = browser(w, "root")
    html = admin.get("/users?q=jiangan").get_data(as_text=True)
    assert "jiangan_op" in html and ">coord<" not in html
    html = admin.get("/users?role=coordinator").get_data(as_text=True)
    assert ">coord<" in html and "jiangan_op" not in html
    html = admin.get("/users?q=%25_").get_data(as_text=True)  # LIKE wildcards match as text
    assert "没有符合条件的用户" in html
    assert db.session.scalar(select(func.count()).select_from(User)) == 3
