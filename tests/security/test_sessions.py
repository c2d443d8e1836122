"""Sessions end on the server: logout, a disabled account and end_sessions (the hook a
password change will call) refuse every copy of the session cookie at once.

A session cookie is signed, not stored: without a server-side check, a copy taken before
logout (a shared computer, a proxy log, malware) keeps working until the key changes.
"""

import re

import pytest
from sqlalchemy import select

from campaign.core import accounts as services
from campaign.core.extensions import db
from campaign.core.models import ApiToken, User
from tests.conftest import PASSWORD, csrf_token, login, make_campaign, make_user


@pytest.fixture
def world(app):
    campaign = make_campaign(2026)
    make_user("coord", "coordinator")
    make_user("boss", "leadership")
    db.session.commit()
    return campaign.id


def logged_in(app, username="coord"):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def copy_of(app, client):
    """A second browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def sent_to_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def user(username) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_a_copied_session_cookie_is_refused_after_logout(app, world):
    owner = logged_in(app)
    thief = copy_of(app, owner)
    assert thief.get(f"/campaigns/{world}").status_code == 200  # the copy works while logged in

    page = f"/campaigns/{world}"
    logout = owner.post("/logout", data={"csrf_token": csrf_token(owner, page)})
    assert sent_to_login(logout)

    assert sent_to_login(thief.get(page))
    assert sent_to_login(owner.get(page))
    # Logging in again does not bring the old cookie back.
    assert login(owner, "coord").status_code == 302
    assert owner.get(page).status_code == 200
    assert sent_to_login(thief.get(page))


def test_logout_needs_its_csrf_token_and_without_it_changes_nothing(app, world):
    owner = logged_in(app)
    assert owner.post("/logout").status_code == 400
    assert owner.get(f"/campaigns/{world}").status_code == 200


def test_logout_ends_the_users_other_sessions_but_not_other_users(app, world):
    """One key per user: 退出 on one computer signs the user out everywhere."""
    office, laptop, colleague = logged_in(app), logged_in(app), logged_in(app, "boss")
    office.post("/logout", data={"csrf_token": csrf_token(office, f"/campaigns/{world}")})
    assert sent_to_login(laptop.get(f"/campaigns/{world}"))
    assert colleague.get(f"/campaigns/{world}").status_code == 200


def test_end_sessions_refuses_every_cookie_of_that_user(app, world):
    """What a password change or reset will call."""
    owner = logged_in(app)
    thief = copy_of(app, owner)
    services.end_sessions(db.session, user("coord"))
    db.session.commit()
    assert sent_to_login(thief.get(f"/campaigns/{world}"))
    assert sent_to_login(owner.get(f"/campaigns/{world}"))
    assert logged_in(app).get(f"/campaigns/{world}").status_code == 200


def test_disabling_a_user_ends_his_sessions_and_tokens_for_good(app, world, runner):
    owner = logged_in(app)
    token = services.issue_token(db.session, user("coord"))
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    assert api.get("/api/v1/campaigns", headers=bearer).status_code == 200

    result = runner.invoke(args=["users", "disable", "coord"])
    assert result.exit_code == 0, result.output
    assert "已停用用户 coord" in result.output
    assert sent_to_login(owner.get(f"/campaigns/{world}"))
    assert api.get("/api/v1/campaigns", headers=bearer).status_code == 401
    assert login(app.test_client(), "coord").status_code == 401
    revoked = db.session.scalar(select(ApiToken.revoked_at))
    assert revoked is not None

    # Enabled again, he logs in afresh; the old cookie and the old token stay dead.
    result = runner.invoke(args=["users", "enable", "coord"])
    assert result.exit_code == 0, result.output
    assert sent_to_login(owner.get(f"/campaigns/{world}"))
    assert api.get("/api/v1/campaigns", headers=bearer).status_code == 401
    assert logged_in(app).get(f"/campaigns/{world}").status_code == 200

    entries = select(services.audit.AuditEntry).order_by(services.audit.AuditEntry.id)
    actions = [e.action for e in db.session.scalars(entries)]
    assert actions[-2:] == ["user.disable", "user.enable"]


def test_disable_and_enable_name_an_unknown_user(app, world, runner):
    for command in ("disable", "enable"):
        result = runner.invoke(args=["users", command, "ghost"])
        assert result.exit_code != 0 and "用户“ghost”不存在" in result.output


@pytest.mark.parametrize(
    "forged",
    ["1", "1:", "x:y", ":", "", "999:abc", "99999999999999999999:k", "²:k", "1:" + "A" * 500],
)
def test_a_forged_or_pre_upgrade_user_id_in_the_session_is_anonymous(app, world, forged):
    """A session signed with the right key but holding an id the server never issued (the
    bare "1" of cookies from before this release, or garbage) is not logged in, and no 500."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = forged
        session["_fresh"] = True
    assert sent_to_login(client.get(f"/campaigns/{world}"))


