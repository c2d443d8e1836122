"""board items keep their organization's kind, indexed in board-column order

The unit board filtered by kind counted and listed a unit's items through a join to
organization: at 1,000,000 organizations a hash join over every social organization of the
city (418 ms p95). With the kind on the item, ix_board_item_kind_column (campaign_id,
unit_id, kind, state, planned_on, id) gives a column of one kind in its order and its count
from one index range. Filled from the organizations in SQL.

Revision ID: 9e4b7c1d2f60
Revises: 5d0c3e9a7b21
Create Date: 2026-11-22 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e4b7c1d2f60'
down_revision = '5d0c3e9a7b21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('board_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE board_item SET kind = "
        "(SELECT organization.kind FROM organization WHERE organization.id = board_item.organization_id)"
    )
    with op.batch_alter_table('board_item', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=20), nullable=False)
        batch_op.create_index(
            'ix_board_item_kind_column',
            ['campaign_id', 'unit_id', 'kind', 'state', 'planned_on', 'id'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('board_item', schema=None) as batch_op:
        batch_op.drop_index('ix_board_item_kind_column')
        batch_op.drop_column('kind')
