"""`flask db upgrade` builds exactly the schema the models describe, on every backend."""

import hashlib
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import insert, inspect, text

from campaign import audit
from campaign.audit import AuditEntry
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


def test_upgrade_signs_the_head_of_a_chain_written_before_it(app, runner):
    """A chain written by the release before the signed head verifies after `db upgrade`:
    the upgrade signs its head with the instance's SECRET_KEY (whatever the chain was then is
    taken as the start)."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(revision="b7d2e4f6a8c0")
    moment = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    prev = ""
    with db.engine.begin() as conn:
        for n in (1, 2, 3):
            before, after = "{}", f'{{"n": {n}}}'
            content = f"{prev}|2026-11-20T02:00:00+00:00||coord|x.create|x|{n}|{before}|{after}"
            digest = hashlib.sha256(content.encode()).hexdigest()
            conn.execute(
                insert(AuditEntry.__table__).values(
                    at=moment,
                    actor="coord",
                    action="x.create",
                    object_type="x",
                    object_id=str(n),
                    before=before,
                    after=after,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
    upgrade()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "变更记录完整：3条，哈希链接无误，与签名的记录头一致。"
    assert audit.signed_head(db.session)["last_hash"] == prev
