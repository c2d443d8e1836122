"""The declarative base shared by every model.

Models subclass this plain SQLAlchemy base (not ``db.Model``) so that rules,
figures and report builders can import them without importing Flask;
Flask-SQLAlchemy is given the same base in ``extensions.py``.
"""

import json
import sqlite3
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import repeat
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias, cast

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Enum,
    MetaData,
    Table,
    any_,
    bindparam,
    event,
    func,
    inspect,
    orm,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, registry
from sqlalchemy.types import TypeDecorator

from campaign.core.errors import Conflict
from campaign.core.text import cleaned_for

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext

# A database session as the application's functions receive it: Flask-SQLAlchemy's
# ``db.session`` in views, jobs and the CLI (a scoped_session, which hands every Session method
# to the current context's session), or a plain Session (the one a session event passes, one
# that backup or the outbox opens on its own connection). Both answer the same methods.
# db.session is a scoped_session of Flask-SQLAlchemy's Session subclass; ``Any`` stands for it
# so that this Flask-free module does not name Flask-SQLAlchemy.
Session: TypeAlias = orm.Session | orm.scoped_session[Any]

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC and read back aware, on SQLite as on PostgreSQL.

    SQLite keeps no zone; without this a time written in Asia/Shanghai would
    come back as a naive wall-clock value eight hours off.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use campaign.core.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_text(enum: type[StrEnum], length: int) -> Enum:
    """A column of ``enum``'s values, stored as their text in a VARCHAR of ``length`` and
    read back as the members.

    The column stays plain text (no database enum type, no CHECK, no migration for a new
    member), a String to whatever asks (the text checks see a system value, never typed by
    users); code reads and compares members, never string literals. A text that is no
    member is bound as it is (a filter asking for it finds nothing).
    """
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=False,
    )


