"""Every address of the site, walked from the app's own URL map, refuses a visitor who has
not logged in: a page sends him to the login page, the API answers 401, and a form sent with a
valid CSRF token (so that the CSRF check is not what stops it) still goes to the login page.
Only the login page, the tab's icon, the static files and the API's description are public.

A view added later without login_required fails here, whatever it is called.
"""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.routing import Rule

from campaign.core.extensions import db
from tests.conftest import csrf_token, make_campaign

PUBLIC = {"core.login", "core.favicon", "static", "api-docs.openapi_json"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def campaign_id(app) -> int:
    """A campaign that exists, so that a view missing its login check shows here as a page
    served to the visitor, not hidden behind a 404."""
    campaign = make_campaign(2026)
    db.session.commit()
    return campaign.id


def address(rule: Rule, campaign_id: int) -> str:
    """The rule's path with a plausible value in each of its parts."""

    def value(match: re.Match) -> str:
        converter, name = match.group(1) or "", match.group(2)
        if name == "campaign_id":
            return str(campaign_id)
        if converter.startswith("int"):
            return "1"
        if converter.startswith("any("):
            return converter[4:].split(",")[0].strip()
        if converter == "path":
            return "css/app.css"
        return {"due": "2026-11-10", "username": "coord"}.get(name, "X01")

    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", value, rule.rule)


def routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_address_but_the_public_ones_needs_a_login(app, campaign_id):
    visitor = app.test_client()
    token = csrf_token(visitor)  # the login page's token: a form that passes the CSRF check
    seen, wrong = 0, []
    for rule, method in routes(app):
        if rule.endpoint in PUBLIC:
            continue
        path = address(rule, campaign_id)
        # The guessed address reaches this rule's view, not another rule's that catches it.
        assert app.url_map.bind("localhost").match(path, method)[0] == rule.endpoint, path
        api = path.startswith("/api/")
        data = None if api or method not in WRITES else {"csrf_token": token}
        headers = {"X-CSRFToken": token} if method in WRITES else {}
        with visitor.open(path, method=method, data=data, headers=headers) as answer:
            seen += 1
            if api:
                ok = answer.status_code == 401
            else:  # login_required's own redirect: the login page, with the way back
                target = urlsplit(answer.headers.get("Location", ""))
                ok = (
                    answer.status_code == 302
                    and target.path == "/login"
                    and parse_qs(target.query).get("next") == [path]
                )
            if not ok:
                wrong.append(f"{method} {path} ({rule.endpoint}): {answer.status_code}")
    assert wrong == []
    assert seen > 100  # every rule was walked, not a handful


def test_the_public_addresses_answer_a_visitor(app):
    visitor = app.test_client()
    for path in ("/login", "/favicon.ico", "/static/css/app.css", "/api/v1/openapi.json"):
        with visitor.get(path) as answer:
            assert answer.status_code == 200, path
    endpoints = {rule.endpoint for rule, _ in routes(app)}
    assert PUBLIC <= endpoints  # the allowed list names nothing that no longer exists
