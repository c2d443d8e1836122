"""`flask db upgrade` builds exactly the schema the models describe, on every backend."""

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, inspect, select, text

from campaign import audit
from campaign.audit import AuditEntry
from campaign.board.models import BoardItem, Closure
from campaign.core.extensions import db
from campaign.half_monthly.models import UnitReport
from reports.models import Bulletin
from tests.conftest import make_campaign, make_org, make_unit


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


def test_existing_users_and_units_carry_on_after_the_accounts_upgrade(app, backend):
    """Users from before 241792fd1ae3 keep their passwords without a forced change, have no
    phone and no recorded login; existing units stay active; no city profile appears."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(revision="0635caa97d87")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO unit (code, name, kind, is_responsible, position)"
                " VALUES ('jiangan', '江岸区', 'district', true, 1)"
            )
        )
        conn.execute(
            text(
                'INSERT INTO "user" (username, display_name, password_hash, role, email,'
                " active, created_at, session_key) VALUES ('li', '李', 'x', 'operator', '',"
                " true, '2026-11-01 09:00:00', 'k')"
            )
        )
    upgrade(revision="241792fd1ae3")
    with db.engine.connect() as conn:
        user = conn.execute(
            text('SELECT phone, must_change_password, last_login_at FROM "user"')
        ).one()
        unit_active = conn.execute(text("SELECT active FROM unit")).scalar()
        profiles = conn.execute(text("SELECT count(*) FROM city_profile")).scalar()
    assert (user.phone, bool(user.must_change_password), user.last_login_at) == ("", False, None)
    assert bool(unit_active) is True and profiles == 0


def test_stored_file_paths_under_the_storage_root_become_relative(app, backend, tmp_path):
    """Rows written before d3f1a7c9e2b4 kept absolute paths: those under STORAGE_PATH are
    made relative (and back on downgrade); one outside it is left as it was."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    # The rows are written with today's models at the head, then the schema is taken back to
    # d3a1f0c9e842 (absolute paths are left as they are on the way down): the models write
    # columns later migrations added, which the old schema would not have.
    upgrade()
    root = Path(app.config["STORAGE_PATH"])
    elsewhere = tmp_path / "old-disk" / "closures" / "1-feedbeef.pdf"
    campaign = make_campaign()
    unit = make_unit("jiangan", "江岸区")
    org = make_org(campaign, unit, employees=120)
    item = BoardItem(
        campaign_id=campaign.id,
        unit_id=unit.id,
        organization_id=org.id,
        kind=org.kind,
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
    db.session.remove()
    downgrade(revision="d3a1f0c9e842")

    def paths():
        db.session.expire_all()
        bulletin = db.session.scalar(select(Bulletin))
        return (
            list(db.session.scalars(select(Closure.document_path).order_by(Closure.id))),
            db.session.scalar(select(UnitReport.attachment_path)),
            (bulletin.pdf_path, bulletin.xlsx_path),
        )

    assert paths() == (
        [f"{root}/closures/1-ab.pdf", str(elsewhere), ""],
        f"{root}/reports/jiangan-2026-09-10-cd.png",
        (f"{root}/bulletins/1/2026-01-ef.pdf", f"{root}/bulletins/1/2026-01-ef.xlsx"),
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
