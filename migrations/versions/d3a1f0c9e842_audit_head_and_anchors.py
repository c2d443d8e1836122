"""audit head and anchors: the change record's end, signed

audit_head holds the chain's end (entries, last id, last hash) with an HMAC whose key is
derived from SECRET_KEY; every write moves it on in its own transaction. audit_anchor keeps
signed copies of it with each bulletin. The upgrade signs the head of the chain as it stands,
with the SECRET_KEY of the app running the upgrade (`flask db upgrade` runs inside it): what
the chain was before this release is taken as the start, and `audit verify` checks from there.
The formula is written out here, not imported, so this step stays what it was when the code
changes (campaign/audit.py keeps verifying format 1).

Revision ID: d3a1f0c9e842
Revises: 7b0e4de458c3
Create Date: 2026-12-06 11:40:00.000000

"""
import hashlib
import hmac

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = 'd3a1f0c9e842'
down_revision = '7b0e4de458c3'
branch_labels = None
depends_on = None


def _signature(entries: int, last_id: int, last_hash: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    key = hmac.new(secret, b"gongjian audit head signing key", hashlib.sha256).digest()
    message = f"gongjian-audit-head/1|head|{entries}|{last_id}|{last_hash}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def upgrade():
    op.create_table('audit_anchor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=80), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchor')),
    sa.UniqueConstraint('ref', name=op.f('uq_audit_anchor_ref'))
    )
    head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_head_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    conn = op.get_bind()
    entries, last_id = conn.execute(sa.text("SELECT count(*), max(id) FROM audit_entry")).one()
    last_id = last_id or 0
    last_hash = (
        conn.execute(
            sa.text("SELECT hash FROM audit_entry WHERE id = :id"), {"id": last_id}
        ).scalar()
        if last_id
        else ""
    )
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "entries": entries,
                "last_id": last_id,
                "last_hash": last_hash,
                "signature": _signature(entries, last_id, last_hash),
            }
        ],
    )


def downgrade():
    op.drop_table('audit_head')
    op.drop_table('audit_anchor')
