"""The 销号 form in a real browser: it offers the methods the rules allow, starts on the one
they ask for, shows only that method's fields, and after a refusal keeps everything entered
(the chosen file too) with every problem beside its field, at 1440 px and on a phone.
"""

import pytest
from playwright.sync_api import Page, expect

from tests import documents
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def open_item(page: Page, live_server, target: str) -> str:
    """The first open item on 江岸区's board whose card says the rules ask ``target``."""
    page.goto(live_server("/campaigns/1/units/jiangan/board"))
    card = page.locator(".col[data-state=todo] .card", has_text=target).first
    page.goto(live_server(card.get_attribute("href")))
    return page.url


def options(page: Page) -> list[str]:
    return page.locator("#method option").evaluate_all("os => os.map(o => o.value)")


def visible(page: Page, field_id: str) -> bool:
    return page.locator(f"#{field_id}").is_visible()


def test_the_form_follows_the_rules_and_keeps_what_was_entered(
    browser_page: Page, live_server, tmp_path
):
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server, "jiangan_tianbao")

    # An organization that only needs work coverage: the form starts there (not on 单独组建),
    # with the coverage fields only. (Which methods each target leaves: tests/board.)
    url = open_item(page, live_server, "实现工作覆盖")
    assert page.locator("#method").input_value() == "work_coverage"
    assert options(page) == ["standalone", "joint", "work_coverage"]
    assert visible(page, "instructor") and visible(page, "mass_organizations")
    for other in ("party_org_name", "established_on", "formal_members", "secretary"):
        assert not visible(page, other), other
    assert not visible(page, "c_joint_form") and not visible(page, "covered_codes")

    # The operator switches to a standalone Party org: its fields appear, coverage goes.
    form = page.locator("#closure-form")
    form.locator("#method").select_option("standalone")
    assert visible(page, "party_org_name") and visible(page, "secretary")
    assert not visible(page, "instructor")
    document = tmp_path / "批复文件-拍照.pdf"
    document.write_bytes(documents.pdf("批复"))
    # Three mistakes at once: no name, too few formal members, no founding date.
    form.locator("#formal_members").fill("2")
    form.locator("#secretary").fill("孙建国")
    form.locator("#document").set_input_files(str(document))
    form.locator("button[type=submit]").click()

    form = page.locator("#closure-form")
    expect(page.locator("#closure-problems")).to_contain_text("3处问题")
    expect(page.locator("#error-party_org_name")).to_contain_text("「党组织名称」不能为空")
    expect(page.locator("#error-established_on")).to_contain_text("成立时间")
    expect(page.locator("#error-formal_members")).to_contain_text("单独组建须有3名以上正式党员")
    # Everything entered is still there: the method, the numbers, the name, the file.
    assert form.locator("#method").input_value() == "standalone"
    assert form.locator("#formal_members").input_value() == "2"
    assert form.locator("#secretary").input_value() == "孙建国"
    expect(page.locator("#held-document")).to_contain_text("批复文件-拍照.pdf")
    assert not visible(page, "instructor")

    # On a phone the refused form fits the screen.
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], width
    page.set_viewport_size({"width": 1440, "height": 900})

    # Corrected, and sent without choosing the file again: filed, with the file kept.
    form.locator("#party_org_name").fill("中共某某公司支部委员会")
    form.locator("#established_on").fill("2026-11-18")
    form.locator("#formal_members").fill("3")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash.success")).to_contain_text("待单位负责人核验")
    expect(page.locator("#item-state")).to_contain_text("待核验")
    assert page.url == url
    expect(page.locator("#history")).to_contain_text("批复文件：批复文件-拍照.pdf")
    expect(page.locator("#history")).to_contain_text("书记（负责人）：孙建国")
