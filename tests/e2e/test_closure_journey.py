"""The 销号 lifecycle in a real browser.

An operator of 江岸区 submits a joint-organization closure with its approving document; the unit's
leader verifies it and 江岸区's Party orgs go up by one; the coordinator's spot
check fails it; the item is back on the board as 已撤销销号 with the reason, and
the count is back where it was.
"""

import pytest
from playwright.sync_api import Page, expect

from tests import documents
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

PDF = documents.pdf("批复")


def log_out(page: Page) -> None:
    page.click("text=退出")
    expect(page.locator("#username")).to_be_visible()


def party_orgs_of(page: Page, live_server, unit: str) -> int:
    page.goto(live_server("/campaigns/1"))
    row = page.locator("#unit-figures tbody tr", has_text=unit)
    return int(row.locator("td").nth(2).inner_text())


def test_submit_verify_spot_check_fail_reopens(browser_page: Page, live_server, tmp_path):
    page = browser_page
    log_in(page, live_server, "zhuanban")
    before = party_orgs_of(page, live_server, "江岸区")
    log_out(page)

    # The operator picks an item that must have a Party org and closes it by joint organization.
    log_in(page, live_server, "jiangan_tianbao")
    page.goto(live_server("/campaigns/1/units/jiangan/board"))
    # Any open item whose rules allow a joint Party org (not one that must stand alone), of an
    # organization with no Party org yet (one in a joint Party org may still owe a member).
    cards = page.locator(".col[data-state=todo] .card, .col[data-state=in_progress] .card").filter(
        has_not_text="应单独组建"
    )
    for href in [cards.nth(i).get_attribute("href") for i in range(cards.count())]:
        page.goto(live_server(href))
        if "党组织：未建" in page.locator("body").inner_text():
            break
    else:
        pytest.fail("江岸区's board has no open item of an organization without a Party org")
    name = page.locator("h1").inner_text()
    item_url = page.url
    document = tmp_path / "批复.pdf"
    document.write_bytes(PDF)
    form = page.locator("#closure-form")
    form.locator("#method").select_option("joint")
    form.locator("#c_joint_form").select_option("区域联建")
    form.locator("#party_org_name").fill(f"中共{name}联合支部委员会")
    form.locator("#established_on").fill("2026-11-18")
    form.locator("#formal_members").fill("1")
    form.locator("#secretary").fill("张建国")
    form.locator("#document").set_input_files(str(document))
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash.success")).to_contain_text("待单位负责人核验")
    expect(page.locator("#item-state")).to_contain_text("待核验")
    assert page.locator("#verify-form").count() == 0  # an operator cannot verify
    log_out(page)

    log_in(page, live_server, "jiangan_fuze")
    page.goto(item_url)
    page.locator("#verify-form button", has_text="核验通过").click()
    expect(page.locator("#item-state")).to_contain_text("已销号")
    log_out(page)

    log_in(page, live_server, "zhuanban")
    assert party_orgs_of(page, live_server, "江岸区") == before + 1
    page.goto(live_server("/campaigns/1/spot-checks"))
    form = page.locator("#draw-form")
    form.locator("select[name=mode]").select_option("percent")
    form.locator("input[name=size]").fill("100")
    form.locator("input[name=seed]").fill("2026")
    form.locator("label", has_text="江岸区").locator("input").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("随机抽查")
    expect(page.locator("#draw-summary")).to_contain_text("从江岸区")
    expect(page.locator("#draw-mismatch")).to_have_count(0)
    page.locator("#draw-record summary").click()
    expect(page.locator("#draw-record")).to_contain_text("随机种子 2026")
    expect(page.locator("#draw-record")).to_contain_text("抽中的组织与本页一致")
    row = page.locator("#results tbody tr", has_text=name)
    row.locator("input[name=notes]").fill("批复文件与实际组建情况不符")
    row.locator("button", has_text="不合格").click()
    expect(page.locator(".flash.success")).to_contain_text("已撤销销号")

    assert party_orgs_of(page, live_server, "江岸区") == before
    page.goto(item_url)
    expect(page.locator("#item-state")).to_contain_text("已撤销销号")
    expect(page.locator("#item-reason")).to_contain_text("批复文件与实际组建情况不符")
    expect(page.locator("#history")).to_contain_text("撤销销号")
