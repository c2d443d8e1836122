"""A campaign's rule set is data (issue 16): presets named by their seed, YAML files, changes.

Every expected value is worked out by hand from the seed texts, not from the code:

One ledger (one district) judged under each preset:

  E1 enterprise, 120 staff, no member, nothing
  E2 enterprise, 60 staff, 1 formal, joint Party org
  E3 enterprise 互联网, 55 staff, 2 formal, joint Party org
  E4 enterprise, 20 staff, 3 formal, standalone Party org
  E5 enterprise, 20 staff, 1 probationary, nothing
  E6 enterprise 空壳, 200 staff                      (out of the base under every preset)
  E7 enterprise 规模以上, 60 staff, 1 formal, joint Party org
  E8 enterprise, 35 staff, no member, 党建指导员 李四
  S1 social 社会团体, 市级, 10 staff, nothing
  S2 social 基金会, 市级, 10 staff, nothing
  S3 social 民办学校, 区级, 30 staff, nothing
  S4 social 律师事务所, 区级, 5 staff, 2 formal, joint Party org
  S5 social 民办医院, 区级, 40 staff, 党建指导员 王五

Seed 004 (目标任务: 50人以上有党员, 100人以上建党组织, 规模较大的互联网/文化创意, 市级社会团体,
30人以上民办学校/医院, 律师/会计师/税务师事务所; 凡有3名及以上正式党员的必须单独建立):
  E1 party_org (short), E2 member (met: a member, and the joint org covers it), E3 party_org
  (met), E4 standalone (met), E5 work_coverage (short), E7 member (met: 规模以上 is no rule
  of 004), E8 work_coverage (met), S1 party_org (short), S2 work_coverage (short: a 基金会 is
  no 社会团体), S3 party_org (short), S4 party_org (met), S5 party_org (short: the 指导员 is
  not a Party org).
  应建尽建率 = E3, E4, S4 of E1, E3, E4, S1, S3, S4, S5 = 3/7.
  Read as "市级社会组织建有党的组织" (落实工作责任): S2 party_org (short) too: 3/8.

Seed 000 (004's size and type rules, no 互联网/文化创意/农村 rule; "有党员的…党组织应建尽建";
3名以上正式党员单独组建):
  E1 party_org (short), E2 party_org (met: joint), E3 party_org (met), E4 standalone (met),
  E5 party_org (short; 1 probationary is a member; joint, fewer than 3 formal), E7 party_org
  (met: joint), E8 work_coverage, S1 party_org (short), S2 work_coverage, S3 party_org
  (short), S4 party_org (met), S5 party_org (short).
  应建尽建率 = E2, E3, E4, E7, S4 of E1, E2, E3, E4, E5, E7, S1, S3, S4, S5 = 5/10.

Seed 003 (例3: 3名以上正式党员单独组建; 30人以上企业有党建指导员, 50人以上企业有党员, 规模以上
企业单独建党组织):
  E1 member (short), E2 member (met), E3 member (met: no 互联网 rule), E4 standalone (met),
  E5 work_coverage (short), E7 standalone (short: 规模以上, a joint org is not its own), E8
  work_coverage by the 指导员 rule (met), S1..S5 work_coverage (S4 met by its joint org, S5
  by its 指导员). 应建尽建率 = E4 of E4, E7 = 1/2. With 例7's "20人以上的新社会组织中有党员"
  switched on: S3 (30 staff) and S5 (40 staff) member (short); nothing else changes.

Board items (once the base is approved) are the organizations short of their target:
  seed 004: E1, E5, S1, S2, S3, S5; seed 003: E1, E5, E7, S1, S2, S3.
  From 004 to 003: E7 opened, S5 closed; and back.
"""

from types import SimpleNamespace

import pytest
import yaml
from sqlalchemy import select

from campaign import figures, rulesets
from campaign.audit import AuditEntry
from campaign.board.models import BoardItem, ItemState
from campaign.core.campaigns import create_from_template
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.rule_changes import change_rules
from campaign.ledger import services as ledger
from campaign.ledger.models import Organization
from tests.conftest import make_org, make_unit, make_user

