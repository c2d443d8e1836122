"""The planner's statistics are refreshed once a bulk write of the ledger commits
(campaign.core.statistics): without them SQLite reads a whole campaign's ledger through an
index on campaign_id, row by row, and PostgreSQL plans for the table as it was."""

import itertools
from datetime import date

from sqlalchemy import event, text

from campaign import figures
from campaign.core import statistics
from campaign.core.db import insert_rows
from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.ledger.models import Organization
from tests.conftest import make_campaign, make_org, make_unit
from tests.test_db import REQUIRED, STAMP

ROWS = 240
# The rows a bulletin made after its cut-off reads (figures.phase_counts_by_unit, as of a day).
LATER = text(
    "SELECT count(*) FROM organization WHERE campaign_id = :c AND (party_org_founded_on > :d"
    " OR affiliation_settled_on > :d OR liaison_assigned_on > :d)"
)
_serials = itertools.count()


def _bulk_write(rows: int = ROWS, campaign: Campaign | None = None) -> Campaign:
    """A campaign's ledger written as an import writes it (Core), and said so."""
    unit, campaign = make_unit(f"u{next(_serials)}"), campaign or make_campaign(2026)
    shared = dict(REQUIRED, kind="enterprise", category="other", unit_id=unit.id)
    shared.update(investor_is_member=False, planned_on=None, exclusion_decided_at=None)
    first = next(_serials) * 100_000
    insert_rows(
        db.session,
        Organization.__table__,
        ("name", "credit_code"),
        [(f"组织{n}", f"91420100{n:09d}X") for n in range(first, first + rows)],
        shared=dict(shared, campaign_id=campaign.id, created_at=STAMP, updated_at=STAMP),
    )
    figures.stale(db.session, campaign)
    return campaign


def _analyzed_rows() -> int | None:
    """The organizations the planner's statistics count (None: never analyzed)."""
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            if not conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
            ).first():
                return None
            stat = conn.exec_driver_sql(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'organization' LIMIT 1"
            ).scalar()
            return int(stat.split()[0]) if stat else None
        tuples = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE relname = 'organization'"
        ).scalar()
        return int(tuples) if tuples and tuples > 0 else None


def _plan(campaign_id: int) -> str | int:
    """How the planner reads LATER for the campaign: SQLite's plan, PostgreSQL's estimate of
    the campaign's organizations."""
    params = {"c": campaign_id, "d": date(2026, 11, 10)}
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {LATER.text}"), params).all()
        return " / ".join(row[-1] for row in rows)
    plan = db.session.execute(
        text("EXPLAIN (FORMAT JSON) SELECT * FROM organization WHERE campaign_id = :c"), params
    ).scalar()
    return int(plan[0]["Plan"]["Plan Rows"])


def test_the_ledger_is_analyzed_once_a_bulk_write_commits(app):
    _bulk_write()
    assert _analyzed_rows() is None  # not before it commits
    db.session.commit()
    assert _analyzed_rows() == ROWS


def test_a_bulk_write_rolled_back_analyzes_nothing(app):
    _bulk_write()
    db.session.rollback()
    campaign, unit = make_campaign(2027), make_unit("b")
    for _ in range(3):  # a later commit that wrote through the ORM, not in bulk
        make_org(campaign, unit)
    db.session.commit()
    assert _analyzed_rows() is None


def test_a_savepoint_inside_a_bulk_write_leaves_the_refresh_to_its_commit(app):
    # A savepoint released, and another rolled back (an event emitted once, a unique row
    # lost to another process), inside the transaction: its commit still refreshes.
    _bulk_write()
    with db.session.begin_nested():
        make_unit("kept")
    savepoint = db.session.begin_nested()
    make_unit("undone")
    savepoint.rollback()
    assert _analyzed_rows() is None
    db.session.commit()
    assert _analyzed_rows() == ROWS


def test_the_planner_then_reads_a_campaign_s_ledger_as_it_is(app, backend):
    # SQLite scans it instead of reading it row by row through the index on campaign_id;
    # PostgreSQL expects the rows the campaign has, not its guess for a table it never saw.
    campaign_id = _bulk_write().id
    before = _plan(campaign_id)
    db.session.commit()
    db.session.close()  # the next connection reads the new statistics
    after = _plan(campaign_id)
    if backend == "sqlite":
        assert "USING INDEX" in before and "(campaign_id=?)" in before, before
        assert after.startswith("SCAN organization") and "INDEX" not in after, after
    else:
        assert before != ROWS and after == ROWS, (before, after)


def test_the_ledger_is_analyzed_again_once_it_moved_by_more_than_a_tenth(app):
    # A unit's import of a row into a large ledger leaves its statistics as they are (SQLite
    # reads every index to take them); a ledger grown by more than a tenth is analyzed again
    # (in rows on SQLite, in pages on PostgreSQL: 1,000 organizations more than 2,400 are both).
    campaign = _bulk_write(2400)
    db.session.commit()
    assert _analyzed_rows() == 2400
    _bulk_write(1, campaign)
    db.session.commit()
    assert _analyzed_rows() == 2400  # 2,401: as they were
    _bulk_write(1000, campaign)
    db.session.commit()
    assert _analyzed_rows() == 3401


def test_a_refresh_that_would_wait_for_a_lock_gives_up_and_the_commit_stands(
    app, backend, monkeypatch, caplog
):
    # Another session holds what the refresh needs just when the bulk write commits: on
    # PostgreSQL the table (as a VACUUM or another ANALYZE would), on SQLite the database's
    # write lock (another writer). The refresh waits its timeout, then gives up with a
    # warning; the commit stands.
    monkeypatch.setattr(statistics, "LOCK_TIMEOUT", "200ms")
    monkeypatch.setattr(statistics, "BUSY_TIMEOUT", 200)
    holder = db.engine.connect()

    def hold(session) -> None:  # runs first among the hooks of the commit
        if backend == "postgresql":
            holder.exec_driver_sql("BEGIN")
            holder.exec_driver_sql("LOCK TABLE organization IN SHARE UPDATE EXCLUSIVE MODE")
        else:
            holder.connection.dbapi_connection.execute("BEGIN IMMEDIATE")

    event.listen(db.session, "after_commit", hold, insert=True)
    try:
        _bulk_write()
        db.session.commit()  # not refused, not held up past the timeout: the write is in
    finally:
        event.remove(db.session, "after_commit", hold)
        if backend == "postgresql":
            holder.exec_driver_sql("ROLLBACK")
        else:
            holder.connection.dbapi_connection.execute("ROLLBACK")
        holder.close()
    assert db.session.scalar(text("SELECT count(*) FROM organization")) == ROWS
    assert "the planner's statistics were not refreshed now" in caplog.text
    assert ("lock timeout" if backend == "postgresql" else "database is locked") in caplog.text
    assert _analyzed_rows() is None
