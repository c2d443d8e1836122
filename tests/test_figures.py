"""Figures (DOMAIN.md §6) on a small ledger whose rates are worked out by hand.

Unit A (a district):
  1 enterprise, 120 staff, 4 formal, 单独组建 (founded 2026-09-10)
  2 enterprise,  60 staff, 1 formal, 联合组建 (founded 2026-10-20)
  3 enterprise, 100 staff, 0 members, no org, 指导员 only
  4 enterprise,  49 staff, 0 members, nothing
  5 enterprise, 空壳, 300 staff, 5 formal, 单独组建 -> excluded from the base
Unit B (a city department):
  6 律师事务所, 5 staff, no members, 联合组建 (founded 2015-01-01)
  7 民办学校 (区级), 30 staff, no members, 工会 only
  8 民办学校 (区级), 29 staff, nothing
  9 市级社会团体, 1 formal (its relationship elsewhere) + 2 probationary, 功能型 (no
    founding date): a social org whose members belong elsewhere, where seed 004 allows 功能型

A: base 4; Party orgs {1,2}; standalone {1}; work-covered {1,2,3};
   must have an org {1 (4 formal, 120 staff), 3 (100 staff)}, met {1};
   50+ staff {1,2,3}, with a member and work coverage {1,2}; 100+ staff {1,3}, with an org {1}.
   By target: 应单独组建 {1} met {1}; 应建党组织 {3} met {}; 应有党员 {2} met {2};
   实现工作覆盖 {4} met {}.
B: base 4; Party orgs {6,9}; standalone {}; work-covered {6,7,9};
   must have an org {6 firm, 7 school >= 30, 9 city 社会团体}, met {6,9};
   the 50/100-staff figures count enterprises only: none here.
   By target: 应建党组织 {6,7,9} met {6,9}; 实现工作覆盖 {8} met {}.
"""

from datetime import date
from decimal import Decimal

import pytest

from campaign import figures
from campaign.core.campaigns import settings_from, update_settings
from campaign.core.extensions import db
from campaign.core.vocab import UnitKind
from campaign.figures import Counts
from tests.conftest import make_campaign, make_org, make_unit


@pytest.fixture
def ledger(app):
    campaign = make_campaign()
    a = make_unit("a", "甲区")
    a1 = make_unit("a-01", "一街道", UnitKind.STREET, parent=a, responsible=False)
    a2 = make_unit("a-02", "二园区", UnitKind.PARK, parent=a, responsible=False)
    b = make_unit("b", "市民政局", UnitKind.DEPARTMENT)
    make_org(
        campaign,
        a,
        area=a1,
        employees=120,
        formal=4,
        party_org="standalone",
        founded_on=date(2026, 9, 10),
    )
    make_org(
        campaign,
        a,
        area=a1,
        employees=60,
        formal=1,
        party_org="joint",
        founded_on=date(2026, 10, 20),
    )
    make_org(campaign, a, area=a2, employees=100, instructor="张三")
    make_org(campaign, a, area=a2, employees=49)
    make_org(campaign, a, area=a2, employees=300, formal=5, party_org="standalone", status="shell")
    make_org(
        campaign,
        b,
        kind="social",
        category="law_firm",
        employees=5,
        party_org="joint",
        founded_on=date(2015, 1, 1),
        level="district",
    )
    make_org(
        campaign, b, kind="social", category="school", employees=30, mass="工会", level="district"
    )
    make_org(campaign, b, kind="social", category="school", employees=29, level="district")
    make_org(
        campaign,
        b,
        kind="social",
        category="association",
        employees=10,
        formal=1,
        probationary=2,
        elsewhere=1,
        party_org="functional",
        level="city",
    )
    db.session.commit()
    return campaign, a, b


def test_unit_counts(ledger):
    campaign, a, b = ledger
    rows = {unit.code: f.counts for unit, f in figures.by_unit(db.session, campaign)}
    assert rows["a"] == Counts(
        base=4,
        excluded=1,
        with_party_org=2,
        standalone=1,
        work_covered=3,
        required=2,
        required_met=1,
        member_required=3,
        member_required_met=2,
        party_org_required_by_size=2,
        party_org_required_by_size_met=1,
        due_standalone=1,
        met_standalone=1,
        due_party_org=1,
        met_party_org=0,
        due_member=1,
        met_member=1,
        due_work_coverage=1,
        met_work_coverage=0,
    )
    assert rows["b"] == Counts(
        base=4,
        excluded=0,
        with_party_org=2,
        standalone=0,
        work_covered=3,
        required=3,
        required_met=2,
        due_party_org=3,
        met_party_org=2,
        due_work_coverage=1,
        met_work_coverage=0,
    )


def test_unit_rates(ledger):
    campaign, a, b = ledger
    rows = {unit.code: f for unit, f in figures.by_unit(db.session, campaign)}
    fa, fb = rows["a"], rows["b"]
    assert fa.party_org_coverage == pytest.approx(2 / 4)
    assert fa.work_coverage == pytest.approx(3 / 4)
    assert fa.standalone_rate == pytest.approx(1 / 2)
    assert fa.required_coverage == pytest.approx(1 / 2)
    assert fa.member_rate == pytest.approx(2 / 3)
    assert fa.party_org_rate_by_size == pytest.approx(1 / 2)
    assert fb.standalone_rate == 0
    assert fb.required_coverage == pytest.approx(2 / 3)
    # No enterprise in B: the staff-size rates have no denominator, not 0 %.
    assert fb.member_rate is None and fb.party_org_rate_by_size is None


