"""Categories as tags (issue 16, defect 3): an organization has several (a 规模以上 internet
firm is both), the 附表 column takes them 、-separated while its dropdown still offers one,
工商联会员企业 is one of them, and every rule that reads a category reads it among the tags.

Each test here failed before tags: the file refused "规模以上、互联网" as not a choice, and the
ledger had one category per organization."""

import io
import json
from types import SimpleNamespace

import pytest
from flask_migrate import downgrade, stamp, upgrade
from openpyxl import load_workbook
from sqlalchemy import select, text

from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.core.vocab import Target
from campaign.ledger import excel
from campaign.ledger.models import Organization
from tests.conftest import make_campaign, make_org, make_unit
from tests.ledger.conftest import (
    CODE_A,
    CODE_B,
    CODE_C,
    CODE_S,
    CTX,
    enterprise,
    ledger_xlsx,
    social,
)
from tests.ledger.test_import_flow import import_and_apply, w  # noqa: F401


def test_the_category_column_takes_several_categories_separated_by_dunhao():
    data = ledger_xlsx(
        [
            enterprise("江岸甲网络科技有限公司", CODE_A, 企业类别="规模以上、互联网"),
            # Written in any order, with other separators, twice: stored once, in the list's order.
            enterprise("江岸乙文化传媒有限公司", CODE_B, 企业类别="文化创意，互联网 、互联网"),
            # 高新技术企业 (seed 003 例7's 高科技企业) among them.
            enterprise("江岸丙商贸有限公司", CODE_C, 企业类别="高新技术企业、工商联会员企业"),
        ],
        [social("江岸律师事务所", CODE_S, 类别="律师事务所")],
    )
    result = excel.read_workbook(data, CTX)
    assert result.problems == []
    assert [r["tags"] for r in result.rows] == [
        ["above_scale", "internet"],
        ["internet", "cultural"],
        ["chamber_member", "high_tech"],
        ["law_firm"],
    ]


def test_an_unknown_category_among_several_is_named():
    data = ledger_xlsx(
        [enterprise("江岸甲网络科技有限公司", CODE_A, 企业类别="互联网、国有、外资")]
    )
    result = excel.read_workbook(data, CTX)
    assert [str(p) for p in result.problems] == [
        "「附表1 非公企业」第3行E列「企业类别」：“国有”、“外资”不是可选值（可选：规模以上、"
        "外商投资、互联网、文化创意、农村新型经营主体、工商联会员企业、高新技术企业、其他，多个用“、”分隔）"
    ]


def test_a_large_internet_firm_above_scale_keeps_the_internet_rule(w):  # noqa: F811
    """60 employees, no members: as an internet firm with 50+ employees it must have a Party
    org (seed 004: 规模较大的互联网企业); being 规模以上 too takes nothing away. A firm that
    is both internet and 文化创意 is told both reasons."""
    import_and_apply(
        w,
        ledger_xlsx(
            [
                enterprise(
                    "江岸甲网络科技有限公司", CODE_A, 企业类别="规模以上、互联网", 从业人员数=60
                ),
                enterprise(
                    "江岸乙文化传媒有限公司", CODE_B, 企业类别="互联网、文化创意", 从业人员数=60
                ),
                enterprise("江岸丙商贸有限公司", CODE_C, 企业类别="规模以上", 从业人员数=60),
            ]
        ),
    )
    db.session.expire_all()
    rows = {o.credit_code: o for o in db.session.scalars(select(Organization))}
    a, b, c = rows[CODE_A], rows[CODE_B], rows[CODE_C]
    assert (a.tags, a.category, a.target) == (
        ["above_scale", "internet"],
        "above_scale",
        "party_org",
    )
    assert a.rule_codes == "large_typed_enterprise"
    assert (b.target, b.rule_codes) == (
        "party_org",
        "large_typed_enterprise,large_typed_enterprise",
    )
    # 60 employees and no type the rules name: only "50人以上有党员".
    assert (c.target, c.rule_codes) == ("member", "employees_member")
    assert a.category_label == "规模以上、互联网"


