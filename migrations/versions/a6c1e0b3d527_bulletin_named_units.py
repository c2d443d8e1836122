"""A campaign setting: how many units below target a bulletin names (点名)

Revision ID: a6c1e0b3d527
Revises: e6b2c4d8f1a3
Create Date: 2026-12-06 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a6c1e0b3d527"
down_revision = "e6b2c4d8f1a3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(
            sa.Column("bulletin_named_units", sa.Integer(), nullable=False, server_default="3")
        )


def downgrade():
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("bulletin_named_units")
