"""The end of the change record, attacked by someone with SQL access but not SECRET_KEY.

The hash chain (campaign/audit.py) shows an entry edited or deleted in the middle: the next
entry's link no longer matches. It cannot show what happens at its end: the last entries
deleted, a forged entry appended with a correctly computed hash, or an edit followed by
recomputing every hash after it (the chain is then whole again). The signed head (entry
count, last id and last hash, HMAC with a key derived from SECRET_KEY), kept in the same
transaction as every write, and the anchors kept with each bulletin, in each backup and by
operators (`audit head`), close that gap; `audit verify` checks all of them.

Each attack below is what a database user does by hand; the attacker knows the hash formula
(the code is public) but not SECRET_KEY. Entry numbers (第N条) are the entries' ids.
"""

import hashlib
import io
import json
import tarfile
import threading
from datetime import UTC, date

from sqlalchemy import func, insert, select, text

from campaign import audit
from campaign.core.extensions import db
from reports import services as bulletins
from tests.conftest import make_two_districts
from tests.timeutil import at, shanghai


def write(n: int, start: int = 1) -> None:
    """``n`` changes written by the app, committed: one entry, then the rest as one import."""
    audit.record(
        db.session,
        user="coord",
        action="org.update",
        obj_type="organization",
        obj_id=start,
        before={"employees": 10},
        after={"employees": 12},
    )
    if n > 1:
        audit.record_many(
            db.session,
            user="importer",
            entries=[
                {
                    "action": "org.create",
                    "obj_type": "organization",
                    "obj_id": start + k,
                    "after": {"名称": f"测试组织{start + k}", "employees": k},
                }
                for k in range(1, n)
            ],
        )
    db.session.commit()


def ids() -> list[int]:
    return list(db.session.scalars(select(audit.AuditEntry.id).order_by(audit.AuditEntry.id)))


def sql(statement: str, **params) -> None:
    """What the attacker runs: plain SQL, committed."""
    db.session.execute(text(statement), params)
    db.session.commit()
    db.session.expire_all()


def verify(runner, *args: str):
    return runner.invoke(args=["audit", "verify", *args])


def entry_hash(prev: str, e) -> str:
    """The published formula, as an attacker who read the code computes it."""
    content = (
        f"{prev}|{e.at.astimezone(UTC).isoformat()}|{e.user_id or ''}|{e.actor}|"
        f"{e.action}|{e.object_type}|{e.object_id}|{e.before}|{e.after}"
    )
    return hashlib.sha256(content.encode()).hexdigest()


def recompute_from(entry_id: int) -> None:
    """Every hash from ``entry_id`` on computed again and written back, so the chain links."""
    entries = db.session.scalars(
        select(audit.AuditEntry)
        .where(audit.AuditEntry.id >= entry_id)
        .order_by(audit.AuditEntry.id)
    ).all()
    prev = (
        db.session.scalar(
            select(audit.AuditEntry.hash)
            .where(audit.AuditEntry.id < entry_id)
            .order_by(audit.AuditEntry.id.desc())
            .limit(1)
        )
        or ""
    )
    updates = []
    for e in entries:
        new = entry_hash(prev, e)
        updates.append({"id": e.id, "prev": prev, "hash": new})
        prev = new
    db.session.expunge_all()
    for u in updates:
        db.session.execute(
            text("UPDATE audit_entry SET prev_hash = :prev, hash = :hash WHERE id = :id"), u
        )
    db.session.commit()


def append_forged(**fields) -> int:
    """An INSERT behind the app's back, its hash computed from the last entry: the chain links."""
    last = db.session.scalar(select(audit.AuditEntry).order_by(audit.AuditEntry.id.desc()).limit(1))
    row = dict(
        at=last.at,
        user_id=None,
        actor="coord",
        action="org.update",
        obj_type="organization",
        obj_id="1",
        before="{}",
        after="{}",
    )
    row.update(fields)
    e = type("Row", (), {**row, "object_type": row["obj_type"], "object_id": row["obj_id"]})
    digest = entry_hash(last.hash, e)
    new_id = db.session.execute(
        insert(audit.AuditEntry.__table__).values(
            at=row["at"],
            user_id=None,
            actor=row["actor"],
            action=row["action"],
            object_type=row["obj_type"],
            object_id=row["obj_id"],
            before=row["before"],
            after=row["after"],
            prev_hash=last.hash,
            hash=digest,
        )
    ).inserted_primary_key[0]
    db.session.commit()
    return new_id


