"""The query planner's statistics, refreshed after a bulk write of the ledger.

SQLite gathers no statistics by itself. Without them its planner takes any index that
starts with a column compared by "=" as selective: a query over a whole campaign's
organizations (``campaign_id = ?``) reads the ledger row by row through such an index
instead of scanning it. For 50,000 organizations that took 59 ms instead of 15 ms
(BENCHMARKS.md, issue 18, last section). PostgreSQL's autovacuum analyzes a table some
time after it changes, so right after a bulk import its planner still plans for the table
as it was (bench/scale.py saw a nested loop run for minutes at 1,000,000 organizations).

So a transaction that bulk-writes the ledger says so (``bulk_written``, which
``figures.stale`` calls: an import, the demo, every organization judged again after a rule
or setting changed). Once it commits, the tables a bulk write fills are analyzed on a
connection of their own, at once, in the process that committed:

- a table that holds rows and has no statistics yet, or whose rows (SQLite) or pages
  (PostgreSQL, read without a scan) moved by more than a tenth since they were taken: a
  unit's import of a few rows into a large ledger leaves them as they are (SQLite's ANALYZE
  reads every index of the table, 0.06 s for 50,000 organizations); changes that keep the
  size are autovacuum's on PostgreSQL;
- SQLite waits at most BUSY_TIMEOUT for another writer; PostgreSQL at most LOCK_TIMEOUT for
  a table that a VACUUM or another ANALYZE holds. The role the app connects as must own the
  tables (it created them by its migrations); otherwise PostgreSQL skips them with a
  warning of its own, and autovacuum's statistics are what the planner has.

A refresh that cannot happen now is logged and given up: the commit stands.
"""

import logging

from sqlalchemy import Connection, Engine, orm
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import SessionTransaction

from campaign.core.db import Session, listen_once

log = logging.getLogger(__name__)

# What a bulk write of the ledger fills: the organizations, and the board's items and
# closures that follow them.
TABLES = ("organization", "board_item", "closure")
_PENDING = "gongjian.statistics_stale"
# How long the refresh waits for another writer (SQLite, ms) or for a table another ANALYZE
# or a VACUUM holds (PostgreSQL), before it is given up.
BUSY_TIMEOUT = 5000
LOCK_TIMEOUT = "5s"
# SQLite: a table is analyzed again once its rows moved by more than this share.
MOVED = 0.1


def bulk_written(session: Session) -> None:
    """Have the planner's statistics refreshed once this transaction commits."""
    session.info[_PENDING] = True


def analyze(engine: Engine) -> list[str]:
    """ANALYZE the tables a bulk write fills whose statistics are out of date (see above), in
    a transaction of its own. The tables analyzed."""
    with engine.begin() as conn:
        postgresql = conn.dialect.name == "postgresql"
        stale = _postgresql_stale if postgresql else _sqlite_stale
        tables = [t for t in TABLES if stale(conn, t)]
        if not tables:
            return []
        if postgresql:
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        else:
            busy = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0)
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT}")
        try:
            for table in tables:
                conn.exec_driver_sql(f"ANALYZE {table}")
        finally:
            if not postgresql:  # the pooled connection as it was
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {busy}")
    return tables


def _moved(now: int, then: int | None) -> bool:
    """Whether a table that holds ``now`` (rows or pages) has statistics to take: it holds
    something, and it had none when they were last taken (None: never), or it moved by more
    than MOVED since."""
    if not now:
        return False  # an empty table: nothing to plan for
    return then is None or abs(now - then) > MOVED * max(then, 1)


def _sqlite_stale(conn: Connection, table: str) -> bool:
    """SQLite: ``_moved`` in rows (sqlite_stat1's first figure is the row count then)."""
    rows = int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)
    stat = None
    if conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    ).first():
        stat = conn.exec_driver_sql(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = ? LIMIT 1", (table,)
        ).scalar()
    return _moved(rows, int(stat.split()[0]) if stat else None)


def _postgresql_stale(conn: Connection, table: str) -> bool:
    """PostgreSQL: ``_moved`` in pages (pg_class.relpages is the table's size when it was
    last analyzed or vacuumed, reltuples below 0 until then), read without a scan."""
    pages, then, tuples = conn.exec_driver_sql(
        "SELECT pg_relation_size(oid) / current_setting('block_size')::int, relpages, reltuples"
        " FROM pg_class WHERE oid = to_regclass(%(table)s)",
        {"table": table},
    ).one()
    return _moved(int(pages), None if tuples < 0 else int(then))


def _refresh(engine: Engine) -> None:
    # After a commit: a failure is logged, never raised into the code that committed.
    try:
        analyze(engine)
    except OperationalError as e:  # a lock or another writer held on past the timeout
        log.warning("the planner's statistics were not refreshed now: %s", e.orig)
    except Exception:
        log.exception("refreshing the planner's statistics failed")


def _after_commit(session: orm.Session) -> None:
    if session.in_nested_transaction():  # a savepoint's release commits nothing yet
        return
    if session.info.pop(_PENDING, False):
        _refresh(session.get_bind().engine)


def _after_transaction_end(session: orm.Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit (rolled back, or closed on an
    # exception): its bulk write is undone, nothing to refresh. A savepoint's end changes
    # nothing of the outer transaction's write.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def track(target: Session) -> None:
    """Refresh the statistics after each commit on ``target`` (a Session, sessionmaker or
    scoped_session) that bulk-wrote. Idempotent: every app a process creates shares
    ``db.session``."""
    listen_once(
        target,
        (("after_commit", _after_commit), ("after_transaction_end", _after_transaction_end)),
    )