def test_city_total_and_gap_to_target(ledger):
    campaign, a, b = ledger
    total = figures.overall(db.session, campaign)
    assert (total.counts.base, total.counts.with_party_org, total.counts.required) == (8, 4, 5)
    assert total.party_org_coverage == pytest.approx(0.5)
    assert total.work_coverage == pytest.approx(0.75)
    assert total.standalone_rate == pytest.approx(0.25)
    assert total.required_coverage == pytest.approx(0.6)
    # 80 % of 8 is 6.4, so 7 Party orgs are needed; 4 exist.
    assert total.gap_to(campaign.target_party_org_coverage) == 3
    assert figures.reaches(4, 8, campaign.target_party_org_coverage) is False


@pytest.mark.parametrize(
    "part, whole, target, expected",
    [
        (29, 100, "29", True),
        (57, 100, "57", True),
        (28, 100, "29", False),
        (4, 5, "80", True),
        (7, 9, "77.77", True),
        (7, 9, "77.78", False),
        (0, 0, "80", None),
    ],
)
def test_reaching_a_target_is_exact(part, whole, target, expected):
    # 29/100 as a float times 100 is 28.999999999999996: an exact comparison is needed.
    assert figures.reaches(part, whole, Decimal(target)) is expected


def test_total_of_the_units_equals_the_city_figures(ledger):
    campaign, a, b = ledger
    rows = figures.by_unit(db.session, campaign)
    assert figures.total_of(rows).counts == figures.overall(db.session, campaign).counts


def test_scoped_to_units(ledger):
    campaign, a, b = ledger
    only_a = figures.overall(db.session, campaign, unit_ids=[a.id])
    assert only_a.counts.base == 4 and only_a.party_org_coverage == pytest.approx(0.5)
    assert [u.code for u, _ in figures.by_unit(db.session, campaign, unit_ids=[a.id])] == ["a"]


def test_by_street_and_by_type(ledger):
    campaign, a, b = ledger
    by_area = figures.grouped(db.session, campaign, "area", unit_ids=[a.id])
    streets = {db.session.get(type(a), key).code: f.counts for key, f in by_area.items()}
    assert streets["a-01"].base == 2 and streets["a-01"].with_party_org == 2
    assert streets["a-02"].base == 2 and streets["a-02"].excluded == 1
    by_kind = figures.grouped(db.session, campaign, "kind")
    assert by_kind["enterprise"].counts.base == 4 and by_kind["social"].counts.base == 4
    by_category = figures.grouped(db.session, campaign, "category")
    assert by_category[("social", "school")].counts.required == 1  # 30 staff, not the 29
    assert by_category[("enterprise", "other")].counts.base == 4


def test_over_time_counts_party_orgs_from_their_founding(ledger):
    campaign, a, b = ledger
    # As of 10-01: org 1 (09-10), org 6 (2015) and org 9 (no date) have a Party org.
    on_oct_1 = figures.overall(db.session, campaign, as_of=date(2026, 10, 1))
    assert on_oct_1.counts.with_party_org == 3 and on_oct_1.counts.standalone == 1
    # As of 09-01: only 6 and 9.
    on_sep_1 = figures.overall(db.session, campaign, as_of=date(2026, 9, 1))
    assert on_sep_1.party_org_coverage == pytest.approx(2 / 8)
    days = [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    series = [c for _, c in figures.coverage_trend(db.session, campaign, days)]
    assert series == [pytest.approx(2 / 8), pytest.approx(3 / 8), pytest.approx(4 / 8)]


def test_changing_a_threshold_rejudges_the_ledger(ledger):
    campaign, a, b = ledger
    # With 60 staff enough to require a Party org, org 2 (60 staff, joint) becomes required and met.
    update_settings(
        db.session, campaign, settings_from({"party_org_required_employees": "60"}), user=None
    )
    db.session.commit()
    total = figures.overall(db.session, campaign)
    assert (total.counts.required, total.counts.required_met) == (6, 4)
    assert total.counts.party_org_required_by_size == 3  # enterprises 1, 2, 3
    assert total.counts.party_org_required_by_size_met == 2


def test_empty_campaign_has_no_rates(app):
    campaign = make_campaign()
    make_unit("a")
    db.session.commit()
    total = figures.overall(db.session, campaign)
    assert total.counts == Counts() and total.party_org_coverage is None
    assert figures.by_unit(db.session, campaign)[0][1].counts.base == 0


def test_a_joint_org_does_not_meet_the_duty_to_set_up_a_standalone_one(app):
    # 4 formal members: "凡有3名及以上正式党员的，必须单独建立党组织" (seed 004). A joint Party org
    # leaves it short, as the board does (its item stays open): 应建尽建率 0 of 1, not 1 of 1.
    campaign = make_campaign()
    unit = make_unit("a", "甲区")
    make_org(campaign, unit, employees=20, formal=4, party_org="joint")
    db.session.commit()
    counts = figures.overall(db.session, campaign).counts
    assert (counts.with_party_org, counts.required, counts.required_met) == (1, 1, 0)
    assert figures.overall(db.session, campaign).required_coverage == 0


def test_50_plus_with_a_member_counts_as_the_board_closes_its_item(app):
    # 60 staff, 1 formal member, nothing else: 应有党员 asks the Party's work to reach it too
    # ("尚不具备条件建立党组织的，实现党的工作覆盖"), so its item stays open and 50人以上有党员率
    # does not count it; with a 指导员 both do.
    from campaign.board import services as board

    campaign = make_campaign()
    unit = make_unit("a", "甲区")
    make_org(campaign, unit, employees=60, formal=1)
    make_org(campaign, unit, employees=60, formal=1, instructor="张三")
    db.session.commit()
    assert board.sync_items(db.session, campaign) == 1
    db.session.commit()
    counts = figures.overall(db.session, campaign).counts
    assert (counts.member_required, counts.member_required_met) == (2, 1)
    assert (counts.due_member, counts.met_member) == (2, 1)
