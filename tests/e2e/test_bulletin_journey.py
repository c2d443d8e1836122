"""The 通报 archive in a real browser: the coordinator produces a bulletin, a district reads it.

The demo day is 2026-11-22, so every report day up to 2026-11-10 is past its 18:00 cut-off
and, with no scheduler running here, none has a bulletin yet. The wuhan-2016 campaign runs
from 8月14日, so its report days are 8月25日, 9月10日, 9月25日, 10月10日, 10月25日, 11月10日:
the 11月10日 bulletin is 第6期.
"""

import hashlib
import re
import subprocess

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

TITLE_6 = "关于全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况的通报（第6期）"


def pdf_text(data: bytes, tmp_path) -> str:
    """The PDF's text with all whitespace removed (the title wraps over several lines)."""
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    return re.sub(r"\s+", "", out)


def pdf_pages(data: bytes, tmp_path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))


def test_coordinator_generates_the_bulletin_and_a_district_reads_it(
    browser_page: Page, live_server, tmp_path
):
    # Without this the scheduler's catch-up job would make every past bulletin by itself and
    # there would be nothing left for the coordinator to generate.
    assert not live_server.app.config["SCHEDULER_ENABLED"]
    assert "gongjian.scheduler" not in live_server.app.extensions
    page = browser_page
    statuses = []  # what the archive page's progress polling received, in order

    def record(route):
        # Read through a route: a response's body is gone once the page navigates away.
        response = route.fetch()
        statuses.append(response.json())
        route.fulfill(response=response)

    page.route("**/bulletins/runs/*", record)

    log_in(page, live_server, "zhuanban")
    page.goto(live_server("/campaigns/1"))
    page.get_by_role("link", name="通报", exact=True).click()
    expect(page.locator("h1")).to_have_text("工作进展通报")
    expect(page.locator("#bulletins tbody")).to_contain_text("尚无通报")
    choices = page.locator("select#due_on option")
    expect(choices).to_have_count(6)  # 8月25日 ... 11月10日, newest first
    expect(choices.first).to_have_text("2026年11月10日报送期")
    expect(choices.last).to_have_text("2026年8月25日报送期")

    page.select_option("select#due_on", "2026-11-10")
    with page.expect_response(lambda r: "?run=" in r.url) as redirected:
        page.get_by_role("button", name="生成通报").click()
    # The page the button leads to shows the progress panel (then polls it and reloads).
    started = redirected.value.text()
    assert "已开始生成通报" in started
    assert 'id="run-panel"' in started and "正在生成通报" in started

    row = page.locator("#bulletins tbody tr", has_text="第6期")
    # Generous: the PDF is rendered in the server's worker thread, alongside the test suite.
    expect(row).to_be_visible(timeout=90_000)
    assert statuses, "the page never polled the run's progress"
    assert statuses[-1]["status"] == "published" and statuses[-1]["progress"] == 100
    seen = [s["progress"] for s in statuses]
    assert seen == sorted(seen)  # progress only moves forward
    expect(row).to_contain_text(TITLE_6)
    expect(row).to_contain_text("2026-11-10 18:00")  # 数据截至: the cut-off
    expect(row).to_contain_text("手动")
    # 11月10日 is no longer offered; the five earlier periods still are.
    expect(page.locator("select#due_on option")).to_have_count(5)
    expect(page.locator("select#due_on option[value='2026-11-10']")).to_have_count(0)
    expect(page.locator("#bulletin-runs tbody tr").first).to_contain_text("已发布")
    page.screenshot(path="/tmp/archive.png", full_page=True)

    pdf_link = row.get_by_role("link", name="PDF")
    pdf_url = live_server(pdf_link.get_attribute("href"))
    response = page.context.request.get(pdf_url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    data = response.body()
    text = pdf_text(data, tmp_path)
    assert TITLE_6 in text
    assert "江岸区" in text
    # The archive row describes the file the user gets: its page count and fingerprint.
    pages = int(row.locator("td[data-label=页数]").inner_text())
    assert pages == pdf_pages(data, tmp_path)
    shown = row.locator("[title=SHA-256]").inner_text().rstrip("…")
    assert len(shown) == 16
    assert hashlib.sha256(data).hexdigest().startswith(shown)
    # Opened in the browser, the PDF shows in the browser's viewer, the security headers
    # (nosniff, the Content-Security-Policy) notwithstanding.
    viewer = page.context.new_page()
    assert viewer.goto(pdf_url).headers["content-security-policy"]
    for _ in range(20):  # the viewer (an extension frame) starts once the file is in
        if any(f.url.startswith("chrome-extension://") for f in viewer.frames):
            break
        viewer.wait_for_timeout(500)
    assert any(f.url.startswith("chrome-extension://") for f in viewer.frames), viewer.frames
    viewer.close()
    page.click("text=退出")

    # A district reads the archive and the PDF, but neither generates nor sees the lists.
    log_in(page, live_server, "jiangan_tianbao")
    page.goto(live_server("/campaigns/1"))
    page.get_by_role("link", name="通报", exact=True).click()
    row = page.locator("#bulletins tbody tr", has_text="第6期")
    expect(row).to_contain_text(TITLE_6)
    expect(page.get_by_role("button", name="生成通报")).to_have_count(0)
    expect(page.locator("form[action$='/bulletins/generate']")).to_have_count(0)
    expect(page.get_by_role("link", name="附件清单")).to_have_count(0)
    expect(page.get_by_role("link", name="数据快照")).to_have_count(0)
    expect(page.locator("#bulletin-runs")).to_have_count(0)
    response = page.context.request.get(
        live_server(row.get_by_role("link", name="PDF").get_attribute("href"))
    )
    assert response.status == 200
    assert response.body() == data
    # Hidden links are not the only guard: the attachment itself is refused.
    assert page.context.request.get(live_server("/campaigns/1/bulletins/6.xlsx")).status == 404