def saved_head() -> dict:
    """The head row as the attacker copies it, to put it back later."""
    row = db.session.execute(text("SELECT * FROM audit_head")).mappings().one()
    return dict(row)


def restore_head(row: dict) -> None:
    sql("DELETE FROM audit_head")
    db.session.execute(insert(audit.AuditHead.__table__).values(**row))
    db.session.commit()


# ---- the honest case -------------------------------------------------------------------------


def test_a_chain_written_by_the_app_verifies_with_its_signed_head(app, runner):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "变更记录完整：0条" in result.output

    write(5)
    # A write rolled back leaves neither an entry nor a moved head.
    audit.record(db.session, user="coord", action="x.lost", obj_type="x", obj_id=1)
    db.session.rollback()
    write(3, start=6)
    assert len(ids()) == 8

    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "变更记录完整：8条，哈希链接无误，与签名的记录头一致。"
    head = audit.signed_head(db.session)
    assert (head["entries"], head["last_id"]) == (8, ids()[-1])
    assert audit.check_anchor(db.session, head) is None


def test_many_concurrent_writers_leave_one_chain_that_verifies(app, runner):
    """Six processes' worth of writers (threads, each its own connection), released at once,
    each writing 5 single entries and 2 imports of 20: 6 x (5 + 40) = 270 entries."""
    write(1)
    writers, barrier, errors = 6, threading.Barrier(6, timeout=30), []

    def writer(k: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                for n in range(5):
                    audit.record(
                        db.session, user=f"w{k}", action="x.one", obj_type="x", obj_id=f"{k}-{n}"
                    )
                    db.session.commit()
                    if n % 2:
                        audit.record_many(
                            db.session,
                            user=f"w{k}",
                            entries=[
                                {"action": "x.many", "obj_type": "x", "obj_id": f"{k}-{n}-{i}"}
                                for i in range(20)
                            ],
                        )
                        db.session.commit()
            except Exception as error:  # noqa: BLE001 (asserted below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads) and errors == []
    assert len(ids()) == 1 + 270
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "变更记录完整：271条，哈希链接无误，与签名的记录头一致。" in result.output


# ---- the attacks -----------------------------------------------------------------------------


def test_deleting_the_last_entry_is_named(app, runner):
    write(8)
    last = ids()[-1]
    sql("DELETE FROM audit_entry WHERE id = :id", id=last)

    result = verify(runner)
    assert result.exit_code != 0
    assert (
        f"变更记录末尾被删除：签名的记录头为第{last}条（共8条），现存最后一条为第{last - 1}条（共7条）"
        in result.output
    )
    assert "完整" not in result.output


def test_deleting_the_last_50_entries_is_named(app, runner):
    write(60)
    kept = ids()[:10]
    sql("DELETE FROM audit_entry WHERE id > :id", id=kept[-1])
    assert len(ids()) == 10

    result = verify(runner)
    assert result.exit_code != 0
    assert (
        f"变更记录末尾被删除：签名的记录头为第{kept[-1] + 50}条（共60条），"
        f"现存最后一条为第{kept[-1]}条（共10条）" in result.output
    )


def test_an_edit_with_every_later_hash_recomputed_is_caught_by_the_head(app, runner):
    write(20)
    all_ids = ids()
    target = all_ids[9]
    sql(
        "UPDATE audit_entry SET after = replace(after, '测试组织10', '伪造组织') WHERE id = :id",
        id=target,
    )
    recompute_from(target)
    # The attack is real: the chain alone is whole again.
    assert audit.verify_chain(db.session) is None

    result = verify(runner)
    assert result.exit_code != 0
    assert f"变更记录第{all_ids[-1]}条与签名的记录头不符" in result.output
    assert "重新计算了哈希" in result.output


def test_a_forged_entry_appended_with_a_correct_hash_is_named(app, runner):
    write(8)
    last = ids()[-1]
    forged = append_forged(after='{"party_org_status": "standalone"}')
    assert audit.verify_chain(db.session) is None  # it links

    result = verify(runner)
    assert result.exit_code != 0
    assert (
        f"签名的记录头止于第{last}条（共8条），其后1条记录（第{forged}条）不在签名之内"
        in result.output
    )


def test_deleting_the_head_too_is_named_and_the_app_does_not_make_a_new_one(app, runner):
    write(8)
    last = ids()[-1]
    sql("DELETE FROM audit_entry WHERE id > :id", id=last - 3)
    sql("DELETE FROM audit_head")

    result = verify(runner)
    assert result.exit_code != 0
    assert (
        f"签名的记录头缺失：变更记录有5条（最后一条为第{last - 3}条），记录头被删除"
        in result.output
    )

    # The app goes on working; its next write does not sign the shortened chain as whole.
    write(1, start=100)
    result = verify(runner)
    assert result.exit_code != 0
    assert "签名的记录头缺失：变更记录有6条" in result.output


def test_the_app_writing_after_a_deletion_does_not_hide_it(app, runner):
    write(8)
    last = ids()[-1]
    sql("DELETE FROM audit_entry WHERE id > :id", id=last - 2)
    write(3, start=100)  # the next writes link onto the shortened chain

    result = verify(runner)
    assert result.exit_code != 0
    # (SQLite gives the new entries the deleted ids again, PostgreSQL new ones: the head's
    # entry is then either different or gone.)
    assert f"第{last}条" in result.output and "签名的记录头" in result.output
    assert "完整" not in result.output


def test_the_app_writing_after_a_recompute_does_not_hide_it(app, runner):
    write(10)
    all_ids = ids()
    sql("UPDATE audit_entry SET actor = 'someone' WHERE id = :id", id=all_ids[2])
    recompute_from(all_ids[2])
    write(2, start=100)
    assert audit.verify_chain(db.session) is None

    result = verify(runner)
    assert result.exit_code != 0
    assert f"变更记录第{all_ids[-1]}条与签名的记录头不符" in result.output


def test_a_forged_head_fails_its_signature(app, runner):
    write(8)
    last = ids()[-1]
    sql("DELETE FROM audit_entry WHERE id > :id", id=last - 2)
    # The attacker rewrites the head to describe the shortened chain; he cannot sign it.
    kept = db.session.scalar(select(audit.AuditEntry).where(audit.AuditEntry.id == last - 2))
    sql("UPDATE audit_head SET entries = 6, last_id = :id, last_hash = :h", id=kept.id, h=kept.hash)

    result = verify(runner)
    assert result.exit_code != 0
    assert "记录头的签名无法验证" in result.output


def test_a_replayed_old_head_is_caught_only_by_an_anchor_kept_elsewhere(app, runner, tmp_path):
    """The limit of anything kept in the database: a user who saved the head row at entry 8
    can later delete every entry after 8 and put the old row back. Head and chain then agree,
    so `audit verify` alone cannot tell. A head kept outside the database (printed by
    `audit head`, in a backup's manifest, with a distributed bulletin) can."""
    write(8)
    old = saved_head()
    write(12, start=100)
    printed = runner.invoke(args=["audit", "head"])
    assert printed.exit_code == 0, printed.output
    kept = tmp_path / "head.json"
    kept.write_text(printed.output)
    assert json.loads(printed.output)["entries"] == 20

    last8 = ids()[7]
    sql("DELETE FROM audit_entry WHERE id > :id", id=last8)
    restore_head(old)

    alone = verify(runner)
    assert alone.exit_code == 0, alone.output  # undetectable from inside the database
    assert "变更记录完整：8条" in alone.output

    result = verify(runner, "--anchor", str(kept))
    assert result.exit_code != 0
    assert (
        f"变更记录末尾被删除：文件 head.json 中的记录头为第{last8 + 12}条（共20条），"
        f"现存最后一条为第{last8}条（共8条）" in result.output
    )


def test_everything_deleted_looks_like_a_new_record_but_for_a_head_kept_elsewhere(
    app, runner, tmp_path
):
    write(8)
    kept = tmp_path / "head.json"
    kept.write_text(runner.invoke(args=["audit", "head"]).output)
    last = ids()[-1]
    sql("DELETE FROM audit_entry")
    sql("DELETE FROM audit_head")

    alone = verify(runner)
    assert alone.exit_code == 0, alone.output  # an empty record without a head: a new one
    assert alone.output.strip() == "变更记录完整：0条。"

    result = verify(runner, "--anchor", str(kept))
    assert result.exit_code != 0
    assert (
        f"变更记录末尾被删除：文件 head.json 中的记录头为第{last}条（共8条），现已没有任何记录"
        in result.output
    )


def test_a_replayed_old_head_is_caught_by_a_bulletins_anchor_unless_that_goes_too(app, runner):
    write(8)
    old = saved_head()
    write(4, start=100)
    audit.keep_anchor(db.session, ref="bulletin:1", label="第6期通报")
    db.session.commit()
    anchored = ids()[-1]
    write(4, start=200)

    sql("DELETE FROM audit_entry WHERE id > :id", id=ids()[7])
    restore_head(old)
    result = verify(runner)
    assert result.exit_code != 0
    assert (
        f"变更记录末尾被删除：锚点「第6期通报」为第{anchored}条（共12条），"
        f"现存最后一条为第{ids()[-1]}条（共8条）" in result.output
    )

    # Deleting the anchors too makes the database consistent again: only anchors kept
    # outside it (backups, a printed head) can show the loss then.
    sql("DELETE FROM audit_anchor")
    assert verify(runner).exit_code == 0


def test_an_anchor_moved_to_another_bulletin_fails_its_signature(app, runner):
    write(3)
    audit.keep_anchor(db.session, ref="bulletin:1", label="第6期通报")
    db.session.commit()
    write(3, start=100)
    audit.keep_anchor(db.session, ref="bulletin:2", label="第7期通报")
    db.session.commit()
    first = (
        db.session.execute(
            text(
                "SELECT entries, last_id, last_hash, signature FROM audit_anchor WHERE ref = 'bulletin:1'"
            )
        )
        .mappings()
        .one()
    )
    sql(
        "UPDATE audit_anchor SET entries = :entries, last_id = :last_id, last_hash = :last_hash, "
        "signature = :signature WHERE ref = 'bulletin:2'",
        **first,
    )

    result = verify(runner)
    assert result.exit_code != 0
    assert "锚点「第7期通报」的签名无效" in result.output


def test_verify_checks_a_backup_archives_manifest(app, runner, tmp_path):
    write(8)
    manifest = {"format": 1, "audit_head": audit.signed_head(db.session)}
    archive = tmp_path / "gongjian-2026-11-25.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    result = verify(runner, "--anchor", str(archive))
    assert result.exit_code == 0, result.output
    assert "与签名的记录头及1个锚点一致" in result.output

    last = ids()[-1]
    sql("DELETE FROM audit_entry WHERE id = :id", id=last)
    sql("DELETE FROM audit_head")
    result = verify(runner, "--anchor", str(archive))
    assert result.exit_code != 0
    assert (
        f"变更记录末尾被删除：备份 gongjian-2026-11-25.tar.gz 中的记录头为第{last}条（共8条），"
        f"现存最后一条为第{last - 1}条（共7条）" in result.output
    )

    # What `backup restore` is given to check the restored record against its manifest:
    assert audit.check_anchor(db.session, manifest["audit_head"]) == (
        f"变更记录末尾被删除：备份中的记录头为第{last}条（共8条），"
        f"现存最后一条为第{last - 1}条（共7条）"
    )
    assert "不是变更记录头" in audit.check_anchor(db.session, {"format": 1})

    not_ours = tmp_path / "notes.json"
    not_ours.write_text('{"hello": 1}')
    result = verify(runner, "--anchor", str(not_ours))
    assert result.exit_code != 0
    assert "notes.json 不是记录头" in result.output


# ---- SECRET_KEY changes ----------------------------------------------------------------------


def test_a_changed_secret_key_is_named_as_such_not_as_tampering(app, runner):
    write(8)
    app.config["SECRET_KEY"] = "a-new-key"
    result = verify(runner)
    assert result.exit_code != 0
    assert "记录头的签名无法验证：SECRET_KEY 可能已更换" in result.output
    assert "删除" not in result.output and "改动" not in result.output

    # Writes go on; the head stays as it was signed (it is not re-signed unchecked).
    write(2, start=100)
    result = verify(runner)
    assert "记录头的签名无法验证：SECRET_KEY 可能已更换" in result.output
    assert "不在签名之内" not in result.output


def test_the_old_key_in_the_fallbacks_verifies_and_the_next_write_signs_with_the_new(app, runner):
    write(8)
    app.config.update(SECRET_KEY="a-new-key", SECRET_KEY_FALLBACKS=["test-secret"])
    assert verify(runner).exit_code == 0
    write(1, start=100)
    app.config["SECRET_KEY_FALLBACKS"] = []
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "变更记录完整：9条" in result.output


def test_seal_re_signs_with_a_new_key_and_records_it(app, runner):
    write(8)
    audit.keep_anchor(db.session, ref="bulletin:1", label="第6期通报")
    db.session.commit()
    app.config["SECRET_KEY"] = "a-new-key"
    assert verify(runner).exit_code != 0

    result = runner.invoke(args=["audit", "seal", "--yes"])
    assert result.exit_code == 0, result.output
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "变更记录完整：9条，哈希链接无误，与签名的记录头及1个锚点一致。" in result.output
    sealed = db.session.scalar(
        select(audit.AuditEntry).where(audit.AuditEntry.action == "audit.seal")
    )
    assert json.loads(sealed.before)["entries"] == 8


def test_seal_refuses_a_broken_chain(app, runner):
    write(8)
    sql("UPDATE audit_entry SET actor = 'someone' WHERE id = :id", id=ids()[3])
    result = runner.invoke(args=["audit", "seal", "--yes"])
    assert result.exit_code != 0
    assert f"变更记录第{ids()[3]}条：记录内容与哈希不符" in result.output
    assert db.session.scalar(select(func.count()).select_from(audit.AuditEntry)) == 8


# ---- a bulletin keeps an anchor --------------------------------------------------------------


def test_a_published_bulletin_keeps_an_anchor_at_its_own_entry(app, runner):
    with at(2026, 11, 6, 10, 0):
        built = make_two_districts()
        db.session.commit()
    settings = bulletins.settings_from(app.config)
    with at(2026, 11, 12, 9, 0):
        bulletin = bulletins.generate(
            db.session,
            built.campaign,
            date(2026, 11, 10),
            settings,
            "cli",
            moment=shanghai(2026, 11, 12, 9, 0),
        )
    published = db.session.scalar(
        select(audit.AuditEntry).where(audit.AuditEntry.action == "bulletin.publish")
    )
    anchor = db.session.scalar(select(audit.AuditAnchor))
    assert (anchor.ref, anchor.label) == (
        f"bulletin:{bulletin.id}",
        f"2026年第{bulletin.number}期通报",
    )
    assert (anchor.last_id, anchor.entries) == (published.id, len(ids()))
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "与签名的记录头及1个锚点一致" in result.output


def test_old_keys_are_read_from_the_environment(monkeypatch, tmp_path):
    from app import create_app

    monkeypatch.setenv("SECRET_KEY", "new-key")
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "older-key, old-key ,")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["SECRET_KEY"] == "new-key"
    assert app.config["SECRET_KEY_FALLBACKS"] == ["older-key", "old-key"]
