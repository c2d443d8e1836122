"""Each role's home in Chromium, at 1440 px and on a 390 × 844 phone, over the hand-made city
of tests/home/world.py (every count worked out by hand there): the 待办 counts, and each tile
followed to the page of the work, which shows that many rows; nothing scrolls sideways at
390 px; the coordinator urges (催办) a late unit, twice; a district raises a 协调事项 and the
coordinator answers it, which another district cannot open. Screenshots go to
/tmp/role-homes/ (the leader's phone view in docs/ comes from there).
"""

import re
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from campaign.core.extensions import db
from tests.conftest import BACKENDS, PASSWORD
from tests.e2e.conftest import checked_page, log_in, serving
from tests.home import world
from tests.home.test_role_homes import add_bulletins

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/role-homes")
WIDTHS = {"wide": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


# Each width on one database (the pages and counts are the same on both, as tests/home checks
# without a browser): the desktop on SQLite, the phone on PostgreSQL where the suite has it.
# The pairs are the parameters, so no test is collected for a pair that does not run.
PAIRS = [("wide", "sqlite"), ("phone", "postgresql" if "postgresql" in BACKENDS else "sqlite")]


@pytest.fixture(params=PAIRS, ids=[f"{w}-{b}" for w, b in PAIRS])
def pairing(request) -> tuple[str, str]:
    return request.param


@pytest.fixture
def backend(pairing) -> str:
    """The database of this width (in place of conftest's parameter over every database)."""
    return pairing[1]


@pytest.fixture
def city(app, built_once):
    """The hand-made city served on 127.0.0.1 (either database), the clock at 10:00 on
    2026-11-22 and moving on from there."""
    w = world.copied(built_once, Path(app.config["STORAGE_PATH"]))
    add_bulletins(app, w)
    db.session.remove()
    with time_machine.travel(world.NOW, tick=True):
        with serving(app) as url:
            yield url, w


@pytest.fixture
def browser(pairing, chromium):
    """A Chromium page at the width of the parameter; fails on anything the CSP refuses."""
    with checked_page(chromium, viewport=WIDTHS[pairing[0]]) as page:
        page.width = pairing[0]  # type: ignore[attr-defined]
        yield page


def fits(page: Page) -> None:
    """Nothing is wider than the window: no sideways scrolling."""
    width = page.evaluate("document.scrollingElement.scrollWidth")
    window = page.evaluate("window.innerWidth")
    assert width <= window, f"{page.url}: {width}px wide in a {window}px window"


def shot(page: Page, name: str) -> None:
    fits(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{page.width}-{name}.png"), full_page=True)  # type: ignore[attr-defined]


def counts(page: Page) -> dict[str, int]:
    tiles = page.locator("#todos a.todo")
    return {
        tiles.nth(i).get_attribute("id").removeprefix("todo-"): int(
            tiles.nth(i).locator(".count").inner_text()
        )
        for i in range(tiles.count())
    }


def follow(page: Page, key: str) -> None:
    """Tap a 待办 tile and wait for where it leads."""
    page.locator(f"#todo-{key}").click()
    page.wait_for_load_state()


def test_operator_home_and_where_each_todo_leads(city, browser):
    url, w = city
    page = browser
    log_in(page, url, "jiangan_op", PASSWORD)
    expect(page).to_have_url(re.compile(r"/campaigns/1/home$"))
    home = page.url
    assert counts(page) == {
        "report-late": 1,
        "report": 1,
        "overdue": 2,
        "returned": 1,
        "tasks": 2,
        "decided": 1,
        "issues": 1,
    }
    expect(page.locator("#todo-report")).to_contain_text("还有3天截止")
    shot(page, "operator-home")

    follow(page, "overdue")
    expect(page.locator(".card .org")).to_have_text(["江岸A", "江岸B"])
    fits(page)
    page.goto(home)
    follow(page, "returned")
    expect(page.locator("#todo-count")).to_have_text("1")
    expect(page.locator("#todo-rows li")).to_contain_text(["江岸C"])
    expect(page.locator("#todo-rows")).to_contain_text("批复文件未加盖公章")
    fits(page)
    page.locator("#todo-rows a").first.click()
    expect(page.locator("#item-state")).to_contain_text("推进中")
    page.goto(home)
    follow(page, "tasks")
    expect(page.locator("#todo-rows strong")).to_have_text(["排查摸底报告", "区工作方案"])
    fits(page)
    page.goto(home)
    follow(page, "decided")
    expect(page.locator("#todo-rows strong")).to_have_text(["新增：江岸新增甲"])
    page.goto(home)
    follow(page, "issues")
    expect(page.locator("#open-count")).to_have_text("1")
    fits(page)
    page.goto(home)
    follow(page, "report")
    expect(page).to_have_url(re.compile(r"/units/jiangan/reports/2026-11-25$"))
    expect(page.locator("#report-form")).to_be_visible()


def test_leader_home_lists_closures_to_verify_oldest_first(city, browser):
    url, w = city
    page = browser
    log_in(page, url, "jiangan_leader", PASSWORD)
    assert counts(page) == {"awaiting": 2, "overdue": 2, "issues": 1}
    expect(page.locator("#my-rank")).to_contain_text("第3名")
    expect(page.locator("#my-rank")).to_contain_text("还需组建 2 个")
    shot(page, "leader-home")
    follow(page, "awaiting")
    expect(page.locator("#todo-count")).to_have_text("2")
    expect(page.locator("#todo-rows strong")).to_have_text(["江岸E", "江岸D"])
    fits(page)
    page.locator("#todo-rows a").first.click()
    expect(page.locator("#item-state")).to_contain_text("待核验")


def test_coordinator_todo_and_urging_a_late_unit(city, browser):
    url, w = city
    page = browser
    log_in(page, url, "coord", PASSWORD)
    expect(page).to_have_url(re.compile(r"/campaigns/1$"))
    assert counts(page) == {"changes": 1, "spot": 1, "late": 2, "review": 3, "issues": 2}
    late = page.locator("#late-table tbody tr")
    expect(late).to_have_count(2)
    expect(late.nth(0)).to_contain_text("江岸区")
    expect(late.nth(1)).to_contain_text("汉阳区")
    shot(page, "coordinator-home")

    follow(page, "changes")
    expect(page.locator("h1")).to_contain_text("（1）")
    page.go_back()
    follow(page, "spot")
    expect(page.locator("[name=result_id]")).to_have_count(1)
    page.go_back()
    follow(page, "review")
    expect(page.locator("#todo-count")).to_have_text("3")
    fits(page)
    page.go_back()
    follow(page, "issues")
    expect(page.locator("#open-count")).to_have_text("2")
    page.go_back()

    row = page.locator("#late-table tr[data-unit=jiangan]")
    expect(row.locator(".last-urge")).to_have_text("未催办")
    row.get_by_role("button", name="催办").click()
    expect(page.locator(".flash.success")).to_have_text(
        "已向江岸区发出催办（站内通知、邮件、群机器人）。"
    )
    row = page.locator("#late-table tr[data-unit=jiangan]")
    expect(row.locator(".last-urge")).to_contain_text("刘专班")
    row.get_by_role("button", name="催办").click()
    expect(page.locator(".flash.error")).to_contain_text("2小时内不重复催办")
    fits(page)


def test_a_district_raises_an_issue_the_coordinator_answers_another_district_cannot_see_it(
    city, browser
):
    url, w = city
    page = browser
    log_in(page, url, "jiangan_op", PASSWORD)
    page.get_by_role("link", name="提出协调事项").click()
    page.get_by_label("事项类别").select_option(label="隶属关系争议")
    page.get_by_label("事项（一句话）").fill("江岸B与汉阳区争议隶属")
    page.get_by_label("情况说明").fill("两区均已登记该企业")
    fits(page)
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#issue-status")).to_have_text("待处理")
    issue_url = page.url
    page.goto(url + "/campaigns/1/home")
    expect(page.locator("#todo-issues .count")).to_have_text("2")
    page.context.clear_cookies()

    log_in(page, url, "wuchang_op", PASSWORD)
    response = page.goto(issue_url)
    assert response is not None and response.status == 404
    page.context.clear_cookies()

    log_in(page, url, "coord", PASSWORD)
    expect(page.locator("#todo-issues .count")).to_have_text("3")
    page.goto(issue_url)
    page.get_by_label("答复意见").fill("按属地原则归江岸区管理")
    page.get_by_role("button", name="答复", exact=True).click()
    expect(page.locator("#issue-status")).to_have_text("已答复")
    fits(page)
    page.context.clear_cookies()

    log_in(page, url, "jiangan_op", PASSWORD)
    expect(page.locator("#todo-issues .count")).to_have_text("1")
    page.goto(issue_url)
    expect(page.locator("#issue-answer")).to_have_text("按属地原则归江岸区管理")


def test_leadership_view_on_a_phone(city, browser):
    url, w = city
    page = browser
    log_in(page, url, "boss", PASSWORD)
    expect(page).to_have_url(re.compile(r"/campaigns/1/home$"))
    expect(page.locator("#latest-bulletin")).to_contain_text("第6期 · 11月10日")
    expect(page.locator("#city-coverage .value")).to_have_text("33.3%")
    expect(page.locator("#ranking li .name")).to_have_text(["武昌区", "汉阳区", "江岸区"])
    expect(page.locator("#ranking li .move")).to_have_text(["↑2", "—", "↓2"])
    expect(page.locator("#ranking li svg")).to_have_count(3)
    expect(page.locator("#named-units li strong")).to_have_text(["武昌区", "汉阳区"])
    expect(page.get_by_role("link", name="台账变更申请")).to_have_count(0)
    expect(page.get_by_role("link", name="导出全市台账")).to_have_count(0)
    shot(page, "leadership")
    # One tap opens the PDF, inline.
    with page.expect_response(re.compile(r"/bulletins/6\.pdf$")) as opened:
        page.locator("#latest-bulletin").click()
    response = opened.value
    assert response.status == 200
    assert response.headers["content-disposition"].startswith("inline")
    # The same bulletin as a page that fits the phone.
    page.goto(url + "/campaigns/1/home")
    page.locator("#latest-reading").click()
    expect(page.locator("#reading-ranking tbody tr")).to_have_count(3)
    shot(page, "bulletin-reading")
    # The archive: 第N期, the date and the PDF, no hashes nor snapshots.
    page.goto(url + "/campaigns/1/bulletins")
    row = page.locator("#bulletins tbody tr", has_text="第6期")
    expect(row.get_by_role("link", name="PDF")).to_be_visible()
    expect(row).not_to_contain_text("…")
    expect(page.get_by_role("link", name="数据快照")).to_have_count(0)
    shot(page, "leadership-archive")
