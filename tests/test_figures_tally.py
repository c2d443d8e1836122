"""The figures' tally (ledger_counts) stays equal to the ledger through every kind of write.

The ledger is tests/test_figures.py's, whose counts are worked out by hand there:
unit A has orgs 1 (street a-01, 120 staff, 4 formal, 单独组建), 2 (a-01, 60 staff,
1 formal, 联合组建), 3 (a-02, 100 staff, 指导员), 4 (a-02, 49 staff, nothing) and 5 (a-02,
空壳, out of the base); unit B has four social organizations.
"""

import threading
from datetime import date

import pytest
from flask_migrate import downgrade, stamp, upgrade
from sqlalchemy import func, inspect, select, text, update

from campaign import figures
from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.figures import LEDGER_TALLY, RULE_TALLY
from campaign.ledger.models import LedgerCounts, Organization, RuleCounts
from campaign.ledger.services import (
    exclude_organization,
    restore_organization,
    update_organization,
)
from tests.conftest import make_org
from tests.test_figures import ledger  # noqa: F401  (the fixture)


def org_of(campaign, unit, employees) -> Organization:
    return db.session.scalars(
        select(Organization).where(
            Organization.campaign_id == campaign.id,
            Organization.unit_id == unit.id,
            Organization.employees == employees,
        )
    ).one()


def unit_counts(campaign, unit):
    return figures.overall(db.session, campaign, unit_ids=[unit.id]).counts


def street_base(campaign, unit) -> dict:
    rows = figures.grouped(db.session, campaign, "area", unit_ids=[unit.id])
    return {
        db.session.get(type(unit), k).code: (f.counts.base, f.counts.with_party_org)
        for k, f in rows.items()
    }


def test_an_edit_moves_counts_between_streets_and_statuses(ledger):  # noqa: F811
    campaign, a, b = ledger
    org4 = org_of(campaign, a, 49)
    a1 = db.session.get(type(a), org_of(campaign, a, 120).area_id)
    # Org 4 grows to 55 staff with 1 formal member and a joint Party org, and moves to a-01.
    update_organization(
        db.session,
        campaign,
        org4,
        dict(
            area_id=a1.id,
            employees=55,
            formal_members=1,
            party_org_status="joint",
            party_org_founded_on=date(2026, 11, 1),
        ),
        user=None,
    )
    db.session.commit()
    got = unit_counts(campaign, a)
    # Party orgs {1, 2, 4}; work-covered {1, 2, 3, 4}; must have an org still {1, 3} (org 4
    # has 1 formal member, 55 < 100 staff); 50+ staff {1, 2, 3, 4} with a member {1, 2, 4}.
    assert (got.base, got.with_party_org, got.standalone, got.work_covered) == (4, 3, 1, 4)
    assert (got.required, got.required_met) == (2, 1)
    assert (got.member_required, got.member_required_met) == (4, 3)
    assert street_base(campaign, a) == {"a-01": (3, 3), "a-02": (1, 0)}
    assert LEDGER_TALLY.matches(db.session, campaign)
    assert RULE_TALLY.matches(db.session, campaign)


def test_exclusion_and_restoration_move_the_base(ledger):  # noqa: F811
    campaign, a, b = ledger
    org3 = org_of(campaign, a, 100)
    exclude_organization(db.session, org3, "zombie", "市场监管部门核实已停业", user=None)
    db.session.commit()
    got = unit_counts(campaign, a)
    assert (got.base, got.excluded, got.work_covered, got.required) == (3, 2, 2, 1)
    restore_organization(db.session, org3, "复核恢复经营", user=None)
    db.session.commit()
    got = unit_counts(campaign, a)
    assert (got.base, got.excluded, got.work_covered, got.required) == (4, 1, 3, 2)
    assert LEDGER_TALLY.matches(db.session, campaign)
    assert RULE_TALLY.matches(db.session, campaign)


def test_a_new_and_a_deleted_organization(ledger):  # noqa: F811
    campaign, a, b = ledger
    make_org(
        campaign,
        b,
        kind="social",
        category="school",
        employees=40,
        party_org="standalone",
        formal=3,
        level="district",
    )
    db.session.commit()
    assert unit_counts(campaign, b).base == 5 and unit_counts(campaign, b).standalone == 1
    db.session.delete(org_of(campaign, b, 29))
    db.session.commit()
    got = unit_counts(campaign, b)
    assert (got.base, got.with_party_org, got.standalone) == (4, 3, 1)
    assert LEDGER_TALLY.matches(db.session, campaign)
    assert RULE_TALLY.matches(db.session, campaign)


