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
