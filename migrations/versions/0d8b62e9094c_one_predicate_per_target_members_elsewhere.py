"""one predicate per target; 组织关系在外党员数

organization.members_elsewhere (组织关系在外党员数): the formal members whose Party
relationship is kept elsewhere, 0 for every existing row (no ledger recorded it). It decides
where a 功能型 Party org meets an organization's target (rules.MET).

ledger_counts counts what the board reads: "met" is each target's condition of rules.MET, so
required_met no longer counts a joint (or an enterprise's 功能型) Party org for an
organization that must set up its own, member_required_met asks for work coverage as well as
a member (as the board does), a blank 指导员 is blank whatever the whitespace, and each target
has its own due / met counts. Existing tallies are wrong under these definitions, so the tally
is emptied and filled again from the ledger, with the definitions of campaign.rules and
campaign.figures at this revision written out in SQL (a data migration must not depend on
code that will change after it). The downgrade fills it again with the former definitions.

Revision ID: 0d8b62e9094c
Revises: a6c1e0b3d527
Create Date: 2026-12-08 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0d8b62e9094c"
down_revision = "a6c1e0b3d527"
branch_labels = None
depends_on = None


TARGETS = ("standalone", "party_org", "member", "work_coverage")
PER_TARGET = [f"{k}_{t}" for t in TARGETS for k in ("due", "met")]

# What str.strip() strips (rules.WHITESPACE at this revision), bound as :ws.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

HAS_ORG = "o.party_org_status IN ('standalone', 'joint', 'functional')"
MEMBER_SIZE = "o.kind = 'enterprise' AND o.employees >= c.member_required_employees"
ORG_SIZE = "o.kind = 'enterprise' AND o.employees >= c.party_org_required_employees"
REQUIRED = "o.target IN ('standalone', 'party_org')"

# rules.MET at this revision.
FUNCTIONAL_FITS = (
    "o.party_org_status = 'functional' AND o.kind = 'social'"
    " AND 2 * o.members_elsewhere > o.formal_members"
)
COVERED = f"{HAS_ORG} OR TRIM(o.instructor, :ws) != '' OR TRIM(o.mass_organizations, :ws) != ''"
MET = {
    "standalone": f"o.party_org_status = 'standalone' OR ({FUNCTIONAL_FITS})",
    "party_org": f"o.party_org_status IN ('standalone', 'joint') OR ({FUNCTIONAL_FITS})",
    "member": f"o.formal_members + o.probationary_members >= 1 AND ({COVERED})",
    "work_coverage": COVERED,
}


def _count(condition):
    return f"SUM(CASE WHEN o.in_base AND ({condition}) THEN 1 ELSE 0 END)"


def _met(targets):
    return " OR ".join(f"(o.target = '{t}' AND ({MET[t]}))" for t in targets)


COLUMNS = """campaign_id, unit_id, area_key, kind, category, base, excluded,
    with_party_org, standalone, work_covered, required, required_met, member_required,
    member_required_met, party_org_required_by_size, party_org_required_by_size_met"""
KEYS = "o.campaign_id, o.unit_id, COALESCE(o.area_id, 0), o.kind, o.category"
SOURCE = f"""FROM organization o JOIN campaign c ON c.id = o.campaign_id
GROUP BY {KEYS}"""

FILL = f"""
INSERT INTO ledger_counts ({COLUMNS}, {", ".join(PER_TARGET)})
SELECT {KEYS},
    {_count("1 = 1")},
    SUM(CASE WHEN o.in_base THEN 0 ELSE 1 END),
    {_count(HAS_ORG)},
    {_count("o.party_org_status = 'standalone'")},
    {_count(COVERED)},
    {_count(REQUIRED)},
    {_count(_met(("standalone", "party_org")))},
    {_count(MEMBER_SIZE)},
    {_count(f"{MEMBER_SIZE} AND ({MET['member']})")},
    {_count(ORG_SIZE)},
    {_count(f"{ORG_SIZE} AND ({MET['party_org']})")},
    {
    ", ".join(
        _count(f"o.target = '{t}'") if k == "due" else _count(_met((t,)))
        for t in TARGETS
        for k in ("due", "met")
    )
}
{SOURCE}
"""

# The definitions of 60a2fef0b33b, for the downgrade.
FORMER_FILL = f"""
INSERT INTO ledger_counts ({COLUMNS})
SELECT {KEYS},
    {_count("1 = 1")},
    SUM(CASE WHEN o.in_base THEN 0 ELSE 1 END),
    {_count(HAS_ORG)},
    {_count("o.party_org_status = 'standalone'")},
    {_count(f"{HAS_ORG} OR TRIM(o.instructor) != '' OR TRIM(o.mass_organizations) != ''")},
    {_count(REQUIRED)},
    {_count(f"{REQUIRED} AND {HAS_ORG}")},
    {_count(MEMBER_SIZE)},
    {_count(f"{MEMBER_SIZE} AND o.formal_members + o.probationary_members > 0")},
    {_count(ORG_SIZE)},
    {_count(f"{ORG_SIZE} AND {HAS_ORG}")}
{SOURCE}
"""


def upgrade():
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("members_elsewhere", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_organization_members_elsewhere_not_negative"), "members_elsewhere >= 0"
        )
    # Derived data: emptied, given its new columns, and filled again below.
    op.execute("DELETE FROM ledger_counts")
    with op.batch_alter_table("ledger_counts", schema=None, recreate="always") as batch_op:
        for name in PER_TARGET:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False))
    op.execute(sa.text(FILL).bindparams(ws=WHITESPACE))


def downgrade():
    op.execute("DELETE FROM ledger_counts")
    with op.batch_alter_table("ledger_counts", schema=None, recreate="always") as batch_op:
        for name in PER_TARGET:
            batch_op.drop_column(name)
    op.execute(FORMER_FILL)
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_organization_members_elsewhere_not_negative"), type_="check"
        )
        batch_op.drop_column("members_elsewhere")
