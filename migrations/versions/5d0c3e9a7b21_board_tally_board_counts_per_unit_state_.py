"""board tally: board_counts per unit, state and planned date

Board items counted per (campaign, unit, state, planned date), so the wall chart's items per
unit and state, and the overdue ones, are sums over a small table. An item without a planned
date is kept under 9999-12-31 (board.models.NO_PLANNED_DATE): a primary key column cannot be
NULL, and that date is before no day, so it is never overdue. Filled from the items as they
stand, in SQL (a data migration must not depend on code that will change after it).

Revision ID: 5d0c3e9a7b21
Revises: c233cb4f8612
Create Date: 2026-11-22 10:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d0c3e9a7b21'
down_revision = 'c233cb4f8612'
branch_labels = None
depends_on = None


PLANNED_KEY = "COALESCE(planned_on, '9999-12-31')"
FILL = f"""
INSERT INTO board_counts (campaign_id, unit_id, state, planned_key, items)
SELECT campaign_id, unit_id, state, {PLANNED_KEY}, COUNT(*)
FROM board_item
GROUP BY campaign_id, unit_id, state, {PLANNED_KEY}
"""


def upgrade():
    op.create_table('board_counts',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('planned_key', sa.Date(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_board_counts_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_board_counts_unit_id_unit')),
    sa.PrimaryKeyConstraint('campaign_id', 'unit_id', 'state', 'planned_key', name=op.f('pk_board_counts'))
    )
    op.execute(FILL)


def downgrade():
    op.drop_table('board_counts')
