"""the figures of a campaign's rules (issue 16): stored preset rule sets name theirs

A rule may now name a figure of its own (``figure``), and the presets mark theirs. A rule
set stored on a campaign before this came from a preset without them: the rules that the
same preset now gives a figure (same code and target, and the bound the name quotes) get
it, so such a campaign's overview and bulletin keep the 50/100人 figures. Downgrade removes
every rule's figure (the older code refuses the unknown field).

Revision ID: c4e9b2d7f1a5
Revises: a3f8c2d9e4b6
Create Date: 2026-12-06 14:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4e9b2d7f1a5"
down_revision = "a3f8c2d9e4b6"
branch_labels = None
depends_on = None

_50_MEMBER = {("employees_member", "member"): "{employees}人以上企业有党员率"}
_100_ORG = {("employees_party_org", "party_org"): "{employees}人以上企业有党组织率"}
# As campaign/rulesets.py's presets name them at this revision.
FIGURES = {
    "seed-004": {**_100_ORG, **_50_MEMBER},
    "seed-000": {
        **_100_ORG,
        **_50_MEMBER,
        ("members_party_org", "party_org"): "有党员的组织建有党组织率",
    },
    "seed-003": {
        ("formal_members", "standalone"): "{formal_members}名以上正式党员的组织单独组建率",
        ("above_scale_standalone", "standalone"): "规模以上企业单独组建率",
        **_50_MEMBER,
        ("employees_instructor", "work_coverage"): "{employees}人以上企业工作覆盖率",
    },
}

campaign = sa.table("campaign", sa.column("id", sa.Integer), sa.column("rule_set", sa.JSON))


def _named(rule, figure):
    """Whether the rule has the lower bound the figure's name quotes."""
    for fact in ("employees", "formal_members"):
        if "{" + fact + "}" in figure:
            bound = rule.get(fact)
            if not isinstance(bound, dict) or bound.get("min") is None:
                return False
    return True


def _rewrite(change):
    conn = op.get_bind()
    rows = conn.execute(sa.select(campaign.c.id, campaign.c.rule_set)).all()
    for id_, data in rows:
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            continue
        new = change(data)
        if new is not None:
            conn.execute(campaign.update().where(campaign.c.id == id_).values(rule_set=new))


def _add(data):
    figures = FIGURES.get(data.get("preset"))
    if not figures:
        return None
    rules, changed = [], False
    for rule in data["rules"]:
        key = (rule.get("code"), rule.get("target")) if isinstance(rule, dict) else None
        figure = figures.get(key)
        if figure and "figure" not in rule and _named(rule, figure):
            rule, changed = {**rule, "figure": figure}, True
        rules.append(rule)
    return {**data, "rules": rules} if changed else None


def _remove(data):
    if not any(isinstance(r, dict) and "figure" in r for r in data["rules"]):
        return None
    rules = [
        {k: v for k, v in r.items() if k != "figure"} if isinstance(r, dict) else r
        for r in data["rules"]
    ]
    return {**data, "rules": rules}


def upgrade():
    _rewrite(_add)


def downgrade():
    _rewrite(_remove)