LEDGER = {
    "E1": dict(employees=120),
    "E2": dict(employees=60, formal=1, party_org="joint"),
    "E3": dict(category="internet", employees=55, formal=2, party_org="joint"),
    "E4": dict(employees=20, formal=3, party_org="standalone"),
    "E5": dict(employees=20, probationary=1),
    "E6": dict(employees=200, status="shell"),
    "E7": dict(category="above_scale", employees=60, formal=1, party_org="joint"),
    "E8": dict(employees=35, instructor="李四"),
    "S1": dict(kind="social", category="association", level="city", employees=10),
    "S2": dict(kind="social", category="foundation", level="city", employees=10),
    "S3": dict(kind="social", category="school", level="district", employees=30),
    "S4": dict(
        kind="social", category="law_firm", level="district", employees=5, formal=2,
        party_org="joint",
    ),
    "S5": dict(
        kind="social", category="hospital", level="district", employees=40, instructor="王五"
    ),
}  # fmt: skip


def build(rules: str, year: int = 2026) -> SimpleNamespace:
    unit = make_unit("jiangan", "江岸区")
    campaign = create_from_template(db.session, "wuhan-2016", year, values={"rules": rules})
    orgs = {name: make_org(campaign, unit, name=name, **facts) for name, facts in LEDGER.items()}
    db.session.flush()
    return SimpleNamespace(campaign=campaign, unit=unit, orgs=orgs)


def targets(w) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Organization.name, Organization.target).where(
            Organization.campaign_id == w.campaign.id
        )
    )
    return dict(rows.tuples().all())


def required(w) -> tuple[int, int]:
    counts = figures.overall(db.session, w.campaign).counts
    return counts.required_met, counts.required


def switched(w, code: str, enabled: bool = True) -> dict:
    data = rulesets.preset_data(w.campaign.rule_set["preset"])
    for rule in data["rules"]:
        if rule["code"] == code:
            rule["enabled"] = enabled
    return data


SEED_004 = {
    "E1": "party_org", "E2": "member", "E3": "party_org", "E4": "standalone",
    "E5": "work_coverage", "E6": "excluded", "E7": "member", "E8": "work_coverage",
    "S1": "party_org", "S2": "work_coverage", "S3": "party_org", "S4": "party_org",
    "S5": "party_org",
}  # fmt: skip


def test_seed_004_by_hand_and_its_wider_reading(app):
    w = build("seed-004")
    assert targets(w) == SEED_004
    assert required(w) == (3, 7)

    change_rules(db.session, w.campaign, switched(w, "city_social_org"), user=None)
    assert targets(w) == {**SEED_004, "S2": "party_org"}
    assert required(w) == (3, 8)
    # The foundation's reason is the 落实工作责任 reading's.
    assert db.session.get(Organization, w.orgs["S2"].id).rule_codes == "city_social_org"


def test_seed_000_every_org_with_a_member_must_have_a_party_org(app):
    w = build("seed-000")
    assert targets(w) == {
        "E1": "party_org", "E2": "party_org", "E3": "party_org", "E4": "standalone",
        "E5": "party_org", "E6": "excluded", "E7": "party_org", "E8": "work_coverage",
        "S1": "party_org", "S2": "work_coverage", "S3": "party_org", "S4": "party_org",
        "S5": "party_org",
    }  # fmt: skip
    assert required(w) == (5, 10)
    e5 = db.session.get(Organization, w.orgs["E5"].id)
    assert (e5.path, e5.rule_codes) == ("joint", "members_party_org")


def test_seed_003_township_rules_and_a_variant(app):
    w = build("seed-003")
    expected = {
        "E1": "member", "E2": "member", "E3": "member", "E4": "standalone",
        "E5": "work_coverage", "E6": "excluded", "E7": "standalone", "E8": "work_coverage",
        "S1": "work_coverage", "S2": "work_coverage", "S3": "work_coverage",
        "S4": "work_coverage", "S5": "work_coverage",
    }  # fmt: skip
    assert targets(w) == expected
    assert required(w) == (1, 2)
    e8 = db.session.get(Organization, w.orgs["E8"].id)
    assert e8.rule_codes == "employees_instructor"
    counts = figures.overall(db.session, w.campaign).counts
    # 应有党员: E1 short of E1, E2, E3.
    assert (counts.due_member, counts.short("member")) == (3, 1)

    change_rules(db.session, w.campaign, switched(w, "social_member"), user=None)
    assert targets(w) == {**expected, "S3": "member", "S5": "member"}
    assert required(w) == (1, 2)


