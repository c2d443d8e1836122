"""The query planner's statistics, refreshed after a bulk write of the ledger.

SQLite gathers no statistics by itself. Without them its planner takes any index that
starts with a column compared by "=" as selective: a query over a whole campaign's
organizations (``campaign_id = ?``) reads the ledger row by row through such an index
instead of scanning it. For 50,000 organizations that took 59 ms instead of 15 ms
(BENCHMARKS.md, issue 18). PostgreSQL's autovacuum analyzes a table some time after it
changes, so right after a bulk import its planner still plans for the table as it was
(bench/scale.py saw a nested loop run for minutes at 1,000,000 organizations).

So a transaction that bulk-writes the ledger says so (``bulk_written``, which
``figures.stale`` calls). Once it commits, the tables a bulk write fills are analyzed on a
connection of their own, at once: a few milliseconds for a ledger of a few thousand
organizations, 0.06 s for 50,000 on SQLite, after an import that took seconds.
"""

import logging

from sqlalchemy import Engine, event, orm

from campaign.core.db import Session

log = logging.getLogger(__name__)

# What a bulk write of the ledger fills: the organizations, and the board's items and
# closures that follow them.
TABLES = ("organization", "board_item", "closure")
_PENDING = "gongjian.statistics_stale"


def bulk_written(session: Session) -> None:
    """Have the planner's statistics refreshed once this transaction commits."""
    session.info[_PENDING] = True


# How long PostgreSQL's ANALYZE waits for a table another ANALYZE or a VACUUM holds: past
# it, the refresh is given up (and logged), not waited for by the request that committed.
LOCK_TIMEOUT = "5s"


def analyze(engine: Engine) -> None:
    """ANALYZE the tables a bulk write fills, in a transaction of its own (SQLite takes its
    write lock for it, briefly; PostgreSQL only a lock that other ANALYZEs and VACUUMs take,
    waited for at most LOCK_TIMEOUT)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        for table in TABLES:
            conn.exec_driver_sql(f"ANALYZE {table}")


def _after_commit(session: orm.Session) -> None:
    if session.info.pop(_PENDING, False) and not session.in_nested_transaction():
        try:  # the change is in: a failure here is logged, never raised to the committer
            analyze(session.get_bind().engine)
        except Exception:
            log.exception("refreshing the planner's statistics failed")


def _after_rollback(session: orm.Session) -> None:
    session.info.pop(_PENDING, None)


def track(target: Session) -> None:
    """Refresh the statistics after each commit on ``target`` (a Session, sessionmaker or
    scoped_session) that bulk-wrote. Idempotent: every app a process creates shares
    ``db.session``."""
    for name, listener in (("after_commit", _after_commit), ("after_rollback", _after_rollback)):
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)
