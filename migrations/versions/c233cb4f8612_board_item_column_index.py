"""board items indexed in board-column order

ix_board_item_column (campaign_id, unit_id, state, planned_on, id) serves a column's page in
its order (planned date, NULLs last, then id) and the per-unit and per-column counts from the
index alone. It starts with the columns of ix_board_item_unit_state, which it replaces.

Revision ID: c233cb4f8612
Revises: 60a2fef0b33b
Create Date: 2026-11-22 08:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c233cb4f8612'
down_revision = '60a2fef0b33b'
branch_labels = None
depends_on = None


def upgrade():
    # Created before the old one is dropped: the board is never without an index.
    op.create_index(
        'ix_board_item_column',
        'board_item',
        ['campaign_id', 'unit_id', 'state', 'planned_on', 'id'],
        unique=False,
    )
    op.drop_index('ix_board_item_unit_state', table_name='board_item')


def downgrade():
    op.create_index(
        'ix_board_item_unit_state', 'board_item', ['campaign_id', 'unit_id', 'state'], unique=False
    )
    op.drop_index('ix_board_item_column', table_name='board_item')
