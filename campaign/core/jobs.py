"""Background work: one way for a job to hold its row, report progress and be retried.

A job's row is a record users read, so each kind keeps its own table and columns: an
import (ImportBatch: its problems or preview), a bulletin run (BulletinRun: every attempt,
failures included, on the archive page), a delivery (Delivery: the notification log). A
``Kind`` names what this module needs of such a row, and everything about leases,
abandoned work and back-off is done here, the same way for every kind:

- Lease: a row in the kind's ``running`` status is held by one process, which shows it is
  alive in the ``heartbeat`` column. ``progress`` commits the job's progress and renews the
  lease; past ``lease`` without a heartbeat the holder is taken for dead. ``hold`` renews it
  in the transaction that writes the job's outcome.
- Abandoned work: ``settle_abandoned`` is the one way to find and settle it, writing the
  kind's ``abandoned`` outcome (the scheduler's ``jobs.settle_abandoned`` job, and each
  kind before it starts new work). Pages do not write: ``as_settled`` shows a lapsed row as
  it will be settled. A holder whose row was settled meanwhile gets ``LeaseLost`` at its
  next report and stops. Work whose process died is not counted as a failed attempt.
- Retries: ``Retry`` is the one back-off formula (first wait, doubling, cap, and at most so
  many attempts), with parameters per kind. ``claim`` takes work that waits for its next
  attempt (a delivery), so two processes never take the same row.
- ``run`` runs a job started by a request (an upload, a button) in a worker thread of the
  web process; the page polls the row for progress, and the CLI runs the job in the
  foreground.

Why not a library (checked December 2026 against the releases on PyPI): the work must run
on both SQLite (one process: the demo, tests) and PostgreSQL (gunicorn workers and the
scheduler process) with no new server, and keep our rows. procrastinate, pgqueuer, pq and
dramatiq-postgres are PostgreSQL only; rq, arq, saq, dramatiq and taskiq need Redis or
RabbitMQ; dramatiq-sqlite and litequeue are SQLite only. huey reaches both through its
SqlStorage, but over peewee (a second ORM), with its own queue tables and consumer
process, and it deletes a task from its table when a consumer takes it: no lease, a
task whose consumer dies is lost, no progress. APScheduler 3's SQLAlchemyJobStore keeps
the schedule (which jobs, when), not runs of work: no lease, progress or retries.
APScheduler 4 has leases in an SQLAlchemy data store on both databases, but is a
pre-release its authors say not to use in production, async-first, with jobs in its own
tables and no progress or back-off. Every one of them would hold a second copy of the job
beside our row, which still needs its status, progress and history: the three
hand-written schemes are folded into this module instead.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar, cast

from flask import Flask, current_app
from sqlalchemy import ColumnElement, Engine, Update, and_, update
from sqlalchemy.orm import InstrumentedAttribute
from werkzeug.local import LocalProxy

from campaign.core.clock import now
from campaign.core.db import Session

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gongjian-job")


def run(fn: Callable[..., object], *args: Any) -> None:
    """Call ``fn(*args)`` inside an app context: in a worker thread, or inline when configured."""
    # The app itself, for the worker thread (Flask types its proxy as the app).
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    if not app.config.get("JOBS_IN_BACKGROUND", True):
        fn(*args)
        return

    def job() -> None:
        with app.app_context():
            try:
                fn(*args)
            except Exception:  # a job's failure must be logged, not lost with the thread
                app.logger.exception("background job %s failed", getattr(fn, "__name__", fn))

    _executor.submit(job)


class Job(Protocol):
    """The columns every job's row has; the heartbeat and the rest are named by its Kind."""

    id: int
    status: str


J = TypeVar("J", bound=Job)


@dataclass(frozen=True)
class Retry:
    """When failed work is tried again: ``first`` after the first failure, doubling after
    each further one up to ``cap``; no more tries once ``max_attempts`` have failed (None:
    for as long as the work is due)."""

    first: timedelta
    cap: timedelta
    max_attempts: int | None = None

    def wait(self, failures: int) -> timedelta:
        """How long to wait after the ``failures``-th failure in a row (1 for the first)."""
        wait = self.first
        for _ in range(failures - 1):  # doubled step by step: 2**n of a long run overflows
            if wait >= self.cap:
                break
            wait *= 2
        return min(wait, self.cap)

    def next_attempt(self, failures: int, last: datetime) -> datetime:
        """When to try again after ``failures`` failures, the last one at ``last``."""
        return last + self.wait(failures)

    def gives_up(self, failures: int) -> bool:
        """True once ``failures`` attempts have failed and no more are made."""
        return self.max_attempts is not None and failures >= self.max_attempts