def test_a_campaign_without_a_stored_rule_set_reads_seed_004(app):
    w = build("seed-004")
    w.campaign.rule_set = None
    ledger.reevaluate_campaign(db.session, w.campaign)
    assert targets(w) == SEED_004


def test_the_settings_are_the_numbers_the_rules_name(app):
    # 应建党组织的职工人数 100 -> 121: E1 (120 staff) now only has to have a member.
    w = build("seed-004")
    from campaign.core.campaigns import settings_from, update_settings

    update_settings(
        db.session, w.campaign, settings_from({"party_org_required_employees": "121"}), user=None
    )
    assert targets(w)["E1"] == "member"
    assert "职工121人以上" in rulesets.rule_lines(rulesets.rule_set_of(w.campaign))[1]


# ---- YAML files -------------------------------------------------------------------------


def test_a_rule_file_round_trips(app, tmp_path):
    w = build("seed-003")
    change_rules(
        db.session,
        w.campaign,
        switched(w, "staff_member"),
        user=None,
        settings={"member_required_employees": 45},
    )
    text = rulesets.export_yaml(w.campaign)
    data = yaml.safe_load(text)
    assert data["settings"] == {"member_required_employees": 45, "standalone_formal_members": 3}
    assert [r["code"] for r in data["rules"] if r["enabled"]][-1] == "staff_member"

    other = create_from_template(db.session, "wuhan-2016", 2027)  # seed-004
    stored, settings = rulesets.read_yaml(text)
    change_rules(db.session, other, stored, user=None, settings=settings)
    assert other.rule_set == w.campaign.rule_set
    assert other.member_required_employees == 45
    assert rulesets.export_yaml(other) == text


RULE = "{code: r1, target: party_org, why: 测试, kind: enterprise}"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("rules: [", "不是有效的YAML第"),
        ("- a\n- b\n", "规则文件应为一组"),
        ("rules: 3", "应有 rules"),
        ("rules: [{code: r1, target: everything, why: 测试}]", "第1条规则（r1）的「要求」（target）"),
        (
            "rules: [" + RULE + ", {code: r2, target: member, why: x, tags: [moon]}]",
            "第2条规则（r2）的「类别」（tags）中没有类别“moon”",
        ),
        (
            "rules: [{code: r1, target: member, why: x, employees: {min: 9, max: 3}}]",
            "「职工（从业人员）数」（employees）的下限（9）大于上限（3）",
        ),
        (
            "rules: [{code: r1, target: member, why: x, employees: {min: -1}}]",
            "下限应为0至1000000的整数",
        ),
        (
            "rules: [{code: r1, target: member, why: x, employees: {min: true}}]",
            "而不是“True”",
        ),
        (
            "rules: [{code: r1, target: member, why: '{employees.__class__}', employees: {min: 1}}]",
            "只能引用",
        ),
        ("rules: [{code: r1, target: member, why: '职工{employees}人'}]", "未设职工（从业人员）数下限"),
        ("rules: [{code: r1, target: member, why: x, colour: red}]", "不认识的字段“colour”"),
        ("rules: [{code: R-1, target: member, why: x}]", "「代码」（code）"),
        ("rules: [{code: r1, target: member, why: x, kind: 企业}]", "「组织类型」（kind）"),
        ("settings: {member_required_employees: lots}\nrules: []", "应为0至1000000的整数"),
        ("settings: {colour: 3}\nrules: []", "「行动设置」中没有“colour”"),
        ("rules:\n" + "".join(f"- {{code: r{i}, target: member, why: x}}\n" for i in range(101)), "规则最多100条"),
    ],
    ids=[
        "not-yaml", "a-list", "rules-not-a-list", "bad-target", "bad-tag", "min-above-max",
        "negative", "bool", "format-attack", "placeholder-without-bound", "unknown-field",
        "bad-code", "bad-kind", "bad-setting-value", "unknown-setting", "too-many",
    ],
)  # fmt: skip
def test_a_hostile_rule_file_is_refused_naming_rule_and_field(text, says):
    # Read and checked whole before anything is written (the CLI test below shows a refused
    # file leaves the campaign as it was); no database needed.
    with pytest.raises(ValidationFailed) as refused:
        rulesets.read_yaml(text)
    assert says in str(refused.value)


