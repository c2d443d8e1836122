"""The login throttle: failed logins counted per account and per address in a store every
worker shares, so that a sprayer is stopped and nobody can lock an owner out.

Limits as configured by default: 5 failures per account and 20 per address in 10 minutes.
Once an account has 5 failures, only addresses that have not failed on it may still try it
(its owner somewhere else); an address with 20 failures may not try any account.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import request

from app import create_app
from campaign.core import config
from campaign.core.clock import now
from campaign.core.extensions import db
from tests.conftest import PASSWORD, csrf_token, make_user
from tests.timeutil import at, clock_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(app):
    make_user("coord", "coordinator")
    make_user("boss", "leadership")
    db.session.commit()


def from_address(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client, username, password="wrong-password", headers=None):
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
        headers=headers or {},
    )


def test_spraying_thirty_usernames_from_one_address_is_stopped(app, world):
    sprayer = from_address(app, "203.0.113.7")
    codes = [attempt(sprayer, f"user{n}").status_code for n in range(30)]
    assert codes == [401] * 20 + [429] * 10
    # The address is shut out, right password or not; the page says why.
    refused = attempt(sprayer, "coord", PASSWORD)
    assert refused.status_code == 429
    assert "尝试次数过多" in refused.get_data(as_text=True)
    # Others are not.
    assert attempt(from_address(app, "198.51.100.1"), "coord", PASSWORD).status_code == 302


def test_an_attackers_failures_do_not_stop_the_owner_elsewhere(app, world):
    attacker = from_address(app, "203.0.113.7")
    codes = [attempt(attacker, "coord").status_code for _ in range(8)]
    assert codes == [401] * 5 + [429] * 3
    assert attempt(attacker, "coord", PASSWORD).status_code == 429  # not even checked
    owner = from_address(app, "198.51.100.1")
    assert attempt(owner, "coord", PASSWORD).status_code == 302


def test_failures_from_many_addresses_lock_the_account_for_those_addresses(app, world):
    """A botnet gets one try per address once the account has 5 failures; the owner, at an
    address that never failed on it, still logs in."""
    bots = [from_address(app, f"203.0.113.{n}") for n in range(1, 6)]
    assert [attempt(bot, "coord").status_code for bot in bots] == [401] * 5
    assert [attempt(bot, "coord", PASSWORD).status_code for bot in bots] == [429] * 5
    assert attempt(from_address(app, "203.0.113.6"), "coord").status_code == 401
    assert attempt(from_address(app, "198.51.100.1"), "coord", PASSWORD).status_code == 302
    # The bots may still try other accounts (their addresses are below 20 failures).
    assert attempt(bots[0], "boss", PASSWORD).status_code == 302


def test_an_unknown_username_is_counted_like_a_real_one(app, world):
    """Same answers for both, so the throttle does not tell which usernames exist."""
    here = from_address(app, "203.0.113.7")
    real = [attempt(here, "coord").status_code for _ in range(6)]
    ghost = [attempt(here, "nobody").status_code for _ in range(6)]
    assert real == ghost == [401] * 5 + [429]


def test_the_limit_ends_with_its_window(app, world):
    here = from_address(app, "203.0.113.7")
    with at(2026, 11, 10, 9, 0):
        for _ in range(5):
            attempt(here, "coord")
        assert attempt(here, "coord", PASSWORD).status_code == 429
    with at(2026, 11, 10, 9, 9, 59):
        assert attempt(here, "coord", PASSWORD).status_code == 429
    with at(2026, 11, 10, 9, 10, 1):
        assert attempt(here, "coord", PASSWORD).status_code == 302


# A second worker: another process, sharing nothing with this one but the configuration.
WORKER = """
import json, sys
from app import create_app
from campaign.core import config

config = json.loads(sys.argv[1])
client = create_app({**config, "WTF_CSRF_ENABLED": False}).test_client()
client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
for password in sys.argv[2:]:
    response = client.post("/login", data={"username": "coord", "password": password})
    print(response.status_code)
