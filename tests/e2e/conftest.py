"""Browser tests: the real app served over HTTP, driven by Debian's Chromium.

``live_server`` serves a fresh app (SQLite file, demo campaign) from a
background thread of this process, with the clock pinned to a known campaign
day so the pages' "today", countdown and current phase are predictable.
``browser_page`` is a Chromium page from Playwright.
"""

import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from app import create_app
from campaign import demo
from campaign.core.extensions import db
from campaign.demo import DEMO_PASSWORD

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# The day the demo is generated for and the pages are viewed on.
DEMO_DAY = date(2026, 11, 22)
# 10:00 in the campaign zone, well clear of midnight so a slow run stays on the same day.
DEMO_MOMENT = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
HERE = Path(__file__).parent

# How long an expectation waits for the page (Playwright's default is 5 s). A page here answers
# in well under a second, but on a two-core CI host the app, its database, Chromium and the
# other test process share the cores; 15 s leaves room. Only a failing test waits that long.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items):
    # Hooks in a conftest see every collected item; mark only the ones in this folder.
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@dataclass
class LiveServer:
    app: Flask
    url: str  # http://127.0.0.1:PORT, no trailing slash

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """The demo (SQLite, a tenth of its size) loaded once per test process: each live server
    serves a copy of its file, so no journey sees another's changes."""
    path = tmp_path_factory.mktemp("e2e-demo") / "demo.db"
    with time_machine.travel(DEMO_MOMENT, tick=True):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "e2e-secret",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                "STORAGE_PATH": str(path.parent / "storage"),
                "SCHEDULER_ENABLED": False,
            }
        )
        with app.app_context():
            db.create_all()
            demo.load(db.session, today=DEMO_DAY, size=0.1)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    assert not (path.parent / "storage").exists(), "the demo stores files: copy them too"
    return path


@pytest.fixture
def live_server(tmp_path, demo_database):
    """The demo app served on 127.0.0.1 (a free port), with the clock at DEMO_MOMENT."""
    # tick=True: time moves on from DEMO_MOMENT, so timestamps and timeouts still behave.
    # time-machine patches the clock for the whole process, the server thread included.
    with time_machine.travel(DEMO_MOMENT, tick=True):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "e2e-secret",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.db'}",
                "STORAGE_PATH": str(tmp_path / "storage"),
                "MAIL_FOLDER": str(tmp_path / "mail"),
                # Journeys start bulletins themselves; a .env's GONGJIAN_SCHEDULER must not.
                "SCHEDULER_ENABLED": False,
                "JOBS_IN_BACKGROUND": True,
            }
        )
        shutil.copyfile(demo_database, tmp_path / "e2e.db")

        with serving(app) as url:
            yield LiveServer(app, url)


def _closed_at_once(app: Flask) -> "WSGIApplication":
    """``app`` with each answer read whole and closed before it is sent.

    Werkzeug's server closes an answer after sending it, in a ``finally`` that first drains
    the request's socket. When the browser has dropped the connection (a tab's icon or a
    stylesheet given up as the page moves on), that drain raises and the close is skipped:
    the open file of a static answer then surfaces as a ResourceWarning in whichever test
    runs next. The answers here are small; reading them whole changes nothing a test sees."""

    def wsgi(environ: "WSGIEnvironment", start_response: "StartResponse") -> list[bytes]:
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            if hasattr(answer, "close"):
                answer.close()

    return wsgi


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` served on a free port by a thread, for a browser to visit: its address.
    Stopped afterwards, its socket closed and its database connections let go."""
    server = make_server("127.0.0.1", 0, _closed_at_once(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()  # stops serve_forever and waits for it
        server.server_close()  # closes the listening socket
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


def log_in(
    page: Page, site: "str | LiveServer", username: str, password: str = DEMO_PASSWORD
) -> None:
    """Through the login form, as a user does. Returns once the browser is past the login page
    and the page it landed on (answered 200) has loaded, so that the test's next goto cannot
    cut the login's request short and what the test reads next is there."""
    page.goto(site + "/login" if isinstance(site, str) else site("/login"))
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/login(\?|$)"))
    page.wait_for_load_state()
    landed = page.evaluate("performance.getEntriesByType('navigation')[0].responseStatus")
    assert landed == 200, f"{username} landed on {page.url} with HTTP {landed}"


@contextmanager
def checked_page(browser: Browser, **options: Any) -> Iterator[Page]:
    """A page in a browser context of its own (its cookies, storage, window and console;
    ``options`` as for ``Browser.new_context``), closed afterwards.

    Every journey doubles as a check of the Content-Security-Policy: a script, style or
    handler the policy refused (a feature silently dead in the browser) fails it at the end.
    """
    context = browser.new_context(locale="zh-CN", **options)
    refused: list[str] = []
    try:
        page = context.new_page()

        def seen(message):  # Chromium reports each refusal on the console
            if "Content Security Policy" in message.text:
                refused.append(f"{page.url}: {message.text}")

        page.on("console", seen)
        yield page
    finally:
        context.close()
    assert refused == [], "refused by the Content-Security-Policy"


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Chromium, started once per test process for the browser tests (a start took half a
    second per test). Each test opens a context of its own on it: its own cookies, storage,
    window size and console."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(live_server, chromium) -> Iterator[Page]:
    """A fresh Chromium page (its own context, so no cookies carry over between tests), checked
    against the Content-Security-Policy (``checked_page``)."""
    with checked_page(chromium, viewport={"width": 1280, "height": 900}) as page:
        yield page