def test_the_cli_imports_shows_and_refuses(app, runner, tmp_path):
    w = build("seed-004")
    db.session.commit()
    path = tmp_path / "rules.yaml"
    assert runner.invoke(args=["rules", "export", str(path)]).exit_code == 0
    text = path.read_text(encoding="utf-8").replace("enabled: false", "enabled: true", 1)
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["rules", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "不再需要的攻坚事项 0 个" in result.output
    assert "应建尽建率 3/7（42.9%） → 3/8（37.5%）" in result.output
    shown = runner.invoke(args=["rules", "show", "--campaign", str(w.campaign.id)]).output
    # 市级社会团体: S1 only, short; every 市级社会组织: S1 and S2, both short.
    assert (
        "类别为社会团体或行业协会商会的市级社会组织：应建党组织——市级社会团体　覆盖1个，已达到0个"
        in shown
    )
    assert "市级社会组织：应建党组织——市级社会组织　覆盖2个，已达到0个" in shown
    # 3名以上正式党员: E4 alone, standalone: met.
    assert (
        "（正式党员3名以上）：应单独组建——有3名以上正式党员，须单独组建　覆盖1个，已达到1个"
        in shown
    )

    path.write_text("rules: [{code: r1, target: all}]", encoding="utf-8")
    refused = runner.invoke(args=["rules", "import", str(path)])
    assert refused.exit_code == 1
    assert "rules.yaml：第1条规则（r1）的「要求」（target）应为" in refused.output
    assert "市级社会组织" in runner.invoke(args=["rules", "show"]).output  # unchanged


def test_after_the_base_is_approved_a_change_is_previewed_then_recorded_once(app, runner):
    w = build("seed-004")
    coordinator = make_user("coord", "coordinator")
    operator = make_user("op", "operator", w.unit)
    unit_ledger = ledger.unit_ledger(db.session, w.campaign, w.unit)
    ledger.submit_ledger(db.session, unit_ledger, operator)
    ledger.approve_ledger(db.session, unit_ledger, coordinator)
    db.session.commit()
    assert _open_items(w) == {"E1", "E5", "S1", "S2", "S3", "S5"}

    # Seed 003's rules instead, without confirming: refused, nothing changed.
    data = rulesets.preset_data("seed-003")
    with pytest.raises(ValidationFailed, match="须先预览其影响"):
        change_rules(db.session, w.campaign, data, user=coordinator)
    db.session.rollback()

    effect = change_rules(db.session, w.campaign, data, user=coordinator, confirmed=True)
    db.session.commit()
    names = {o.id: name for name, o in w.orgs.items()}
    assert {names[i] for i in effect.opened} == {"E7"}
    assert {names[i] for i in effect.closed} == {"S5"}
    assert _open_items(w) == {"E1", "E5", "E7", "S1", "S2", "S3"}
    assert required(w) == (1, 2)
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "campaign.rules")
    ).all()
    assert len(entries) == 1
    assert "应建尽建率 3/7（42.9%） → 1/2（50.0%）" in entries[0].after
    # Read in plain Chinese in the change record: the rules before and after, the effect.
    from campaign import display

    shown = display.audit_values(entries[0].after, "campaign")
    assert "新增攻坚事项（个）：1" in shown and "不再需要的攻坚事项（个）：1" in shown
    assert "规则：“两新”组织（正式党员3名以上）：应单独组建——有3名以上正式党员" in shown
    assert display.audit_action("campaign.rules") == "修改行动规则"
    items = {i.organization_id: i for i in db.session.scalars(select(BoardItem))}
    closed = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "item.rules",
            AuditEntry.object_id == str(items[w.orgs["S5"].id].id),
        )
    ).one()
    assert display.audit_values(closed.after, "board_item") == (
        "规则要求：实现工作覆盖；说明：规则修改后已达要求，无需再攻坚；攻坚状态：已销号"
    )
    items = {i.organization_id: i for i in db.session.scalars(select(BoardItem))}
    assert items[w.orgs["E1"].id].target == "member"
    assert items[w.orgs["E7"].id].target == "standalone"

    s5 = items[w.orgs["S5"].id]
    assert s5.state == ItemState.CLOSED and "规则修改后已达要求" in s5.last_reason

    # Back to seed 004: E7 meets 应有党员 again, its item is closed; S5's is reopened.
    change_rules(
        db.session, w.campaign, rulesets.preset_data("seed-004"), user=coordinator, confirmed=True
    )
    db.session.commit()
    assert _open_items(w) == {"E1", "E5", "S1", "S2", "S3", "S5"}
    db.session.refresh(s5)
    assert s5.state == ItemState.REOPENED and s5.target == "party_org"
    assert "规则修改后须“应建党组织”" in s5.last_reason


