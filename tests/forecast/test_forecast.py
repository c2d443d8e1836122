"""The forecast on hand-made ledgers, each projection worked out by hand.

Campaign 2026 (wuhan-2016): the build phase starts on 08-27; here it ends on 10-01 so that
on 09-17 there are 14 days (2 weeks) to go, and 3 whole weeks of the build phase lie behind:
(08-27, 09-03], (09-03, 09-10], (09-10, 09-17]. Targets 80 % and 100 %.

A (甲区): 8 Party orgs from 2020, 4 set up in each of the 3 weeks (08-30, 09-06, 09-13), 6
  organizations still without: base 26, with a Party org 20 (76.9 %). Pace 4 a week, no
  spread; 2 weeks would add 8, but only 6 are left: 26/26 = 100 %, band 100 %–100 %.
B (乙区): 1 from 2020, then 1, 3, 5 in the three weeks; 30 without: base 40, 10 (25 %).
  Pace 3, standard deviation √(8/3) = 1.633: gain 6 → 16/40 = 40 %; low (3 − 1.633) × 2 =
  2.73 → 3 → 13/40 = 32.5 %; high 4.633 × 2 = 9.27 → 9 → 19/40 = 47.5 %. At risk.
C (丙区): 5 enterprises of 150 staff, all required to have a Party org: one standalone from
  2020 (3 formal), one joint on 09-06 (1 formal: meets 应建党组织), one joint on 09-13 with 3
  formal (must be its own: counts for coverage, not for 应建尽建), two with nothing.
  应建尽建率 2/5 = 40 %: weeks 0, 1, 0, pace 1/3, deviation √2/3 = 0.471: gain 0.67 → 1 →
  60 %; low 0 → 40 %; high 0.805 × 2 = 1.61 → 2 → 80 %; at risk (target 100 %).
  覆盖率 3/5 = 60 %: weeks 0, 1, 1, pace 2/3, deviation 0.471: gain 1.33 → 1 → 80 % (reaches
  80 %: not at risk); low 0.39 → 0 → 60 %; high 2.28 → 2 (the 2 left) → 100 %.
City 覆盖率: (20 + 10 + 3) + (6 + 6 + 1) = 46 of 71 = 64.8 %.
"""

from datetime import date
from decimal import Decimal

import pytest

from campaign import figures
from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.forecast import services as forecast
from tests.conftest import make_campaign, make_org, make_unit
from tests.timeutil import at

AS_OF = date(2026, 9, 17)


def _orgs(campaign, unit, n, founded_on=None, **kw):
    for _ in range(n):
        make_org(
            campaign,
            unit,
            formal=1 if founded_on else 0,
            party_org="joint" if founded_on else "none",
            founded_on=founded_on,
            **kw,
        )


@pytest.fixture
def ledger(built_once):
    return db.session.get_one(Campaign, built_once("tests.forecast.ledger", _build_ledger))


def _build_ledger() -> int:
    a, b, c = make_unit("a", "甲区"), make_unit("b", "乙区"), make_unit("c", "丙区")
    a.position, b.position, c.position = 1, 2, 3
    campaign = make_campaign(2026)
    build = next(p for p in campaign.phases if p.code == "build")
    build.ends_on = date(2026, 10, 1)
    _orgs(campaign, a, 8, date(2020, 5, 1))
    for day in (date(2026, 8, 30), date(2026, 9, 6), date(2026, 9, 13)):
        _orgs(campaign, a, 4, day)
    _orgs(campaign, a, 6)
    _orgs(campaign, b, 1, date(2020, 5, 1))
    for day, n in ((date(2026, 8, 30), 1), (date(2026, 9, 6), 3), (date(2026, 9, 13), 5)):
        _orgs(campaign, b, n, day)
    _orgs(campaign, b, 30)
    big = dict(employees=150)
    make_org(campaign, c, formal=3, party_org="standalone", founded_on=date(2020, 5, 1), **big)
    make_org(campaign, c, formal=1, party_org="joint", founded_on=date(2026, 9, 6), **big)
    make_org(campaign, c, formal=3, party_org="joint", founded_on=date(2026, 9, 13), **big)
    make_org(campaign, c, **big)
    make_org(campaign, c, **big)
    db.session.commit()
    return campaign.id


def _by_code(result):
    return {u.unit.code: u.figures for u in result.units}


