"""rule_counts: the figures of the campaign's rules kept per group of organizations and rule

Organizations of the base each rule of the campaign's rule set covers, and of them those
meeting what it asks, per (campaign, unit, street/park, kind, category, rule): the
overview and a bulletin's rule figures sum these rows instead of scanning the ledger. Which
organizations a rule covers is data (the campaign's rule set), read through the rules' own
SQL by campaign.figures.RULE_TALLY; a data migration must not depend on that code, so the
table starts empty. Until a campaign's rows are counted its rule figures are read from the
ledger as before; ``flask --app app campaign recount`` (after the upgrade) or any change of
the rule set or its thresholds fills them.

Revision ID: e3a1f7c9b2d4
Revises: b7d3e5f9a2c1
Create Date: 2026-12-06 15:45:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e3a1f7c9b2d4"
down_revision = "b7d3e5f9a2c1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rule_counts",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("area_key", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("rule", sa.String(length=50), nullable=False),
        sa.Column("covered", sa.Integer(), nullable=False),
        sa.Column("met", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_rule_counts_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_rule_counts_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id",
            "unit_id",
            "area_key",
            "kind",
            "category",
            "rule",
            name=op.f("pk_rule_counts"),
        ),
    )


def downgrade():
    op.drop_table("rule_counts")
