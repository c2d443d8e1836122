"""a campaign's rule set as data (issue 16)

Which organizations each rule covers and what they must reach is the campaign's own rule
set (campaign/rulesets.py): a JSON document on the campaign, chosen from a preset named by
its seed plan when the campaign is created and changed through a recorded act. Existing
campaigns keep NULL, read as the ``seed-004`` preset, which is exactly the rules they were
judged by; their stored verdicts stay valid.

Revision ID: b7e3d1f0a9c4
Revises: a7f3c91e5d42
Create Date: 2026-12-06 13:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b7e3d1f0a9c4"
down_revision = "a7f3c91e5d42"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_set", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("rule_set")
