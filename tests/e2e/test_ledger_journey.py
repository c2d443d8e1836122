"""A unit operator's ledger round trip in a real browser, and the coordinator's decision.

The demo's 江岸区 ledger is already approved (the base), so a file that adds an
organization becomes a change request; only when the coordinator accepts it does
the unit's count of Party organizations go up, by exactly one.
"""

import re

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from campaign.ledger.creditcode import check_character
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


def party_orgs_of(page: Page, unit: str) -> int:
    row = page.locator("#unit-figures tbody tr", has_text=unit)
    return int(row.locator("td").nth(2).inner_text())


def test_operator_adds_an_organization_and_the_coordinator_accepts_it(
    browser_page: Page, live_server, tmp_path
):
    page = browser_page
    log_in(page, live_server, "zhuanban")
    before = party_orgs_of(page, "江岸区")
    page.click("text=退出")

    log_in(page, live_server, "jiangan_tianbao")
    page.goto(live_server("/campaigns/1/units/jiangan/ledger"))
    expect(page.locator("#ledger-status")).to_contain_text("已审核")
    with page.expect_download() as download:
        page.click("text=导出本单位台账")
    exported = tmp_path / "exported.xlsx"
    download.value.save_as(exported)

    # Edit the file as a district would: one organization found since the base was approved.
    wb = openpyxl.load_workbook(exported)
    ws = wb["附表1 非公企业"]
    code = "91420100MA4KNEW01"
    code += check_character(code)
    street = ws.cell(row=3, column=4).value
    ws.append(
        [
            "武汉新发现网络科技有限公司",
            code,
            "江岸区",
            street,
            "互联网",
            "正常",
            120,
            3,
            0,
            "赵六",
            "否",
            "单独组建",
            "中共武汉新发现网络科技有限公司支部委员会",
            "2026-11-15",
        ]
    )
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)

    page.set_input_files("input[type=file]", str(edited))
    page.click("text=上传并校验")
    summary = page.locator("#summary")
    expect(summary).to_be_visible(timeout=30_000)
    expect(summary.locator(".kpi", has_text="新增")).to_contain_text("1")
    expect(summary.locator(".kpi", has_text="修改")).to_contain_text("0")
    page.click("text=确认导入")
    expect(page.locator(".flash.success")).to_contain_text("生成变更申请")
    page.click("text=退出")

    log_in(page, live_server, "zhuanban")
    assert party_orgs_of(page, "江岸区") == before  # nothing changes until it is accepted
    page.goto(live_server("/campaigns/1/change-requests"))
    row = page.locator("#change-requests tbody tr", has_text=code)
    expect(row).to_contain_text("武汉新发现网络科技有限公司")
    row.locator("button", has_text="采纳").click()
    expect(page.locator(".flash.success")).to_contain_text("已采纳")
    page.goto(live_server("/campaigns/1"))
    assert party_orgs_of(page, "江岸区") == before + 1


def test_a_bad_file_is_refused_whole_with_its_row_and_column(
    browser_page: Page, live_server, tmp_path
):
    page = browser_page
    log_in(page, live_server, "jiangan_tianbao")
    page.goto(live_server("/campaigns/1/units/jiangan/ledger"))
    with page.expect_download() as download:
        page.click("text=空白模板")
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)
    wb = openpyxl.load_workbook(template)
    ws = wb["附表1 非公企业"]
    ws.append(["武汉某公司", "91420100MA4KNEW01X", "江岸区", "", "互联网", "正常", 10, 1, 0])
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    page.set_input_files("input[type=file]", str(bad))
    page.click("text=上传并校验")
    problems = page.locator("#problems")
    expect(problems).to_be_visible(timeout=30_000)
    expect(problems).to_contain_text("台账未作任何修改")
    text = problems.inner_text()
    assert re.search(r"「附表1 非公企业」第3行B列「统一社会信用代码」：校验位错误", text), text
