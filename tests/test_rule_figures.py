"""The figures of a campaign's rules (issue 16): each preset names which of its rules have a
figure of their own; the overview and the bulletin list them in place of the two hard-wired
50/100人 figures.

Every expected value is worked out by hand from the rule texts, on one small ledger (one
district):

  A1 enterprise, 50 staff, 1 probationary member, nothing else
  A2 enterprise, 49 staff, 2 formal, joint Party org
  A3 enterprise, 100 staff, 1 formal, joint Party org founded 2026-10-01
  A4 enterprise, 150 staff, no member, 党建指导员 张三
  A5 enterprise, 120 staff, 3 formal, standalone Party org
  A6 enterprise 空壳, 300 staff, 2 formal, standalone   (out of the base)
  A7 enterprise, 99 staff, 1 formal, 工会
  S1 social, 200 staff, 1 formal, nothing
  S2 social, 10 staff, 4 formal of whom 3 keep their relationship elsewhere, 功能型 Party org

Seed 004 ("职工50人以上的有党员、100人以上的建有党的组织"; 有党员 = a member and the Party's
work reaching it, 应有党员's condition; a Party org = standalone or joint, enterprises have no
功能型):
  50人以上企业有党员率: enterprises with 50+ staff in the base A1 A3 A4 A5 A7 (A2 has 49, A6 is
    out, S1 is no enterprise) = 5; met A3 (member, joint org), A5, A7 (member, 工会) = 3
    (A1's probationary member has no Party work reaching him; A4 has no member): 60.0%.
  100人以上企业有党组织率: A3 A4 A5 = 3 (A7 has 99); met A3 A5 = 2: 66.7%.
Seed 000 adds "有党员的非公经济组织和社会组织党组织应建尽建" (members 正式 + 预备 >= 1):
  有党员的组织建有党组织率: A1 (probationary) A2 A3 A5 A7 S1 S2 = 7; met A2 A3 (joint), A5
    (standalone), S2 (功能型, fitting: a social org most of whose members belong elsewhere)
    = 4: 57.1%.
As of 2026-09-30 A3's Party org (founded 10-01) is not there yet: 50人 met A5 A7 = 2 of 5
(A3's member has no Party work reaching him yet), 100人 met A5 = 1 of 3.
"""

from datetime import date, time
from types import SimpleNamespace

import pytest
import yaml

from campaign import figures, rulesets
from campaign.core import campaigns
from campaign.core.campaigns import create_from_template
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.half_monthly import services as half_monthly
from reports import render, snapshot
from tests.conftest import login, make_org, make_unit, make_user
from tests.timeutil import at

LEDGER = {
    "A1": dict(employees=50, probationary=1),
    "A2": dict(employees=49, formal=2, party_org="joint"),
    "A3": dict(employees=100, formal=1, party_org="joint", founded_on=date(2026, 10, 1)),
    "A4": dict(employees=150, instructor="张三"),
    "A5": dict(employees=120, formal=3, party_org="standalone"),
    "A6": dict(employees=300, formal=2, party_org="standalone", status="shell"),
    "A7": dict(employees=99, formal=1, mass="工会"),
    "S1": dict(kind="social", level="district", employees=200, formal=1),
    "S2": dict(
        kind="social", level="district", employees=10, formal=4, elsewhere=3,
        party_org="functional",
    ),
}  # fmt: skip

MEMBER_50 = ("50人以上企业有党员率", 5, 3)
ORG_100 = ("100人以上企业有党组织率", 3, 2)
WITH_MEMBERS = ("有党员的组织建有党组织率", 7, 4)


def build(rules: str) -> SimpleNamespace:
    with at(2026, 10, 20, 9):
        unit = make_unit("jiangan", "江岸区")
        campaign = create_from_template(db.session, "wuhan-2016", 2026, values={"rules": rules})
        for name, facts in LEDGER.items():
            make_org(campaign, unit, name=name, **facts)
        db.session.commit()
    return SimpleNamespace(campaign=campaign, unit=unit)


def named(found: list[figures.RuleFigure]) -> list[tuple[str, int, int]]:
    return [(f.name, f.covered, f.met) for f in found]


def bulletin(w) -> dict:
    period = next(p for p in half_monthly.periods(w.campaign) if p.due_on >= date(2026, 10, 20))
    cutoff = snapshot.cutoff_of(w.campaign, period.due_on, time(18, 0))
    with at(2026, 10, 25, 18, 30):
        return snapshot.build(db.session, w.campaign, period, 1, cutoff, [])


