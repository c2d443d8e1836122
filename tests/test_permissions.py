"""Who sees and changes what in the pages, CSRF on forms, and the login form.

The ledger below is small enough to work every figure out by hand (campaign
2026 from the wuhan-2016 template, default thresholds: 50 employees -> must
have a member, 100 -> must have a Party org, 3 formal members -> standalone):

江岸区 (jiangan), street 二七街道 (erqi) below it:
  江岸甲  enterprise, 120 employees, 3 formal, standalone  -> must be standalone, met
  江岸乙  enterprise,  60 employees, 1 formal, joint       -> must have a member, has one
  江岸丙  enterprise,  20 employees, none, 指导员 only      -> work coverage
  江岸丁  enterprise, 200 employees, 空壳 (shell)            -> excluded from the base
  => base 3, Party orgs 2 (66.7%), work coverage 3/3, standalone 1/2 (50.0%),
     应建 1 met 1 (100.0%), 50+ with member 2/2, 100+ with Party org 1/1,
     gap to the 80% target: ceil(3 * 0.8) - 2 = 1
武昌区 (wuchang):
  武昌甲  enterprise, 150 employees, none                  -> must have a Party org, has none
  武昌乙  law firm (social), 2 formal, joint                -> must have a Party org, met
  => base 2, Party orgs 1 (50.0%), work coverage 1/2, standalone 0/1 (0.0%),
     应建 2 met 1 (50.0%), 50+ with member 0/1, 100+ with Party org 0/1, gap ceil(1.6) - 1 = 1
全市: base 5, Party orgs 3 (60.0%), work 4/5 (80.0%), standalone 1/3 (33.3%),
     应建 3 met 2 (66.7%), 50+ 2/3 (66.7%), 100+ 1/2 (50.0%), gap ceil(4.0) - 3 = 1
"""

import re
from decimal import Decimal
from types import SimpleNamespace

import pytest

from campaign.core.extensions import db
from campaign.core.models import Campaign, Phase, Unit, User
from tests.conftest import (
    PASSWORD,
    csrf_token,
    login,
    make_campaign,
    make_org,
    make_two_districts,
    make_user,
)

JIANGAN_ROW = ["3", "2", "66.7%", "100.0%", "50.0%", "100.0%", "100.0%", "100.0%", "1"]
WUCHANG_ROW = ["2", "1", "50.0%", "50.0%", "0.0%", "50.0%", "0.0%", "0.0%", "1"]
CITY_ROW = ["5", "3", "60.0%", "80.0%", "33.3%", "66.7%", "66.7%", "50.0%", "1"]


def on_overview(row: list[str]) -> list[str]:
    """The row as the overview shows it: without the 50/100人 columns (it lists the figures of
    the campaign's rules in a table of their own)."""
    return row[:6] + row[8:]


@pytest.fixture
def world(built_once):
    return built_once("tests.test_permissions.world", _build_world)


def _build_world() -> SimpleNamespace:
    built = make_two_districts()
    jiangan, wuchang, campaign = built.jiangan, built.wuchang, built.campaign
    other_campaign = make_campaign(2027)

    make_user("jiangan_op", "operator", jiangan)
    make_user("jiangan_leader", "leader", jiangan)
    make_user("wuchang_op", "operator", wuchang)
    make_user("coord", "coordinator")
    make_user("coord_jiangan", "coordinator", jiangan)
    make_user("boss", "leadership")
    make_user("root", "admin")
    make_user("sleeper", "operator", jiangan).active = False
    db.session.commit()
    return SimpleNamespace(
        cid=campaign.id,
        phase_id=campaign.phases[0].id,
        phase_name=campaign.phases[0].name,
        other_cid=other_campaign.id,
        other_phase_id=other_campaign.phases[0].id,
    )


def logged_in(app, username):
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302, f"{username} could not log in"
    return client


