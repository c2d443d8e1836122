"""users carry a session key

Every session cookie carries "<user id>:<session key>" (User.get_id); logout, disabling a
user and a password change replace the key, so every copy of his cookie is refused at once.
Existing users get a random key each; cookies issued before this release (a bare user id)
are refused, so everyone logs in once more after the upgrade.

Revision ID: d41f7a2c9e15
Revises: b7d2e4f6a8c0
Create Date: 2026-11-23 10:00:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd41f7a2c9e15'
down_revision = 'b7d2e4f6a8c0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_key', sa.String(length=40), nullable=True))
    user = sa.table('user', sa.column('id', sa.Integer), sa.column('session_key', sa.String))
    conn = op.get_bind()
    for (user_id,) in conn.execute(sa.select(user.c.id)).all():
        conn.execute(
            user.update()
            .where(user.c.id == user_id)
            .values(session_key=secrets.token_urlsafe(24))
        )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('session_key', existing_type=sa.String(length=40), nullable=False)


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_key')