def test_seed_004_the_two_figures_by_hand_now_and_as_of_a_past_day(app):
    w = build("seed-004")
    assert named(figures.rule_figures(db.session, w.campaign)) == [MEMBER_50, ORG_100]
    then = figures.rule_figures(db.session, w.campaign, as_of=date(2026, 9, 30))
    assert named(then) == [(MEMBER_50[0], 5, 2), (ORG_100[0], 3, 1)]
    # The same counts as the old hard-wired ones (one definition).
    counts = figures.overall(db.session, w.campaign).counts
    assert (counts.member_required, counts.member_required_met) == (5, 3)
    assert (counts.party_org_required_by_size, counts.party_org_required_by_size_met) == (3, 2)

    # The bulletin says them as it always did.
    data = bulletin(w)
    assert [(f["name"], f["covered"], f["met"]) for f in data["rule_figures"]] == [
        MEMBER_50,
        ORG_100,
    ]
    html = render.html(data)
    assert (
        "职工50人以上的非公企业5个，有党员的3个，有党员率60.0%；"
        "职工100人以上的非公企业3个，已建立党组织的2个，有党组织率66.7%。"
    ) in html

    # A snapshot from before the rules' figures prints the two figures of ``overall``.
    del data["rule_figures"]
    assert (
        "职工50人以上的非公企业5个，有党员的3个，有党员率60.0%；"
        "职工100人以上的非公企业3个，已建立党组织的2个，有党组织率66.7%。"
    ) in render.html(data)


def test_seed_000_adds_the_organizations_with_members(app):
    w = build("seed-000")
    # And 3名以上正式党员单独组建: A5 (standalone) and S2 (功能型, fitting) = 2, both met.
    assert named(figures.rule_figures(db.session, w.campaign)) == [
        MEMBER_50,
        ORG_100,
        WITH_MEMBERS,
        ("3名以上正式党员的组织单独组建率", 2, 2),
    ]
    html = render.html(bulletin(w))
    # Seed 000's two dates, not set: the build deadline (11-20), not passed on 10-25.
    assert (
        "有党员的“两新”组织7个，已建立党组织的4个，有党组织率57.1%（须于11月20日前）；"
        "正式党员3名以上的“两新”组织2个，已单独建立党组织的2个，单独建立党组织率100.0%"
        "（须于11月20日前）。"
    ) in html

    # The overview lists them for the campaign's rules.
    make_user("coord", "coordinator")
    db.session.commit()
    client = app.test_client()
    login(client, "coord")
    page = client.get(f"/campaigns/{w.campaign.id}").get_data(as_text=True)
    assert "人以上<br>有党员率" not in page.split('id="unit-figures"')[1].split("</table>")[0]
    table = page.split('id="rule-figures"')[1].split("</table>")[0]
    rows = [r for r in table.split("<tr")[2:]]
    assert len(rows) == 4
    assert "有党员的组织建有党组织率" in rows[2] and "须于11月20日前" in rows[2]
    assert "<td>7</td><td>4</td><td>57.1%</td>" in rows[2]
    assert "<td>5</td><td>3</td><td>60.0%</td>" in rows[0]


def test_a_figure_names_the_rules_own_numbers_and_travels_in_the_rule_file(app):
    w = build("seed-004")
    # The settings page's number (the figures' tallies are recounted for the new threshold).
    campaigns.update_settings(db.session, w.campaign, {"member_required_employees": 45}, None)
    db.session.commit()
    # 45 staff or more: A1 A2 A3 A4 A5 A7 = 6; A2 (member, joint org) meets it too: 4.
    assert named(figures.rule_figures(db.session, w.campaign))[0] == (
        "45人以上企业有党员率",
        6,
        4,
    )
    text = rulesets.export_yaml(w.campaign)
    assert "figure: '{employees}人以上企业有党员率'" in text or (
        'figure: "{employees}人以上企业有党员率"' in text
    )
    stored, _ = rulesets.read_yaml(text)
    figured = {r["code"]: r["figure"] for r in stored["rules"] if "figure" in r}
    assert figured == {
        "employees_party_org": "{employees}人以上企业有党组织率",
        "employees_member": "{employees}人以上企业有党员率",
    }


@pytest.mark.parametrize(
    "figure, message",
    [
        (
            "{formal_members}名以上有党员率",
            "第1条规则（x）的「指标名称」（figure）引用了{formal_members}",
        ),
        ("有" * 41, "第1条规则（x）的「指标名称」（figure）应为不超过40字的文字"),
        (3, "第1条规则（x）的「指标名称」（figure）应为不超过40字的文字"),
    ],
)
def test_a_bad_figure_name_is_refused_naming_the_rule_and_field(figure, message):
    data = {
        "rules": [
            {
                "code": "x",
                "target": "member",
                "why": "职工{employees}人以上",
                "kind": "enterprise",
                "employees": {"min": 50},
                "figure": figure,
            }
        ]
    }
    with pytest.raises(ValidationFailed) as refused:
        rulesets.read_yaml(yaml.safe_dump(data, allow_unicode=True))
    assert any(message in text for text in refused.value.messages)