def row_cells(html: str, label: str) -> list[str] | None:
    """The figure cells (as text) of the table row whose first cell reads ``label``."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if cells and cells[0] == label:
            return cells[1:]
    return None


def stored_campaign(cid) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, cid)


# ---- anonymous ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/campaigns/{cid}",
        "/campaigns/{cid}/units/jiangan",
        "/campaigns/{cid}/settings",
        "/campaigns/{cid}/phases/{phase_id}",
        "/campaigns/9999",
    ],
)
def test_anonymous_users_are_sent_to_login(client, world, path):
    response = client.get(path.format(cid=world.cid, phase_id=world.phase_id))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# ---- unit pages ----------------------------------------------------------------


@pytest.mark.parametrize("username", ["jiangan_op", "jiangan_leader"])
def test_unit_user_reads_own_unit_page_only(app, world, username):
    client = logged_in(app, username)
    own = client.get(f"/campaigns/{world.cid}/units/jiangan")
    assert own.status_code == 200
    html = own.get_data(as_text=True)
    for name in ("江岸甲", "江岸乙", "江岸丙", "江岸丁"):
        assert name in html
    assert "武昌甲" not in html and "武昌乙" not in html
    assert row_cells(html, "合计") == JIANGAN_ROW

    assert client.get(f"/campaigns/{world.cid}/units/wuchang").status_code == 404
    assert client.get(f"/campaigns/{world.cid}/units/no-such-unit").status_code == 404
    assert client.get("/campaigns/9999/units/jiangan").status_code == 404


def test_a_street_is_readable_by_its_district_only(app, world):
    # A street has no ledger of its own: its district's page shows it.
    response = logged_in(app, "jiangan_op").get(f"/campaigns/{world.cid}/units/erqi")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/campaigns/{world.cid}/units/jiangan"
    assert logged_in(app, "wuchang_op").get(f"/campaigns/{world.cid}/units/erqi").status_code == 404


def test_unit_page_with_orgs_in_a_street_and_in_none(app, world):
    campaign = db.session.get(Campaign, world.cid)
    erqi = db.session.scalar(db.select(Unit).where(Unit.code == "erqi"))
    make_org(campaign, erqi.parent, name="二七戊", employees=5, area=erqi)
    db.session.commit()
    response = logged_in(app, "jiangan_op").get(f"/campaigns/{world.cid}/units/jiangan")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert row_cells(html, "二七街道") == ["1", "0", "0.0%", "0.0%", "—", "—", "—", "—", "1"]
    assert row_cells(html, "（未分街道）") == JIANGAN_ROW


def test_not_found_and_forbidden_look_the_same(app, world):
    """A unit the user may not read answers exactly like one that does not exist."""
    client = logged_in(app, "jiangan_op")
    hidden = client.get(f"/campaigns/{world.cid}/units/wuchang")
    missing = client.get(f"/campaigns/{world.cid}/units/no-such-unit")
    assert hidden.status_code == missing.status_code == 404

    # The logout form's CSRF token is signed with the time: two requests a second apart
    # differ there and nowhere else.
    def page(response):
        return re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))

    assert 'name="csrf_token"' in hidden.get_data(as_text=True)
    assert page(hidden) == page(missing)


@pytest.mark.parametrize("username", ["coord", "coord_jiangan", "boss", "root"])
def test_city_wide_roles_read_every_unit_page(app, world, username):
    client = logged_in(app, username)
    jiangan = client.get(f"/campaigns/{world.cid}/units/jiangan")
    wuchang = client.get(f"/campaigns/{world.cid}/units/wuchang")
    assert jiangan.status_code == wuchang.status_code == 200
    assert row_cells(jiangan.get_data(as_text=True), "合计") == JIANGAN_ROW
    assert row_cells(wuchang.get_data(as_text=True), "合计") == WUCHANG_ROW
    assert client.get(f"/campaigns/{world.cid}/units/no-such-unit").status_code == 404


# ---- overview --------------------------------------------------------------------


@pytest.mark.parametrize("username", ["jiangan_op", "jiangan_leader"])
def test_unit_user_overview_shows_own_unit_only(app, world, username):
    response = logged_in(app, username).get(f"/campaigns/{world.cid}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert row_cells(html, "江岸区") == on_overview(JIANGAN_ROW)
    assert "武昌区" not in html
    assert "全市合计" not in html
    assert "行动设置" not in html  # no link to a page they may not open


@pytest.mark.parametrize("username", ["coord", "coord_jiangan", "boss", "root"])
def test_city_wide_roles_overview_shows_every_unit_and_the_total(app, world, username):
    response = logged_in(app, username).get(f"/campaigns/{world.cid}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert row_cells(html, "江岸区") == on_overview(JIANGAN_ROW)
    assert row_cells(html, "武昌区") == on_overview(WUCHANG_ROW)
    assert row_cells(html, "全市合计") == on_overview(CITY_ROW)
    assert html.index("江岸区") < html.index("武昌区")
    assert "二七街道" not in html  # streets are not responsible units


def test_overview_of_missing_campaign_is_404(app, world):
    assert logged_in(app, "coord").get("/campaigns/9999").status_code == 404


# ---- settings and phases --------------------------------------------------------


@pytest.mark.parametrize("username", ["jiangan_op", "jiangan_leader", "boss"])
def test_only_editors_open_settings_and_phase_pages(app, world, username):
    # Everyone reads the campaign; only editors change it, and the others are told why.
    client = logged_in(app, username)
    for path in (
        f"/campaigns/{world.cid}/settings",
        f"/campaigns/{world.cid}/phases/{world.phase_id}",
    ):
        response = client.get(path)
        assert response.status_code == 403
        assert "此操作仅限市级专班和系统管理员" in response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["jiangan_op", "boss"])
def test_non_editors_cannot_post_settings_or_phases_even_with_a_valid_token(app, world, username):
    client = logged_in(app, username)
    token = csrf_token(client, f"/campaigns/{world.cid}")  # the logout form's token
    settings = client.post(
        f"/campaigns/{world.cid}/settings",
        data={"csrf_token": token, "target_party_org_coverage": "50"},
    )
    phase = client.post(
        f"/campaigns/{world.cid}/phases/{world.phase_id}",
        data={"csrf_token": token, "name": "改掉的阶段"},
    )
    assert settings.status_code == phase.status_code == 403
    assert stored_campaign(world.cid).target_party_org_coverage == Decimal("80")
    assert db.session.get(Phase, world.phase_id).name == world.phase_name


@pytest.mark.parametrize("username", ["coord", "coord_jiangan", "root"])
def test_editors_open_settings_and_phase_pages(app, world, username):
    client = logged_in(app, username)
    settings = client.get(f"/campaigns/{world.cid}/settings")
    assert settings.status_code == 200
    assert "党组织覆盖率目标" in settings.get_data(as_text=True)
    phase = client.get(f"/campaigns/{world.cid}/phases/{world.phase_id}")
    assert phase.status_code == 200
    assert world.phase_name in phase.get_data(as_text=True)
    assert "行动设置" in client.get(f"/campaigns/{world.cid}").get_data(as_text=True)


def test_editor_gets_404_for_missing_campaign_or_another_campaigns_phase(app, world):
    client = logged_in(app, "coord")
    assert client.get("/campaigns/9999/settings").status_code == 404
    assert client.get(f"/campaigns/{world.cid}/phases/999999").status_code == 404
    assert client.get(f"/campaigns/{world.cid}/phases/{world.other_phase_id}").status_code == 404


# ---- CSRF on forms ------------------------------------------------------------------


def test_login_without_csrf_token_is_refused_and_does_not_log_in(client, world):
    response = client.post("/login", data={"username": "coord", "password": PASSWORD})
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    follow = client.get("/")
    assert follow.status_code == 302
    assert follow.headers["Location"].startswith("/login")


def test_login_with_a_forged_csrf_token_is_refused(client, world):
    client.get("/login")
    response = client.post(
        "/login", data={"username": "coord", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert client.get("/").headers["Location"].startswith("/login")


def test_settings_post_without_csrf_token_changes_nothing(app, world):
    client = logged_in(app, "coord")
    response = client.post(
        f"/campaigns/{world.cid}/settings", data={"target_party_org_coverage": "85"}
    )
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    assert stored_campaign(world.cid).target_party_org_coverage == Decimal("80")


def test_settings_post_with_another_sessions_token_changes_nothing(app, world):
    """A token lifted from someone else's page (another session) does not work."""
    other = logged_in(app, "root")
    stolen = csrf_token(other, f"/campaigns/{world.cid}/settings")
    client = logged_in(app, "coord")
    response = client.post(
        f"/campaigns/{world.cid}/settings",
        data={"target_party_org_coverage": "85", "csrf_token": stolen},
    )
    assert response.status_code == 400
    assert stored_campaign(world.cid).target_party_org_coverage == Decimal("80")


