"""The figures of the campaign's rules are kept in a tally (rule_counts) that stays equal to the
ledger scan through imports, closures and their revocation, rule and threshold changes; a
rule added later is counted from its own fields; ``flask campaign recount`` repairs it.

Three small worlds, each borrowed with its hand-worked figures from the tests of its area:

- tests/test_rule_figures.py's ledger (one district, A1..A7 and S1, S2): seed 004's
  50人以上企业有党员率 5 covered / 3 met and 100人以上企业有党组织率 3 / 2; seed 000 adds
  有党员的组织建有党组织率 7 / 4.
- tests/ledger/test_import_flow.py's files V1 and V2 (江岸区).
- tests/board/test_board_services.py's board (大企业 120 staff, 已联建 60 staff with a joint
  Party org, 小企业, 四党员, 空壳 out of the base; 武昌三党员 in 武昌区).
"""

from datetime import date

from sqlalchemy import delete, func, select, update

from campaign import figures, rulesets
from campaign.board import services as board
from campaign.core import campaigns, rule_changes
from campaign.core.extensions import db
from campaign.figures import RULE_TALLY
from campaign.ledger.models import RuleCounts
from tests.board.test_board_services import (  # noqa: F401  (the fixtures)
    item_of,
    joint,
    submit,
    synced,
    today,
    verify,
)
from tests.board.test_board_services import w as board_world  # noqa: F401
from tests.conftest import make_org
from tests.ledger.conftest import ledger_xlsx
from tests.ledger.test_import_flow import V1, V2, import_and_apply
from tests.ledger.test_import_flow import w as import_world  # noqa: F401
from tests.test_rule_figures import MEMBER_50, ORG_100, WITH_MEMBERS, build, named

# A rule no preset has, with a figure: a rule set's field (formal members, kind) the tally
# was never told about. Social organizations of the base with a formal member: S1 (1 formal)
# and S2 (4 formal); of them with a Party org of a form the rule accepts: S2 (功能型, most of
# its members belong elsewhere, as seed 004 allows a social organization) = 2 covered, 1 met.
SOCIAL_WITH_FORMAL = {
    "code": "social_formal_party_org",
    "target": "party_org",
    "why": "有正式党员的社会组织应建立党组织",
    "kind": "social",
    "formal_members": {"min": 1},
    "figure": "有正式党员的社会组织建有党组织率",
}


def rows_kept(campaign) -> int:
    return db.session.scalar(
        select(func.count()).select_from(RuleCounts).where(RuleCounts.campaign_id == campaign.id)
    )


def test_rule_and_threshold_changes_recount_the_rules_figures(app):
    w = build("seed-004")
    assert rows_kept(w.campaign) > 0  # read from the tally, not the ledger
    assert named(figures.rule_figures(db.session, w.campaign)) == [MEMBER_50, ORG_100]
    assert RULE_TALLY.matches(db.session, w.campaign)

    stored = rulesets.preset_data("seed-000")
    stored["rules"].append(SOCIAL_WITH_FORMAL)
    rule_changes.change_rules(db.session, w.campaign, stored, None)
    db.session.commit()
    assert named(figures.rule_figures(db.session, w.campaign)) == [
        MEMBER_50,
        ORG_100,
        WITH_MEMBERS,
        ("有正式党员的社会组织建有党组织率", 2, 1),
        # Seed 000's 3名以上正式党员单独组建 (its first milestone): A5 (standalone) and S2
        # (功能型, fitting) = 2, both met; A6 is out of the base.
        ("3名以上正式党员的组织单独组建率", 2, 2),
    ]
    assert RULE_TALLY.matches(db.session, w.campaign)

    # 45 staff or more: A1 A2 A3 A4 A5 A7 = 6; A2 (member, joint org) meets it too: 4.
    campaigns.update_settings(db.session, w.campaign, {"member_required_employees": 45}, None)
    db.session.commit()
    assert named(figures.rule_figures(db.session, w.campaign))[0] == ("45人以上企业有党员率", 6, 4)
    assert RULE_TALLY.matches(db.session, w.campaign)


