"""Tallies: counts of a table's rows kept per group in a small table, in step by SQL.

A page that needs counts per unit sums a few thousand tally rows instead of scanning a
table of a million. Each ``Tally`` says which table it counts (an ORM class with
``campaign_id`` and ``unit_id``), which columns make a group (``Key``), and what it counts
per group. The groups a transaction changes are recounted from that table by SQL in the same
transaction: ORM changes are noticed at flush (``track``), bulk writes say which units they
touched (``Tally.stale``; a statement that writes a counted table without it makes the commit
fail, so a forgotten call cannot leave the figures quietly wrong), and the recount runs before commit, or before a tally is read in
the same transaction (``settle``). Recounts of the same units are serialized by a lock on the
unit rows (PostgreSQL).

Two tallies use it: the figures' (``figures.LEDGER_TALLY``, table ledger_counts) and the
board's (``board.models.BOARD_TALLY``, table board_counts). No Flask here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.sql.dml import UpdateBase

from campaign.core.db import Session, listen_once
from campaign.core.models import Campaign, Unit

_STALE = "tally.stale"  # session.info: {Tally: {campaign_id: {"all", "units", "groups"}}}
_BULK = "tally.bulk"  # session.info: the tallies whose counted table a statement wrote
# Beyond this many groups in one commit, whole units are recounted instead.
_GROUPS_AT_MOST = 50

TALLIES: list["Tally"] = []  # every tally defined, in the order they are recounted


@dataclass(frozen=True)
class Key:
    """One column of a tally's group: the tally's column, the counted table's attribute, and
    the value kept for NULL (a primary key column cannot be NULL)."""

    column: str
    attribute: str
    null: Any = None

    def of(self, source: type[Any]) -> Any:
        """The key as SQL over the counted table."""
        value = getattr(source, self.attribute)
        return value if self.null is None else func.coalesce(value, self.null)

    def value(self, raw: Any) -> Any:
        """The key of a Python value as the tally keeps it."""
        return self.null if raw is None else raw

    def matches(self, source: type[Any], kept: Any) -> ColumnElement[bool]:
        """The SQL condition for rows of the counted table whose key is ``kept``."""
        value = getattr(source, self.attribute)
        if self.null is not None and kept == self.null:
            return or_(value.is_(None), value == kept)
        return value == kept


@dataclass(eq=False)
class Tally:
    """Counts of ``source`` rows per group, kept in ``model`` (its key columns, then
    ``campaign_id`` and the counts)."""

    title: str  # for messages: what is kept ("指标计数")
    source_title: str  # and what it is checked against ("台账")
    model: type[Any]  # an ORM class
    source: type[Any]  # an ORM class with campaign_id and unit_id
    keys: tuple[Key, ...]  # the first is the unit
    counts: Callable[[Campaign], dict[str, Any]]  # name -> SQL aggregate over one group's rows
    # True when only the key decides what a row counts for (a count of rows): an edit that
    # leaves a row's key as it was changes nothing.
    key_only: bool = False

    def __post_init__(self) -> None:
        assert self.keys[0].attribute == "unit_id", "a tally's first key is the unit"
        TALLIES.append(self)

    # ---- noting what changed -----------------------------------------------------------

    def group_of(self, row, *, before: bool = False) -> tuple:
        """The group of an ORM row, now or as loaded."""
        state = inspect(row)
        group = []
        for key in self.keys:
            history = state.attrs[key.attribute].history
            raw = history.deleted[0] if before and history.deleted else getattr(row, key.attribute)
            group.append(key.value(raw))
        return tuple(group)

    def _marks(self, session: Session, campaign_id: int) -> dict:
        return (
            session.info.setdefault(_STALE, {})
            .setdefault(self, {})
            .setdefault(campaign_id, {"all": False, "units": set(), "groups": set()})
        )

    def stale(self, session: Session, campaign: Campaign, unit_ids=None) -> None:
        """Say that a bulk write changed the rows of ``unit_ids`` (None: the whole campaign).

        For writes that bypass the ORM's unit of work (Core or bulk statements, COPY); the
        units are recounted before the transaction commits.
        """
        marks = self._marks(session, campaign.id)
        if unit_ids is None:
            marks["all"] = True
        else:
            marks["units"].update(unit_ids)

    def _note(self, session: Session, row, new: bool) -> None:
        now_ = self.group_of(row)
        before = now_ if new else self.group_of(row, before=True)
        if self.key_only and before == now_ and row in session.dirty:
            return
        self._marks(session, row.campaign_id)["groups"].update({now_, before})

    # ---- counting ----------------------------------------------------------------------

    def _key_sql(self) -> list:
        return [key.of(self.source) for key in self.keys]

    def recount(
        self,
        session: Session,
        campaign: Campaign,
        unit_ids: list[int] | None = None,
        groups: list[tuple[Any, ...]] | None = None,
    ) -> None:
        """Rebuild the tally from the counted table by SQL: of ``groups``, of ``unit_ids``, or
        all. Also the repair for a tally that was not kept (``flask campaign recount``)."""
        lock_units(session, {g[0] for g in groups} if groups is not None else unit_ids)
        self._recount(session, campaign, unit_ids, groups)

    def _recount(
        self,
        session: Session,
        campaign: Campaign,
        unit_ids: list[int] | None,
        groups: list[tuple[Any, ...]] | None,
    ) -> None:
        t, source = self.model.__table__, self.source
        in_source = [source.campaign_id == campaign.id]
        in_tally = [t.c.campaign_id == campaign.id]
        if groups is not None:
            in_source.append(
                or_(
                    *(
                        and_(*(k.matches(source, v) for k, v in zip(self.keys, g, strict=True)))
                        for g in groups
                    )
                )
            )
            in_tally.append(tuple_(*(t.c[k.column] for k in self.keys)).in_(groups))
        elif unit_ids is not None:
            in_source.append(source.unit_id.in_(unit_ids))
            in_tally.append(t.c.unit_id.in_(unit_ids))
        session.execute(delete(t).where(*in_tally))
        columns, _, counted = self._counted(campaign, in_source)
        session.execute(insert(t).from_select(columns, counted))

    def _counted(self, campaign: Campaign, where: list) -> tuple[list[str], int, Any]:
        """The tally's rows for the counted rows matching ``where``, as SQL: the tally's
        columns, how many of them (at the end) are counts, and the SELECT."""
        key = self._key_sql()
        counts = self.counts(campaign)
        counted = select(literal(campaign.id), *key, *counts.values()).where(*where).group_by(*key)
        return ["campaign_id", *(k.column for k in self.keys), *counts], len(counts), counted

    def matches(self, session: Session, campaign: Campaign) -> bool:
        """Whether the tally holds the same counts per group as a scan of the counted table."""
        settle(session)
        columns, width, counted = self._counted(campaign, [self.source.campaign_id == campaign.id])
        scanned = session.execute(counted)
        t = self.model.__table__
        kept = session.execute(
            select(*(t.c[c] for c in columns)).where(t.c.campaign_id == campaign.id)
        )

        def by_group(rows) -> dict:
            return {tuple(r[:-width]): tuple(int(n) for n in r[-width:]) for r in rows}

        return by_group(scanned) == by_group(kept)


@dataclass(eq=False)
class ItemTally(Tally):
    """A tally that counts, per group, each item of a list the campaign defines (its rules):
    one row per group and item, the item's code in ``item_column``. ``items`` gives, per
    item, its code and its counts as conditions on one counted row (name -> condition, the
    same names for every item); a row is kept only where the item's first count is not
    zero. ``counts`` is unused.

    The counted rows are read once: every condition's sum per group, then one row per item."""

    item_column: str = "item"
    items: Callable[[Campaign], list[tuple[str, dict[str, Any]]]] = lambda _c: []

    def _counted(self, campaign: Campaign, where: list) -> tuple[list[str], int, Any]:
        items = self.items(campaign)
        names = list(items[0][1]) if items else ["n"]
        columns = ["campaign_id", *(k.column for k in self.keys), self.item_column, *names]
        if not items:
            nothing = select(
                literal(campaign.id), *self._key_sql(), literal(""), *(literal(0) for _ in names)
            ).where(false())
            return columns, len(names), nothing
        key = self._key_sql()
        wide = (
            select(
                *(k.label(c.column) for k, c in zip(key, self.keys, strict=True)),
                *(
                    func.coalesce(func.sum(case((condition, 1), else_=0)), 0).label(f"c{i}_{j}")
                    for i, (_, conditions) in enumerate(items)
                    for j, condition in enumerate(conditions.values())
                ),
            )
            .where(*where)
            .group_by(*key)
            .cte("wide")
        )
        per_item = [
            select(
                literal(campaign.id),
                *(wide.c[k.column] for k in self.keys),
                literal(code, String),
                *(wide.c[f"c{i}_{j}"] for j in range(len(names))),
            ).where(wide.c[f"c{i}_0"] != 0)
            for i, (code, _) in enumerate(items)
        ]
        return columns, len(names), union_all(*per_item)


