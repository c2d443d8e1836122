"""campaigns on the web: the bulletin's own texts and time; deliverables in order;
organizations' categories as tags

A campaign carries its bulletin's masthead (报头), the subject of its title, its 文号 prefix,
whom it is addressed to (主送) and the time of its cut-off (empty: the installation's
BULLETIN_TIME), so nothing says "百日攻坚" or "武汉" unless the campaign's texts do. Campaigns
made from ``wuhan-2016`` before get that template's texts, so their bulletins read as before.
Deliverables get a position within their phase (0 for all: ordered by id as before).

An organization's categories become tags (issue 16: a 规模以上 internet firm is both): a JSON
list ``tags``, filled from the single ``category`` each row had (["internet"]); ``category``
stays as the first tag, the group its counts are kept under, so the figures' tally and its
index are unchanged.

Verifying departments: a unit may have a remit (工商, 商务, 经信, 工商联, 教育, 卫生计生, 司法,
财政, 税务, 统战; none for every existing unit), and their check notes on organizations are kept
in ``check_note``.

Revision ID: 5c1e9a7b3d20
Revises: 241792fd1ae3
Create Date: 2026-12-06 09:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e9a7b3d20'
down_revision = 'f79d6aa8d842'
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
        batch_op.add_column(sa.Column('addressees', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('bulletin_time', sa.String(length=5), server_default='', nullable=False))
    with op.batch_alter_table('deliverable', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tags', sa.JSON(), server_default=sa.text("'[]'"), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE organization SET tags = json_build_array(category)")
    else:
        op.execute("UPDATE organization SET tags = json_array(category)")
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.alter_column('tags', existing_type=sa.JSON(), nullable=False)
    # Change requests filed before propose the category as the one tag.
    request = sa.table('change_request', sa.column('id', sa.Integer), sa.column('payload', sa.JSON))
    conn = op.get_bind()
    for row in conn.execute(sa.select(request.c.id, request.c.payload)).fetchall():
        payload = row.payload
        if isinstance(payload, dict) and payload.get('category') and not payload.get('tags'):
            payload = {**payload, 'tags': [payload['category']]}
            conn.execute(request.update().where(request.c.id == row.id).values(payload=payload))

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remit', sa.String(length=20), server_default='', nullable=False))
    op.create_table('check_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_check_note_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_check_note_organization_id_organization')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_check_note_unit_id_unit')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_check_note_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_note'))
    )
    with op.batch_alter_table('check_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_note_organization_id'), ['organization_id'], unique=False)

    campaign = sa.table(
        'campaign',
        sa.column('template', sa.String),
        *(sa.column(name, sa.String) for name in WUHAN),
    )
    op.execute(campaign.update().where(campaign.c.template == 'wuhan-2016').values(**WUHAN))


def downgrade():
    with op.batch_alter_table('check_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_note_organization_id'))
    op.drop_table('check_note')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('remit')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('tags')
    with op.batch_alter_table('deliverable', schema=None) as batch_op:
        batch_op.drop_column('position')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('bulletin_time')
        batch_op.drop_column('addressees')
        batch_op.drop_column('bulletin_subject')
        batch_op.drop_column('masthead')
