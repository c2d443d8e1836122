"""`flask db upgrade` builds exactly the schema the models describe, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from campaign.extensions import db


def test_upgrade_from_empty_matches_models(app, backend):
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
        )
    assert diff == []
    assert {"campaign", "phase", "unit", "user", "organization", "audit_entry"} <= set(
        inspect(db.engine).get_table_names()
    )


def test_users_get_a_session_key_each_on_upgrade(app, backend):
    """Users created before session keys each get their own random key; nobody is left
    with an empty one (which no cookie could match, or every cookie could)."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(revision="b7d2e4f6a8c0")
    with db.engine.begin() as conn:
        for n in (1, 2):
            conn.execute(
                text(
                    'INSERT INTO "user" (username, display_name, password_hash, role, email,'
                    " active, created_at) VALUES (:u, :u, 'x', 'admin', '', true,"
                    " '2026-11-01 09:00:00')"
                ),
                {"u": f"u{n}"},
            )
    upgrade(revision="d41f7a2c9e15")
    with db.engine.connect() as conn:
        keys = conn.execute(text('SELECT session_key FROM "user" ORDER BY id')).scalars().all()
    assert len(keys) == 2 and len(set(keys)) == 2
    assert all(len(k) == 32 for k in keys)  # 24 random bytes, URL-safe base64