@dataclass(frozen=True)
class Kind(Generic[J]):
    """A kind of background work: its rows, how they are held, and what settles them."""

    model: type[J]
    running: str  # the status of a row a process holds
    heartbeat: InstrumentedAttribute[Any]  # when the holder last showed it is alive
    lease: timedelta  # a holder silent for longer than this died with its process
    # The columns that settle a row whose holder died (status, the message users read),
    # given the moment it is settled.
    abandoned: Callable[[datetime], dict[str, Any]]
    waiting: tuple[str, ...] = ()  # statuses of rows waiting to be claimed (see ``claim``)
    due: InstrumentedAttribute[Any] | None = None  # when a waiting row may be claimed


class LeaseLost(RuntimeError):
    """The row was settled as abandoned while this process still worked on it."""

    def __init__(self) -> None:
        super().__init__("该任务长时间未报告进度，已按中断处理，本次处理停止")


def lapsed(kind: Kind[Any], moment: datetime) -> ColumnElement[bool]:
    """The rows held by a process that has shown no life for longer than the lease."""
    return and_(kind.model.status == kind.running, kind.heartbeat < moment - kind.lease)


def has_lapsed(kind: Kind[Any], row: Job, moment: datetime) -> bool:
    """``lapsed`` for one row read already: running, its holder's lease run out."""
    beat = getattr(row, kind.heartbeat.key)
    return row.status == kind.running and beat is not None and beat < moment - kind.lease


def is_held(kind: Kind[Any], row: Job, moment: datetime) -> bool:
    """True while a live process holds ``row`` (running, within its lease)."""
    return row.status == kind.running and not has_lapsed(kind, row, moment)


def as_settled(kind: Kind[Any], row: Job, moment: datetime) -> dict[str, Any]:
    """The columns a reader should see overridden now: the settled outcome of a lapsed row
    (not yet written: a page never writes), nothing for any other row."""
    return kind.abandoned(moment) if has_lapsed(kind, row, moment) else {}


def settle_abandoned(
    session: Session, kind: Kind[Any], moment: datetime, *where: ColumnElement[bool]
) -> int:
    """Give every lapsed row (of those ``where`` selects) its abandoned outcome; returns how
    many. One conditional UPDATE: a row its holder finished meanwhile is left alone."""
    result = session.execute(
        update(kind.model).where(lapsed(kind, moment), *where).values(kind.abandoned(moment))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _renew(kind: Kind[Any], row_id: int, values: dict[str, Any]) -> Update:
    return (
        update(kind.model)
        .where(kind.model.id == row_id, kind.model.status == kind.running)
        .values({kind.heartbeat.key: now(), **values})
    )


def hold(session: Session, kind: Kind[Any], row: Job, **values: Any) -> None:
    """Renew the lease on ``row`` (and write ``values``) in the caller's transaction, which
    keeps the row until it ends: a job calls it before it writes its outcome, so a row
    settled meanwhile is not overwritten, and one settling now waits and then finds the
    outcome. Raises LeaseLost (the transaction rolled back) if the row is no longer held."""
    result = session.execute(_renew(kind, row.id, values))
    if getattr(result, "rowcount", 0) != 1:
        session.rollback()
        raise LeaseLost()


def progress(session: Session, kind: Kind[Any], row: Job, **values: Any) -> None:
    """Write the job's progress ``values`` and renew its lease, committed at once (pages and
    other processes read it). Raises LeaseLost, with nothing written, if the row was settled
    meanwhile: its holder stops."""
    hold(session, kind, row, **values)
    session.commit()


def progress_aside(session: Session, kind: Kind[Any], row_id: int, **values: Any) -> None:
    """``progress`` from inside a transaction that must go on (reading one view of the data):
    on PostgreSQL written from a connection of its own, so other processes see the lease
    renewed. On SQLite nothing is written: a second connection's write would wait for this
    one's reads (SQLite locks the whole database), and SQLite serves one process here (the
    demo, tests)."""
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return
    assert isinstance(engine, Engine)
    with engine.begin() as connection:
        if connection.execute(_renew(kind, row_id, values)).rowcount != 1:
            raise LeaseLost()


def ready(kind: Kind[Any], moment: datetime) -> ColumnElement[bool]:
    """The rows waiting to be claimed whose time has come."""
    assert kind.due is not None, "a kind whose rows wait to be claimed names its due column"
    return and_(kind.model.status.in_(kind.waiting), kind.due <= moment)


def claim(session: Session, kind: Kind[Any], row_id: int, moment: datetime) -> bool:
    """Take a waiting row for this process (committed); only one process wins it."""
    result = session.execute(
        update(kind.model)
        .where(kind.model.id == row_id, ready(kind, moment))
        # The claim's own time (not the caller's batch start), so a long batch keeps its
        # lease; never before ``moment``, the time the caller works at.
        .values({"status": kind.running, kind.heartbeat.key: max(moment, now())})
    )
    session.commit()
    return getattr(result, "rowcount", 0) == 1
