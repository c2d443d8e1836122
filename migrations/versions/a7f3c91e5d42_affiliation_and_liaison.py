"""organizations: the Party org's 隶属关系 and whether it is put right; the 第一书记 or
党建工作指导员 sent to a new Party org

Seed 004 phases 5 (理顺隶属关系) and 6 (对新组建的党组织 … 担任第一书记或党建工作指导员):
``affiliation`` (属地 / 行业 / 主管部门, stored as text; none for every existing row),
``affiliation_settled`` (false) with ``affiliation_settled_on``; ``liaison_role`` (第一书记 /
党建工作指导员), ``liaison_name``, ``liaison_unit`` (empty) and ``liaison_assigned_on``.
The figures' tally (ledger_counts) keeps what the two figures (理顺率, 新建党组织选派率) add:
``settled``, ``new_party_orgs`` (in the base, with a Party org founded on or after the
campaign's first day) and ``new_with_liaison``. Every organization's 理顺 and 选派 start
empty, so the first and the last are 0; the new Party orgs are counted from the ledger here,
as campaign.figures defines them at this revision (written out in SQL).

Revision ID: a7f3c91e5d42
Revises: a7d3e5f1c2b4
Create Date: 2026-12-06 13:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a7f3c91e5d42"
down_revision = "a7d3e5f1c2b4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(sa.Column("affiliation", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column(
                "affiliation_settled", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(sa.Column("affiliation_settled_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("liaison_role", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("liaison_name", sa.String(length=80), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("liaison_unit", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("liaison_assigned_on", sa.Date(), nullable=True))

    with op.batch_alter_table("ledger_counts", schema=None) as batch_op:
        for name in PHASE_COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    op.execute(FILL_NEW_PARTY_ORGS)


PHASE_COUNTS = ("settled", "new_party_orgs", "new_with_liaison")
FILL_NEW_PARTY_ORGS = """
UPDATE ledger_counts SET new_party_orgs = (
    SELECT COUNT(*) FROM organization o JOIN campaign c ON c.id = o.campaign_id
    WHERE o.campaign_id = ledger_counts.campaign_id
      AND o.unit_id = ledger_counts.unit_id
      AND COALESCE(o.area_id, 0) = ledger_counts.area_key
      AND o.kind = ledger_counts.kind
      AND o.category = ledger_counts.category
      AND o.in_base
      AND o.party_org_status IN ('standalone', 'joint', 'functional')
      AND o.party_org_founded_on >= c.starts_on
)
"""


def downgrade():
    with op.batch_alter_table("ledger_counts", schema=None) as batch_op:
        for name in reversed(PHASE_COUNTS):
            batch_op.drop_column(name)
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("liaison_assigned_on")
        batch_op.drop_column("liaison_unit")
        batch_op.drop_column("liaison_name")
        batch_op.drop_column("liaison_role")
        batch_op.drop_column("affiliation_settled_on")
        batch_op.drop_column("affiliation_settled")
        batch_op.drop_column("affiliation")