def test_the_pace_of_the_last_weeks_is_projected_to_the_deadline_within_the_open_items(ledger):
    with at(2026, 9, 17, 10, 0):
        result = forecast.forecast(db.session, ledger)
    assert (result.as_of, result.deadline, result.weeks, result.days_left) == (
        AS_OF,
        date(2026, 10, 1),
        3,
        14,
    )
    units = _by_code(result)

    a = units["a"]["party_org_coverage"]
    assert a.weekly == (4, 4, 4)
    assert (a.part, a.whole, a.room) == (20, 26, 6)
    assert (a.gain, a.low_gain, a.high_gain) == (6, 6, 6)  # 8 at its pace, 6 left
    assert a.bounded and a.projected == 1.0 and not a.at_risk

    b = units["b"]["party_org_coverage"]
    assert b.weekly == (1, 3, 5)
    assert (b.part, b.whole) == (10, 40)
    assert (b.gain, b.low_gain, b.high_gain) == (6, 3, 9)
    assert (b.projected, b.low, b.high) == (0.40, 0.325, 0.475)
    assert b.at_risk and not b.bounded

    c_required = units["c"]["required_coverage"]
    assert c_required.weekly == (0, 1, 0)
    assert (c_required.part, c_required.whole, c_required.room) == (2, 5, 3)
    assert (c_required.projected, c_required.low, c_required.high) == (0.6, 0.4, 0.8)
    assert c_required.at_risk

    c = units["c"]["party_org_coverage"]
    assert c.weekly == (0, 1, 1)
    assert (c.projected, c.low, c.high) == (0.8, 0.6, 1.0)
    assert not c.at_risk  # exactly 80 %: the target is reached

    city = result.city["party_org_coverage"]
    assert (city.part, city.whole, city.gain) == (33, 71, 13)
    assert city.projected == pytest.approx(46 / 71)
    assert city.at_risk

    assert [u.unit.code for u in result.at_risk()] == ["b"]
    assert [u.unit.code for u in result.at_risk("required_coverage")] == ["c"]
    assert result.sentence(b) == "按当前进度，预计10月1日达到 40.0%（32.5%–47.5%），低于目标"
    assert result.sentence(a) == "按当前进度，预计10月1日达到 100.0%（100.0%–100.0%）"


def test_today_is_the_figure_shown_today(ledger):
    with at(2026, 9, 17, 10, 0):
        result = forecast.forecast(db.session, ledger)
        shown = dict((u.code, f) for u, f in figures.by_unit(db.session, ledger))
    for u in result.units:
        assert u.figures["party_org_coverage"].today == shown[u.unit.code].party_org_coverage
        assert u.figures["required_coverage"].today == shown[u.unit.code].required_coverage


def test_as_of_a_past_day_only_what_was_founded_by_then_counts(ledger):
    # On 09-10 only 2 weeks lay behind: A had set up 4 and 4 (16 of 26), B 1 and 3 (5 of 40).
    # A: pace 4, 21 days (3 weeks) left: 12, but 10 were without: 26/26. B: pace 2, spread 1:
    # 6 → 11/40 = 27.5 %, low 3 → 20 %, high 9 → 35 %.
    with at(2026, 9, 17, 10, 0):
        result = forecast.forecast(db.session, ledger, as_of=date(2026, 9, 10))
    units = _by_code(result)
    assert result.weeks == 2 and result.days_left == 21
    a, b = units["a"]["party_org_coverage"], units["b"]["party_org_coverage"]
    assert (a.part, a.gain, a.projected) == (16, 10, 1.0)
    assert (b.part, b.weekly, b.projected, b.low, b.high) == (5, (1, 3), 0.275, 0.2, 0.35)


def test_at_the_deadline_the_projection_is_today(ledger):
    with at(2026, 10, 2, 10, 0):
        result = forecast.forecast(db.session, ledger)
    for u in result.units:
        for p in u.figures.values():
            assert p.gain == p.low_gain == p.high_gain == 0
    assert _by_code(result)["b"]["party_org_coverage"].at_risk


def test_a_target_lowered_below_the_projection_takes_the_unit_off_the_risk_list(ledger):
    ledger.target_party_org_coverage = Decimal("40")
    db.session.commit()
    with at(2026, 9, 17, 10, 0):
        result = forecast.forecast(db.session, ledger)
    assert result.at_risk() == []  # B reaches 40.0 % exactly


def test_the_open_items_planned_by_the_deadline_raise_the_high_end(ledger):
    # B's 30 organizations without a Party org are on its board. 12 are planned for 09-25 (by
    # the 10-01 deadline), 5 for 10-05 (after it), 3 for 09-10 (overdue: not counted), 10 not. The
    # pace alone gives B at most 9 more (47.5 %); its plans say 12: 22/40 = 55.0 %. The
    # central value stays the pace's (40.0 %), and the city's high end adds B's 3 more.
    from campaign.board import services as board
    from campaign.board.models import BoardItem
    from campaign.core.models import Unit

    b = db.session.scalar(db.select(Unit).where(Unit.code == "b"))
    with at(2026, 9, 17, 10, 0):
        board.sync_items(db.session, ledger, [b.id])
        items = db.session.scalars(
            db.select(BoardItem).where(BoardItem.unit_id == b.id).order_by(BoardItem.id)
        ).all()
        assert len(items) == 30
        for item, day in zip(
            items,
            [date(2026, 9, 25)] * 12
            + [date(2026, 10, 5)] * 5
            + [date(2026, 9, 10)] * 3
            + [None] * 10,
            strict=True,
        ):
            item.planned_on = day
        db.session.commit()
        result = forecast.forecast(db.session, ledger)
    p = _by_code(result)["b"]["party_org_coverage"]
    assert (p.planned, p.gain, p.low_gain, p.high_gain) == (12, 6, 3, 12)
    assert (p.projected, p.low, p.high) == (0.40, 0.325, 0.55)
    assert p.at_risk
    assert _by_code(result)["a"]["party_org_coverage"].planned == 0
    city = result.city["party_org_coverage"]
    assert (city.gain, city.high_gain) == (13, 6 + 12 + 2)  # A 6, B 12, C 2
    assert "上限不低于计划在截止日前完成的未销号事项数" in result.method