def test_the_export_writes_the_tags_and_reads_back_the_same(w):  # noqa: F811
    from campaign.ledger import services

    make_org(w.campaign, w.jiangan, category="internet", employees=60)
    org = db.session.scalar(select(Organization))
    services.update_organization(
        db.session, w.campaign, org, {"tags": ["internet", "foreign", "above_scale"]}, None
    )
    db.session.commit()
    data, _ = services.export_workbook(db.session, w.campaign, [w.jiangan.id])
    sheet = load_workbook(io.BytesIO(data))["附表1 非公企业"]
    headers = [c.value for c in sheet[2]]
    assert sheet.cell(3, headers.index("企业类别*") + 1).value == "规模以上、外商投资、互联网"
    again = excel.read_workbook(data, CTX)
    assert again.rows[0]["tags"] == ["above_scale", "foreign", "internet"]
    # The change was recorded, tags before and after.
    from campaign.audit import AuditEntry

    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "organization.update")
        .order_by(AuditEntry.id.desc())
    )
    assert json.loads(entry.before)["tags"] == ["internet"]
    assert json.loads(entry.after)["tags"] == ["above_scale", "foreign", "internet"]


def test_the_template_dropdown_offers_one_and_lets_several_be_typed(w):  # noqa: F811
    from campaign.ledger import services

    data, _ = services.export_workbook(db.session, w.campaign, [w.jiangan.id], blank=True)
    sheet = load_workbook(io.BytesIO(data))["附表1 非公企业"]
    [dv] = [dv for dv in sheet.data_validations.dataValidation if "E3" in str(dv.sqref)]
    assert dv.type == "list" and not dv.showErrorMessage


def test_the_upgrade_makes_each_old_category_the_one_tag(app, backend):
    """Rows from before the upgrade had one category: after it, that category is their one
    tag, and what the rules say of them is the same."""
    stamp()
    campaign = make_campaign()
    unit = make_unit("jiangan", "江岸区")
    make_org(campaign, unit, category="internet", employees=60, name="甲")
    make_org(campaign, unit, kind="social", category="law_firm", level="district", name="乙")
    db.session.commit()
    before = {o.name: (o.target, o.rule_codes) for o in db.session.scalars(select(Organization))}
    db.session.remove()
    downgrade(revision="241792fd1ae3")
    upgrade()
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT name, category, tags FROM organization ORDER BY name"))
        found = [
            (r.name, r.category, r.tags if isinstance(r.tags, list) else json.loads(r.tags))
            for r in rows
        ]
    assert found == [("乙", "law_firm", ["law_firm"]), ("甲", "internet", ["internet"])]
    from campaign.ledger import services

    db.session.expire_all()
    c = db.session.scalar(select(Campaign))
    services.reevaluate_campaign(db.session, c)
    db.session.expire_all()
    after = {o.name: (o.target, o.rule_codes) for o in db.session.scalars(select(Organization))}
    assert after == before
    # Campaigns made from wuhan-2016 get that template's bulletin texts.
    assert c.masthead == "“百日攻坚行动”工作通报"


@pytest.mark.parametrize(
    "tags, employees, target",
    [
        (("rural", "chamber_member"), 5, Target.PARTY_ORG),  # rural with a member: still a rule
        (("chamber_member",), 5, Target.WORK_COVERAGE),  # a member firm: no rule of its own
        (("foreign", "internet"), 50, Target.PARTY_ORG),
    ],
)
def test_rules_read_each_category_among_the_tags(tags, employees, target):
    from campaign import rules

    org = SimpleNamespace(
        kind="enterprise",
        tags=tags,
        operating_status="normal",
        registration_level=None,
        employees=employees,
        formal_members=1,
        probationary_members=0,
    )
    assert rules.evaluate(org, rules.Thresholds()).target is target
