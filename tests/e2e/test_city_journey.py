"""Issue 17's "done means", in Chromium, from an empty database: `flask init`; the admin
imports a tree of units from an xlsx written here (3 districts, 6 streets, 2 departments:
previewed first, then imported), creates
a coordinator and two district operators on the pages; the coordinator (made to choose his
own password first) creates a 2027 campaign from the seed-000 template; an operator of 东湖区
(the same) downloads his ledger's blank template, fills it with openpyxl and imports it, and
the overview shows his unit's figures, worked out by hand below.
"""

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from playwright.sync_api import Page, expect

from app import create_app
from campaign.core.extensions import db
from tests.city import UNITS, fill_ledger
from tests.e2e.conftest import checked_page, serving
from tests.e2e.test_admin_journey import ONE_TIME, go, log_in, log_out

pytestmark = pytest.mark.e2e

# In the 2027 campaign's 组织实施 phase (seed 000: 5月1日至10月31日).
MOMENT = datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ADMIN, ADMIN_PASSWORD = "admin", "amber-kettle-road-19"
NEW_PASSWORDS = {"zhuanban": "copper-lantern-field-42", "donghu_tb": "willow-stone-harbor-58"}


@pytest.fixture
def city(tmp_path) -> Iterator[str]:
    """An empty database (the models' schema: test_admin_journey runs `flask db upgrade` in
    a process of its own) initialised by `flask init` (the CLI runner), then served (its
    URL), the clock at MOMENT."""
    url = f"sqlite:///{tmp_path / 'city.db'}"
    with time_machine.travel(MOMENT, tick=True):
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
        with app.app_context():
            db.create_all()
            said = app.test_cli_runner().invoke(
                args=["init", "--city", "某市", "--issuer", "中共某市委组织部", "--admin", ADMIN]
                + ["--password-stdin"],
                input=ADMIN_PASSWORD + "\n",
            )
            assert said.exit_code == 0, said.output
            assert "已创建系统管理员“admin”" in said.output
            db.session.remove()
        with serving(app) as url:
            yield url


def test_a_city_sets_up_runs_a_campaign_and_sees_a_district_ledger(city, tmp_path, chromium):
    with checked_page(chromium, viewport={"width": 1280, "height": 900}) as page:
        journey(page, city, tmp_path)


def units_file(path: Path, rows: list[tuple]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "单位"
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def create_user(page: Page, username: str, name: str, role: str, unit: str) -> str:
    """Create an account on the page; its one-time password."""
    go(page, "用户管理")
    page.get_by_role("link", name="新建用户").click()
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("姓名", exact=True).fill(name)
    page.get_by_label("角色", exact=True).select_option(label=role)
    page.get_by_label("所属单位", exact=True).select_option(label=unit)
    page.get_by_role("button", name="创建并生成一次性密码").click()
    expect(page.get_by_role("heading", name="已创建用户")).to_be_visible()
    password = page.locator("#one-time-password").inner_text()
    assert ONE_TIME.fullmatch(password)
    return password


def first_login(page: Page, username: str, one_time: str) -> None:
    """Log in with the one-time password and choose one's own, as the app insists."""
    log_in(page, username, one_time)
    expect(page).to_have_url(re.compile(r"/account/password$"))
    page.get_by_label("一次性密码", exact=True).fill(one_time)
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORDS[username])
    page.get_by_label("再次输入新密码", exact=True).fill(NEW_PASSWORDS[username])
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator(".flash.success")).to_contain_text("密码已修改")


def journey(page: Page, url: str, tmp_path: Path) -> None:
    # The admin `init` made logs in and imports the tree: previewed first, nothing kept yet.
    page.goto(url + "/")
    log_in(page, ADMIN, ADMIN_PASSWORD)
    go(page, "单位管理")
    page.get_by_role("link", name="从Excel导入").click()
    page.set_input_files("#file", str(units_file(tmp_path / "units.xlsx", UNITS)))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator("#summary")).to_have_text("新增11个单位，修改0个，0个不变")
    expect(page.locator("#preview")).to_contain_text(
        "第5行 新增 dh-a 东湖一街道（街道，上级 donghu）"
    )
    page.goto(url + "/units")
    expect(page.locator("#units")).not_to_contain_text("东湖区")
    page.go_back()
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator(".flash.success")).to_contain_text("已导入：新增11个单位，修改0个，0个不变")
    expect(page.locator("#units tr", has_text="东湖一街道")).to_contain_text("街道")
    expect(page.locator("#units tr", has_text="市工商局")).to_contain_text("否")

    # A coordinator and two district operators, on the pages.
    coordinator = create_user(
        page, "zhuanban", "市级专班 王协调", "市级专班", "中共某市委组织部（市委组织部）"
    )
    operator = create_user(page, "donghu_tb", "东湖区 李填报", "单位填报员", "东湖区（区）")
    create_user(page, "xihu_tb", "西湖区 赵填报", "单位填报员", "西湖区（区）")
    log_out(page)

    # The coordinator chooses his password, then creates the 2027 campaign from seed 000.
    first_login(page, "zhuanban", coordinator)
    page.goto(url + "/campaigns/new")
    page.get_by_label("模板", exact=True).select_option(value="seed-000")
    page.get_by_label("年份", exact=True).fill("2027")
    page.get_by_role("button", name="创建", exact=True).click()
    expect(page.locator(".flash.success")).to_contain_text("2027")
    campaign = re.search(r"/campaigns/(\d+)", page.url)
    campaign_id = campaign.group(1) if campaign else "1"
    log_out(page)

    # The operator of 东湖区: his own password first, then his ledger.
    first_login(page, "donghu_tb", operator)
    page.goto(f"{url}/campaigns/{campaign_id}/units/donghu/ledger")
    with page.expect_download() as download:
        page.get_by_text("空白模板").click()
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)
    page.set_input_files("input[type=file]", str(fill_ledger(template, tmp_path / "ledger.xlsx")))
    page.get_by_text("上传并校验").click()
    summary = page.locator("#summary")
    expect(summary).to_be_visible(timeout=30_000)
    expect(summary.locator(".kpi", has_text="新增")).to_contain_text("5")
    page.get_by_text("确认导入").click()
    expect(page.locator(".flash.success")).to_contain_text("导入完成：新增5个")

    # The overview: his unit's figures as worked out above.
    page.goto(f"{url}/campaigns/{campaign_id}")
    row = page.locator("#unit-figures tbody tr", has_text="东湖区")
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("5")  # 党建基数
    expect(cells.nth(2)).to_have_text("3")  # 已建党组织
    expect(cells.nth(3)).to_contain_text("60.0")  # 党组织覆盖率
    expect(cells.nth(5)).to_contain_text("66.7")  # 单独组建率
