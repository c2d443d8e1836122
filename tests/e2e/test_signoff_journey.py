"""Review and 签发 in a real browser: the coordinator turns review on, produces 第6期 as a
draft, rewords its first 下步工作要求; 李部长 (leadership) signs it; the archive then shows
第6期 with its 文号 "武组专〔2026〕1号" to everyone, a district included.

The demo day is 2026-11-22 (tests/e2e/conftest.py): 11月10日's cut-off has passed and, with
no scheduler here, 第6期 does not exist yet. Each page is looked at 1440 px wide and on a
phone (390 px): nothing wider than the screen.
"""

import re
import subprocess

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import checked_page, log_in

pytestmark = pytest.mark.e2e

WIDE, PHONE = {"width": 1440, "height": 900}, {"width": 390, "height": 844}
REWORDED = "各区要对标对表、倒排工期，确保按期完成集中组建任务。"


def fits(page: Page, name: str) -> None:
    """The page at both widths, no wider than the screen; screenshots kept in /tmp."""
    for size in (WIDE, PHONE):
        page.set_viewport_size(size)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], (name, size, width)
        page.screenshot(path=f"/tmp/signoff-{name}-{size['width']}.png", full_page=True)
    page.set_viewport_size(WIDE)


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    return re.sub(r"\s+", "", out)


def test_coordinator_rewords_the_draft_and_the_leader_signs_it(
    browser_page: Page, live_server, tmp_path
):
    page = browser_page
    page.set_viewport_size(WIDE)
    log_in(page, live_server, "zhuanban")

    # Review on, in the campaign's settings.
    page.goto(live_server("/campaigns/1/settings"))
    page.select_option("select#bulletin_review", "是")
    page.get_by_role("button", name="保存设置").click()
    expect(page.locator("select#bulletin_review")).to_have_value("是")

    # 第6期 produced: a draft, waiting for 签发.
    page.goto(live_server("/campaigns/1/bulletins"))
    page.select_option("select#due_on", "2026-11-10")
    page.get_by_role("button", name="生成通报").click()
    row = page.locator("#bulletins tbody tr", has_text="第6期")
    expect(row).to_be_visible(timeout=90_000)
    expect(row).to_contain_text("待签发")
    fits(page, "archive-draft")

    # The draft's page: the figures, the PDF, the text to reword.
    row.get_by_role("link", name="审核签发").click()
    expect(page.locator("#draft-title")).to_have_text("第6期通报 · 待签发")
    pdf = page.context.request.get(live_server("/campaigns/1/bulletins/6.pdf"))
    assert pdf.status == 200 and pdf.headers["content-disposition"].startswith("inline")
    assert "文件（草稿）关于全市" in pdf_text(pdf.body(), tmp_path)
    expect(page.locator("#draft-next-number")).to_have_count(0)  # shown to the signer
    text = page.locator("textarea#requirements")
    paragraphs = text.input_value().split("\n\n")  # a blank line between paragraphs
    assert len(paragraphs) >= 2
    text.fill("\n\n".join([REWORDED, *paragraphs[1:]]))
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator(".flash.success")).to_contain_text("已保存", timeout=60_000)
    assert page.locator("textarea#requirements").input_value().split("\n")[0] == REWORDED
    expect(page.locator("#draft-sign")).to_have_count(0)  # the coordinator does not sign
    expect(page.locator("#draft-waiting")).to_be_visible()
    fits(page, "draft-coordinator")

    # 李部长, in a browser of his own, signs it.
    browser = page.context.browser
    assert browser is not None
    with checked_page(browser, viewport=WIDE) as leader:
        log_in(leader, live_server, "lingdao")
        leader.goto(live_server("/campaigns/1/bulletins/6/draft"))
        expect(leader.locator("#draft-requirements li").first).to_have_text(REWORDED)
        expect(leader.locator("textarea#requirements")).to_have_count(0)  # he does not edit
        expect(leader.locator("#draft-next-number")).to_have_text("武组专〔2026〕1号")
        fits(leader, "draft-leader")
        leader.get_by_role("button", name="签发").click()
        expect(leader.locator("h1")).to_have_text("工作进展通报", timeout=60_000)
        signed = leader.locator("#bulletins tbody tr", has_text="第6期")
        expect(signed).to_contain_text("武组专〔2026〕1号")
        expect(signed).not_to_contain_text("待签发")
        expect(signed).to_contain_text("市委组织部 李部长 2026-11-22")
        fits(leader, "archive-signed")

    # The coordinator's archive shows the same; the PDF carries the number and the new text.
    page.goto(live_server("/campaigns/1/bulletins"))
    expect(page.locator("#bulletins tbody tr", has_text="第6期")).to_contain_text(
        "武组专〔2026〕1号"
    )
    text = pdf_text(
        page.context.request.get(live_server("/campaigns/1/bulletins/6.pdf")).body(), tmp_path
    )
    assert "文件武组专〔2026〕1号关于全市" in text and REWORDED in text and "（草稿）" not in text
