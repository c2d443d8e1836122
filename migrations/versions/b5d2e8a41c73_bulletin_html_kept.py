"""the HTML each bulletin's PDF was drawn from, archived beside it

`bulletin verify` draws the PDF again from this text, so a bulletin stays verifiable after an
upgrade changes the template; it also says when today's template would lay the snapshot out
differently. Bulletins archived before have none (verify re-renders their snapshot).

Revision ID: b5d2e8a41c73
Revises: c4e9b2d7f1a5
Create Date: 2026-12-06 16:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b5d2e8a41c73"
down_revision = "c4e9b2d7f1a5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bulletin") as batch:
        batch.add_column(sa.Column("html_path", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("html_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bulletin") as batch:
        batch.drop_column("html_sha256")
        batch.drop_column("html_path")
