"""campaigns on the web: the bulletin's own texts and time; deliverables in order

A campaign carries its bulletin's masthead (报头), the subject of its title, its 文号 prefix,
whom it is addressed to (主送) and the time of its cut-off (empty: the installation's
BULLETIN_TIME), so nothing says "百日攻坚" or "武汉" unless the campaign's texts do. Campaigns
made from ``wuhan-2016`` before get that template's texts, so their bulletins read as before.
Deliverables get a position within their phase (0 for all: ordered by id as before).

Revision ID: 5c1e9a7b3d20
Revises: 241792fd1ae3
Create Date: 2026-12-06 09:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e9a7b3d20'
down_revision = '241792fd1ae3'
branch_labels = None
depends_on = None

WUHAN = {
    'masthead': '“百日攻坚行动”工作通报',
    'bulletin_subject': '全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况',
    'addressees': '各区委组织部，市直机关工委，市民政局',
}


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('masthead', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('bulletin_subject', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('number_prefix', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('addressees', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('bulletin_time', sa.String(length=5), server_default='', nullable=False))
    with op.batch_alter_table('deliverable', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.Integer(), server_default='0', nullable=False))

    campaign = sa.table(
        'campaign',
        sa.column('template', sa.String),
        *(sa.column(name, sa.String) for name in WUHAN),
    )
    op.execute(campaign.update().where(campaign.c.template == 'wuhan-2016').values(**WUHAN))


def downgrade():
    with op.batch_alter_table('deliverable', schema=None) as batch_op:
        batch_op.drop_column('position')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('bulletin_time')
        batch_op.drop_column('addressees')
        batch_op.drop_column('number_prefix')
        batch_op.drop_column('bulletin_subject')
        batch_op.drop_column('masthead')
