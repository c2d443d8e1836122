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

from datetime import date, time
from types import SimpleNamespace

import pytest

from campaign import figures, rulesets
from campaign.core.campaigns import create_from_template
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.rule_changes import change_rules
from campaign.half_monthly import services as half_monthly
from reports import render, snapshot
from tests.conftest import login, make_org, make_unit, make_user
from tests.test_rulesets import targets
from tests.timeutil import at

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


def test_seed_003_example_9_is_a_share_not_a_duty_of_each(w, client):
    short_before = rulesets.short_ids(db.session, w.campaign)
    data = rulesets.preset_data("seed-003")
    for rule in data["rules"]:
        if rule["code"] == "share_standalone_100":
            rule["enabled"] = True
    effect = change_rules(db.session, w.campaign, data, user=None)
    assert targets(w) == SEED_003
    assert (effect.opened, effect.closed) == ([], [])
    assert rulesets.short_ids(db.session, w.campaign) == short_before

    found = {f.code: f for f in figures.rule_figures(db.session, w.campaign)}
    f = found["share_standalone_100"]
    assert (f.name, f.covered, f.met, f.share, f.reached) == (
        "100人以上企业单独组建率",
        4,
        2,
        80,
        False,
    )
    # 80 % of 4 is 3.2: 4 must have their own, 2 more than now.
    assert f.share_text == "目标80%，未达到，尚差2个"
    assert f.as_dict()["share_text"] == "目标80%，未达到，尚差2个"
    line = next(
        line for line in rulesets.rule_lines(rulesets.rule_set_of(w.campaign)) if "80%" in line
    )
    assert "比例目标：80%应单独组建（不列入攻坚事项）" in line

    # The overview and the bulletin compare it with its share.
    make_user("coord", "coordinator")
    db.session.commit()
    login(client, "coord")
    page = client.get(f"/campaigns/{w.campaign.id}").get_data(as_text=True)
    table = page.split('id="rule-figures"')[1].split("</table>")[0]
    assert "目标80%，未达到，尚差2个" in table
    period = next(p for p in half_monthly.periods(w.campaign) if p.due_on >= date(2026, 10, 20))
    with at(2026, 10, 25, 18, 30):
        cutoff = snapshot.cutoff_of(w.campaign, period.due_on, time(18, 0))
        html = render.html(snapshot.build(db.session, w.campaign, period, 1, cutoff, []))
    assert (
        "职工100人以上的非公企业4个，已单独建立党组织的2个，单独建立党组织率50.0%"
        "（目标80%，未达到，尚差2个）"
    ) in html


@pytest.mark.parametrize(
    ("share", "says"),
    [
        ("0", "而不是“0”"),
        ("150", "而不是“150”"),
        ("'80%'", "而不是“80%”"),
        ("true", "而不是“True”"),
        ("80.5", "而不是“80.5”"),
    ],
    ids=["zero", "above-100", "text", "bool", "fraction"],
)
def test_a_share_outside_1_to_100_is_refused_naming_rule_and_field(share, says):
    text = f"rules: [{{code: r1, target: standalone, why: x, figure: 率, share: {share}}}]"
    with pytest.raises(ValidationFailed) as refused:
        rulesets.read_yaml(text)
    message = str(refused.value)
    assert (
        "第1条规则（r1）的「比例目标（%）」（share）应为1至100的整数" in message and says in message
    )


def test_a_share_needs_a_figure_and_round_trips():
    with pytest.raises(ValidationFailed, match="比例目标须有「指标名称」"):
        rulesets.read_yaml("rules: [{code: r1, target: standalone, why: x, share: 80}]")
    stored, _ = rulesets.read_yaml(
        "rules: [{code: r1, target: standalone, why: x, figure: 单独组建率, share: 80}]"
    )
    assert stored["rules"][0]["share"] == 80
    assert rulesets.rules_from(stored)[1][0].share == 80
