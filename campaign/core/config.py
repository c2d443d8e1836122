"""Configuration: defaults, overridden by the environment (and an optional .env)."""

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from limits import parse

from campaign.core.db import json_dumps


def instance_secret_key(instance_path: Path) -> str:
    """A key generated once and kept in instance/, for when SECRET_KEY is not set."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if value not in ("0", "1"):
        raise ValueError(f"{name}={value!r}: expected 1 (on) or 0 (off)")
    return value == "1"


def _limit(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    try:
        allowed = parse(value).amount
    except ValueError:
        allowed = 0
    if allowed < 1:  # 0 would refuse every login
        raise ValueError(f"{name}={value!r}: expected e.g. “5 per 10 minutes”")
    return value


def _count(name: str) -> int:
    value = os.environ.get(name, "").strip() or "0"
    if not value.isdigit():
        raise ValueError(f"{name}={value!r}: expected a whole number")
    return int(value)


def from_environment(instance_path: Path) -> dict[str, Any]:
    """The settings for a running instance."""
    default_db = f"sqlite:///{instance_path / 'gongjian.db'}"
    settings: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "SCHEDULER_ENABLED": os.environ.get("GONGJIAN_SCHEDULER", "0") == "1",
        "STORAGE_PATH": os.environ.get("STORAGE_PATH", str(instance_path / "storage")),
        # The bulletin's cut-off on the 10th and 25th (Asia/Shanghai), when the scheduler runs.
        "BULLETIN_TIME": os.environ.get("BULLETIN_TIME", "18:00"),
        # Email: with no SMTP_HOST, mails are written as .eml files to MAIL_FOLDER.
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT") or 25),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_TLS": os.environ.get("SMTP_TLS", ""),  # "" | starttls | ssl
        "MAIL_FROM": os.environ.get("MAIL_FROM", "gongjian@localhost"),
        "MAIL_FOLDER": os.environ.get("MAIL_FOLDER", str(instance_path / "mail")),
        # Links in messages (mails, robots) point here.
        "BASE_URL": os.environ.get(
            "BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT') or 5000}"
        ),
        # Reminders this many days before a due day (and once when it is overdue).
        "REMINDER_DAYS": os.environ.get("REMINDER_DAYS", "3,1"),
        # Where login failures are counted: this app's database (shared by every worker) or
        # redis://host:6379/0 (needs the redis package). See campaign/ratelimit.py.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "database://",
        # Failed logins allowed per account and per address before attempts are refused
        # (see campaign/core/throttle.py).
        "LOGIN_ACCOUNT_FAILURES": _limit("LOGIN_ACCOUNT_FAILURES", "5 per 10 minutes"),
        "LOGIN_ADDRESS_FAILURES": _limit("LOGIN_ADDRESS_FAILURES", "20 per 10 minutes"),
        # Trusted proxy hops in front of the app (1: the documented nginx). Only then are
        # X-Forwarded-For and X-Forwarded-Proto believed.
        "PROXY_FIX": _count("PROXY_FIX"),
        # SQLite writes one transaction at a time: a writer waits this long (seconds) for the
        # one before it (a large import holds the lock for seconds) before it gives up.
        "SQLITE_BUSY_TIMEOUT": float(os.environ.get("SQLITE_BUSY_TIMEOUT") or 30),
    }
    # Cookies only over HTTPS: by default when BASE_URL is https://.
    secure = _flag("SESSION_COOKIE_SECURE", settings["BASE_URL"].startswith("https://"))
    settings["SESSION_COOKIE_SECURE"] = settings["REMEMBER_COOKIE_SECURE"] = secure
    if key := os.environ.get("SECRET_KEY"):
        settings["SECRET_KEY"] = key
    # Earlier keys, comma-separated, while SECRET_KEY is being changed: sessions signed with
    # them stay valid (Flask) and so do the change record's signatures (campaign/audit.py).
    if old := os.environ.get("SECRET_KEY_FALLBACKS"):
        settings["SECRET_KEY_FALLBACKS"] = [k.strip() for k in old.split(",") if k.strip()]
    return settings


DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # Uploads above this are cut off before they are read (ledger files are checked at 20 MB).
    "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
    # A form's text fields may take as much (Werkzeug's own cap is 500 KB a field, answered
    # with a bare 413): each field's own limit is then checked and named (campaign/text.py).
    "MAX_FORM_MEMORY_SIZE": 25 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,
    "PASSWORD_HASH_METHOD": "scrypt",
    "API_TITLE": "Gongjian API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    },
}


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """SQLALCHEMY_ENGINE_OPTIONS for ``config``'s database: on SQLite with the busy timeout
    (pysqlite's default of 5 s turned a wait behind a long import into a 500)."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("json_serializer", json_dumps)
    if str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", config.get("SQLITE_BUSY_TIMEOUT", 30))
        options["connect_args"] = connect_args
    return options
