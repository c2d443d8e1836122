"""Seed 000's dated milestones (issue 16): a rule may name a due date.

Seed 000 "三（二）实施阶段": "X月X日前……实现有3名以上正式党员的非公经济组织和社会组织单独建立
党组织。X月X日前……实现有党员的非公经济组织和社会组织党组织应建尽建。" The X are the city's: two
campaign settings, 单独组建完成日期 and 应建尽建完成日期; one not set is the build deadline (the end
of wuhan-2016's 抓好集中组建 phase: 2026-11-20).

The city sets 单独组建完成日期 = 2026-10-15 and leaves 应建尽建完成日期 empty (-> 11-20). Ledger
(one district), read on 2026-10-25 (the first date has passed, the second not):

  D1 enterprise, 20 staff, 3 formal, nothing          应单独组建 (3 formal): due 10-15
  D2 enterprise, 20 staff, 1 formal, nothing          应建党组织 (has a member): due 11-20
  D3 enterprise, 120 staff, no member, nothing        应建党组织 (100人, a rule without a date)
  D4 enterprise, 20 staff, 4 formal, standalone founded 2026-10-10   met
  D5 social, 10 staff, 3 formal, standalone founded 2026-10-20       met (after 10-15)
  D6 enterprise, 20 staff, 1 formal, joint founded 2026-09-20        met

Board items once the base is approved: D1 planned 10-15 (overdue on 10-25), D2 planned 11-20,
D3 not planned. Figures:
  3名以上正式党员的组织单独组建率: D1 D4 D5 = 3, met D4 D5 = 2; 须于10月15日前, and by then D4
    alone (D5's came on 10-20) = 1.
  有党员的组织建有党组织率: D1 D2 D4 D5 D6 = 5, met D4 D5 D6 = 3; 须于11月20日前 (not passed:
    no count by it yet).
应建尽建完成日期 set to 11-10: D2's item is planned 11-10 (earlier than its 11-20); D1 keeps
10-15. A plan later than the due date is refused.
"""

from datetime import date

import pytest
import yaml
from sqlalchemy import select

from campaign import figures, rulesets
from campaign.board import services as board
from campaign.board.inputs import Plan
from campaign.board.models import BoardItem
from campaign.core.campaigns import create_from_template, settings_from, update_settings
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.rule_changes import change_rules
from tests.conftest import approve_base, make_org, make_unit, make_user
from tests.timeutil import at

LEDGER = {
    "D1": dict(employees=20, formal=3),
    "D2": dict(employees=20, formal=1),
    "D3": dict(employees=120),
    "D4": dict(employees=20, formal=4, party_org="standalone", founded_on=date(2026, 10, 10)),
    "D5": dict(
        kind="social", level="district", employees=10, formal=3, party_org="standalone",
        founded_on=date(2026, 10, 20),
    ),
    "D6": dict(employees=20, formal=1, party_org="joint", founded_on=date(2026, 9, 20)),
}  # fmt: skip


def _planned(campaign) -> dict[str, date | None]:
    db.session.expire_all()
    items = db.session.scalars(select(BoardItem).where(BoardItem.campaign_id == campaign.id))
    return {i.organization.name: i.planned_on for i in items}


def test_the_two_dated_milestones_on_the_board_and_in_the_figures(app, client):
    with at(2026, 10, 25, 9):
        unit = make_unit("jiangan", "江岸区")
        campaign = create_from_template(
            db.session, "wuhan-2016", 2026, values={"rules": "seed-000"}
        )
        update_settings(
            db.session, campaign, settings_from({"standalone_due_on": "2026-10-15"}), user=None
        )
        orgs = {n: make_org(campaign, unit, name=n, **facts) for n, facts in LEDGER.items()}
        coordinator, operator = approve_base(campaign, unit)

        assert _planned(campaign) == {
            "D1": date(2026, 10, 15),
            "D2": date(2026, 11, 20),
            "D3": None,
        }
        assert board.totals(db.session, campaign)["overdue"] == 1  # D1

        found = {f.code: f for f in figures.rule_figures(db.session, campaign)}
        standalone, with_members = found["formal_members"], found["members_party_org"]
        assert (standalone.covered, standalone.met) == (3, 2)
        assert (standalone.due_on, standalone.met_by_due) == (date(2026, 10, 15), 1)
        assert standalone.due_text == "须于10月15日前，截至10月15日已达到1个"
        assert (with_members.covered, with_members.met) == (5, 3)
        assert (with_members.due_on, with_members.met_by_due) == (date(2026, 11, 20), None)
        assert with_members.due_text == "须于11月20日前"
        assert standalone.as_dict()["due_on"] == "2026-10-15"

        # The rules page says the dates.
        lines = rulesets.rule_lines(rulesets.rule_set_of(campaign))
        assert any("应单独组建（须于10月15日前）" in line for line in lines)
        assert any("应建党组织（须于11月20日前）" in line for line in lines)
        from tests.conftest import login

        login(client, "coord")
        page = client.get(f"/campaigns/{campaign.id}/rules").get_data(as_text=True)
        assert "须于10月15日前" in page and "须于11月20日前" in page
        overview = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
        assert "须于10月15日前，截至10月15日已达到1个" in overview

        # The second date set on the settings page: D2's item is planned by it.
        update_settings(
            db.session, campaign, settings_from({"required_due_on": "2026-11-10"}), user=None
        )
        db.session.commit()
        assert _planned(campaign) == {
            "D1": date(2026, 10, 15),
            "D2": date(2026, 11, 10),
            "D3": None,
        }

        item = db.session.scalar(
            select(BoardItem).where(BoardItem.organization_id == orgs["D2"].id)
        )
        late = Plan.from_form({"path": "joint", "planned_on": "2026-11-15"})
        with pytest.raises(ValidationFailed, match="不能晚于规则要求的完成日期（须于11月10日前）"):
            board.update_plan(db.session, item, late, operator)
        db.session.rollback()
        board.update_plan(
            db.session,
            item,
            Plan.from_form({"path": "joint", "planned_on": "2026-11-01"}),
            operator,
        )
        assert item.planned_on == date(2026, 11, 1)


