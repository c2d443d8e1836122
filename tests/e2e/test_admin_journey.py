"""A city's first afternoon with Gongjian, in Chromium, on a desktop (1440 px) and a phone
(390 px): `flask db upgrade` and `flask init` in processes of their own on an empty
database (once per test process: each width starts from a copy); the admin logs in, creates an operator on the page (a one-time password shown
once), resets it; the operator logs in with it, is held on the password page until he has
chosen his own, and changes it; the admin sees his last login. No page is wider than the
screen. Screenshots of each step go to /tmp/admin-journey/.

The admin first adds 江岸区 under the city unit init made, on the units pages.
"""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from app import create_app
from tests.e2e.conftest import DEMO_MOMENT, checked_page, serving
from tests.timeutil import clock_env

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"
SHOTS = Path("/tmp/admin-journey")
ADMIN, ADMIN_PASSWORD = "boss", "amber-kettle-road-19"
OPERATOR_PASSWORD = "lotus-bridge-copper-74"
ONE_TIME = re.compile(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}")


def flask(env: dict[str, str], *args: str, stdin: str = "") -> str:
    result = subprocess.run(
        [str(FLASK), "--app", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def city_database(tmp_path_factory) -> Path:
    """An installation's database as a city sets it up, migrated and initialised by the
    commands on an empty database: once per test process, each journey serving a copy."""
    folder = tmp_path_factory.mktemp("city")
    url = f"sqlite:///{folder / 'city.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "e2e-secret",
        "STORAGE_PATH": str(folder / "storage"),
        **clock_env(DEMO_MOMENT),
    }
    flask(env, "db", "upgrade")
    said = flask(
        env,
        *("init", "--city", "某市", "--issuer", "中共某市委组织部", "--admin", ADMIN),
        "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert "已创建系统管理员“boss”" in said
    assert not (folder / "storage").exists(), "init stores files: copy them too"
    return folder / "city.db"


@pytest.fixture
def city_server(tmp_path, city_database) -> Iterator[str]:
    """An installation set up as a city would (``city_database``), served (its URL, no
    trailing slash), the clock at DEMO_MOMENT."""
    shutil.copyfile(city_database, tmp_path / "city.db")
    url = f"sqlite:///{tmp_path / 'city.db'}"
    with time_machine.travel(DEMO_MOMENT, tick=True):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "e2e-secret",
                "SQLALCHEMY_DATABASE_URI": url,
                "STORAGE_PATH": str(tmp_path / "storage"),
                "MAIL_FOLDER": str(tmp_path / "mail"),
                "SCHEDULER_ENABLED": False,
            }
        )
        with serving(app) as url:
            yield url


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(exist_ok=True)
    return SHOTS


