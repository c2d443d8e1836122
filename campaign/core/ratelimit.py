"""Rate-limit counters in the application's own database, shared by every worker.

Flask-Limiter keeps its counters in the `limits` storage that RATELIMIT_STORAGE_URI names.
`limits` ships storages for memory (one per process: each gunicorn worker would count on
its own), Redis, memcached and MongoDB, none for an SQL database. A deployment without
Redis still has its database, which every worker and process already shares, so
``database://`` (the default) names this storage: a counter row per key, in the database
the app is configured with (Flask-SQLAlchemy's engine of the current app). With
``redis://…`` set, Redis is used instead and this table stays empty.

It serves the fixed-window strategy (Flask-Limiter's default): ``incr`` starts a window
on a key's first hit and counts up until the window ends. Each call is its own short
transaction on its own connection, so a count stays counted whatever the request does
with its own transaction afterwards.
"""

from limits.storage import Storage
from sqlalchemy import Double, Engine, String, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from campaign.core.clock import now
from campaign.core.db import Base

# Expired rows removed by each increment: enough to keep up with any rate of new keys.
GARBAGE_BATCH = 100


class RateLimitCounter(Base):
    """The hits on one rate-limit key in its current window."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int]
    # Seconds since the epoch (what `limits` works in), on the campaign clock.
    expires_at: Mapped[float] = mapped_column(Double, index=True)


def _moment() -> float:
    # The campaign clock: a process started by a test with GONGJIAN_TEST_CLOCK counts in
    # the same time as the test that reads its counters.
    return now().timestamp()


def _engine() -> Engine:
    from campaign.core.extensions import db

    return db.engine


class DatabaseStorage(Storage):
    """A `limits` storage (fixed window) over the ``rate_limit_counter`` table."""

    STORAGE_SCHEME = ["database"]

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to ``key``'s count, opening a window of ``expiry`` seconds when it
        has none running; the count after the increment."""
        engine = _engine()
        moment = _moment()
        table = RateLimitCounter.__table__
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(table).values(key=key, count=amount, expires_at=moment + expiry)
        ended = table.c.expires_at <= moment
        upsert = upsert.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case(
                    (ended, upsert.excluded.count), else_=table.c.count + upsert.excluded.count
                ),
                "expires_at": case((ended, upsert.excluded.expires_at), else_=table.c.expires_at),
            },
        ).returning(table.c.count)
        with engine.begin() as conn:
            count: int = conn.execute(upsert).scalar_one()
        # In a transaction of its own that waits for no lock (SKIP LOCKED on PostgreSQL),
        # so it never holds up or deadlocks the increments.
        stale = (
            select(table.c.key)
            .where(table.c.expires_at <= moment)
            .limit(GARBAGE_BATCH)
            .with_for_update(skip_locked=True)
        )
        with engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key.in_(stale)))
        return count

    def get(self, key: str) -> int:
        """``key``'s count in its running window (0 when none runs)."""
        table = RateLimitCounter.__table__
        with _engine().connect() as conn:
            count = conn.scalar(
                select(table.c.count).where(table.c.key == key, table.c.expires_at > _moment())
            )
        return count or 0

    def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends (now when none runs)."""
        table = RateLimitCounter.__table__
        with _engine().connect() as conn:
            ends = conn.scalar(
                select(table.c.expires_at).where(table.c.key == key, table.c.expires_at > _moment())
            )
        return ends if ends is not None else _moment()

    def check(self) -> bool:
        """Whether the database answers."""
        try:
            with _engine().connect() as conn:
                conn.scalar(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every count."""
        with _engine().begin() as conn:
            return conn.execute(delete(RateLimitCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        """Forget ``key``'s count."""
        table = RateLimitCounter.__table__
        with _engine().begin() as conn:
            conn.execute(delete(table).where(table.c.key == key))
