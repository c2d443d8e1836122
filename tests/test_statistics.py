"""The planner's statistics are refreshed once a bulk write of the ledger commits
(campaign.core.statistics): without them SQLite reads a whole campaign's ledger through an
index on campaign_id, row by row, and PostgreSQL plans for the table as it was."""

from datetime import date

from sqlalchemy import text

from campaign import figures
from campaign.core import statistics
from campaign.core.db import insert_rows
from campaign.core.extensions import db
from campaign.ledger.models import Organization
from tests.conftest import make_campaign, make_org, make_unit
from tests.test_db import REQUIRED, STAMP

ROWS = 240
# The rows a bulletin made after its cut-off reads (figures.phase_counts_by_unit, as of a day).
LATER = text(
    "SELECT count(*) FROM organization WHERE campaign_id = :c AND (party_org_founded_on > :d"
    " OR affiliation_settled_on > :d OR liaison_assigned_on > :d)"
)


def _bulk_write() -> None:
    """A campaign's ledger written as an import writes it (Core), and said so."""
    unit, campaign = make_unit("a"), make_campaign(2026)
    shared = dict(REQUIRED, kind="enterprise", category="other", unit_id=unit.id)
    shared.update(investor_is_member=False, planned_on=None, exclusion_decided_at=None)
    insert_rows(
        db.session,
        Organization.__table__,
        ("name", "credit_code"),
        [(f"组织{n}", f"91420100{n:09d}X") for n in range(ROWS)],
        shared=dict(shared, campaign_id=campaign.id, created_at=STAMP, updated_at=STAMP),
    )
    figures.stale(db.session, campaign)


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


def _plan() -> str:
    rows = db.session.execute(
        text(f"EXPLAIN QUERY PLAN {LATER.text}"), {"c": 1, "d": date(2026, 11, 10)}
    ).all()
    return " / ".join(row[-1] for row in rows)


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


def test_sqlite_then_scans_a_campaign_s_ledger_instead_of_reading_it_by_index(app, backend):
    if backend != "sqlite":
        return  # PostgreSQL's plans are its own; its statistics are checked above
    _bulk_write()
    before = _plan()
    db.session.commit()
    db.session.close()  # the next connection reads the new statistics
    assert "USING INDEX" in before and "(campaign_id=?)" in before, before
    assert _plan() == "SCAN organization"


def test_a_refresh_that_would_wait_for_a_lock_gives_up_and_the_commit_stands(
    app, backend, monkeypatch, caplog
):
    if backend != "postgresql":
        return  # SQLite has one writer: its refresh waits its turn like any write
    monkeypatch.setattr(statistics, "LOCK_TIMEOUT", "200ms")
    holder = db.engine.connect()
    try:
        holder.exec_driver_sql("BEGIN")
        # What a VACUUM or another ANALYZE holds on the table meanwhile.
        holder.exec_driver_sql("LOCK TABLE organization IN SHARE UPDATE EXCLUSIVE MODE")
        _bulk_write()
        db.session.commit()  # not refused, not held up: the write is in
    finally:
        holder.exec_driver_sql("ROLLBACK")
        holder.close()
    assert db.session.scalar(text("SELECT count(*) FROM organization")) == ROWS
    assert "refreshing the planner's statistics failed" in caplog.text
    assert _analyzed_rows() is None
