"""`flask --app app backup create|restore`: the database and STORAGE_PATH in one archive.

SQLite is copied with its online backup API (consistent while the app runs); PostgreSQL is
dumped with pg_dump's custom format and restored with pg_restore. Uploaded files and
bulletins (STORAGE_PATH) go in the same archive, so a restore brings back a whole instance.
"""

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from campaign.clock import now
from campaign.extensions import db

backup_cli = AppGroup("backup", help="备份与恢复：数据库和上传文件、通报。")
FORMAT = 1


def _dialect() -> str:
    return db.engine.dialect.name


def _libpq_url() -> str:
    """The database URL as pg_dump/pg_restore understand it (no SQLAlchemy driver suffix)."""
    return (
        make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def _sqlite_path() -> Path:
    return Path(make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database)


def _revision() -> str | None:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar()
            for t in sorted(inspect(conn).get_table_names())
        }


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), int(datetime.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


def create(out: Path) -> dict:
    """Write the archive; returns its manifest."""
    storage = Path(current_app.config["STORAGE_PATH"])
    manifest = {
        "format": FORMAT,
        "created_at": now().isoformat(),
        "database": _dialect(),
        "revision": _revision(),
        "tables": _counts(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "database"
        if _dialect() == "sqlite":
            source = sqlite3.connect(_sqlite_path())
            target = sqlite3.connect(dump)
            with target:
                source.backup(target)
            source.close()
            target.close()
        elif _dialect() == "postgresql":
            subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", _libpq_url()],
                check=True,
                capture_output=True,
            )
        else:
            raise click.ClickException(f"不支持的数据库：{_dialect()}")
        partial = out.with_name(out.name + ".part")
        with tarfile.open(partial, "w:gz") as tar:
            _add_bytes(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False).encode())
            tar.add(dump, arcname=f"database.{'sqlite' if _dialect() == 'sqlite' else 'dump'}")
            if storage.is_dir():
                tar.add(storage, arcname="storage")
        os.replace(partial, out)  # never a half-written archive under the real name
    return manifest


def restore(archive: Path, force: bool = False) -> dict:
    """Put the archive's database and files back; refused on a non-empty database unless forced."""
    with tarfile.open(archive, "r:gz") as tar:
        try:
            manifest = json.loads(tar.extractfile("manifest.json").read())
        except KeyError as e:
            raise click.ClickException(f"{archive} 不是攻坚备份文件（没有 manifest.json）") from e
        if manifest.get("format") != FORMAT:
            raise click.ClickException(f"备份格式 {manifest.get('format')} 不受支持")
        if manifest["database"] != _dialect():
            raise click.ClickException(
                f"备份来自 {manifest['database']}，当前数据库是 {_dialect()}：不能跨数据库恢复"
            )
        existing = {t: n for t, n in _counts().items() if n and t != "alembic_version"}
        if existing and not force:
            raise click.ClickException(
                f"当前数据库已有数据（{len(existing)} 张表非空），恢复会覆盖它们；确认请加 --force"
            )
        with tempfile.TemporaryDirectory() as tmp:
            tar.extractall(tmp, filter="data")
            root = Path(tmp)
            if _dialect() == "sqlite":
                db.engine.dispose()
                target = _sqlite_path()
                source = sqlite3.connect(root / "database.sqlite")
                dest = sqlite3.connect(target)
                with dest:
                    source.backup(dest)
                source.close()
                dest.close()
            else:
                db.engine.dispose()
                subprocess.run(
                    [
                        "pg_restore",
                        "--clean",
                        "--if-exists",
                        "--no-owner",
                        "--single-transaction",
                        f"--dbname={_libpq_url()}",
                        str(root / "database.dump"),
                    ],
                    check=True,
                    capture_output=True,
                )
            if (root / "storage").is_dir():
                storage = Path(current_app.config["STORAGE_PATH"])
                storage.mkdir(parents=True, exist_ok=True)
                shutil.copytree(root / "storage", storage, dirs_exist_ok=True)
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
        f"已备份到 {out}（{manifest['database']}，{len(manifest['tables'])} 张表，{rows} 行）"
    )


@backup_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="覆盖已有数据")
def restore_command(archive: Path, force: bool) -> None:
    """Restore a backup made by `backup create` into the configured database."""
    try:
        manifest = restore(archive, force)
    except subprocess.CalledProcessError as e:
        raise click.ClickException(f"pg_restore 失败：{e.stderr.decode(errors='replace')}") from e
    counts = _counts()
    wrong = {t: (n, counts.get(t)) for t, n in manifest["tables"].items() if counts.get(t) != n}
    if wrong:
        raise click.ClickException(f"恢复后行数与备份不符：{wrong}")
    click.echo(f"已从 {archive} 恢复（备份于 {manifest['created_at'][:16]}），各表行数与备份一致")
