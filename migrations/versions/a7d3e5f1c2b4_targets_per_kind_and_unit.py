"""targets per kind of organization and per unit; a 工作覆盖率 target

Seed 000 sets separate coverage targets for 非公 and 社会组织, a 工作覆盖率 target (100 %), and
asks counties to set their own: ``rate_target`` holds a campaign's targets other than its
city-wide settings, for one kind (city-wide) or for one unit (every kind, or one). The
campaign gets the city-wide 工作覆盖率 target (100 for every existing one).

Revision ID: a7d3e5f1c2b4
Revises: 5c1e9a7b3d20
Create Date: 2026-12-06 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d3e5f1c2b4'
down_revision = '5c1e9a7b3d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('target_work_coverage', sa.Numeric(precision=5, scale=2), server_default='100', nullable=False)
        )
    op.create_table(
        'rate_target',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('rate', sa.String(length=30), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('percent', sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_rate_target_campaign_id_campaign')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_rate_target_unit_id_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_target')),
    )
    with op.batch_alter_table('rate_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_target_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('rate_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_target_campaign_id'))
    op.drop_table('rate_target')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('target_work_coverage')
