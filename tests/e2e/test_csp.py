"""The Content-Security-Policy against the real pages, in Chromium: every page each role
reaches by following links carries it, and none of them needs anything it refuses.

The browser_page fixture fails a test on any refusal Chromium reports; here each role
walks the site (links on the pages it can see, one page per kind of address), so a new
inline script or handler anywhere shows up even where no journey goes.
"""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

ROLES = ["zhuanban", "lingdao", "admin", "jiangan_tianbao", "jiangan_fuze"]
PAGES_PER_ROLE = 18
# Files, not pages: the browser downloads or shows them, no policy question for the page.
NOT_PAGES = re.compile(r"(\.(pdf|xlsx|json|csv|zip)$)|/attachment$|/document$|/logout$")


def kind_of(path: str) -> str:
    """/campaigns/1/items/73 and /campaigns/1/items/80 are the same kind of page."""
    return re.sub(r"\d+", "N", path)


@pytest.mark.parametrize("username", ROLES)
def test_every_page_a_role_reaches_keeps_to_the_policy(live_server, browser_page, username):
    page = browser_page
    errors = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    log_in(page, live_server, username)

    queue, seen_kinds, visited = ["/campaigns/1"], set(), []
    while queue and len(visited) < PAGES_PER_ROLE:
        path = queue.pop(0)
        if kind_of(path) in seen_kinds:
            continue
        seen_kinds.add(kind_of(path))
        response = page.goto(live_server(path))
        # (A link may lead to a page the role may not open: 404, which carries the policy too.)
        assert response.status in (200, 404), path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        visited.append(path)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            if parts.netloc != urlsplit(live_server.url).netloc or NOT_PAGES.search(parts.path):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert len(visited) >= 5, visited  # the walk went somewhere
    assert errors == []


def test_the_report_period_menu_still_switches_by_itself(live_server, browser_page):
    """Its onchange= attribute became static/js/autosubmit.js."""
    page = browser_page
    log_in(page, live_server, "zhuanban")
    page.goto(live_server("/campaigns/1/reports"))
    options = page.locator("select#due option")
    other = options.nth(1).get_attribute("value")
    with page.expect_navigation():
        page.select_option("select#due", other)
    assert f"due={other}" in page.url
    expect(page.locator("select#due")).to_have_value(other)


def test_a_page_cannot_be_framed(live_server, browser_page):
    """frame-ancestors 'none': another site cannot frame a page under a decoy (clickjacking)."""
    # A page of its own: the refusal it provokes is the point, not a fault of the site.
    page = browser_page.context.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "frame-ancestors" in m.text else None)
    page.set_content(f'<iframe src="{live_server("/login")}"></iframe>')
    page.wait_for_timeout(1000)
    frame = page.frames[-1]
    assert frame.url != live_server("/login") or frame.locator("form").count() == 0
    assert refused, "Chromium did not report the refused frame"
