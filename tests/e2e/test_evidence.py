"""Everyone who must judge a 销号 can open its 批复文件 in the browser: from the item's 销号记录,
the leader's verify form, the coordinator's view of the item and the spot-check page (where
the checker ticks "批复文件真实有效"). It opens inline (a PDF in the browser's viewer, its type
checked) in a new window; another district gets 404.
"""

import pytest
from playwright.sync_api import Page, expect

from tests import documents
from tests.e2e.conftest import log_in
from tests.e2e.test_closure_journey import log_out

pytestmark = pytest.mark.e2e

PDF = documents.pdf("批复文件")


def opens_inline(page: Page, link, live_server) -> None:
    """``link`` opens the document in a new window, served inline as the PDF it is."""
    href = link.get_attribute("href")
    assert link.get_attribute("target") == "_blank"
    answer = page.context.request.get(live_server(href))
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("inline")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.body() == PDF
    with page.expect_popup() as popup:
        link.click()
    assert popup.value.url.endswith(href)
    popup.value.close()


def test_the_approving_document_opens_from_the_four_places(
    browser_page: Page, live_server, tmp_path
):
    page = browser_page
    log_in(page, live_server, "jiangan_tianbao")
    page.goto(live_server("/campaigns/1/units/jiangan/board"))
    card = page.locator(".col[data-state=todo] .card", has_text="实现工作覆盖").first
    item_url = live_server(card.get_attribute("href"))
    page.goto(item_url)
    name = page.locator("h1").inner_text()
    document = tmp_path / "工会成立批复.pdf"
    document.write_bytes(PDF)
    form = page.locator("#closure-form")
    form.locator("#method").select_option("work_coverage")
    form.locator("#instructor").fill("张伟")
    form.locator("#mass_organizations").fill("工会")
    form.locator("#document").set_input_files(str(document))
    form.locator("button[type=submit]").click()
    expect(page.locator("#item-state")).to_contain_text("待核验")

    # 1. The item's 销号记录, for the operator who filed it.
    row = page.locator("#closures tbody tr").first
    expect(row).to_contain_text("工会成立批复.pdf")
    opens_inline(page, row.locator("a.evidence"), live_server)
    href = row.locator("a.evidence").get_attribute("href")
    log_out(page)

    # Another district's operator: not his to see.
    log_in(page, live_server, "wuchang_tianbao")
    assert page.context.request.get(live_server(href)).status == 404
    log_out(page)

    # 2. The leader's verify form, before he verifies.
    log_in(page, live_server, "jiangan_fuze")
    page.goto(item_url)
    evidence = page.locator("#verify-form #verify-evidence")
    expect(evidence).to_contain_text("工会成立批复.pdf")
    opens_inline(page, evidence, live_server)
    page.locator("#verify-form button", has_text="核验通过").click()
    expect(page.locator("#item-state")).to_contain_text("已销号")
    log_out(page)

    # 3. The coordinator's view of the item.
    log_in(page, live_server, "zhuanban")
    page.goto(item_url)
    opens_inline(page, page.locator("#closures a.evidence").first, live_server)

    # 4. The spot-check page, beside the checklist that asks whether it is genuine.
    page.goto(live_server("/campaigns/1/spot-checks"))
    draw = page.locator("#draw-form")
    draw.locator("select[name=mode]").select_option("percent")
    draw.locator("input[name=size]").fill("100")
    draw.locator("label", has_text="江岸区").locator("input").check()
    draw.locator("button[type=submit]").click()
    row = page.locator("#results tbody tr", has_text=name)
    expect(row).to_contain_text("批复文件真实有效")
    opens_inline(page, row.locator("a.evidence"), live_server)
    row.locator("input[name=document]").check()
    row.locator("button[value=pass]").click()
    expect(page.locator(".flash.success")).to_contain_text("已记录检查结论")