"""


def in_another_worker(app, *passwords) -> list[int]:
    config = {
        name: app.config[name]
        for name in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "PASSWORD_HASH_METHOD", "TESTING")
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(config), *passwords],
        cwd=ROOT,
        env={**os.environ, **clock_env(now())},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [int(line) for line in done.stdout.split()]


def test_the_count_is_shared_by_every_worker(app, world):
    """Four failures in this process and one in another lock the account (for the address
    they came from) in both: the count is kept where every gunicorn worker sees it."""
    here = from_address(app, "203.0.113.7")
    for _ in range(4):
        assert attempt(here, "coord").status_code == 401
    assert in_another_worker(app, "wrong-password", PASSWORD) == [401, 429]
    assert attempt(here, "coord", PASSWORD).status_code == 429
    assert attempt(from_address(app, "198.51.100.1"), "coord", PASSWORD).status_code == 302


def test_a_forged_x_forwarded_for_is_ignored_without_a_trusted_proxy(app, world):
    sprayer = from_address(app, "203.0.113.7")
    codes = [
        attempt(sprayer, f"user{n}", headers={"X-Forwarded-For": f"10.9.{n}.1"}).status_code
        for n in range(21)
    ]
    assert codes == [401] * 20 + [429]


def with_proxy_fix(app, hops):
    """Another instance of the app with PROXY_FIX=hops, and a page saying how it sees the
    request."""
    instance = create_app({**app.config, "PROXY_FIX": hops})

    @instance.route("/_seen_as")
    def seen_as():
        return f"{request.scheme} {request.remote_addr}"

    return instance


@pytest.fixture
def behind_proxy(app, world):
    """The app as deployed behind the documented nginx (PROXY_FIX=1): every request comes
    from 127.0.0.1, the client's address is the last X-Forwarded-For entry."""
    proxied = with_proxy_fix(app, 1)
    yield proxied
    with proxied.app_context():
        db.engine.dispose()


def via_nginx(client_address, forged=None):
    chain = f"{forged}, {client_address}" if forged else client_address
    # Over HTTPS, Flask-WTF also wants the form posted from this site (the Referer a
    # browser sends under Referrer-Policy: same-origin).
    return {
        "X-Forwarded-For": chain,
        "X-Forwarded-Proto": "https",
        "Referer": "https://localhost/login",
    }


def test_behind_the_proxy_an_attacker_does_not_lock_out_the_owner(behind_proxy):
    nginx = from_address(behind_proxy, "127.0.0.1")
    for _ in range(6):
        attempt(nginx, "coord", headers=via_nginx("203.0.113.7"))
    assert attempt(nginx, "coord", PASSWORD, via_nginx("203.0.113.7")).status_code == 429
    assert attempt(nginx, "coord", PASSWORD, via_nginx("198.51.100.1")).status_code == 302


def test_behind_the_proxy_only_the_address_nginx_saw_counts(behind_proxy):
    """nginx appends the real address to whatever the client sent: with one trusted hop,
    the forged entries in front are not believed."""
    nginx = from_address(behind_proxy, "127.0.0.1")
    codes = [
        attempt(nginx, f"user{n}", headers=via_nginx("203.0.113.7", f"10.9.{n}.1")).status_code
        for n in range(21)
    ]
    assert codes == [401] * 20 + [429]


@pytest.mark.parametrize("hops, seen", [(0, "http 127.0.0.1"), (1, "https 198.51.100.1")])
def test_forwarded_headers_are_believed_only_with_proxy_fix(app, hops, seen):
    instance = with_proxy_fix(app, hops)
    nginx = from_address(instance, "127.0.0.1")
    response = nginx.get("/_seen_as", headers=via_nginx("198.51.100.1", forged="10.0.0.1"))
    assert response.get_data(as_text=True) == seen
    with instance.app_context():
        db.engine.dispose()


def test_a_right_password_clears_the_owners_own_failures(app, world):
    """Four typos and then the right password: the typos no longer count against him from
    that address when someone else later pushes the account over its limit."""
    owner = from_address(app, "198.51.100.1")
    for _ in range(4):
        attempt(owner, "coord")
    assert attempt(owner, "coord", PASSWORD).status_code == 302
    attempt(from_address(app, "203.0.113.7"), "coord")  # the fifth failure on the account
    fresh = from_address(app, "198.51.100.1")
    assert attempt(fresh, "coord", PASSWORD).status_code == 302


@pytest.mark.parametrize("value, hops", [(None, 0), ("0", 0), ("1", 1), ("2", 2)])
def test_proxy_fix_setting(monkeypatch, tmp_path, value, hops):
    monkeypatch.delenv("PROXY_FIX", raising=False)
    if value is not None:
        monkeypatch.setenv("PROXY_FIX", value)
    assert config.from_environment(tmp_path)["PROXY_FIX"] == hops


@pytest.mark.parametrize("name", ["LOGIN_ACCOUNT_FAILURES", "LOGIN_ADDRESS_FAILURES", "PROXY_FIX"])
@pytest.mark.parametrize("value", ["five", "0 per minute", "-1"])
def test_an_unreadable_limit_is_refused_at_start_with_its_name(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        config.from_environment(tmp_path)
