"""`flask db upgrade` builds exactly the schema the models describe, on every backend."""

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, Table, insert, inspect, select, text

from campaign import audit
from campaign.audit import AuditEntry
from campaign.board.models import BoardItem, Closure
from campaign.core.extensions import db
from campaign.half_monthly.models import UnitReport
from campaign.ledger import creditcode
from campaign.ledger.models import Organization
from reports.models import Bulletin
from tests.conftest import make_campaign, make_unit


def _insert_as_of_revision(model, **values) -> int:
    """Insert a row of ``model`` with only the columns its table has at the database's current
    revision (the models describe the head, which may have more), defaults as the model's;
    its id."""
    table = Table(model.__tablename__, MetaData(), autoload_with=db.session.connection())
    row = {}
    for column in model.__table__.columns:
        if column.name not in table.c or column.primary_key:
            continue
        if column.name in values:
            row[column.name] = values[column.name]
        elif column.default is not None:
            default = column.default
            row[column.name] = default.arg(None) if default.is_callable else default.arg
    return db.session.execute(insert(table).values(**row).returning(table.c.id)).scalar_one()


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


def test_stored_file_paths_under_the_storage_root_become_relative(app, backend, tmp_path):
    """Rows written before d3f1a7c9e2b4 kept absolute paths: those under STORAGE_PATH are
    made relative (and back on downgrade); one outside it is left as it was."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(revision="d3a1f0c9e842")
    root = Path(app.config["STORAGE_PATH"])
    elsewhere = tmp_path / "old-disk" / "closures" / "1-feedbeef.pdf"
    campaign = make_campaign()
    unit = make_unit("jiangan", "江岸区")
    # The organization as the ledger held it at that revision (not every column of today's).
    org_id = _insert_as_of_revision(
        Organization,
        campaign_id=campaign.id,
        unit_id=unit.id,
        kind="enterprise",
        name="大企业",
        credit_code=creditcode.make(1),
        category="other",
        employees=120,
        target="party_org",
        path="grow_members",
    )
    item = BoardItem(
        campaign_id=campaign.id,
        unit_id=unit.id,
        organization_id=org_id,
        kind="enterprise",
        target="party_org",
        path="grow_members",
    )
    db.session.add(item)
    db.session.flush()
    db.session.add_all(
        [
            Closure(item_id=item.id, method="joint", document_path=f"{root}/closures/1-ab.pdf"),
            Closure(item_id=item.id, method="joint", document_path=str(elsewhere)),
            Closure(item_id=item.id, method="joint", document_path=""),
            UnitReport(
                campaign_id=campaign.id,
                unit_id=unit.id,
                due_on=date(2026, 9, 10),
                submitted_at=datetime(2026, 9, 10, 1, tzinfo=UTC),
                figures="{}",
                attachment_path=f"{root}/reports/jiangan-2026-09-10-cd.png",
            ),
            Bulletin(
                campaign_id=campaign.id,
                number=1,
                due_on=date(2026, 9, 10),
                cutoff_at=datetime(2026, 9, 10, 10, tzinfo=UTC),
                title="通报",
                snapshot="{}",
                snapshot_sha256="0" * 64,
                pdf_path=f"{root}/bulletins/1/2026-01-ef.pdf",
                pdf_sha256="0" * 64,
                pdf_pages=1,
                xlsx_path=f"{root}/bulletins/1/2026-01-ef.xlsx",
                xlsx_sha256="0" * 64,
                trigger="manual",
            ),
        ]
    )
    db.session.commit()

    def paths():
        db.session.expire_all()
        bulletin = db.session.scalar(select(Bulletin))
        return (
            list(db.session.scalars(select(Closure.document_path).order_by(Closure.id))),
            db.session.scalar(select(UnitReport.attachment_path)),
            (bulletin.pdf_path, bulletin.xlsx_path),
        )

    db.session.remove()
    upgrade()
    assert paths() == (
        ["closures/1-ab.pdf", str(elsewhere), ""],
        "reports/jiangan-2026-09-10-cd.png",
        ("bulletins/1/2026-01-ef.pdf", "bulletins/1/2026-01-ef.xlsx"),
    )
    db.session.remove()
    downgrade(revision="d3a1f0c9e842")
    assert paths() == (
        [f"{root}/closures/1-ab.pdf", str(elsewhere), ""],
        f"{root}/reports/jiangan-2026-09-10-cd.png",
        (f"{root}/bulletins/1/2026-01-ef.pdf", f"{root}/bulletins/1/2026-01-ef.xlsx"),
    )


def test_upgrade_signs_the_head_of_a_chain_written_before_it(app, runner):
    """A chain written by the release before the signed head verifies after `db upgrade`:
    the upgrade signs its head with the instance's SECRET_KEY (whatever the chain was then is
    taken as the start)."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(revision="7b0e4de458c3")
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