def fits(page: Page) -> None:
    """Nothing on the page is wider than the window (no sideways scrolling)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    window = page.evaluate("window.innerWidth")
    assert width <= window, f"{page.url}: {width}px wide in a {window}px window"


def shot(page: Page, shots: Path, width: int, name: str) -> None:
    fits(page)
    page.screenshot(path=str(shots / f"{width}-{name}.png"), full_page=True)


def log_in(page: Page, username: str, password: str) -> None:
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def open_menu(page: Page) -> None:
    """On a phone the header's links and 退出 are folded behind 菜单."""
    page.wait_for_load_state()
    toggle = page.locator("header.top .menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def log_out(page: Page) -> None:
    open_menu(page)
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", name="用户登录")).to_be_visible()


@pytest.mark.parametrize("width", [1440, 390])
def test_init_then_an_admin_creates_an_operator_who_sets_his_password(
    city_server, shots, width, chromium
):
    with checked_page(
        chromium,
        viewport={"width": width, "height": 900},
        is_mobile=width < 500,
        has_touch=width < 500,
        device_scale_factor=1,
    ) as page:
        journey(page, city_server, shots, width)


def go(page: Page, name: str) -> None:
    """Follow a link of the header's menu."""
    open_menu(page)
    page.locator("header.top").get_by_role("link", name=name).click()


def journey(page: Page, url: str, shots: Path, width: int) -> None:
    # The admin `init` made logs in: no campaign yet, and 用户管理 in his menu.
    page.goto(url + "/")
    log_in(page, ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="尚无攻坚行动")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("系统管理员（系统管理员 · 中共某市委组织部）")

    # He adds 江岸区 under the city unit init made: first under nothing (refused, said why).
    go(page, "单位管理")
    expect(page.locator("#units")).to_contain_text("中共某市委组织部")
    page.get_by_role("link", name="新增单位").click()
    page.get_by_label("单位代码", exact=True).fill("jiangan")
    page.get_by_label("单位名称", exact=True).fill("江岸区")
    page.get_by_label("类型", exact=True).select_option(label="区")
    page.get_by_role("button", name="新增", exact=True).click()
    expect(page.locator(".problems")).to_contain_text("「上级单位」必填：区须在市委组织部之下")
    shot(page, shots, width, "0-unit-refused")
    page.get_by_label("上级单位", exact=True).select_option(label="中共某市委组织部（市委组织部）")
    page.get_by_role("button", name="新增", exact=True).click()
    expect(page.locator(".flash.success")).to_contain_text("已新增单位“江岸区”（jiangan）")
    row = page.locator("#units tr", has_text="江岸区")
    expect(row).to_contain_text("是")
    shot(page, shots, width, "0-units")
    row.get_by_role("link", name="江岸区").click()
    expect(page.locator("#history")).to_contain_text("新增单位")
    shot(page, shots, width, "0-unit")

    go(page, "用户管理")
    expect(page.get_by_role("heading", name="用户管理", level=1)).to_be_visible()
    expect(page.locator("#users")).to_contain_text("boss")

    # He creates an operator of 江岸区 on the page.
    page.get_by_role("link", name="新建用户").click()
    page.get_by_label("用户名", exact=True).fill("jiangan_tianbao")
    page.get_by_label("姓名", exact=True).fill("江岸区 张填报")
    page.get_by_label("角色", exact=True).select_option(label="单位填报员")
    page.get_by_label("所属单位", exact=True).select_option(label="江岸区（区）")
    page.get_by_label("手机号码", exact=True).fill("13800000000")
    page.get_by_label("电子邮件", exact=True).fill("zhang@example.cn")
    shot(page, shots, width, "1-new-user")
    page.get_by_role("button", name="创建并生成一次性密码").click()
    expect(page.get_by_role("heading", name="已创建用户")).to_be_visible()
    first = page.locator("#one-time-password").inner_text()
    assert ONE_TIME.fullmatch(first)
    shot(page, shots, width, "2-created")

    # He resets the password (confirming the question) and reads the new one.
    page.get_by_role("link", name="查看该用户").click()
    expect(page.locator("#last-login")).to_have_text("从未登录")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="重置密码").click()
    expect(page.get_by_role("heading", name="已重置密码")).to_be_visible()
    password = page.locator("#one-time-password").inner_text()
    assert ONE_TIME.fullmatch(password) and password != first
    shot(page, shots, width, "3-reset")
    log_out(page)

    # The first one-time password no longer works; the second lets him in, to one page.
    log_in(page, "jiangan_tianbao", first)
    expect(page.locator(".flash.error")).to_contain_text("用户名或密码错误")
    log_in(page, "jiangan_tianbao", password)
    expect(page).to_have_url(re.compile(r"/account/password$"))
    expect(page.locator("main")).to_contain_text("您正在使用管理员提供的一次性密码")
    page.goto(url + "/")
    expect(page).to_have_url(re.compile(r"/account/password$"))
    shot(page, shots, width, "4-forced-change")

    # A weak new password is refused with the reason; then he sets a good one.
    page.get_by_label("一次性密码", exact=True).fill(password)
    page.get_by_label("新密码", exact=True).fill("zhang123456")
    page.get_by_label("再次输入新密码", exact=True).fill("zhang123456")
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator(".problems")).to_contain_text("「新密码」太容易被猜到")
    shot(page, shots, width, "5-weak-refused")
    page.get_by_label("一次性密码", exact=True).fill(password)
    page.get_by_label("新密码", exact=True).fill(OPERATOR_PASSWORD)
    page.get_by_label("再次输入新密码", exact=True).fill(OPERATOR_PASSWORD)
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator(".flash.success")).to_contain_text("密码已修改")
    expect(page.get_by_role("heading", name="尚无攻坚行动")).to_be_visible()
    expect(page.get_by_role("link", name="用户管理")).to_have_count(0)
    shot(page, shots, width, "6-changed")

    # He changes it again himself, from the menu, with the old one.
    go(page, "修改密码")
    expect(page.get_by_label("原密码", exact=True)).to_be_visible()
    log_out(page)
    log_in(page, "jiangan_tianbao", OPERATOR_PASSWORD)
    expect(page.get_by_role("heading", name="尚无攻坚行动")).to_be_visible()
    log_out(page)

    # The admin sees his last login (10:00 on the pinned day) and the account's record.
    log_in(page, ADMIN, ADMIN_PASSWORD)
    go(page, "用户管理")
    row = page.locator("#users tr", has_text="jiangan_tianbao")
    expect(row).to_contain_text("2026-11-22 10:")
    expect(row).to_contain_text("启用")
    shot(page, shots, width, "7-users")
    row.get_by_role("link", name="jiangan_tianbao").click()
    expect(page.locator("#history")).to_contain_text("本人修改密码")
    expect(page.locator("#history")).to_contain_text("重置密码")
    expect(page.locator("#history")).to_contain_text("角色：单位填报员")
    shot(page, shots, width, "8-user")