def test_recount_repairs_the_tally_and_an_uncounted_campaign_reads_the_ledger(app, runner):
    w = build("seed-004")
    db.session.execute(update(RuleCounts).values(met=0))  # changed outside Gongjian
    db.session.commit()
    assert not RULE_TALLY.matches(db.session, w.campaign)
    out = runner.invoke(args=["campaign", "recount"]).output
    assert "规则指标计数与台账不一致，已重算" in out
    assert named(figures.rule_figures(db.session, w.campaign)) == [MEMBER_50, ORG_100]
    assert "规则指标计数与台账一致" in runner.invoke(args=["campaign", "recount"]).output

    # A database upgraded to the tally and not yet recounted holds no rows for the campaign:
    # its figures are read from the ledger meanwhile, never shown as zero.
    db.session.execute(delete(RuleCounts))
    db.session.commit()
    assert named(figures.rule_figures(db.session, w.campaign)) == [MEMBER_50, ORG_100]


def test_an_import_and_its_correction_are_counted(import_world):  # noqa: F811
    w = import_world
    import_and_apply(w, ledger_xlsx(*V1))
    # 50+ staff in the base: A (120) and B (60; D, 200, is excluded once 工商 confirms its
    # 空壳); B has a member and a joint Party org: 2 / 1. 100+ staff: A, no Party org: 1 / 0.
    assert named(figures.rule_figures(db.session, w.campaign)) == [
        ("50人以上企业有党员率", 2, 1),
        ("100人以上企业有党组织率", 1, 0),
    ]
    # V2: B down to 45 staff, E (互联网, 55 staff, no member) added: A and E, none met.
    import_and_apply(w, ledger_xlsx(*V2))
    assert named(figures.rule_figures(db.session, w.campaign)) == [
        ("50人以上企业有党员率", 2, 0),
        ("100人以上企业有党组织率", 1, 0),
    ]
    assert RULE_TALLY.matches(db.session, w.campaign)


def test_a_verified_and_a_revoked_closure_move_the_rules_figures(board_world):  # noqa: F811
    w = board_world
    synced(w)
    # 50+ staff: 大企业 and 已联建 (空壳 is out), 已联建 met; 100+: 大企业, not met.
    before = [("50人以上企业有党员率", 2, 1), ("100人以上企业有党组织率", 1, 0)]
    assert named(figures.rule_figures(db.session, w.campaign)) == before
    # A joint Party org with 2 formal members for 大企业 (and 小企业): both figures met.
    submit(w, item_of(w.big), joint(covered=w.small.credit_code, members=2))
    closure = verify(w, item_of(w.big))
    assert named(figures.rule_figures(db.session, w.campaign)) == [
        ("50人以上企业有党员率", 2, 2),
        ("100人以上企业有党组织率", 1, 1),
    ]
    assert RULE_TALLY.matches(db.session, w.campaign)
    board.revoke_closure(db.session, closure, "联合组建未实际开展活动", w.coordinator)
    db.session.commit()
    assert named(figures.rule_figures(db.session, w.campaign)) == before
    assert RULE_TALLY.matches(db.session, w.campaign)


def test_a_bulletin_reads_the_units_and_kinds_as_of_its_cut_off_at_once(app):
    w = build("seed-004")
    # In the base: enterprises A1-A5 and A7 (A6 is a 空壳), social S1 and S2. Party orgs now:
    # A2, A3 (joint), A5 (standalone), S2 (功能型); on 2026-09-30 A3's (founded 10-01) not yet.
    for as_of, enterprises, all_units in ((None, 3, 4), (date(2026, 9, 30), 2, 3)):
        rows, by_kind = figures.by_unit_and_kind(db.session, w.campaign, as_of)
        assert [(u.code, f.counts.base, f.counts.with_party_org) for u, f in rows] == [
            ("jiangan", 8, all_units)
        ]
        got = {k: (f.counts.base, f.counts.with_party_org) for k, f in by_kind.items()}
        assert got == {"enterprise": (6, enterprises), "social": (2, 1)}


def test_two_rules_of_one_code_are_counted_apart(app):
    # Seed 004 has two rules coded large_typed_enterprise (互联网 and 文化创意 firms of 50+
    # staff must set up a Party org): a 60-staff firm tagged with both is covered by each.
    w = build("seed-004")
    firm = make_org(w.campaign, w.unit, name="网络文化公司", employees=60)
    firm.tags = ["internet", "cultural"]
    db.session.commit()
    kept = db.session.execute(
        select(RuleCounts.rule, RuleCounts.covered, RuleCounts.met).where(
            RuleCounts.rule.like("%:large_typed_enterprise")
        )
    ).all()
    assert len(kept) == 2 and kept[0].rule != kept[1].rule
    assert [(r.covered, r.met) for r in kept] == [(1, 0), (1, 0)]
    assert RULE_TALLY.matches(db.session, w.campaign)
