"""Work coverage by means (issue 16): a rule asking 实现工作覆盖 may ask for a 党建指导员 only, a
群团组织 only, or either (the default). Seed 003 例3: "30人以上企业有党建指导员".

Hand-made ledger under seed-003 (one district, every organization an enterprise):

  M1 40 staff, 工会                          实现工作覆盖 by a 指导员 (30人): short (a 工会 is none)
  M2 40 staff, 指导员 王五                   实现工作覆盖: met
  M3 40 staff, 1 formal, joint Party org     实现工作覆盖: met (a Party org covers the work)
  M4 20 staff, 工会                          no rule (below 30): either means: met
  M5 60 staff, 1 formal, 工会                应有党员 (50人), its work by a 指导员 (30人): short
  M6 60 staff, 1 formal, 指导员 赵六          应有党员: met

30人以上企业有党建指导员率: M1 M2 M3 M5 M6 = 5 (M4 has 20), met M2 M3 M6 = 3. Open items once the
base is approved: M1 (工作覆盖), M5 (应有党员). A closure of M1 by its 工会 alone is refused.

The rule asking a 群团组织 instead: M1 (工会) met, M2 (指导员) short, M5 met (member, 工会), M6
short: open items M2 (工作覆盖), M6 (应有党员); the figure's met: M1 M3 M5 = 3 of 5.
"""

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign import figures, rules, rulesets
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem
from campaign.core.campaigns import create_from_template
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.rule_changes import change_rules
from campaign.core.vocab import Target
from campaign.ledger.models import Organization
from tests import documents
from tests.conftest import approve_base, make_org, make_unit, open_items
from tests.timeutil import at

LEDGER = {
    "M1": dict(employees=40, mass="工会"),
    "M2": dict(employees=40, instructor="王五"),
    "M3": dict(employees=40, formal=1, party_org="joint"),
    "M4": dict(employees=20, mass="工会"),
    "M5": dict(employees=60, formal=1, mass="工会"),
    "M6": dict(employees=60, formal=1, instructor="赵六"),
}


def _figure(campaign) -> tuple[int, int, str]:
    found = {f.code: f for f in figures.rule_figures(db.session, campaign)}
    f = found["employees_instructor"]
    return f.covered, f.met, f.met_words


def test_seed_003_asks_for_a_party_building_instructor(app):
    with at(2026, 10, 20, 9):
        unit = make_unit("jiangan", "江岸区")
        campaign = create_from_template(
            db.session, "wuhan-2016", 2026, values={"rules": "seed-003"}
        )
        for name, facts in LEDGER.items():
            make_org(campaign, unit, name=name, **facts)
        coordinator, operator = approve_base(campaign, unit)

        assert open_items(campaign) == {"M1": "work_coverage", "M5": "member"}
        assert _figure(campaign) == (5, 3, "已有党组织或党建指导员的")
        counts = figures.overall(db.session, campaign).counts
        assert (counts.short(Target.WORK_COVERAGE), counts.short(Target.MEMBER)) == (1, 1)
        line = next(
            line
            for line in rulesets.rule_lines(rulesets.rule_set_of(campaign))
            if "职工30人以上" in line
        )
        assert "实现工作覆盖（须有党建指导员）" in line

        # M1's 工会 does not close it; its 指导员 does.
        item = db.session.scalar(
            select(BoardItem).where(BoardItem.organization_id == _id(campaign, "M1"))
        )
        claim = {"method": "work_coverage", "instructor": "", "mass_organizations": "工会"}
        pdf = ("批复.pdf", documents.pdf("means"))
        storage = Path(app.config["STORAGE_PATH"])
        with pytest.raises(ValidationFailed, match="须有党建指导员实现工作覆盖"):
            board.submit_closure(
                db.session, item, ClosureClaim.from_form(claim), pdf, operator, storage
            )
        db.session.rollback()

        # The same rule asking for a 群团组织 instead.
        data = rulesets.preset_data("seed-003")
        for rule in data["rules"]:
            if rule["code"] == "employees_instructor":
                rule["means"], rule["figure"] = "mass", "{employees}人以上企业有群团组织率"
        change_rules(db.session, campaign, data, user=coordinator, confirmed=True)
        db.session.commit()
        assert open_items(campaign) == {"M2": "work_coverage", "M6": "member"}
        assert _figure(campaign) == (5, 3, "已有党组织或群团组织的")


def _id(campaign, name: str) -> int:
    return db.session.scalar(
        select(Organization.id).where(
            Organization.campaign_id == campaign.id, Organization.name == name
        )
    )


def _org(**facts) -> SimpleNamespace:
    base = dict(
        kind="enterprise", tags=["other"], operating_status="normal", registration_level=None,
        employees=40, formal_members=0, probationary_members=0, party_org_status="none",
        instructor="", mass_organizations="", members_elsewhere=0,
    )  # fmt: skip
    return SimpleNamespace(**{**base, **facts})


def test_two_rules_asking_each_their_means_ask_both():
    # One rule asks a 指导员 of 30+ staff, another a 群团组织 of 35+: an enterprise of 40 must
    # have both (or a Party org); one of 32 a 指导员 only.
    ask = [
        rules.Rule("a", Target.WORK_COVERAGE, "x", employees=(30, None), means="instructor"),
        rules.Rule("b", Target.WORK_COVERAGE, "y", employees=(35, None), means="mass"),
    ]
    rule_set = rules.RuleSet(tuple(ask))
    for facts, means, met in [
        (dict(instructor="王五"), rules.BOTH, False),
        (dict(instructor="王五", mass_organizations="工会"), rules.BOTH, True),
        (dict(party_org_status="joint", formal_members=1), rules.BOTH, True),
        (dict(employees=32, instructor="王五"), "instructor", True),
        (dict(employees=32, mass_organizations="工会"), "instructor", False),
        (dict(employees=20, mass_organizations="工会"), "any", True),
    ]:
        org = _org(**facts)
        requirement = rules.evaluate(org, rule_set)
        assert (requirement.means, rules.meets(org, requirement)) == (means, met), facts


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        (
            "{code: r1, target: work_coverage, why: x, means: phone}",
            "「工作覆盖方式」（means）应为",
        ),
        ("{code: r1, target: work_coverage, why: x, means: [a]}", "「工作覆盖方式」（means）应为"),
        ("{code: r1, target: member, why: x, means: instructor}", "只适用于要求为 work_coverage"),
    ],
    ids=["no-such-means", "a-list", "not-work-coverage"],
)
def test_a_means_that_does_not_exist_is_refused_naming_rule_and_field(rule, says):
    with pytest.raises(ValidationFailed) as refused:
        rulesets.read_yaml(f"rules: [{rule}]")
    assert "第1条规则（r1）" in str(refused.value) and says in str(refused.value)


def test_a_means_round_trips_in_the_rule_file():
    stored, _ = rulesets.read_yaml(
        "rules: [{code: r1, target: work_coverage, why: x, means: instructor}]"
    )
    assert stored["rules"][0]["means"] == "instructor"
    _, parsed = rulesets.rules_from(stored)
    assert parsed[0].means == "instructor"
    assert "means" not in rulesets.rule_data(rules.Rule("r2", Target.WORK_COVERAGE, "x"))
