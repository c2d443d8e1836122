"""Seed 003's variant rules a coordinator can switch on (issue 16): 例7's "30人以上的上海高科技
企业中有党员" (高新技术企业 a category of the ledger), and 例9's "100人以上的企业80%单独建立党组
织" as a share of the organizations rather than a duty of each.

Hand-made ledger under seed-003 (one district, every organization an enterprise):

  H1 高新技术企业, 35 staff, nothing
  H2 高新技术企业、规模以上, 120 staff, 3 formal, standalone Party org
  H3 高新技术企业, 25 staff, nothing
  H4 其他, 35 staff, nothing
  P1 其他, 150 staff, 1 formal, joint Party org
  P2 其他, 100 staff, nothing
  P3 其他, 110 staff, 4 formal, standalone Party org

Seed 003 as it comes (例3): H1, H4 实现工作覆盖 by a 指导员 (30人), short; H2 应单独组建 (3 formal,
规模以上), met; H3 实现工作覆盖 (no rule), short; P1 应有党员 (50人), met (its joint org); P2 应有
党员, short; P3 应单独组建, met.

例7 switched on: H1 (高新技术企业, 35) must have a member: 应有党员, short; H3 has 25 staff: as
before; H4 is no 高新技术企业: as before. Its figure: 30人以上高新技术企业有党员率 = H1 H2 = 2, met
H2 = 1.

例9 switched on: 100人以上企业 H2 P1 P2 P3 = 4, of them with their own Party org H2 P3 = 2: 50.0 %,
short of its 80 %. No organization's target changes, and no item opens (a share is no duty of
each).
"""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign import figures, rulesets
from campaign.core.campaigns import create_from_template
from campaign.core.extensions import db
from campaign.core.rule_changes import change_rules
from campaign.ledger.models import Organization
from tests.conftest import make_org, make_unit

LEDGER = {
    "H1": dict(category="high_tech", employees=35),
    "H2": dict(category="high_tech", employees=120, formal=3, party_org="standalone"),
    "H3": dict(category="high_tech", employees=25),
    "H4": dict(employees=35),
    "P1": dict(employees=150, formal=1, party_org="joint"),
    "P2": dict(employees=100),
    "P3": dict(employees=110, formal=4, party_org="standalone"),
}
SEED_003 = {
    "H1": "work_coverage", "H2": "standalone", "H3": "work_coverage", "H4": "work_coverage",
    "P1": "member", "P2": "member", "P3": "standalone",
}  # fmt: skip


@pytest.fixture
def w(app) -> SimpleNamespace:
    unit = make_unit("jiangan", "江岸区")
    campaign = create_from_template(db.session, "wuhan-2016", 2026, values={"rules": "seed-003"})
    orgs = {n: make_org(campaign, unit, name=n, **facts) for n, facts in LEDGER.items()}
    # H2 is 规模以上 too.
    orgs["H2"].tags, orgs["H2"].category = ["above_scale", "high_tech"], "above_scale"
    db.session.flush()
    change_rules(db.session, campaign, rulesets.preset_data("seed-003"), user=None)
    return SimpleNamespace(campaign=campaign, unit=unit, orgs=orgs)


def targets(w) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Organization.name, Organization.target).where(
            Organization.campaign_id == w.campaign.id
        )
    )
    return dict(rows.tuples().all())


def switched_on(w, code: str) -> None:
    data = rulesets.preset_data("seed-003")
    for rule in data["rules"]:
        if rule["code"] == code:
            rule["enabled"] = True
    change_rules(db.session, w.campaign, data, user=None)


def test_seed_003_example_7_high_tech_enterprises_with_30_staff_have_a_member(w):
    assert targets(w) == SEED_003
    assert "high_tech_member" not in {f.code for f in figures.rule_figures(db.session, w.campaign)}

    switched_on(w, "high_tech_member")
    assert targets(w) == {**SEED_003, "H1": "member"}
    found = {f.code: f for f in figures.rule_figures(db.session, w.campaign)}
    f = found["high_tech_member"]
    assert (f.name, f.covered, f.met) == ("30人以上高新技术企业有党员率", 2, 1)
    assert f.scope == "职工30人以上的高新技术企业"
    line = next(
        line for line in rulesets.rule_lines(rulesets.rule_set_of(w.campaign)) if "高新" in line
    )
    assert line == (
        "类别为高新技术企业的非公企业（职工30人以上）：应有党员——职工30人以上的高新技术企业须有党员"
    )