def _json_default(value: Any) -> str:
    # What the hand-written dumps did: dates as ISO text (``str`` of a date is the same), times
    # too (as the preview and ``audit`` keep them), Decimals as their text; anything else is a
    # bug and fails the flush rather than being stored as its repr.
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_dumps(value: Any) -> str:
    """How JSON columns are written (the engine's ``json_serializer``): Chinese as it is, not
    \\u-escaped (half the size), dates as ISO text, Decimals as text. They read back as
    strings: a reader that wants a date parses it (``ledger_values``)."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


@dataclass(frozen=True)
class StoredFile:
    """A file kept under STORAGE_PATH (``core.storage`` checks, writes and serves it), as a
    row carries it: three columns mapped as one attribute with ``composite``, so that
    ``row.document = stored`` sets them together."""

    name: str  # the name the user gave it (no folders)
    path: str  # relative to STORAGE_PATH, with "/" (``storage.resolve`` finds it)
    sha256: str


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )

    if TYPE_CHECKING:
        # Every model here maps a Table of its own (SQLAlchemy types it as any FromClause, for
        # classes mapped to a join or a subquery).
        __table__: ClassVar[Table]


_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    shared: Mapping[str, Any] | None = None,
) -> int:
    """INSERT ``rows`` (tuples in ``columns`` order) plus ``shared`` values common to every row,
    in one executemany on the session's connection; returns the number of rows.

    Core's executemany builds a parameter dict per row and runs every column's bind processing
    on it, which at 50,000 rows costs more than the database's own work. Here the processing is
    looked up once per column, applied column by column, and to a shared value once in all.
    Python-side column defaults are not applied, so every column that has one must be given.
    """
    rows = list(rows)
    if not rows:
        return 0
    shared = dict(shared or {})
    names = [*columns, *shared]
    if len(set(names)) != len(names):
        raise ValueError(f"insert_rows into {table.name} names a column twice: {names}")
    missing = [c.name for c in table.c if c.default is not None and c.name not in names]
    if missing:
        raise ValueError(f"insert_rows into {table.name} without a value for {missing}")
    conn = session.connection()
    dialect = conn.dialect

    def processor(name: str) -> Callable[[Any], Any] | None:
        return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

    values: list[Sequence[Any]] = list(zip(*rows, strict=True)) if columns else []
    for i, name in enumerate(columns):
        process = processor(name)
        if process is not None:
            values[i] = _processed(process, values[i])
    constants: list[Iterable[Any]] = []
    for name, value in shared.items():
        process = processor(name)
        constants.append(repeat(process(value) if process is not None else value, len(rows)))
    prep = dialect.identifier_preparer
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        prep.format_table(table),
        ", ".join(prep.quote(name) for name in names),
        ", ".join([_MARKERS[dialect.paramstyle]] * len(names)),
    )
    conn.exec_driver_sql(sql, list(zip(*values, *constants, strict=True)))
    return len(rows)


def _processed(process: Callable[[Any], Any], column: Sequence[Any]) -> list[Any]:
    """``process`` over a column's values, once per distinct value: flags, dates and times of
    an import repeat a few values (mostly None) over every row. Values of mixed types (True
    and 1 are equal, for one) or unhashable ones are processed one by one."""
    try:
        distinct = set(column)
    except TypeError:
        return list(map(process, column))
    if len({type(v) for v in distinct if v is not None}) > 1 or len(distinct) * 2 > len(column):
        return list(map(process, column))
    done = {v: process(v) for v in distinct}
    return list(map(done.__getitem__, column))


def listen_once(target: Any, listeners: Iterable[tuple[str, Callable[..., Any]]]) -> None:
    """Add each (event name, listener) to ``target`` (a Session, sessionmaker or
    scoped_session) unless it is there already: every app a process creates shares
    ``db.session``, and each registers its session hooks again."""
    for name, listener in listeners:
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)


def one_of(
    session: Session, column: ColumnElement[Any] | InstrumentedAttribute[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN values`` with every value in one bound parameter, however many there are.

    ``column.in_(values)`` binds one parameter per value: SQLite refuses more than 32,766 and
    PostgreSQL 65,535, and chunking 50,000 codes of an import costs dozens of statements.
    PostgreSQL takes an array (``= ANY``), SQLite a JSON list unpacked by ``json_each``.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    if dialect == "sqlite":
        listed = func.json_each(bindparam(None, json.dumps(list(values)))).table_valued("value")
        return column.in_(select(listed.c.value))
    return column.in_(list(values))


# ---- double submissions: the first of several posts of one act wins ---------------------------
#
# An act that moves a record from one state to another (apply an import, accept a change
# request, verify a closure) claims the record first: one conditional UPDATE whose row count
# says whether this submission is the one that happens. An act that creates a record where a
# rule says "one" (the next version of a report) first takes a lock on what it creates under,
# then looks whether it was done already. Either way a second submission waits for the first
# to commit and then finds the act done: Conflict, with the message the first one's outcome
# gives, before any work. The claim or lock comes before the act records anything, so the
# audit chain's lock (audit._last_entry_locked) is always taken after it, never before: two
# acts cannot each hold what the other waits for.


def claim(
    session: Session,
    obj: Any,
    condition: ColumnElement[bool],
    conflict: str | Callable[[], str],
    **values: Any,
) -> None:
    """Move ``obj``'s row by ``UPDATE … SET values WHERE <its key> AND condition``; when no
    row matches (the state ``condition`` asks for is gone), raise Conflict(conflict), or
    Conflict(conflict()) with ``obj`` read again, for a message that names the state it found.

    PostgreSQL locks the row and SQLite the database until commit: a second claim waits,
    then matches nothing. Without ``values`` the row is only claimed (locked and counted).
    ``values`` are also set on ``obj``, so the unit of work writes them as any change: a
    version column is checked and bumped, and tallies see the new state.
    """
    state = inspect(obj)
    mapper = state.mapper
    key = [
        column == value for column, value in zip(mapper.primary_key, state.identity, strict=True)
    ]
    # Written here without a flush, so the text guard's cleaning is applied here (a reason
    # with a control character is refused by name, not a database error).
    values = {
        name: cleaned_for(mapper.local_table.c[name], value, name)
        if isinstance(value, str)
        else value
        for name, value in values.items()
    }
    changes = dict(values) or {c.name: c for c in mapper.primary_key}
    session.flush()  # obj's own pending changes go first, checked as usual
    # A DML statement's result is a CursorResult (Session.execute is typed for any statement).
    result = cast(
        CursorResult[Any],
        session.execute(update(mapper.local_table).where(*key, condition).values(changes)),
    )
    if result.rowcount != 1:
        if callable(conflict):
            session.refresh(obj)
            conflict = conflict()
        raise Conflict(conflict)
    for name, value in values.items():
        setattr(obj, name, value)


def serialize(session: Session, table: Table, *key: Any) -> None:
    """Hold the lock on ``key`` in ``table`` until this transaction ends, so that a second
    transaction asking for it waits for the first to commit and then reads what it wrote.

    For acts that create a row where there is none to claim. PostgreSQL: an advisory lock on
    (table, key); SQLite writes one at a time, so its database write lock, taken now by a
    write that changes nothing.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer))"),
            {"space": _int4(table.name), "key": _int4(repr(key))},
        )
    elif dialect == "sqlite":
        pk = list(table.primary_key)[0].name
        session.execute(text(f"UPDATE {table.name} SET {pk} = {pk} WHERE 0"))


def is_busy(error: DBAPIError) -> bool:
    """Whether the database gave up waiting for a lock another transaction holds (SQLite's
    busy timeout; on PostgreSQL a deadlock, a serialization failure or a lock timeout):
    nothing was kept, and the same request may simply be sent again."""
    orig = getattr(error, "orig", None)
    if isinstance(orig, sqlite3.OperationalError):
        return "database is locked" in str(orig)
    return getattr(orig, "sqlstate", None) in ("40P01", "40001", "55P03")


def _int4(value: str) -> int:
    """``value`` as a signed 32-bit lock key (equal keys for equal values, across processes)."""
    return zlib.crc32(value.encode()) - 2**31


def render_migration_item(
    type_: str, obj: Any, autogen_context: "AutogenContext"
) -> str | Literal[False]:
    """Alembic autogenerate hook: write UTCDateTime as the plain column type it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