def test_settings_post_with_csrf_token_saves(app, world):
    client = logged_in(app, "coord")
    url = f"/campaigns/{world.cid}/settings"
    response = client.post(
        url, data={"target_party_org_coverage": "85", "csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == url
    assert any("已保存" in m for m in _flash(client.get(url).get_data(as_text=True)))
    assert stored_campaign(world.cid).target_party_org_coverage == Decimal("85")
    # The overview now measures against 85%: header and the gap column (ceil(5 * .85) - 3 = 2).
    html = client.get(f"/campaigns/{world.cid}").get_data(as_text=True)
    assert "目标≥85%" in html
    assert row_cells(html, "全市合计")[-1] == "2"


def test_settings_post_with_bad_value_rerenders_with_chinese_message(app, world):
    client = logged_in(app, "coord")
    url = f"/campaigns/{world.cid}/settings"
    response = client.post(
        url,
        data={
            "target_party_org_coverage": "120",
            "member_required_employees": "40",  # valid, but all or nothing
            "csrf_token": csrf_token(client, url),
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "应在0%至100%之间" in html
    assert 'value="120"' in html  # what was typed is kept for correction
    campaign = stored_campaign(world.cid)
    assert campaign.target_party_org_coverage == Decimal("80")
    assert campaign.member_required_employees == 50


# ---- login ------------------------------------------------------------------------------


def _attempt(client, username, password, **kw):
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
        **kw,
    )


def _flash(html: str) -> list[str]:
    return re.findall(r'<div class="flash [^"]*">([^<]*)</div>', html)


def test_wrong_password_and_unknown_user_get_the_same_answer(client, world):
    wrong = _attempt(client, "coord", "wrong-password")
    unknown = _attempt(client, "nobody", "wrong-password")
    assert wrong.status_code == unknown.status_code == 401
    assert _flash(wrong.get_data(as_text=True)) == ["用户名或密码错误。"]
    assert _flash(unknown.get_data(as_text=True)) == ["用户名或密码错误。"]
    assert client.get("/").headers["Location"].startswith("/login")


def test_right_password_logs_in_and_follows_local_next_only(client, world):
    response = client.post(
        "/login?next=//evil.example/x",
        data={"username": "coord", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # "/" opens the most recent campaign (2027 here).
    assert client.get("/").headers["Location"] == f"/campaigns/{world.other_cid}"


def test_inactive_user_cannot_log_in(client, world):
    response = _attempt(client, "sleeper", PASSWORD)
    assert response.status_code == 401
    assert _flash(response.get_data(as_text=True)) == ["用户名或密码错误。"]
    assert client.get("/").headers["Location"].startswith("/login")


def test_deactivated_user_is_logged_out_at_next_request(app, world):
    client = logged_in(app, "jiangan_op")
    assert client.get(f"/campaigns/{world.cid}").status_code == 200
    db.session.scalar(db.select(User).where(User.username == "jiangan_op")).active = False
    db.session.commit()
    response = client.get(f"/campaigns/{world.cid}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sixth_attempt_after_five_failures_is_refused_even_with_right_password(client, world):
    for _ in range(5):
        assert _attempt(client, "coord", "wrong-password").status_code == 401
    locked = _attempt(client, "coord", PASSWORD)
    assert locked.status_code == 429
    assert "尝试次数过多" in locked.get_data(as_text=True)
    assert client.get("/").headers["Location"].startswith("/login")
    # The key ignores case and surrounding spaces, so variants do not get extra tries.
    assert _attempt(client, " COORD ", PASSWORD).status_code == 429

    # Another username from the same address is not affected.
    other = _attempt(client, "boss", PASSWORD)
    assert other.status_code == 302
    assert client.get(f"/campaigns/{world.cid}").status_code == 200


def test_lockout_is_per_address(app, world):
    here = app.test_client()
    for _ in range(5):
        _attempt(here, "coord", "wrong-password")
    assert _attempt(here, "coord", PASSWORD).status_code == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    assert _attempt(elsewhere, "coord", PASSWORD).status_code == 302


def test_four_failures_still_allow_the_right_password(client, world):
    for _ in range(4):
        assert _attempt(client, "coord", "wrong-password").status_code == 401
    assert _attempt(client, "coord", PASSWORD).status_code == 302


def test_settings_form_refuses_nan_target(app, world):
    client = logged_in(app, "coord")
    url = f"/campaigns/{world.cid}/settings"
    response = client.post(
        url, data={"target_party_org_coverage": "NaN", "csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 422
    assert "应为百分数" in response.get_data(as_text=True)
    assert stored_campaign(world.cid).target_party_org_coverage == Decimal("80")
