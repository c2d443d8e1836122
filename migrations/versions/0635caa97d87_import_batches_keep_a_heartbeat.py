"""import batches keep a heartbeat

An upload being processed holds a lease like every background job (campaign.core.jobs):
its worker renews heartbeat_at with every progress report, and a batch silent for longer
than the lease is settled as interrupted. It was counted from the upload (created_at)
before, so existing batches start from that.

Revision ID: 0635caa97d87
Revises: d3f1a7c9e2b4
Create Date: 2026-12-06 05:27:28.336990

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0635caa97d87'
down_revision = 'd3f1a7c9e2b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE import_batch SET heartbeat_at = created_at")
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.alter_column(
            'heartbeat_at', existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade():
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
