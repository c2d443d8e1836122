"""exclusion proposals confirmed by 工商; departments on spot check teams

A district proposes to take an enterprise out of the base as 空壳, 僵尸 or 影子; it leaves only
when 工商 (the department whose remit is every enterprise) confirms (``exclusion_proposal``).
A spot check names the verifying departments on its team (``team_unit_ids``, none before).

Revision ID: 1d5b70102080
Revises: b7e3d1f0a9c4
Create Date: 2026-12-06 12:48:30.542912

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1d5b70102080'
down_revision = 'b7e3d1f0a9c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exclusion_proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('normal', 'shell', 'zombie', 'shadow', 'suspended', 'deregistered', 'revoked', 'inactive', name='operatingstatus', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'confirmed', 'rejected', name='proposalstate', native_enum=False, length=10), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_exclusion_proposal_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_exclusion_proposal_decided_by_id_user')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_exclusion_proposal_organization_id_organization')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_exclusion_proposal_proposed_by_id_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_exclusion_proposal_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exclusion_proposal'))
    )
    with op.batch_alter_table('exclusion_proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exclusion_proposal_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exclusion_proposal_organization_id'), ['organization_id'], unique=False)

    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_unit_ids', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))



def downgrade():
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.drop_column('team_unit_ids')

    with op.batch_alter_table('exclusion_proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exclusion_proposal_organization_id'))
        batch_op.drop_index(batch_op.f('ix_exclusion_proposal_campaign_id'))

    op.drop_table('exclusion_proposal')
