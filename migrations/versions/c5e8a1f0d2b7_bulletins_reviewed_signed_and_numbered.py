"""Bulletins reviewed and signed (签发) before they are published, numbered by 发文字号

Revision ID: c5e8a1f0d2b7
Revises: 241792fd1ae3
Create Date: 2026-12-06 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c5e8a1f0d2b7"
down_revision = "ad744445a744"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(
            sa.Column("bulletin_review", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("bulletin_sign_hours", sa.Integer(), nullable=False, server_default="16")
        )
        batch.add_column(
            sa.Column(
                "document_prefix", sa.String(length=20), nullable=False, server_default="武组专"
            )
        )
    with op.batch_alter_table("bulletin") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="published")
        )
        batch.add_column(sa.Column("document_seq", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("document_number", sa.String(length=60), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("signed_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_bulletin_signed_by_id_user", "user", ["signed_by_id"], ["id"])
        batch.create_unique_constraint("bulletin_document_seq", ["campaign_id", "document_seq"])


def downgrade():
    with op.batch_alter_table("bulletin") as batch:
        batch.drop_constraint("bulletin_document_seq", type_="unique")
        batch.drop_constraint("fk_bulletin_signed_by_id_user", type_="foreignkey")
        batch.drop_column("signed_by_id")
        batch.drop_column("signed_at")
        batch.drop_column("document_number")
        batch.drop_column("document_seq")
        batch.drop_column("status")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("document_prefix")
        batch.drop_column("bulletin_sign_hours")
        batch.drop_column("bulletin_review")
