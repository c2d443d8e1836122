"""The login throttle: failed logins counted per account, per address and per both.

The counts are kept by Flask-Limiter in its storage (RATELIMIT_STORAGE_URI: the database
by default, Redis when configured), which every worker and process shares.

- An address with LOGIN_ADDRESS_FAILURES (default 20 in 10 minutes) may not try any
  account: someone spraying one password over many usernames is stopped.
- An account with LOGIN_ACCOUNT_FAILURES (default 5 in 10 minutes) may then be tried only
  from addresses that have not failed on it. The attacker's addresses are shut out; the
  owner, anywhere else, still logs in with his password, so failures cannot be used to
  lock him out. A botnet gets one guess per address per window on that account.

A refused attempt is answered 429 without looking at the password, so it tells nothing
about it; unknown usernames are counted like real ones, so it tells nothing about which
exist either. A successful login forgets the failures of that account from that address.
"""

import hashlib
import ipaddress

from flask import current_app
from limits import RateLimitItem, parse

from campaign.core.extensions import limiter


def _limits() -> tuple[RateLimitItem, RateLimitItem]:
    config = current_app.config
    return parse(config["LOGIN_ADDRESS_FAILURES"]), parse(config["LOGIN_ACCOUNT_FAILURES"])


def _address(remote_addr: str | None) -> str:
    """The address a client is counted under: its IPv4 address, or its IPv6 /64 (one
    subscriber's whole allocation, which he can walk through at will)."""
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _account(username: str) -> str:
    # The username as typed, with case and spaces ignored, hashed: the key has a fixed
    # length and holds nothing a visitor typed.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def refused(username: str, remote_addr: str | None) -> bool:
    """Whether a login attempt is refused before its password is checked."""
    if not limiter.enabled:
        return False
    by_address, by_account = _limits()
    address, account = _address(remote_addr), _account(username)
    window = limiter.limiter
    if not window.test(by_address, "login-address", address):
        return True
    if window.test(by_account, "login-account", account):
        return False
    failed_here = window.get_window_stats(by_account, "login-pair", address, account)
    return failed_here.remaining < by_account.amount


def failed(username: str, remote_addr: str | None) -> None:
    """Count a wrong password (or an unknown or disabled username)."""
    if not limiter.enabled:
        return
    by_address, by_account = _limits()
    address, account = _address(remote_addr), _account(username)
    window = limiter.limiter
    window.hit(by_address, "login-address", address)
    window.hit(by_account, "login-account", account)
    window.hit(by_account, "login-pair", address, account)


def succeeded(username: str, remote_addr: str | None) -> None:
    """The owner logged in from here: his own earlier typos no longer count against him."""
    if not limiter.enabled:
        return
    _, by_account = _limits()
    limiter.limiter.clear(by_account, "login-pair", _address(remote_addr), _account(username))
