"""Every response carries the browser-side defences; cookies are Secure when the site is
served over HTTPS.

The policy allows scripts and stylesheets from this site only (no inline script, no
eval), nothing framed, no plugins, forms posted here only; style attributes stay allowed
(the timeline's bars are positioned by them), <style> elements do not.
"""

import re
from pathlib import Path

import pytest

from app import create_app
from campaign.core import config
from campaign.core.extensions import db
from tests.conftest import csrf_token, login, make_campaign, make_user

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_CODE = [
    r"<script(?![^>]*\bsrc=)[^>]*>",  # a script element without src
    r"\son[a-z]+\s*=",  # onclick=, onchange=, …
    r"javascript:",
    r"<style",
]
EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "style-src-elem": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    directives = [d.strip().split(None, 1) for d in header.split(";") if d.strip()]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


@pytest.fixture
def world(app):
    campaign = make_campaign(2026)
    make_user("coord", "coordinator")
    db.session.commit()
    return campaign.id


def responses(app, world):
    """One response of every kind the site gives."""
    anonymous = app.test_client()
    coord = app.test_client()
    login(coord, "coord")
    yield "login page", anonymous.get("/login")
    yield "redirect to login", anonymous.get(f"/campaigns/{world}")
    yield "missing page", anonymous.get("/no-such-page")
    yield "stylesheet", anonymous.get("/static/css/app.css")
    yield "CSRF refusal", anonymous.post("/login", data={"username": "x", "password": "y"})
    yield "API error (JSON)", anonymous.get("/api/v1/campaigns")
    yield "API document (JSON)", anonymous.get("/api/v1/openapi.json")
    yield "overview", coord.get(f"/campaigns/{world}")
    yield (
        "logout",
        coord.post("/logout", data={"csrf_token": csrf_token(coord, f"/campaigns/{world}")}),
    )


def test_every_response_carries_the_security_headers(app, world):
    seen = []
    for kind, response in responses(app, world):
        seen.append((kind, response.status_code))
        response.close()  # the stylesheet is a file
        assert response.headers.get("X-Content-Type-Options") == "nosniff", kind
        assert response.headers.get("X-Frame-Options") == "DENY", kind
        assert response.headers.get("Referrer-Policy") == "same-origin", kind
        assert policy(response) == EXPECTED_CSP, kind
        # Plain HTTP (the default BASE_URL): no HSTS, which would pin browsers to HTTPS.
        assert "Strict-Transport-Security" not in response.headers, kind
    assert [code for _, code in seen] == [200, 302, 404, 200, 400, 401, 200, 200, 302]


# The bulletin's HTML is WeasyPrint's input, never served to a browser.
PDF_SOURCES = {"reports/bulletin.html"}


def test_no_template_needs_what_the_policy_blocks():
    """Inline scripts, event-handler attributes, javascript: links and <style> elements
    would be refused by the browser: every template, every branch, has none."""
    offending = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name in PDF_SOURCES:
            continue
        source = path.read_text()
        for pattern in INLINE_CODE:
            offending += [f"{name}: {m.group(0)}" for m in re.finditer(pattern, source, re.I)]
    assert offending == []


def secure_app(app):
    return create_app({**app.config, "SESSION_COOKIE_SECURE": True})


def test_with_https_the_session_cookie_is_secure_and_hsts_is_sent(app, world):
    instance = secure_app(app)
    client = instance.test_client()
    response = login(client, "coord")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax"} <= flags
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    with instance.app_context():
        db.engine.dispose()


def test_without_https_the_cookie_is_httponly_and_lax_but_not_secure(app, world):
    response = login(app.test_client(), "coord")
    flags = {p.strip().lower() for p in response.headers["Set-Cookie"].split(";")[1:]}
    assert {"httponly", "samesite=lax"} <= flags and "secure" not in flags


@pytest.mark.parametrize(
    "environment, secure",
    [
        ({}, False),  # BASE_URL defaults to http://127.0.0.1
        ({"BASE_URL": "https://gongjian.example.gov.cn"}, True),
        ({"BASE_URL": "http://10.1.1.1:8000"}, False),
        ({"BASE_URL": "https://gongjian.example.gov.cn", "SESSION_COOKIE_SECURE": "0"}, False),
        ({"BASE_URL": "http://10.1.1.1", "SESSION_COOKIE_SECURE": "1"}, True),
    ],
)
def test_secure_cookies_follow_base_url_unless_set(monkeypatch, tmp_path, environment, secure):
    for name in ("BASE_URL", "SESSION_COOKIE_SECURE", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = config.from_environment(tmp_path)
    assert settings["SESSION_COOKIE_SECURE"] is secure
    assert settings["REMEMBER_COOKIE_SECURE"] is secure


def test_an_unreadable_setting_is_refused_with_its_name(monkeypatch, tmp_path):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "yes please")
    with pytest.raises(ValueError, match="SESSION_COOKIE_SECURE"):
        config.from_environment(tmp_path)
