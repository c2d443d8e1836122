"""accounts administered on the web; units retire; the city's profile

Users carry a phone number, the moment of their last login, and whether they must choose a
new password before anything else (set by an admin's one-time password). Units can be
retired (``active``) instead of deleted. ``city_profile`` holds what `flask init` was told:
the city and the issuing body a new campaign takes by default.

Existing users keep their passwords (no forced change), have no phone and no recorded login;
existing units stay active.

Revision ID: 241792fd1ae3
Revises: 0d8b62e9094c
Create Date: 2026-12-06 06:30:00.761009

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '241792fd1ae3'
down_revision = '0d8b62e9094c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('city_profile',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('city_name', sa.String(length=40), nullable=False),
    sa.Column('issuing_body', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_city_profile_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_city_profile'))
    )
    # Added nullable, filled, then made NOT NULL: the models give no server default.
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=True))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))

    unit = sa.table('unit', sa.column('active', sa.Boolean))
    user = sa.table(
        'user', sa.column('phone', sa.String), sa.column('must_change_password', sa.Boolean)
    )
    op.execute(unit.update().values(active=True))
    op.execute(user.update().values(phone='', must_change_password=False))

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.alter_column('active', existing_type=sa.Boolean(), nullable=False)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('must_change_password', existing_type=sa.Boolean(), nullable=False)


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('phone')

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('active')

    op.drop_table('city_profile')