def _open_items(w) -> set[str]:
    from campaign.board.models import OPEN_STATES

    rows = db.session.scalars(
        select(Organization.name)
        .join(BoardItem, BoardItem.organization_id == Organization.id)
        .where(BoardItem.campaign_id == w.campaign.id, BoardItem.state.in_(OPEN_STATES))
    )
    return set(rows)


def test_the_api_and_the_form_create_a_campaign_with_a_preset(app, client):
    from campaign.core.accounts import issue_token
    from tests.conftest import login

    coordinator = make_user("coord", "coordinator")
    token = issue_token(db.session, coordinator)
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    made = client.post(
        "/api/v1/campaigns", json={"template": "seed-000", "year": 2027, "rules": "seed-003"},
        headers=auth,
    )  # fmt: skip
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.get_json()["rules"] == "seed-003"
    bad = client.post(
        "/api/v1/campaigns", json={"template": "blank", "year": 2028, "rules": "seed-9"},
        headers=auth,
    )  # fmt: skip
    assert bad.status_code == 422
    assert "没有名为“seed-9”的规则预设" in bad.get_json()["errors"]["rules"]

    login(client, "coord")
    page = client.get("/campaigns/new").get_data(as_text=True)
    assert 'name="rules"' in page and "seed-000：" in page and "seed-003：" in page


def test_the_rules_page_reads_to_all_and_changes_for_coordinators_only(app, client):
    from tests.conftest import csrf_token, login

    w = build("seed-004")
    make_user("coord", "coordinator")
    operator = make_user("op", "operator", w.unit)
    db.session.commit()
    path = f"/campaigns/{w.campaign.id}/rules"

    login(client, "op")
    page = client.get(path).get_data(as_text=True)
    assert "市级社会团体" in page and 'name="enabled"' not in page
    refused = client.post(path, data={"preset": "seed-003", "csrf_token": csrf_token(client, path)})
    assert refused.status_code == 403
    assert "此操作仅限市级专班和系统管理员" in refused.get_data(as_text=True)
    client = app.test_client()
    login(client, "coord")
    token = csrf_token(client, path)
    # Before the base is approved: switching on rule 7 (every 市级社会组织) takes effect at once.
    every_rule = [str(i) for i in range(1, 14)]
    done = client.post(path, data={"toggle": "1", "enabled": every_rule, "csrf_token": token})
    assert done.status_code == 302
    assert targets(w)["S2"] == "party_org"

    ledger_row = ledger.unit_ledger(db.session, w.campaign, w.unit)
    ledger.submit_ledger(db.session, ledger_row, operator)
    ledger.approve_ledger(db.session, ledger_row, db.session.scalar(select_user("coord")))
    db.session.commit()
    # After: a preview first, nothing changed; then the confirmation.
    preview = client.post(path, data={"preset": "seed-003", "csrf_token": token})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "修改的影响（预览，尚未生效）" in html
    assert "新增攻坚事项 1 个，不再需要的攻坚事项 1 个" in html  # E7 opened, S5 closed
    assert targets(w)["E7"] == "member"
    confirmed = client.post(path, data={"preset": "seed-003", "confirm": "1", "csrf_token": token})
    assert confirmed.status_code == 302
    assert targets(w)["E7"] == "standalone"
    bad = client.post(
        path, data={"yaml": "rules: [{code: x}]", "confirm": "1", "csrf_token": token}
    )
    assert bad.status_code == 422 and "第1条规则（x）" in bad.get_data(as_text=True)


def select_user(username: str):
    from campaign.core.models import User

    return select(User).where(User.username == username)
