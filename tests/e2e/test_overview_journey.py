"""A user's journey through login and the campaign overview, in Chromium.

The clock is pinned to 2026-11-22 10:00 Asia/Shanghai (see conftest). Worked
out by hand from the wuhan-2016 template for 2026: 组织检查验收 runs
11-21..12-05, and half-monthly reports are due on the 10th and the 25th, so
the next deadline is 半月报送截止 on 11月25日, 3 days away.
"""

import re
import shutil

import pytest
from playwright.sync_api import Page, expect

from campaign.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

RESPONSIBLE_UNITS = [
    "江岸区",
    "江汉区",
    "硚口区",
    "汉阳区",
    "武昌区",
    "青山区",
    "洪山区",
    "东西湖区",
    "汉南区",
    "蔡甸区",
    "江夏区",
    "黄陂区",
    "新洲区",
    "东湖新技术开发区",
    "武汉经济技术开发区",
    "市民政局",
    "市直机关工委",
]
LOGIN_URL = re.compile(r"/login(\?.*)?$")
OVERVIEW_URL = re.compile(r"/campaigns/1$")
SCREENSHOT_COPY = "/tmp/e2e-overview.png"


def log_in(page: Page, username: str, password: str) -> None:
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def expect_login_page(page: Page) -> None:
    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_role("heading", name="用户登录", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="退出")).to_have_count(0)


def unit_names(page: Page):
    return page.locator("#unit-figures tbody tr:not(.total) td:first-child")


def test_coordinator_overview_journey(live_server, browser_page: Page, tmp_path):
    page = browser_page

    # Not logged in: the site sends us to the login page.
    page.goto(live_server("/"))
    expect_login_page(page)
    expect(page.locator(".flash")).to_contain_text("请先登录")

    # A wrong password: an error, and still on the login page.
    log_in(page, "zhuanban", "not-the-password")
    expect(page.locator(".flash.error")).to_contain_text("用户名或密码错误")
    expect_login_page(page)

    # The demo coordinator lands on the overview of the one campaign.
    log_in(page, "zhuanban", DEMO_PASSWORD)
    expect(page).to_have_url(OVERVIEW_URL)
    expect(page.get_by_role("heading", level=1)).to_contain_text("百日攻坚行动”（2026年）")
    expect(page.locator("main p.muted").first).to_contain_text("今天 2026年11月22日（星期日）")

    # The countdown: the next deadline is the half-monthly report on 11-25, 3 days away.
    countdown = page.locator("#countdown")
    expect(countdown).to_contain_text("11月25日")
    expect(countdown).to_contain_text("3 天")
    expect(countdown.locator(".label")).to_have_text("距半月报送截止（11月25日）")
    expect(countdown.locator(".value")).to_have_text("3 天")

    # The current phase: 组织检查验收 (11-21..12-05).
    current = page.locator(".kpi").filter(has=page.locator(".label", has_text="当前阶段"))
    expect(current.locator(".value")).to_have_text("组织检查验收")

    # The timeline: 8 phases, the current one highlighted, and a 今天 marker.
    rows = page.locator(".timeline .row")
    expect(rows).to_have_count(8)
    expect(page.locator(".timeline .row.current")).to_have_count(1)
    expect(page.locator(".timeline .row.current .name")).to_contain_text("组织检查验收")
    expect(page.locator(".timeline .row.current .when")).to_have_text("11月21日–12月5日")
    expect(page.locator(".timeline .today-label")).to_have_text("今天")
    expect(page.locator(".timeline .today-label")).to_be_visible()

    # The figures table: one row per responsible unit, then the city total.
    table = page.locator("#unit-figures")
    expect(unit_names(page)).to_have_text(RESPONSIBLE_UNITS)
    expect(table.locator("tbody tr")).to_have_count(len(RESPONSIBLE_UNITS) + 1)
    expect(table.locator("tbody tr.total td").first).to_have_text("全市合计")
    coverage_head = table.locator("thead th").filter(has_text="党组织覆盖率")
    expect(coverage_head).to_have_count(1)
    expect(coverage_head).to_contain_text("目标≥80%")

    # A picture of the overview, for people (not asserted).
    shot = tmp_path / "overview.png"
    page.screenshot(path=str(shot), full_page=True)
    shutil.copyfile(shot, SCREENSHOT_COPY)

    # Into a unit's page.
    table.get_by_role("link", name="江岸区", exact=True).click()
    expect(page).to_have_url(re.compile(r"/campaigns/1/units/jiangan$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("江岸区")

    # Log out: back at the login page, and the overview asks for a login again.
    page.get_by_role("button", name="退出", exact=True).click()
    expect_login_page(page)
    expect(page.locator(".flash")).to_contain_text("已退出登录")
    page.goto(live_server("/"))
    expect_login_page(page)


def test_district_operator_sees_only_own_unit(live_server, browser_page: Page):
    page = browser_page
    page.goto(live_server("/login"))
    log_in(page, "jiangan_tianbao", DEMO_PASSWORD)
    # A district operator lands on his 待办 (tests/e2e/test_role_homes.py); the overview is a link.
    expect(page).to_have_url(re.compile(r"/campaigns/1/home$"))
    page.get_by_role("link", name="本单位进展").click()
    expect(page).to_have_url(OVERVIEW_URL)

    table = page.locator("#unit-figures")
    expect(page.get_by_role("heading", name="本单位进展", level=2)).to_be_visible()
    expect(unit_names(page)).to_have_text(["江岸区"])
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tr.total")).to_have_count(0)
    expect(table).not_to_contain_text("全市合计")
    expect(table).not_to_contain_text("武昌区")

    # Another district's page is not there for this user (404, not 403).
    response = page.goto(live_server("/campaigns/1/units/wuchang"))
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")

    # The user's own unit page is there.
    response = page.goto(live_server("/campaigns/1/units/jiangan"))
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("江岸区")
