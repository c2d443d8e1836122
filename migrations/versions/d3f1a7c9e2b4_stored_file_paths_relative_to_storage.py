"""stored file paths relative to STORAGE_PATH

Closure documents, task deliveries, report attachments and bulletins kept the absolute
path of their file, so a database restored on another machine (another STORAGE_PATH)
pointed at files that are not there. Rows now keep the path relative to the storage root
(campaign.storage.resolve finds it). Paths under the configured STORAGE_PATH are rewritten;
any outside it are left as they are and still resolve as before. No schema change.

Revision ID: d3f1a7c9e2b4
Revises: d3a1f0c9e842
Create Date: 2026-12-06 10:00:00.000000

"""
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app


# revision identifiers, used by Alembic.
revision = 'd3f1a7c9e2b4'
down_revision = 'd3a1f0c9e842'
branch_labels = None
depends_on = None

COLUMNS = [
    ('closure', 'document_path'),
    ('task_submission', 'file_path'),
    ('unit_report', 'attachment_path'),
    ('bulletin', 'pdf_path'),
    ('bulletin', 'xlsx_path'),
]


def _roots() -> list[Path]:
    """The storage root as configured and as the file system names it (through symlinks)."""
    root = Path(current_app.config['STORAGE_PATH'])
    return list(dict.fromkeys([Path(os.path.abspath(root)), root.resolve()]))


def _relative(path: str, roots: list[Path]) -> str | None:
    stored = Path(os.path.normpath(path))
    for root in roots:
        if stored.is_relative_to(root) and stored != root:
            return stored.relative_to(root).as_posix()
    return None


def upgrade():
    roots = _roots()
    bind = op.get_bind()
    for table, column in COLUMNS:
        rows = bind.execute(
            sa.text(f"SELECT id, {column} FROM {table} WHERE {column} LIKE '/%'")
        ).all()
        changed = [
            {'id': row_id, 'path': relative}
            for row_id, path in rows
            if (relative := _relative(path, roots)) is not None
        ]
        if changed:
            bind.execute(sa.text(f"UPDATE {table} SET {column} = :path WHERE id = :id"), changed)


def downgrade():
    root = Path(os.path.abspath(current_app.config['STORAGE_PATH']))
    bind = op.get_bind()
    for table, column in COLUMNS:
        rows = bind.execute(
            sa.text(f"SELECT id, {column} FROM {table} WHERE {column} <> '' AND {column} NOT LIKE '/%'")
        ).all()
        changed = [{'id': row_id, 'path': str(root.joinpath(*path.split('/')))} for row_id, path in rows]
        if changed:
            bind.execute(sa.text(f"UPDATE {table} SET {column} = :path WHERE id = :id"), changed)