def test_a_pre_upgrade_cookie_of_a_real_user_is_refused(app, world):
    coord = user("coord")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(coord.id)
    assert sent_to_login(client.get(f"/campaigns/{world}"))


def test_the_password_still_logs_in_after_logout(app, world):
    owner = logged_in(app)
    owner.post("/logout", data={"csrf_token": csrf_token(owner, f"/campaigns/{world}")})
    assert login(owner, "coord", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "path, status",
    [
        ("/favicon.ico", 200),
        ("/static/favicon.svg", 200),
        ("/no-such-page", 404),
        ("/login", 200),
        ("/campaigns/{world}", 302),  # opened in another tab before the login
        ("/api/v1/campaigns", 401),
    ],
)
def test_an_answer_to_a_request_sent_before_the_login_cannot_undo_it(app, world, path, status):
    """A browser asks for the tab's icon (or a page open in another tab) while the login form
    is on its way. That request carries the cookie from before the login. Had its answer come
    last and set the cookie, the browser would keep the older, anonymous session, and the
    user would be sent back to the login page by his next click (seen in Chromium on a loaded
    host: the icon was a 404 page then). So an anonymous visitor's cookie is written only
    when his session changes: not by session protection, not for "请先登录。"."""
    path = path.format(world=world)
    browser = app.test_client()
    csrf_token(browser)  # the login page, as the browser shows it
    before = browser.get_cookie("session").value
    assert login(browser, "coord").status_code == 302

    late = app.test_client()  # the same browser's earlier request, answered after the login
    late.set_cookie("session", before)
    with late.get(path) as answer:
        assert answer.status_code == status
        assert not [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session=")]
    # As the browser would: a cookie in the late answer replaces the one it has.
    if late.get_cookie("session").value != before:
        browser.set_cookie("session", late.get_cookie("session").value)
    assert browser.get(f"/campaigns/{world}").status_code == 200


def test_the_login_page_says_why_a_visitor_was_sent_there(app, world):
    """Said by the page itself (it was given a page to return to), not carried in the cookie."""
    visitor = app.test_client()
    sent = visitor.get(f"/campaigns/{world}")
    assert sent.status_code == 302 and "Set-Cookie" not in sent.headers
    page = visitor.get(sent.headers["Location"]).get_data(as_text=True)
    assert '<div class="flash info">请先登录。</div>' in page
    assert "请先登录" not in visitor.get("/login").get_data(as_text=True)  # came on his own
    wrong = visitor.post(
        sent.headers["Location"],
        data={"username": "coord", "password": "wrong", "csrf_token": csrf_token(visitor)},
    ).get_data(as_text=True)
    assert "用户名或密码错误" in wrong and "请先登录" not in wrong
    # The right password takes him back to the page he asked for.
    answer = visitor.post(
        sent.headers["Location"],
        data={"username": "coord", "password": PASSWORD, "csrf_token": csrf_token(visitor)},
    )
    assert answer.headers["Location"] == f"/campaigns/{world}"


def test_every_page_names_the_tabs_icon_and_it_is_an_image(app, world):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    for link in re.findall(r'<link rel="(?:icon|apple-touch-icon)" href="([^"]+)"', page):
        with client.get(link) as answer:
            assert answer.status_code == 200, link
            assert answer.mimetype.startswith("image/"), link
    with client.get("/favicon.ico") as answer:
        assert answer.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert len(re.findall(r'<link rel="(?:icon|apple-touch-icon)"', page)) == 3
