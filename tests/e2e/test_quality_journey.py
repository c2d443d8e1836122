"""The 数据质量 page in Chromium, on the demo: a coordinator reads it on a desk (1440 px) and on
a phone (390 px) with nothing scrolling sideways and every control tall enough to tap, marks a
signal 需整改 with a note, and sees it so; a district operator gets 404.

The demo's signals are computed first, as the scheduler's quality.detect job would.
"""

import pytest
from playwright.sync_api import expect

from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.quality import services as quality
from tests.e2e.conftest import log_in
from tests.e2e.test_phone import MEASURE, TAP

pytestmark = pytest.mark.e2e

WIDTHS = {"desk": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def test_a_coordinator_reads_and_judges_signals_on_a_desk_and_a_phone(live_server, browser_page):
    with live_server.app.app_context():
        campaign = db.session.get_one(Campaign, 1)
        found = quality.refresh(db.session, campaign)
        db.session.commit()
        db.session.remove()
    assert found.active > 0, "the demo gives the page something to show"

    page = browser_page
    log_in(page, live_server, "zhuanban")
    for name, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.goto(live_server("/campaigns/1/quality"))
        expect(page.get_by_role("heading", name="数据质量线索")).to_be_visible()
        expect(page.locator("#quality-units")).to_be_visible()
        measured = page.evaluate(MEASURE, TAP)
        assert measured["width"] <= measured["window"], f"{name}: scrolls sideways {measured}"
        if name == "phone":
            assert measured["short"] == [], f"controls too short to tap: {measured['short']}"
        page.screenshot(path=f"/tmp/quality-{name}.png", full_page=True)

    first = page.locator("div.panel[id^=s]").first
    first.locator("select[name=status]").select_option("needs_fix")
    first.locator("input[name=note]").fill("已请该单位核对原始材料")
    first.get_by_role("button", name="保存").click()
    expect(page.locator(".flash.success")).to_contain_text("标记为“需整改”")
    expect(page.locator("div.panel[id^=s]").first.locator(".tag.bad")).to_have_text("需整改")

    # The overview's block links to the page.
    page.goto(live_server("/campaigns/1"))
    expect(page.locator("#quality")).to_be_visible()


def test_a_district_operator_gets_404(live_server, browser_page):
    log_in(browser_page, live_server, "jiangan_tianbao")
    response = browser_page.goto(live_server("/campaigns/1/quality"))
    assert response is not None and response.status == 404
