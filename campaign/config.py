"""Configuration: defaults, overridden by the environment (and an optional .env)."""

import os
import secrets
from pathlib import Path


def instance_secret_key(instance_path: Path) -> str:
    """A key generated once and kept in instance/, for when SECRET_KEY is not set."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: Path) -> dict:
    """The settings for a running instance."""
    default_db = f"sqlite:///{instance_path / 'gongjian.db'}"
    settings = {
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
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
    }
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
    # Uploads above this are cut off before they are read (ledger files are checked at 20 MB).
    "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,
    # Failed logins per username and address before the form refuses for a while.
    "LOGIN_FAILURE_LIMIT": "5 per 10 minutes",
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