def test_a_rolled_back_change_leaves_the_figures(ledger):  # noqa: F811
    campaign, a, b = ledger
    org4 = org_of(campaign, a, 49)
    update_organization(db.session, campaign, org4, {"party_org_status": "joint"}, user=None)
    # Read in the same transaction: the figures see the change not yet committed.
    assert unit_counts(campaign, a).with_party_org == 3
    db.session.rollback()
    assert unit_counts(campaign, a).with_party_org == 2
    assert LEDGER_TALLY.matches(db.session, campaign)
    assert RULE_TALLY.matches(db.session, campaign)


def test_a_bulk_write_is_recounted_for_the_units_it_names(ledger):  # noqa: F811
    campaign, a, b = ledger
    db.session.execute(
        update(Organization).where(Organization.unit_id == b.id).values(party_org_status="none")
    )
    figures.stale(db.session, campaign, [b.id])
    db.session.commit()
    assert unit_counts(campaign, b).with_party_org == 0
    assert unit_counts(campaign, a).with_party_org == 2
    assert LEDGER_TALLY.matches(db.session, campaign)
    assert RULE_TALLY.matches(db.session, campaign)


def test_a_bulk_write_that_names_no_units_is_not_committed(ledger):  # noqa: F811
    """A forgotten ``stale`` cannot leave the figures quietly wrong: the commit fails and
    nothing of the transaction is kept."""
    campaign, a, b = ledger
    db.session.execute(
        update(Organization).where(Organization.unit_id == b.id).values(party_org_status="none")
    )
    with pytest.raises(RuntimeError, match="organization: a bulk write without Tally.stale"):
        db.session.commit()
    db.session.rollback()
    assert unit_counts(campaign, b).with_party_org == 2  # B's two social orgs with one, as before
    assert (
        db.session.scalar(
            select(func.count()).where(
                Organization.unit_id == b.id, Organization.party_org_status != "none"
            )
        )
        == 2
    )
    assert LEDGER_TALLY.matches(db.session, campaign)
    assert RULE_TALLY.matches(db.session, campaign)


def test_recount_command_repairs_a_tally_changed_behind_its_back(ledger, runner):  # noqa: F811
    campaign, a, b = ledger
    db.session.execute(update(LedgerCounts).values(base=0))
    db.session.commit()
    assert figures.overall(db.session, campaign).counts.base == 0
    result = runner.invoke(args=["campaign", "recount"])
    assert result.exit_code == 0 and "与台账不一致，已重算" in result.output
    assert figures.overall(db.session, campaign).counts.base == 8
    again = runner.invoke(args=["campaign", "recount"])
    assert "与台账一致" in again.output and "已重算" not in again.output


def test_the_migration_fills_the_tally_of_an_existing_ledger(ledger):  # noqa: F811
    campaign_id = ledger[0].id
    db.session.commit()
    db.session.remove()
    stamp()  # the schema was made by create_all: it is at the head revision
    downgrade(revision="88a632f05ca5")  # before the tally existed
    assert "ledger_counts" not in inspect(db.engine).get_table_names()
    upgrade()
    campaign = db.session.get(Campaign, campaign_id)
    rows = {unit.code: f.counts for unit, f in figures.by_unit(db.session, campaign)}
    # As worked out in tests/test_figures.py.
    assert (rows["a"].base, rows["a"].excluded, rows["a"].with_party_org) == (4, 1, 2)
    assert (rows["a"].member_required, rows["a"].member_required_met) == (3, 2)
    assert (rows["a"].party_org_required_by_size, rows["a"].required_met) == (2, 1)
    assert (rows["b"].base, rows["b"].work_covered, rows["b"].required) == (4, 3, 3)
    assert LEDGER_TALLY.matches(db.session, campaign)
    # The rules' tally starts empty (its migration cannot read rule sets); recounted, it
    # matches the ledger.
    assert not db.session.scalar(select(func.count()).select_from(RuleCounts))
    RULE_TALLY.recount(db.session, campaign)
    db.session.commit()
    assert RULE_TALLY.matches(db.session, campaign)


def test_two_writers_in_one_street_at_once_are_both_counted(ledger, app):  # noqa: F811
    # PostgreSQL: the second writer waits on the first's lock of the unit's tally rows.
    # SQLite: it waits on the database's single write lock (the driver's busy timeout).
    campaign, a, b = ledger
    org1_id, org2_id = org_of(campaign, a, 120).id, org_of(campaign, a, 60).id  # both a-01
    db.session.commit()
    first = db.session.get(Organization, org1_id)
    first.party_org_status = "none"
    figures.settle(db.session)  # the first writer has recounted a-01 and not yet committed
    failures = []

    def second_writer():
        try:
            with app.app_context():
                org = db.session.get(Organization, org2_id)
                org.party_org_status = "none"
                db.session.commit()  # waits for the first writer's recount of A
        except Exception as e:  # noqa: BLE001  (reported below)
            failures.append(e)

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive(), "the second writer should wait for the first"
    db.session.commit()
    thread.join(timeout=30)
    assert not thread.is_alive() and failures == []
    db.session.expire_all()
    assert unit_counts(campaign, a).with_party_org == 0
    assert street_base(campaign, a)["a-01"] == (2, 0)
    assert LEDGER_TALLY.matches(db.session, campaign)
    assert RULE_TALLY.matches(db.session, campaign)


