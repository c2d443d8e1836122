"""`flask --app app backup create|restore`: the database and STORAGE_PATH in one archive.

SQLite is copied with its online backup API (consistent while the app runs); PostgreSQL is
dumped with pg_dump's custom format, in one snapshot with the row counts it records. Uploaded
files and bulletins (STORAGE_PATH) go in the same archive, so a restore brings back a whole
instance. The manifest (last member) lists every table's row count and every file's size
and SHA-256.

A restore checks the whole archive before it touches anything: the gzip stream to its CRC,
every tar member (regular files under known names only), every file against the manifest,
then the database itself (SQLite: integrity_check, the tables, counts and migration revision
of the extracted copy; PostgreSQL: ``pg_restore --list`` and a full read of the dump). Only
then is the database replaced, in one transaction that checks the counts again before it
commits (SQLite's backup API writes the verified copy in one transaction; PostgreSQL runs
the dump in one psql transaction, ending in a check that raises unless every count and the
revision match), and only after that are the stored files swapped in, by renames, from a
staging folder inside STORAGE_PATH. Any failure before the swap leaves the live database and
the files exactly as they were.
"""

import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path, PurePosixPath

import click
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine, inspect, orm, text
from sqlalchemy.engine import Connection, make_url

from campaign import audit
from campaign.core.clock import now
from campaign.core.extensions import db

backup_cli = AppGroup("backup", help="备份与恢复：数据库和上传文件、通报。")
FORMAT = 2
MANIFEST = "manifest.json"
DATABASE = {"sqlite": "database.sqlite", "postgresql": "database.dump"}
STAGING = ".restore-"  # a restore's staging folder inside STORAGE_PATH (never backed up)
SQLITE_HEADER = b"SQLite format 3\x00"
_TABLE = re.compile(r"^[a-z_][a-z0-9_]*$")
_CHUNK = 1 << 20


class Refused(click.ClickException):
    """The archive is not restored; nothing live was touched."""

    def __init__(self, problem: str):
        super().__init__(f"{problem}。未作任何恢复，当前数据库和上传文件保持原样。")


def _dialect() -> str:
    return db.engine.dialect.name