# ---- keeping every tally in step with the session ---------------------------------------


def _after_flush(session: Session, _context) -> None:
    for row in chain(session.new, session.dirty, session.deleted):
        for tally in TALLIES:
            if isinstance(row, tally.source) and row.campaign_id is not None:
                tally._note(session, row, new=row in session.new)


def _bulk_write(state: ORMExecuteState) -> None:
    """Note an INSERT, UPDATE or DELETE statement on a counted table (not the ORM's flush,
    which ``_after_flush`` follows): the writer must say which units it touched."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    statement = state.statement
    assert isinstance(statement, UpdateBase)
    name = getattr(statement.table, "name", None)
    for tally in TALLIES:
        if name == tally.source.__table__.name:
            state.session.info.setdefault(_BULK, set()).add(tally)


def _forget(session: Session, *_args) -> None:
    session.info.pop(_STALE, None)
    session.info.pop(_BULK, None)


def settle(session: Session) -> None:
    """Recount what this transaction changed, so every tally matches the rows it sees."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    stale = session.info.pop(_STALE, None)
    unsaid = session.info.pop(_BULK, set()) - set(stale or ())
    if unsaid:
        # A bulk write that did not say which units it touched would leave the figures
        # quietly wrong: refuse the commit instead (a programming error; the suite finds it).
        tables = "、".join(sorted(t.source.__table__.name for t in unsaid))
        raise RuntimeError(f"{tables}: a bulk write without Tally.stale; nothing committed")
    if not stale:
        return
    work: list[tuple[Tally, Campaign, list[int] | None, list[tuple[Any, ...]] | None]] = []
    for tally in TALLIES:
        for campaign_id, marks in sorted(stale.get(tally, {}).items()):
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                continue
            if marks["all"]:
                work.append((tally, campaign, None, None))
            elif marks["units"] or len(marks["groups"]) > _GROUPS_AT_MOST:
                units = marks["units"] | {g[0] for g in marks["groups"]}
                work.append((tally, campaign, sorted(units), None))
            elif marks["groups"]:
                work.append((tally, campaign, None, sorted(marks["groups"])))
    if not work:
        return
    # Every unit any recount touches is locked first, in one statement and in id order, so
    # two writers recounting different tallies of the same units cannot deadlock.
    if any(unit_ids is None and groups is None for _, _, unit_ids, groups in work):
        lock_units(session, None)
    else:
        lock_units(
            session,
            {
                u
                for _, _, unit_ids, groups in work
                for u in unit_ids or [g[0] for g in groups or ()]
            },
        )
    for tally, campaign, unit_ids, groups in work:
        tally._recount(session, campaign, unit_ids, groups)


def track(target) -> None:
    """Keep every tally in step on ``target`` (a Session, sessionmaker or scoped_session).

    Idempotent: every app a process creates shares ``db.session``.
    """
    listen_once(
        target,
        (
            ("do_orm_execute", _bulk_write),
            ("after_flush", _after_flush),
            ("before_commit", settle),
            ("after_rollback", _forget),
        ),
    )


def lock_units(session: Session, unit_ids) -> None:
    """Serialize recounts of the same units (PostgreSQL; SQLite has one writer anyway).

    FOR NO KEY UPDATE: rows that merely reference a unit (FOR KEY SHARE) are not blocked.
    The recount's statements then see every commit of an earlier holder.
    """
    stmt = select(Unit.id).order_by(Unit.id).with_for_update(key_share=True)
    if unit_ids is not None:
        stmt = stmt.where(Unit.id.in_(sorted(unit_ids)))
    session.execute(stmt).all()
