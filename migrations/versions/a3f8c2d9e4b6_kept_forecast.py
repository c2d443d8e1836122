"""the latest forecast of each campaign, kept (forecast_run): pages read it

Revision ID: a3f8c2d9e4b6
Revises: 1d5b70102080
Create Date: 2026-12-06 12:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3f8c2d9e4b6'
down_revision = '1d5b70102080'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('forecast_run',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('audit_seen', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_forecast_run_campaign_id_campaign')),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_forecast_run'))
    )


def downgrade():
    op.drop_table('forecast_run')
