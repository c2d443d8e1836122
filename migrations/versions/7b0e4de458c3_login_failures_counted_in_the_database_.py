"""login failures counted in the database, shared by every worker

Flask-Limiter's counters (the login throttle's failures per account and per address) are
kept in this table unless RATELIMIT_STORAGE_URI names Redis: every gunicorn worker sees
the same counts (campaign/ratelimit.py). Rows live for one window (10 minutes).

Revision ID: 7b0e4de458c3
Revises: d41f7a2c9e15
Create Date: 2026-12-06 03:30:04.052086

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b0e4de458c3'
down_revision = 'd41f7a2c9e15'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_limit_counter',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counter'))
    )
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_counter_expires_at'), ['expires_at'], unique=False)



def downgrade():
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counter_expires_at'))

    op.drop_table('rate_limit_counter')