SCAN_KEYS = {
    "unit": [Organization.unit_id],
    "area": [Organization.area_id],
    "kind": [Organization.kind],
    "category": [Organization.kind, Organization.category],
}


def test_figures_as_of_a_past_day_match_a_scan_of_the_ledger(ledger):  # noqa: F811
    campaign, a, b = ledger
    # Org 1's Party org was founded 09-10 and org 2's 10-20: before each, it does not count.
    days = [date(2026, 9, 1), date(2026, 9, 10), date(2026, 10, 19), date(2026, 10, 20)]
    expected_a = [0, 1, 1, 2]
    for day, with_org in zip(days, expected_a, strict=True):
        assert unit_counts_as_of(campaign, a, day).with_party_org == with_org
        for by in ("unit", "area", "kind", "category"):
            scanned = db.session.execute(
                select(*SCAN_KEYS[by], *figures._sums(campaign, day))
                .where(Organization.campaign_id == campaign.id)
                .group_by(*SCAN_KEYS[by])
            ).all()
            width = len(SCAN_KEYS[by])
            want = {(r[0] if width == 1 else tuple(r[:width])): figures._counts(r) for r in scanned}
            got = {
                k: f.counts for k, f in figures.grouped(db.session, campaign, by, as_of=day).items()
            }
            assert got == want, (day, by)


def unit_counts_as_of(campaign, unit, day):
    return figures.overall(db.session, campaign, unit_ids=[unit.id], as_of=day).counts


def test_the_coverage_trend_of_many_days_is_each_day_as_of_it(ledger):  # noqa: F811
    campaign, a, b = ledger
    # Unit A (base 4): org 1 founded 09-10 (单独组建), org 2 founded 10-20 (联合组建); the
    # founding day itself counts. Days out of order and repeated, as a caller may pass them.
    days = [date(2026, 10, 20), date(2026, 9, 9), date(2026, 9, 10), date(2026, 10, 19)]
    series = figures.coverage_trend(db.session, campaign, days, unit_ids=[a.id])
    assert series == [(days[0], 2 / 4), (days[1], 0.0), (days[2], 1 / 4), (days[3], 1 / 4)]
    # Over the whole campaign every day's point is that day's own 党组织覆盖率.
    whole = figures.coverage_trend(db.session, campaign, days + [date(2027, 1, 1)])
    for day, coverage in whole:
        assert coverage == figures.overall(db.session, campaign, as_of=day).party_org_coverage
    assert figures.coverage_trend(db.session, campaign, []) == []


def test_the_migration_to_one_predicate_per_target_recounts_the_tally(ledger):  # noqa: F811
    # Two rows the former tally counted as met: 4 formal members with a joint Party org
    # (应单独组建), and a 指导员 typed as an ideographic space (no 指导员 at all).
    campaign, a, b = ledger
    make_org(campaign, a, employees=20, formal=4, party_org="joint")
    make_org(campaign, a, employees=10, instructor="\u3000")
    campaign_id, unit_id = campaign.id, a.id
    db.session.commit()
    db.session.remove()
    stamp()
    downgrade(revision="0635caa97d87")  # the tally as the former definitions counted it
    with db.engine.connect() as conn:
        former = conn.execute(
            text(
                "SELECT SUM(required), SUM(required_met), SUM(work_covered) FROM ledger_counts"
                " WHERE unit_id = :unit"
            ),
            {"unit": unit_id},
        ).one()
    assert tuple(former) == (3, 2, 5)
    upgrade()
    campaign = db.session.get(Campaign, campaign_id)
    got = figures.overall(db.session, campaign, unit_ids=[unit_id]).counts
    # As in tests/test_figures.py, plus the joint one short of 应单独组建 and one not covered.
    assert (got.required, got.required_met, got.work_covered) == (3, 1, 4)
    assert (got.due_standalone, got.met_standalone) == (2, 1)
    assert (got.due_work_coverage, got.met_work_coverage) == (2, 0)
    assert LEDGER_TALLY.matches(db.session, campaign)