def _libpq_url() -> str:
    """The database URL as pg_dump/pg_restore/psql understand it (no SQLAlchemy driver)."""
    return (
        make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def _sqlite_path() -> Path:
    database = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not database:
        raise click.ClickException("数据库是内存中的 SQLite，没有可备份的文件")
    return Path(database)


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _counts(conn: Connection) -> dict[str, int]:
    return {
        t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
        for t in sorted(inspect(conn).get_table_names())
    }


def _live_counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return _counts(conn)


def _stored_files(storage: Path) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of every stored file, in a stable order; a restore's leftovers
    and other dot-names (never the app's own files) are skipped."""
    if not storage.is_dir():
        return
    for path in sorted(storage.rglob("*")):
        relative = path.relative_to(storage)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        yield f"storage/{relative.as_posix()}", path


def _add(tar: tarfile.TarFile, name: str, path: Path) -> dict:
    """Add ``path`` as ``name``, read once: the manifest's hash is of the bytes archived."""
    with open(path, "rb") as source:
        size = os.fstat(source.fileno()).st_size
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(datetime.now().timestamp()), 0o644
        digest = hashlib.sha256()

        class Hashing:
            def read(self, n: int = -1) -> bytes:
                chunk = source.read(n)
                digest.update(chunk)
                return chunk

        tar.addfile(info, Hashing())
    return {"sha256": digest.hexdigest(), "size": size}


def _dump(target: Path) -> tuple[str | None, dict[str, int], dict | None]:
    """Copy the database to ``target``; returns its revision, counts and the change record's
    signed head, as of the copy (so the head names the last entry the copy holds)."""
    if _dialect() == "sqlite":
        source = sqlite3.connect(_sqlite_path())
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            source.close()
            copy.close()
        engine = create_engine(f"sqlite:///{target}")
        try:
            with engine.connect() as conn:
                return _revision(conn), _counts(conn), _head(conn)
        finally:
            engine.dispose()
    if _dialect() == "postgresql":
        # pg_dump reads the snapshot this transaction counted in: counts and dump agree
        # even while the app writes.
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
                revision, counts, head = _revision(conn), _counts(conn), _head(conn)
                subprocess.run(
                    [
                        "pg_dump",
                        "--format=custom",
                        "--no-owner",
                        f"--snapshot={snapshot}",
                        f"--file={target}",
                        _libpq_url(),
                    ],
                    check=True,
                    capture_output=True,
                )
        return revision, counts, head
    raise click.ClickException(f"不支持的数据库：{_dialect()}")


def _head(conn: Connection) -> dict | None:
    """The change record's signed head as ``conn`` sees it (None before the head existed)."""
    if not inspect(conn).has_table("audit_head"):
        return None
    with orm.Session(bind=conn) as session:
        return audit.signed_head(session)


def create(out: Path) -> dict:
    """Write the archive; returns its manifest."""
    storage = Path(current_app.config["STORAGE_PATH"])
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / DATABASE.get(_dialect(), "database")
        revision, counts, head = _dump(dump)
        partial = out.with_name(out.name + ".part")
        files = {}
        with tarfile.open(partial, "w:gz") as tar:
            files[dump.name] = _add(tar, dump.name, dump)
            for name, path in _stored_files(storage):
                files[name] = _add(tar, name, path)
            manifest = {
                "format": FORMAT,
                "created_at": now().isoformat(),
                "database": _dialect(),
                "revision": revision,
                "tables": counts,
                "files": files,
                # Checked by `audit verify --anchor` and after a restore: the record's end is
                # kept outside the database it describes.
                "audit_head": head,
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(datetime.now().timestamp()), 0o644
            tar.addfile(info, _Bytes(data))
        os.replace(partial, out)  # never a half-written archive under the real name
    return manifest


class _Bytes:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n < 0 else self.at + n
        chunk, self.at = self.data[self.at : end], min(end, len(self.data))
        return chunk


# ---- restore: check everything, then swap -----------------------------------------------


def _member_name(member: tarfile.TarInfo, archive: Path) -> str:
    """The member's name if it is one a backup holds, as a relative POSIX path; refused otherwise."""
    name = member.name
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise Refused(f"备份文件中有不安全的路径「{name}」（绝对路径或含 ..）")
    clean = path.as_posix()
    if clean not in (MANIFEST, *DATABASE.values()) and path.parts[0] != "storage":
        raise Refused(f"{archive.name} 不是攻坚备份文件（其中有不属于备份的「{name}」）")
    if not (member.isfile() or member.isdir()):
        raise Refused(f"备份文件中的「{name}」是链接或特殊文件，不予恢复")
    return clean


def _unpack(archive: Path, into: Path) -> None:
    """Extract every member into ``into``, reading the gzip stream to its end (its CRC and
    length are checked there, after the last member)."""
    try:
        with gzip.open(archive, "rb") as stream:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    name = _member_name(member, archive)
                    target = into / name
                    if member.isdir():
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    assert source is not None  # a regular file: links and the like were refused
                    try:
                        with open(target, "xb") as out:
                            shutil.copyfileobj(source, out, _CHUNK)
                    except FileExistsError:
                        raise Refused(f"备份文件中「{name}」出现了两次") from None
            while stream.read(_CHUNK):
                pass
    except gzip.BadGzipFile as e:
        raise Refused(f"备份文件已损坏（gzip：{_gzip_problem(e)}）") from e
    except (EOFError, zlib.error) as e:
        raise Refused(f"备份文件已损坏（gzip 数据不完整或无法解压：{e}）") from e
    except tarfile.TarError as e:
        raise Refused(f"备份文件已损坏（tar：{e}）") from e


def _gzip_problem(error: Exception) -> str:
    text_ = str(error)
    if "CRC" in text_:
        return "CRC 校验失败，解压出的内容与压缩时不同"
    if "length" in text_.lower():
        return "长度校验失败，内容不完整"
    if "Not a gzipped file" in text_:
        return "不是 gzip 压缩文件"
    return text_


def _read_manifest(root: Path, archive: Path) -> dict:
    path = root / MANIFEST
    if not path.is_file():
        raise Refused(f"{archive.name} 不是攻坚备份文件（没有 manifest.json）")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise Refused(f"备份清单 manifest.json 无法解析（{e}）") from e
    fmt = manifest.get("format") if isinstance(manifest, dict) else None
    if fmt == 1:
        raise Refused(
            "备份格式 1 是旧格式（清单中没有每个文件的 SHA-256，无法在恢复前校验），"
            "本版本不再恢复；请用生成它的版本恢复，再用本版本重新执行 backup create"
        )
    if fmt != FORMAT:
        raise Refused(f"备份格式 {fmt} 不受支持（本程序读写格式 {FORMAT}）")
    tables, files = manifest.get("tables"), manifest.get("files")
    if not isinstance(tables, dict) or not isinstance(files, dict):
        raise Refused("备份清单 manifest.json 不完整（缺少 tables 或 files）")
    for table, count in tables.items():
        if not _TABLE.match(table) or not isinstance(count, int) or count < 0:
            raise Refused(f"备份清单中的表「{table}」或其行数「{count}」无效")
    for name, entry in files.items():
        if not isinstance(entry, dict) or not {"sha256", "size"} <= entry.keys():
            raise Refused(f"备份清单中「{name}」的记录不完整")
    if manifest.get("database") != _dialect():
        raise Refused(
            f"备份来自 {manifest.get('database')}，当前数据库是 {_dialect()}：不能跨数据库恢复"
        )
    return manifest


def _check_files(root: Path, manifest: dict) -> None:
    """Every listed file present with its size and SHA-256; nothing unlisted."""
    listed = manifest["files"]
    database = DATABASE[_dialect()]
    if database not in listed:
        raise Refused(f"备份清单中没有数据库文件 {database}")
    present = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).as_posix() != MANIFEST
    }
    missing = sorted(set(listed) - present)
    if missing:
        more = f"等 {len(missing)} 个文件" if len(missing) > 3 else ""
        raise Refused(f"备份不完整：清单列出的 {'、'.join(missing[:3])}{more}不在备份中")
    extra = sorted(present - set(listed))
    if extra:
        raise Refused(f"备份中有清单未列出的文件：{'、'.join(extra[:3])}")
    for name, entry in listed.items():
        path = root / name
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        if path.stat().st_size != entry["size"] or digest.hexdigest() != entry["sha256"]:
            raise Refused(f"备份文件已损坏：{name} 的 SHA-256 与清单不符")


def _check_revision(revision: str | None, manifest: dict) -> None:
    if revision != manifest.get("revision"):
        raise Refused(
            f"备份清单记录的数据库版本 {manifest.get('revision')} 与其中的数据库（{revision}）不符"
        )
    if revision is None:
        return
    scripts = ScriptDirectory(current_app.extensions["migrate"].directory)
    try:
        scripts.get_revision(revision)
    except CommandError:
        raise Refused(
            f"备份的数据库版本 {revision} 是本程序不认识的迁移版本（备份来自更新的程序？），"
            "请用相应版本的程序恢复"
        ) from None


def _check_counts(found: dict[str, int], manifest: dict) -> None:
    for table, count in sorted(manifest["tables"].items()):
        if table not in found:
            raise Refused(f"备份中的数据库缺少表 {table}（清单记 {count} 行）")
        if found[table] != count:
            raise Refused(
                f"备份清单与其中的数据库不符：{table} 表清单记 {count} 行，数据库中 {found[table]} 行"
            )
    extra = sorted(set(found) - set(manifest["tables"]))
    if extra:
        raise Refused(f"备份中的数据库有清单未列出的表：{'、'.join(extra)}")


def _check_sqlite(path: Path, manifest: dict) -> None:
    """The extracted copy: a SQLite file, sound, with the manifest's tables, counts, revision."""
    with open(path, "rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise Refused(f"备份中的 {path.name} 不是 SQLite 数据库文件")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise Refused(
                    "备份中的数据库已损坏（SQLite 完整性检查："
                    + "；".join(problems[:3])
                    + ("……" if len(problems) > 3 else "")
                    + "）"
                )
            tables = [
                name
                for (name,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            ]
            found = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
            revision = (
                conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
                if "alembic_version" in tables
                else None
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise Refused(f"备份中的数据库已损坏（SQLite：{e}）") from e
    _check_counts(found, manifest)
    _check_revision(revision, manifest)


def _replace_sqlite(verified: Path) -> None:
    """Write the verified copy over the live database with the backup API: one step, one
    transaction on the target, so it is the old database or the new one, never half."""
    db.session.remove()
    db.engine.dispose()
    source = sqlite3.connect(f"{verified.as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(_sqlite_path(), timeout=60)
    try:
        source.backup(target)
    except sqlite3.Error as e:
        raise Refused(f"写入数据库失败（{e}），SQLite 已撤销这次写入") from e
    finally:
        source.close()
        target.close()


def _pg(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PGCLIENTENCODING": "UTF8"}
    return subprocess.run(args, capture_output=True, text=True, env=env, **kwargs)


def _first_error(result: subprocess.CompletedProcess) -> str:
    """What went wrong, in one line: our own check's message, else the tool's first error."""
    if result.returncode < 0:  # pg_restore can crash on a damaged table of contents
        return f"进程异常终止（信号 {-result.returncode}），文件结构已损坏"
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    marked = [line for line in lines if "gongjian:" in line]
    if marked:
        return marked[0].split("gongjian:", 1)[1].strip()
    errors = [line for line in lines if "error" in line.lower() or "错误" in line]
    return (errors or lines or ["（无输出）"])[0]


def _check_dump(path: Path, sql: Path) -> None:
    """The dump's table of contents reads (pg_restore --list), and so does every byte of it
    (pg_restore writes the whole restore script out)."""
    listed = _pg(["pg_restore", "--list", str(path)])
    if listed.returncode != 0:
        raise Refused(f"备份中的数据库转储已损坏（pg_restore --list：{_first_error(listed)}）")
    script = _pg(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            f"--file={sql}",
            str(path),
        ]
    )
    if script.returncode != 0:
        raise Refused(f"备份中的数据库转储已损坏（pg_restore：{_first_error(script)}）")


def _restore_postgresql(sql: Path, manifest: dict, work: Path) -> None:
    """Run the restore script in one transaction that ends by checking every count and the
    revision: any error, or a check that fails, rolls the whole of it back."""
    tables = sorted(manifest["tables"])
    before = work / "before.sql"
    keep = ", ".join(f"'{t}'" for t in tables) or "''"
    before.write_text(
        # Waiting for the running app's locks has a limit; tables the backup does not have
        # (a later migration's) go too, so the database is the backup's, whole.
        "SET lock_timeout = '60s';\n"
        "DO $$ DECLARE t text; BEGIN\n"
        "  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'\n"
        f"    AND tablename NOT IN ({keep}) LOOP\n"
        "    EXECUTE format('DROP TABLE public.%I CASCADE', t);\n"
        "  END LOOP;\nEND $$;\n",
        encoding="utf-8",
    )
    checks = ["DO $check$ DECLARE n bigint; BEGIN"]
    for table in tables:
        count = manifest["tables"][table]
        checks.append(
            f"  IF to_regclass('public.{table}') IS NULL THEN RAISE EXCEPTION "
            f"'gongjian: 备份中的数据库缺少表 {table}（清单记 {count} 行）'; END IF;\n"
            f"  EXECUTE 'SELECT count(*) FROM public.\"{table}\"' INTO n;\n"
            f"  IF n <> {count} THEN RAISE EXCEPTION "
            f"'gongjian: 备份清单与其中的数据库不符：{table} 表清单记 {count} 行，数据库中 % 行', n;"
            " END IF;"
        )
    revision = manifest.get("revision")
    if revision is not None and "alembic_version" in tables:
        checks.append(
            "  IF (SELECT version_num FROM public.alembic_version) IS DISTINCT FROM "
            f"'{revision}' THEN RAISE EXCEPTION "
            f"'gongjian: 备份清单记录的数据库版本 {revision} 与其中的数据库不符'; END IF;"
        )
    checks.append("END $check$;")
    check = work / "check.sql"
    check.write_text("\n".join(checks) + "\n", encoding="utf-8")
    db.session.remove()
    db.engine.dispose()  # none of our own connections holds a lock the restore waits for
    result = _pg(
        [
            "psql",
            "--no-psqlrc",
            "--quiet",
            "--set=ON_ERROR_STOP=1",
            "--single-transaction",
            f"--dbname={_libpq_url()}",
            f"--file={before}",
            f"--file={sql}",
            f"--file={check}",
        ]
    )
    if result.returncode != 0:
        problem = _first_error(result)
        if "lock timeout" in problem or "锁" in problem:
            problem += "；请先停止 Web 服务和定时任务再恢复"
        raise Refused(f"恢复数据库时出错，已整体撤销（{problem}）")


class _StorageSwap:
    """The archive's files put in place of the stored ones by renames inside STORAGE_PATH (one
    file system): the old files moved aside first. ``undo`` puts everything back, ``done``
    drops the old files; a failed rename undoes what was moved."""

    def __init__(self, new: Path, storage: Path):
        self.new, self.storage = new, storage
        self.aside = Path(tempfile.mkdtemp(prefix=STAGING + "old-", dir=storage))
        self.moved_out: list[Path] = []
        self.moved_in: list[Path] = []
        try:
            for entry in sorted(storage.iterdir()):
                if entry.name.startswith("."):
                    continue
                entry.rename(self.aside / entry.name)
                self.moved_out.append(entry)
            if new.is_dir():
                for entry in sorted(new.iterdir()):
                    entry.rename(storage / entry.name)
                    self.moved_in.append(storage / entry.name)
        except OSError as e:
            self.undo()
            raise Refused(
                f"上传文件未能替换（{e}），数据库和原有文件都未改动；请检查 {storage} 的权限后重试"
            ) from e

    def undo(self) -> None:
        for entry in self.moved_in:
            entry.rename(self.new / entry.name)
        for entry in self.moved_out:
            (self.aside / entry.name).rename(entry)
        shutil.rmtree(self.aside, ignore_errors=True)

    def done(self) -> None:
        shutil.rmtree(self.aside, ignore_errors=True)


# Tables a freshly migrated, empty instance already has rows in: not data a restore overwrites.
_BOOKKEEPING = {"alembic_version", "audit_head", "rate_limit_counter"}


def restore(archive: Path, force: bool = False) -> dict:
    """Put the archive's database and files back, after checking all of it; refused on a
    non-empty database unless forced."""
    storage = Path(current_app.config["STORAGE_PATH"])
    storage.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=storage))
    try:
        _unpack(archive, staging)
        manifest = _read_manifest(staging, archive)
        existing = {t: n for t, n in _live_counts().items() if n and t not in _BOOKKEEPING}
        if existing and not force:
            raise click.ClickException(
                f"当前数据库已有数据（{len(existing)} 张表非空），恢复会覆盖它们；确认请加 --force"
            )
        _check_files(staging, manifest)
        database = staging / DATABASE[_dialect()]
        if database.stat().st_size == 0:
            raise Refused(f"备份中的数据库文件 {database.name} 是空的（0 字节）")
        sql = staging / "restore.sql"
        if _dialect() == "sqlite":
            _check_sqlite(database, manifest)
        else:
            _check_dump(database, sql)
        # The files first, by renames that can be undone; then the database, in one
        # transaction; if that fails, the old files go back: all of the archive or none of it.
        files = _StorageSwap(staging / "storage", storage)
        try:
            if _dialect() == "sqlite":
                _replace_sqlite(database)
            else:
                _restore_postgresql(sql, manifest, staging)
        except BaseException:
            files.undo()
            raise
        files.done()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


@backup_cli.command("create")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="备份文件（.tar.gz）",
)
def create_command(out: Path) -> None:
    """Back up the database and STORAGE_PATH into one archive."""
    try:
        manifest = create(out)
    except subprocess.CalledProcessError as e:
        raise click.ClickException(f"pg_dump 失败：{e.stderr.decode(errors='replace')}") from e
    rows = sum(manifest["tables"].values())
    click.echo(
        f"已备份到 {out}（{manifest['database']}，{len(manifest['tables'])} 张表，{rows} 行，"
        f"{len(manifest['files']) - 1} 个文件）"
    )


@backup_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="覆盖已有数据")
def restore_command(archive: Path, force: bool) -> None:
    """Restore a backup made by `backup create` into the configured database."""
    manifest = restore(archive, force)
    counts = _live_counts()
    wrong = {t: (n, counts.get(t)) for t, n in manifest["tables"].items() if counts.get(t) != n}
    if wrong:
        raise click.ClickException(f"恢复后行数与备份不符：{wrong}")
    click.echo(
        f"已从 {archive} 恢复（备份于 {manifest['created_at'][:16]}）：备份校验通过，"
        f"各表行数与备份一致，{len(manifest['files']) - 1} 个上传文件已就位"
    )
    if manifest.get("audit_head"):
        problem = audit.check_anchor(
            db.session, manifest["audit_head"], f"备份 {archive.name} 中的记录头"
        )
        click.echo(f"变更记录核对：{problem}" if problem else "变更记录与备份中签名的记录头一致")