def test_a_due_date_round_trips_in_the_rule_file(app):
    with at(2026, 10, 25, 9):
        campaign = create_from_template(
            db.session, "wuhan-2016", 2026, values={"rules": "seed-000"}
        )
        campaign.standalone_due_on = date(2026, 10, 15)
        campaign.required_due_on = date(2026, 11, 10)
        db.session.flush()
        data = rulesets.preset_data("seed-000")
        data["rules"][0]["due"] = "2026-10-01"  # a date of its own instead of the setting's
        change_rules(db.session, campaign, data, user=None)
        text = rulesets.export_yaml(campaign)
        exported = yaml.safe_load(text)
        assert exported["rules"][0]["due"] == "2026-10-01"
        # The dates the rules name travel with them (the first rule names a date of its own).
        assert exported["settings"]["required_due_on"] == date(2026, 11, 10)
        assert "standalone_due_on" not in exported["settings"]
        assert [r.get("due") for r in exported["rules"] if r.get("due")] == [
            "2026-10-01",
            "required_due_on",
        ]
        other = create_from_template(db.session, "wuhan-2016", 2027)
        stored, settings = rulesets.read_yaml(text)
        change_rules(db.session, other, stored, user=None, settings=settings)
        assert other.rule_set == campaign.rule_set
        assert other.required_due_on == date(2026, 11, 10)
        assert rulesets.export_yaml(other) == text


@pytest.mark.parametrize(
    ("due", "says"),
    [
        ("tomorrow", "而不是“tomorrow”"),
        ("2026-02-30", "不存在的日期"),
        ("'2026-02-30'", "而不是“2026-02-30”"),
        ("[1, 2]", "而不是“[1, 2]”"),
        ("2026-11-30 10:00:00", "而不是“2026-11-30 10:00:00”"),
    ],
    ids=["a-word", "no-such-day", "no-such-day-quoted", "a-list", "a-time"],
)
def test_a_due_date_that_is_not_a_date_is_refused_naming_rule_and_field(due, says):
    text = f"rules: [{{code: r1, target: party_org, why: 测试, due: {due}}}]"
    with pytest.raises(ValidationFailed) as refused:
        rulesets.read_yaml(text)
    message = str(refused.value)
    assert says in message
    if "不存在的日期" not in says:
        assert "第1条规则（r1）的「完成日期」（due）应为日期" in message


def test_a_due_setting_in_a_rule_file_must_be_a_date():
    with pytest.raises(ValidationFailed, match="“standalone_due_on”应为日期"):
        rulesets.read_yaml("settings: {standalone_due_on: soon}\nrules: []")


def test_the_rules_page_refuses_hostile_new_fields_with_a_4xx_naming_rule_and_field(app, client):
    from tests.conftest import csrf_token, login

    campaign = create_from_template(db.session, "wuhan-2016", 2026, values={"rules": "seed-000"})
    make_user("coord", "coordinator")
    db.session.commit()
    before = dict(campaign.rule_set)
    login(client, "coord")
    path = f"/campaigns/{campaign.id}/rules"
    token = csrf_token(client, path)
    for rule, says in [
        ("due: 2026-02-30", "规则文件中有不存在的日期"),
        ("due: someday", "第1条规则（r1）的「完成日期」（due）应为日期"),
        ("share: 150, figure: 率", "第1条规则（r1）的「比例目标（%）」（share）应为1至100的整数"),
        ("means: phone", "第1条规则（r1）的「工作覆盖方式」（means）应为"),
    ]:
        text = f"rules: [{{code: r1, target: work_coverage, why: x, {rule}}}]"
        answer = client.post(path, data={"yaml": text, "csrf_token": token})
        assert answer.status_code == 422, rule
        assert says in answer.get_data(as_text=True), rule
    db.session.expire_all()
    assert db.session.get(type(campaign), campaign.id).rule_set == before
