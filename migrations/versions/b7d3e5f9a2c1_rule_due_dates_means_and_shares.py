"""rule sets' due dates (issue 16): the campaign's dates its rules name

Seed 000's two dated milestones ("X月X日前") are campaign settings a rule may name as its due
date: 单独组建完成日期 and 应建尽建完成日期 (NULL: the build deadline).

Revision ID: b7d3e5f9a2c1
Revises: b5d2e8a41c73
Create Date: 2026-12-06 16:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7d3e5f9a2c1"
down_revision = "b5d2e8a41c73"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.add_column(sa.Column("standalone_due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("required_due_on", sa.Date(), nullable=True))
    with op.batch_alter_table("organization") as batch_op:
        batch_op.add_column(
            sa.Column("coverage_means", sa.String(length=12), server_default="any", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("organization") as batch_op:
        batch_op.drop_column("coverage_means")
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.drop_column("required_due_on")
        batch_op.drop_column("standalone_due_on")
