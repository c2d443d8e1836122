"""`flask backup create|restore` on both databases: the data and the stored files come back."""

import json
import shutil
import tarfile
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, select, text

from campaign.audit import AuditEntry
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem
from campaign.core.extensions import db
from campaign.ledger.models import Organization
from tests import documents
from tests.conftest import login, make_campaign, make_org, make_unit, make_user
from tests.timeutil import at


def _orgs() -> int:
    return db.session.scalar(select(func.count()).select_from(Organization))


def test_a_backup_restores_the_data_and_the_files_it_was_taken_with(app, runner, tmp_path):
    campaign = make_campaign()
    unit = make_unit("jiangan", "江岸区")
    make_org(campaign, unit, name="甲公司")
    make_org(campaign, unit, name="乙公司")
    db.session.commit()
    stored = tmp_path / "storage" / "bulletins" / "1" / "2026-06-abc.pdf"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"%PDF-1.7 the archived bulletin")
    archive = tmp_path / "backup.tar.gz"

    result = runner.invoke(args=["backup", "create", "-o", str(archive)])
    assert result.exit_code == 0, result.output
    assert "已备份" in result.output
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "storage/bulletins/1/2026-06-abc.pdf" in names

    # After the backup: one more organization, and the file is lost.
    make_org(campaign, unit, name="丙公司")
    db.session.commit()
    stored.unlink()
    db.session.remove()

    refused = runner.invoke(args=["backup", "restore", str(archive)])
    assert refused.exit_code != 0
    assert "已有数据" in refused.output and "--force" in refused.output
    assert _orgs() == 3  # nothing touched
    db.session.remove()

    result = runner.invoke(args=["backup", "restore", str(archive), "--force"])
    assert result.exit_code == 0, result.output
    assert "行数与备份一致" in result.output
    db.session.remove()
    assert _orgs() == 2
    names = set(db.session.scalars(select(Organization.name)))
    assert names == {"甲公司", "乙公司"}
    assert stored.read_bytes() == b"%PDF-1.7 the archived bulletin"


def test_a_file_that_is_not_a_backup_is_refused_in_chinese(app, runner, tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        tar.add(__file__, arcname="readme.txt")
    result = runner.invoke(args=["backup", "restore", str(bogus)])
    assert result.exit_code != 0
    assert "不是攻坚备份文件" in result.output


def test_a_backup_restored_on_another_machine_serves_its_evidence(app, runner, tmp_path):
    """Another machine keeps its files elsewhere (another STORAGE_PATH) and starts empty: the
    restored closure still finds its document, since rows keep paths relative to the root."""
    with at(2026, 11, 20, 10, 0):
        campaign = make_campaign()
        unit = make_unit("jiangan", "江岸区")
        operator = make_user("jiangan_op", "operator", unit)
        make_org(campaign, unit, name="甲公司", employees=120)
        board.sync_items(db.session, campaign)
        item = db.session.scalar(select(BoardItem))
        evidence = documents.pdf("甲公司批复")
        closure = board.submit_closure(
            db.session,
            item,
            ClosureClaim.from_form(
                {
                    "method": "joint",
                    "joint_form": "区域联建",
                    "party_org_name": "中共甲公司联合支部",
                    "established_on": "2026-11-18",
                    "formal_members": "0",
                    "secretary": "张三",
                }
            ),
            ("批复.pdf", evidence),
            operator,
            Path(app.config["STORAGE_PATH"]),
        )
        db.session.commit()
        url = f"/campaigns/{campaign.id}/closures/{closure.id}/document"
        archive = tmp_path / "backup.tar.gz"
        assert runner.invoke(args=["backup", "create", "-o", str(archive)]).exit_code == 0

        # The other machine: its own storage folder, nothing of the first one left.
        shutil.rmtree(app.config["STORAGE_PATH"])
        app.config["STORAGE_PATH"] = str(tmp_path / "elsewhere" / "files")
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        # As a new machine is set up: `flask db upgrade` on an empty database (it signs the
        # empty change record's head), then the restore, with no --force needed.
        upgrade()
        result = runner.invoke(args=["backup", "restore", str(archive)])
        assert result.exit_code == 0, result.output
        db.session.remove()

        client = app.test_client()
        assert login(client, "jiangan_op").status_code == 302
        with client.get(url) as response:
            assert response.status_code == 200
            assert response.data == evidence
            assert response.headers["Content-Type"] == "application/pdf"
    assert (tmp_path / "elsewhere" / "files" / closure.document_path).read_bytes() == evidence


def test_a_backup_carries_the_records_signed_head_and_checks_it_on_restore(app, runner, tmp_path):
    """The manifest keeps the change record's head as of the dump: `audit verify --anchor`
    then finds the tail deleted afterwards, and a restore says the record matches it."""
    campaign = make_campaign()
    unit = make_unit("jiangan", "江岸区")
    for name in ("甲公司", "乙公司", "丙公司"):
        make_org(campaign, unit, name=name)
    db.session.commit()
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    last = db.session.scalar(select(func.max(AuditEntry.id)))
    archive = tmp_path / "backup.tar.gz"
    assert runner.invoke(args=["backup", "create", "-o", str(archive)]).exit_code == 0
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert (manifest["audit_head"]["entries"], manifest["audit_head"]["last_id"]) == (
        entries,
        last,
    )

    # Someone with database access removes the last entry and the head after the backup.
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": last})
        conn.execute(text("DELETE FROM audit_head"))
    db.session.remove()
    result = runner.invoke(args=["audit", "verify", "--anchor", str(archive)])
    assert result.exit_code != 0
    assert (
        f"变更记录末尾被删除：备份 backup.tar.gz 中的记录头为第{last}条（共{entries}条）"
        in result.output
    )

    db.session.remove()
    restored = runner.invoke(args=["backup", "restore", str(archive), "--force"])
    assert restored.exit_code == 0, restored.output
    assert "变更记录与备份中签名的记录头一致" in restored.output
    db.session.remove()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_restore_whose_database_step_fails_puts_the_old_files_back(
    app, runner, tmp_path, monkeypatch
):
    """The files are swapped in first (renames that can be undone), then the database; when
    the database step fails, the live files are the old ones again: all of the archive or
    none of it. The failure is made by hand: a real one (a lock held past the timeout, a full
    disk) takes a minute or a disk to fill."""
    from campaign import backup

    campaign = make_campaign()
    make_org(campaign, make_unit("jiangan", "江岸区"), name="甲公司")
    db.session.commit()
    stored = tmp_path / "storage" / "closures" / "1-old.pdf"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"kept before")
    archive = tmp_path / "backup.tar.gz"
    assert runner.invoke(args=["backup", "create", "-o", str(archive)]).exit_code == 0
    stored.write_bytes(b"changed after the backup")
    (stored.parent / "2-new.pdf").write_bytes(b"added after the backup")

    def fail(*_args):
        raise backup.Refused("恢复数据库时出错，已整体撤销（模拟）")

    monkeypatch.setattr(backup, "_replace_sqlite", fail)
    monkeypatch.setattr(backup, "_restore_postgresql", fail)
    db.session.remove()
    result = runner.invoke(args=["backup", "restore", str(archive), "--force"])
    assert result.exit_code != 0
    assert "已整体撤销" in result.output
    assert stored.read_bytes() == b"changed after the backup"
    assert (stored.parent / "2-new.pdf").read_bytes() == b"added after the backup"
    assert sorted(p.name for p in (tmp_path / "storage").iterdir()) == ["closures"]
