"""data-quality signals (数据质量线索) and their thresholds as campaign settings

``quality_signal`` keeps what the detection found (per campaign, kind, unit and subject) with
the rows it names, why, and a coordinator's judgement; ``quality_run`` when each campaign's
signals were last computed and the change record's end they saw. The thresholds are campaign
columns with server defaults, so existing campaigns take the defaults.

Revision ID: f79d6aa8d842
Revises: 241792fd1ae3
Create Date: 2026-12-06 09:35:24.869114

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f79d6aa8d842'
down_revision = 'c5e8a1f0d2b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quality_run',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audit_seen', sa.Integer(), nullable=False),
    sa.Column('found', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_quality_run_campaign_id_campaign')),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_quality_run'))
    )
    op.create_table('quality_signal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_quality_signal_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user.id'], name=op.f('fk_quality_signal_reviewed_by_id_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_quality_signal_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_signal')),
    sa.UniqueConstraint('campaign_id', 'code', 'unit_id', 'key', name=op.f('uq_quality_signal_campaign_id_code_unit_id_key'))
    )
    with op.batch_alter_table('quality_signal', schema=None) as batch_op:
        batch_op.create_index('ix_quality_signal_unit', ['campaign_id', 'active', 'status', 'unit_id'], unique=False)

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signal_evidence_orgs', sa.Integer(), server_default='2', nullable=False))
        batch_op.add_column(sa.Column('signal_burst_days', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('signal_burst_factor', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('signal_burst_min', sa.Integer(), server_default='5', nullable=False))
        batch_op.add_column(sa.Column('signal_quick_minutes', sa.Integer(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('signal_quick_count', sa.Integer(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('signal_threshold_days', sa.Integer(), server_default='30', nullable=False))
        batch_op.add_column(sa.Column('signal_person_orgs', sa.Integer(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('signal_edits_per_org', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('signal_exclusion_factor', sa.Integer(), server_default='2', nullable=False))
        batch_op.add_column(sa.Column('signal_exclusion_min', sa.Integer(), server_default='5', nullable=False))



def downgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('signal_exclusion_min')
        batch_op.drop_column('signal_exclusion_factor')
        batch_op.drop_column('signal_edits_per_org')
        batch_op.drop_column('signal_person_orgs')
        batch_op.drop_column('signal_threshold_days')
        batch_op.drop_column('signal_quick_count')
        batch_op.drop_column('signal_quick_minutes')
        batch_op.drop_column('signal_burst_min')
        batch_op.drop_column('signal_burst_factor')
        batch_op.drop_column('signal_burst_days')
        batch_op.drop_column('signal_evidence_orgs')

    with op.batch_alter_table('quality_signal', schema=None) as batch_op:
        batch_op.drop_index('ix_quality_signal_unit')

    op.drop_table('quality_signal')
    op.drop_table('quality_run')
