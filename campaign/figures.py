"""The figures of DOMAIN.md §6, computed as SQL aggregates.

One source for pages, the API and bulletins. Counts are summed in the
database (one GROUP BY query per view); only the ratios are taken in Python.
No Flask here: every function takes a SQLAlchemy session.

Current figures are sums over ``LedgerCounts``, the same aggregate kept per group of
organizations (unit, street/park, kind, category), so a page costs a few thousand rows,
not a scan of the ledger. ``campaign.tally`` keeps it in step: the groups are recounted
from the ledger by SQL in the transaction that changes it (ORM changes to organizations
noticed at flush, bulk writes marked with ``stale``), before commit, or before figures are
read in the same transaction (``settle``). Figures as of a past day (``as_of``) count Party
orgs by founding date and are always taken from the ledger.

Whether an organization meets what the rules ask is never decided here: every count that
says "met" is the SQL reading of the target's condition in ``rules.MET``, the same condition
the board reads in Python to put the organization on the wall chart. What a figure counts as
still short is therefore exactly what the board still holds open, target by target
(``Counts.short``).
"""

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Label,
    Result,
    Row,
    Select,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import Case

from campaign import rules, tally
from campaign.core import statistics
from campaign.core.clock import today
from campaign.core.db import Session
from campaign.core.models import Campaign, Unit
from campaign.core.vocab import OrgKind, PartyOrgStatus, Target
from campaign.ledger.models import LedgerCounts, Organization, RuleCounts

Org = Organization
R = TypeVar("R", bound=tuple[Any, ...])


@dataclass(frozen=True)
class Counts:
    """The counts every rate is made of, for one group of organizations."""

    base: int = 0  # 党建基数: in the base (not excluded)
    excluded: int = 0  # out of the base (vocab.EXITS: 空壳/僵尸/影子, 注销/撤销登记/…)
    with_party_org: int = 0  # 单独 + 联合 + 功能型
    standalone: int = 0
    work_covered: int = 0  # Party org, or 指导员, or a mass organization
    required: int = 0  # must have a Party org under the rules (应单独组建 + 应建党组织)
    required_met: int = 0  # of them, with the Party org the rule asks for
    member_required: int = 0  # enterprises at or above the member threshold (50)
    member_required_met: int = 0  # of them, meeting 应有党员
    party_org_required_by_size: int = 0  # enterprises at or above 100 employees
    party_org_required_by_size_met: int = 0  # of them, meeting 应建党组织
    # Per target (rules.MET): in the base with that target, and of them those that meet it.
    # What is due and not met is what the board holds open for that target.
    due_standalone: int = 0
    met_standalone: int = 0
    due_party_org: int = 0
    met_party_org: int = 0
    due_member: int = 0
    met_member: int = 0
    due_work_coverage: int = 0
    met_work_coverage: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def short(self, target: Target) -> int:
        """Organizations whose target is ``target`` that do not meet it yet (board items)."""
        short: int = getattr(self, f"due_{target}") - getattr(self, f"met_{target}")
        return short


def reaches(part: int, whole: int, target_percent: Decimal) -> bool | None:
    """Whether ``part / whole`` reaches a target in percent, in exact integers (None if no whole).

    Floats would put 29 of 100 below a 29 % target; the gap (``gap_to``) is integral too.
    """
    if not whole:
        return None
    return part * 10000 >= int(Decimal(target_percent) * 100) * whole


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Figures:
    """Counts and the rates derived from them (ratios in 0..1, None when undefined)."""

    counts: Counts

    @property
    def party_org_coverage(self) -> float | None:
        """党组织覆盖率 = organizations of the base with a Party org of any form (单独组建,
        联合组建, 功能型) / the base."""
        return _rate(self.counts.with_party_org, self.counts.base)

    @property
    def work_coverage(self) -> float | None:
        """工作覆盖率 = organizations of the base with a Party org, a 党建工作指导员 or a 群团组织
        (工会、共青团、妇联) / the base."""
        return _rate(self.counts.work_covered, self.counts.base)

    @property
    def standalone_rate(self) -> float | None:
        """单独组建率 = organizations with their own (单独组建) Party org / those with a Party org."""
        return _rate(self.counts.standalone, self.counts.with_party_org)

    @property
    def required_coverage(self) -> float | None:
        """应建尽建率 = organizations the rules require to have a Party org (应单独组建, 应建党组织)
        that have the Party org the rule requires / those required.

        "The org the rule requires": with 3 or more formal members their own (单独组建: "凡有3名
        及以上正式党员的，必须单独建立党组织", a joint one is not enough); otherwise standalone
        or joint; a 功能型 one only where seed 004 allows it (a social organization most of
        whose formal members keep their Party relationship elsewhere). Those still short are
        the board's open items of the two targets.
        """
        return _rate(self.counts.required_met, self.counts.required)

    @property
    def member_rate(self) -> float | None:
        """50人以上有党员率 = enterprises of the base with 50 or more staff (the campaign's
        threshold) that meet 应有党员 / those enterprises.

        "职工50人以上的有党员" read with the plan's "尚不具备条件建立党组织的，实现党的工作覆盖":
        a member (正式 or 预备) and the Party's work reaching it (a Party org, a 指导员 or a
        群团组织), the condition on which the board closes an item of 应有党员.
        """
        return _rate(self.counts.member_required_met, self.counts.member_required)

    @property
    def party_org_rate_by_size(self) -> float | None:
        """100人以上有党组织率 = enterprises of the base with 100 or more staff (the campaign's
        threshold) that meet 应建党组织 (a standalone or joint Party org; an enterprise's
        功能型 one does not count, the seed allowing those to social organizations only) /
        those enterprises."""
        return _rate(
            self.counts.party_org_required_by_size_met, self.counts.party_org_required_by_size
        )

    def gap_to(self, target_percent: Decimal) -> int:
        """Party orgs still to set up for 党组织覆盖率 to reach ``target_percent``."""
        needed = -(-self.counts.base * int(target_percent * 100) // 10000)  # ceiling
        return max(0, needed - self.counts.with_party_org)

    RATES = (
        "party_org_coverage",
        "work_coverage",
        "standalone_rate",
        "required_coverage",
        "member_rate",
        "party_org_rate_by_size",
    )

    def as_dict(self) -> dict[str, Any]:
        """Counts and rates, JSON-ready."""
        return {"counts": asdict(self.counts), **{r: getattr(self, r) for r in self.RATES}}


def as_of_day(campaign: Campaign, day: date) -> date | None:
    """``day`` for figures "as of" it, or None (the current figures, summed over the tallies)
    when it is today or later. No Party org, 理顺 or 选派 is dated after the day it is recorded
    (the 附表 and the forms refuse it), so as of today the two are the same counts: a bulletin
    made on its cut-off day reads the tallies instead of the rows dated near the cut-off."""
    return None if day >= today(campaign.timezone) else day


class _AsOf:
    """The ledger's columns as of a past day, for the rules' conditions: a Party org founded
    after it is no Party org yet (one without a founding date counts all along)."""

    def __init__(self, as_of: date) -> None:
        founded = or_(Org.party_org_founded_on.is_(None), Org.party_org_founded_on <= as_of)
        self.party_org_status = case(
            (founded, Org.party_org_status), else_=PartyOrgStatus.NONE.value
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(Org, name)


_ORG_TARGETS = (Target.STANDALONE, Target.PARTY_ORG)
_BOARD_TARGETS = (Target.STANDALONE, Target.PARTY_ORG, Target.MEMBER, Target.WORK_COVERAGE)


def _conditions(campaign: Campaign, as_of: date | None) -> Mapping[str, ColumnElement[bool]]:
    """Per organization, whether it counts in each of ``Counts``' fields (not to be changed:
    the same dict is given again for the same thresholds and day)."""
    return _conditions_for(
        campaign.member_required_employees, campaign.party_org_required_employees, as_of
    )


@lru_cache(maxsize=64)
def _conditions_for(
    member_employees: int, org_employees: int, as_of: date | None
) -> Mapping[str, ColumnElement[bool]]:
    """``_conditions`` built once per thresholds and day (a statement as of a day built them
    twice, 2-3 ms each, for each figure it read)."""
    columns = Org if as_of is None else _AsOf(as_of)
    enterprise = Org.kind == OrgKind.ENTERPRISE.value
    by_member_size = and_(enterprise, Org.employees >= member_employees)
    by_org_size = and_(enterprise, Org.employees >= org_employees)
    in_base = {
        "base": true(),  # and_ leaves it out, as it would True
        "with_party_org": rules.HAS_PARTY_ORG.sql(columns),
        "standalone": rules.HAS_STANDALONE_ORG.sql(columns),
        "work_covered": rules.WORK_COVERED.sql(columns),
        "required": Org.target.in_([t.value for t in _ORG_TARGETS]),
        "required_met": rules.met_sql(columns, _ORG_TARGETS),
        "member_required": by_member_size,
        "member_required_met": and_(by_member_size, rules.MET[Target.MEMBER].sql(columns)),
        "party_org_required_by_size": by_org_size,
        "party_org_required_by_size_met": and_(
            by_org_size, rules.MET[Target.PARTY_ORG].sql(columns)
        ),
    }
    for target in _BOARD_TARGETS:
        in_base[f"due_{target.value}"] = Org.target == target.value
        in_base[f"met_{target.value}"] = rules.met_sql(columns, [target])
    conditions = {name: and_(Org.in_base, c) for name, c in in_base.items()}
    conditions["excluded"] = ~Org.in_base
    return MappingProxyType({name: conditions[name] for name in _COUNT_NAMES})


def _one_if(condition: ColumnElement[bool]) -> Case[int]:
    return case((condition, 1), else_=0)


def _sums(campaign: Campaign, as_of: date | None) -> list[Label[int]]:
    """The labelled SUM(CASE ...) columns behind ``Counts``, over the ledger."""
    return [
        func.coalesce(func.sum(_one_if(c)), 0).label(name)
        for name, c in _conditions(campaign, as_of).items()
    ]


def _counts(row: Row[Any]) -> Counts:
    return Counts(**{f.name: int(getattr(row, f.name)) for f in fields(Counts)})


_COUNT_NAMES = [f.name for f in fields(Counts)]
_KEYS: dict[str | None, list[str]] = {
    None: [],
    "unit": ["unit_id"],
    "area": ["area_key"],
    "kind": ["kind"],
    "category": ["kind", "category"],
    # both "unit" and "kind" from one statement (by_unit_and_kind)
    "unit_kind": ["unit_id", "kind"],
}


def _statement(
    campaign: Campaign, by: str | None, unit_ids: list[int] | None, as_of: date | None
) -> tuple[Select[Any], int]:
    """The aggregate for ``grouped``/``overall``: a sum over the tally.

    As of a past day the only difference from now is the Party orgs founded after it, so
    the sum also runs over those organizations, adding per row what they count as of that
    day less what they count now (an index range on the founding date; one statement, so
    both parts read the same ledger).

    Built once per campaign, thresholds, grouping, units and day (a statement is immutable;
    building it and its cache key took 3-7 ms of each page and of each bulletin's gather).
    """
    return _statement_for(
        campaign.id,
        campaign.member_required_employees,
        campaign.party_org_required_employees,
        by,
        None if unit_ids is None else tuple(sorted(unit_ids)),
        as_of,
    )


@lru_cache(maxsize=64)
def _statement_for(
    campaign_id: int,
    member_employees: int,
    org_employees: int,
    by: str | None,
    unit_ids: tuple[int, ...] | None,
    as_of: date | None,
) -> tuple[Select[Any], int]:
    kept = select(
        LedgerCounts.unit_id,
        LedgerCounts.area_key,
        LedgerCounts.kind,
        LedgerCounts.category,
        *[getattr(LedgerCounts, n).label(n) for n in _COUNT_NAMES],
    ).where(LedgerCounts.campaign_id == campaign_id)
    if unit_ids is not None:
        kept = kept.where(LedgerCounts.unit_id.in_(unit_ids))
    source: Select[Any] | CompoundSelect[Any] = kept
    if as_of is not None:
        then = _conditions_for(member_employees, org_employees, as_of)
        now_ = _conditions_for(member_employees, org_employees, None)
        later = _scoped(
            select(
                Org.unit_id,
                func.coalesce(Org.area_id, 0).label("area_key"),
                Org.kind,
                Org.category,
                *[(_one_if(then[n]) - _one_if(now_[n])).label(n) for n in _COUNT_NAMES],
            ).where(Org.party_org_founded_on > as_of),
            campaign_id,
            unit_ids,
        )
        source = union_all(kept, later)
    rows = source.subquery()
    columns = [rows.c[k] for k in _KEYS[by]]
    sums = [func.coalesce(func.sum(rows.c[n]), 0).label(n) for n in _COUNT_NAMES]
    stmt = select(*columns, *sums)
    return (stmt.group_by(*columns) if columns else stmt), len(columns)


def _scoped(stmt: Select[R], campaign_id: int, unit_ids: Iterable[int] | None) -> Select[R]:
    stmt = stmt.where(Org.campaign_id == campaign_id)
    return stmt if unit_ids is None else stmt.where(Org.unit_id.in_(unit_ids))


def overall(
    session: Session,
    campaign: Campaign,
    unit_ids: list[int] | None = None,
    as_of: date | None = None,
) -> Figures:
    """Figures over every organization of the campaign (or of ``unit_ids``)."""
    settle(session)
    stmt, _ = _statement(campaign, None, unit_ids, as_of)
    return Figures(_counts(session.execute(stmt).one()))


def grouped(
    session: Session,
    campaign: Campaign,
    by: str,
    unit_ids: list[int] | None = None,
    as_of: date | None = None,
) -> dict[Any, Figures]:
    """Figures per group: ``by`` is "unit", "area" (street/park), "kind", or "category"
    (keyed by (kind, category), since both kinds have an "other")."""
    settle(session)
    stmt, width = _statement(campaign, by, unit_ids, as_of)
    groups: dict[Any, Figures] = {}
    for row in session.execute(stmt):
        key = row[0] if width == 1 else tuple(row[:width])
        if by == "area":
            key = key or None  # the tally keeps "no street/park" as 0
        groups[key] = Figures(_counts(row))
    return groups


def by_unit(
    session: Session,
    campaign: Campaign,
    unit_ids: list[int] | None = None,
    as_of: date | None = None,
    per_unit: dict[Any, Figures] | None = None,
) -> list[tuple[Unit, Figures]]:
    """Every responsible unit (or those in ``unit_ids``) with its figures, in display order
    (``per_unit``: the figures per unit id, when the caller has them)."""
    if per_unit is None:
        per_unit = grouped(session, campaign, "unit", unit_ids, as_of)
    stmt = select(Unit).where(Unit.is_responsible).order_by(Unit.position, Unit.id)
    if unit_ids is not None:
        stmt = stmt.where(Unit.id.in_(unit_ids))
    return [(u, per_unit.get(u.id, Figures(Counts()))) for u in session.scalars(stmt)]


def by_unit_and_kind(
    session: Session, campaign: Campaign, as_of: date | None = None
) -> tuple[list[tuple[Unit, Figures]], dict[Any, Figures]]:
    """``by_unit`` and ``grouped(by="kind")`` from one statement grouped by unit and kind: as
    of a past day each is a pass over the Party orgs founded after it, so a bulletin reads
    them once."""
    per_unit: dict[Any, Figures] = {}
    per_kind: dict[Any, Figures] = {}
    for (unit_id, kind), f in grouped(session, campaign, "unit_kind", None, as_of).items():
        for sums, key in ((per_unit, unit_id), (per_kind, kind)):
            sums[key] = Figures(sums[key].counts + f.counts) if key in sums else f
    return by_unit(session, campaign, None, as_of, per_unit), per_kind


def total_of(rows: Iterable[tuple[object, Figures]]) -> Figures:
    """The sum over units' figures (every ledger row belongs to a responsible unit), so a page
    that shows the units does not query a second time for its total row."""
    total = Counts()
    for _, f in rows:
        total = total + f.counts
    return Figures(total)


def founded_between(
    session: Session,
    campaign: Campaign,
    starts_on: date,
    ends_on: date,
    unit_ids: list[int] | None = None,
) -> dict[int, int]:
    """New Party orgs per unit: in the base, with a Party org founded in [starts_on, ends_on]."""
    stmt = _scoped(
        select(Org.unit_id, func.count()).where(
            _conditions(campaign, None)["with_party_org"],
            Org.party_org_founded_on >= starts_on,
            Org.party_org_founded_on <= ends_on,
        ),
        campaign.id,
        unit_ids,
    )
    return dict(session.execute(stmt.group_by(Org.unit_id)).tuples().all())


def founded_by_day(
    session: Session,
    campaign: Campaign,
    after: date,
    until: date,
    unit_ids: list[int] | None = None,
) -> list[tuple[int, date, int, int]]:
    """(unit id, founding day, Party orgs, of them meeting 应建尽建) for every day in
    (``after``, ``until``] on which organizations of the base counted now got their Party org.

    Exactly what ``overall(as_of=d)`` gains from one day to the next: a figure as of a day
    counts the Party orgs founded by then (``_AsOf``), so the gain of 党组织覆盖率's part and
    of 应建尽建率's part between two days is the sum of these rows in between.
    """
    # The two of ``_conditions`` it needs (building all of them costs more than the query).
    with_party_org = rules.HAS_PARTY_ORG.sql(Org)
    required_met = rules.met_sql(Org, _ORG_TARGETS)
    stmt = _scoped(
        select(
            Org.unit_id,
            Org.party_org_founded_on,
            func.coalesce(func.sum(_one_if(with_party_org)), 0),
            func.coalesce(func.sum(_one_if(required_met)), 0),
        ).where(Org.party_org_founded_on > after, Org.party_org_founded_on <= until, Org.in_base),
        campaign.id,
        unit_ids,
    ).group_by(Org.unit_id, Org.party_org_founded_on)
    return [(u, d, int(n), int(m)) for u, d, n, m in session.execute(stmt)]


def planned_by(
    session: Session,
    campaign: Campaign,
    after: date,
    until: date,
    unit_ids: list[int] | None = None,
) -> dict[int, tuple[int, int]]:
    """unit id -> (board items planned to be done in (``after``, ``until``] of organizations
    of the base without a Party org on ``after``; of them, those required to have one
    (应单独组建/应建党组织) and not meeting it then): what each unit's plans say it will add to
    党组织覆盖率's and 应建尽建率's parts by ``until`` (the forecast's high end)."""
    from campaign.board.models import BoardItem  # noqa: PLC0415 (the plans, read only)

    columns = _AsOf(after)
    without = ~rules.HAS_PARTY_ORG.sql(columns)
    required_open = and_(
        Org.target.in_([t.value for t in _ORG_TARGETS]), ~rules.met_sql(columns, _ORG_TARGETS)
    )
    stmt = _scoped(
        select(
            Org.unit_id,
            func.coalesce(func.sum(_one_if(without)), 0),
            func.coalesce(func.sum(_one_if(required_open)), 0),
        )
        .join(BoardItem, BoardItem.organization_id == Org.id)
        .where(
            BoardItem.campaign_id == campaign.id,
            BoardItem.planned_on > after,
            BoardItem.planned_on <= until,
            Org.in_base,
        ),
        campaign.id,
        unit_ids,
    ).group_by(Org.unit_id)
    return {u: (int(n), int(m)) for u, n, m in session.execute(stmt)}


def coverage_trend(
    session: Session, campaign: Campaign, days: list[date], unit_ids: list[int] | None = None
) -> list[tuple[date, float | None]]:
    """党组织覆盖率 as of each day in ``days`` (Party orgs counted from their founding date).

    One statement for every day: the base and the Party orgs now (the tally), and the Party
    orgs in the base per founding date after the earliest day (read from
    ix_organization_founded alone); a day's Party orgs are today's less those founded after
    it. The base does not depend on the day.
    """
    if not days:
        return []
    settle(session)
    kept = select(
        func.sum(LedgerCounts.base).label("base"),
        func.sum(LedgerCounts.with_party_org).label("n"),
        null().label("founded_on"),
    ).where(LedgerCounts.campaign_id == campaign.id)
    if unit_ids is not None:
        kept = kept.where(LedgerCounts.unit_id.in_(unit_ids))
    by_founding = _scoped(
        select(
            literal(0).label("base"),
            func.count().label("n"),
            Org.party_org_founded_on.label("founded_on"),
        )
        .where(Org.party_org_founded_on > min(days), _conditions(campaign, None)["with_party_org"])
        .group_by(Org.party_org_founded_on),
        campaign.id,
        unit_ids,
    )
    base, with_org = 0, 0
    founded: list[tuple[date, int]] = []
    # The founding date's type comes from the first part of the union.
    rows: Result[Any] = session.execute(union_all(by_founding, kept))
    for row in rows:
        if row.founded_on is None:
            base, with_org = int(row.base or 0), int(row.n or 0)
        else:
            founded.append((row.founded_on, int(row.n)))
    return [(day, _rate(with_org - sum(n for on, n in founded if on > day), base)) for day in days]


# --- The tally: LedgerCounts kept in step with the ledger (campaign.tally) -------------

LEDGER_TALLY = tally.Tally(
    title="指标计数",
    source_title="台账",
    model=LedgerCounts,
    source=Organization,
    keys=(
        tally.Key("unit_id", "unit_id"),
        tally.Key("area_key", "area_id", null=0),
        tally.Key("kind", "kind"),
        tally.Key("category", "category"),
    ),
    counts=lambda campaign: {c.name: c for c in (*_sums(campaign, None), *_phase_sums(campaign))},
)
settle = tally.settle


# The figures' names for the shared machinery, as the ledger's writers and tests call it:
# both tallies of the ledger (this one and RULE_TALLY, below), as one.
def stale(session: Session, campaign: Campaign, unit_ids: Iterable[int] | None = None) -> None:
    """Say that a bulk write changed the organizations of ``unit_ids`` (None: every unit):
    the ledger's tallies are recounted for them before the transaction commits, and the
    planner's statistics refreshed after it (``statistics``)."""
    for kept in (LEDGER_TALLY, RULE_TALLY):
        kept.stale(session, campaign, unit_ids)
    statistics.bulk_written(session)


def recount(session: Session, campaign: Campaign, unit_ids: list[int] | None = None) -> None:
    """Rebuild the ledger's tallies from the ledger by SQL (of ``unit_ids``, or all)."""
    for kept in (LEDGER_TALLY, RULE_TALLY):
        kept.recount(session, campaign, unit_ids)


# --- Seed 004 phases 5 and 6: 理顺隶属关系, 选派第一书记或党建工作指导员 -------------------------


@dataclass(frozen=True)
class PhaseCounts:
    """What phases 5 and 6 of seed 004 ask of the Party orgs of one group of organizations."""

    party_orgs: int = 0  # in the base, with a Party org (单独 + 联合 + 功能型)
    settled: int = 0  # of them, whose 隶属关系 is put right (理顺)
    new_party_orgs: int = 0  # in the base, with a Party org founded since the campaign began
    new_with_liaison: int = 0  # of them, with a 第一书记 or 党建工作指导员 sent

    def __add__(self, other: "PhaseCounts") -> "PhaseCounts":
        return PhaseCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def settled_rate(self) -> float | None:
        """理顺率 = Party orgs of the base whose 隶属关系 is put right / Party orgs of the base
        (seed 004 phase 5: 调整理顺"两新"组织党组织的隶属关系)."""
        return _rate(self.settled, self.party_orgs)

    @property
    def liaison_rate(self) -> float | None:
        """新建党组织选派率 = Party orgs of the base founded since the campaign began (its
        first day on) that have a 第一书记 or 党建工作指导员 / those new Party orgs (seed 004
        phase 6: 对新组建的党组织 … 担任第一书记或党建工作指导员联系指导)."""
        return _rate(self.new_with_liaison, self.new_party_orgs)


_PHASE_NAMES = [f.name for f in fields(PhaseCounts)]


def _by(day: Any, as_of: date | None) -> ColumnElement[bool]:
    """Done by ``as_of`` (always, without a day): what a bulletin counts at its cut-off."""
    return true() if as_of is None else or_(day.is_(None), day <= as_of)


def _phase_conditions(campaign: Campaign, as_of: date | None) -> Mapping[str, ColumnElement[bool]]:
    """Per organization, whether it counts in each of ``PhaseCounts``' fields (built once per
    campaign start and day, as ``_conditions``)."""
    return _phase_conditions_for(campaign.starts_on, as_of)


@lru_cache(maxsize=64)
def _phase_conditions_for(starts_on: date, as_of: date | None) -> Mapping[str, ColumnElement[bool]]:
    columns = Org if as_of is None else _AsOf(as_of)
    with_org = and_(Org.in_base, rules.HAS_PARTY_ORG.sql(columns))
    new = and_(with_org, Org.party_org_founded_on >= starts_on)
    return MappingProxyType(
        {
            "party_orgs": with_org,
            "settled": and_(
                with_org, Org.affiliation_settled, _by(Org.affiliation_settled_on, as_of)
            ),
            "new_party_orgs": new,
            "new_with_liaison": and_(
                new, rules.Filled("liaison_name").sql(Org), _by(Org.liaison_assigned_on, as_of)
            ),
        }
    )


# The tally's columns for them (LedgerCounts); its Party orgs are ``with_party_org``.
_PHASE_TALLIED = {
    "party_orgs": "with_party_org",
    "settled": "settled",
    "new_party_orgs": "new_party_orgs",
    "new_with_liaison": "new_with_liaison",
}


def _phase_sums(campaign: Campaign) -> list[Label[int]]:
    """The labelled SUM(CASE ...) the tally keeps for PhaseCounts (the Party orgs it keeps
    already, as ``with_party_org``)."""
    conditions = _phase_conditions(campaign, None)
    return [
        func.coalesce(func.sum(_one_if(conditions[n])), 0).label(column)
        for n, column in _PHASE_TALLIED.items()
        if n != "party_orgs"
    ]


def phase_counts_by_unit(
    session: Session,
    campaign: Campaign,
    unit_ids: list[int] | None = None,
    as_of: date | None = None,
) -> dict[int, PhaseCounts]:
    """PhaseCounts per unit id (units without a Party org are absent): now, a sum over the
    tally (LedgerCounts, as the other current figures); ``as_of`` a past day, what was done by
    then (a Party org, a 理顺 or a 选派 with a later day is not counted yet): the tally less
    what the organizations with such a later day add to it now."""
    settle(session)
    stmt = _phase_statement(
        campaign.id,
        campaign.starts_on,
        None if unit_ids is None else tuple(sorted(unit_ids)),
        as_of,
    )
    return {
        row.unit_id: PhaseCounts(**{n: int(getattr(row, n)) for n in _PHASE_NAMES})
        for row in session.execute(stmt)
        if row.party_orgs
    }


@lru_cache(maxsize=64)
def _phase_statement(
    campaign_id: int, starts_on: date, unit_ids: tuple[int, ...] | None, as_of: date | None
) -> Select[Any]:
    """``phase_counts_by_unit``'s statement, built once per campaign, start, units and day
    (as ``_statement``)."""
    if as_of is None:
        stmt = select(
            LedgerCounts.unit_id,
            *[
                func.coalesce(func.sum(getattr(LedgerCounts, column)), 0).label(n)
                for n, column in _PHASE_TALLIED.items()
            ],
        ).where(LedgerCounts.campaign_id == campaign_id)
        if unit_ids is not None:
            stmt = stmt.where(LedgerCounts.unit_id.in_(unit_ids))
        return stmt.group_by(LedgerCounts.unit_id)
    # As of a past day: the tally, plus what each organization counted then less what it
    # counts now, summed over those whose Party org, 理顺 or 选派 is dated after the day (the
    # others count then as now): the conditions are evaluated for those rows only, not for
    # every Party org of the ledger. One statement, as ``_statement``.
    then, now_ = _phase_conditions_for(starts_on, as_of), _phase_conditions_for(starts_on, None)
    kept = select(
        LedgerCounts.unit_id,
        *[getattr(LedgerCounts, column).label(n) for n, column in _PHASE_TALLIED.items()],
    ).where(LedgerCounts.campaign_id == campaign_id)
    if unit_ids is not None:
        kept = kept.where(LedgerCounts.unit_id.in_(unit_ids))
    later = _scoped(
        select(
            Org.unit_id, *[(_one_if(then[n]) - _one_if(now_[n])).label(n) for n in _PHASE_NAMES]
        ).where(
            or_(
                Org.party_org_founded_on > as_of,
                Org.affiliation_settled_on > as_of,
                Org.liaison_assigned_on > as_of,
            )
        ),
        campaign_id,
        unit_ids,
    )
    rows = union_all(kept, later).subquery()
    return select(
        rows.c.unit_id, *[func.coalesce(func.sum(rows.c[n]), 0).label(n) for n in _PHASE_NAMES]
    ).group_by(rows.c.unit_id)


def phase_counts(
    session: Session,
    campaign: Campaign,
    unit_ids: list[int] | None = None,
    as_of: date | None = None,
) -> PhaseCounts:
    """PhaseCounts over the campaign (or ``unit_ids``)."""
    total = PhaseCounts()
    for counts in phase_counts_by_unit(session, campaign, unit_ids, as_of).values():
        total = total + counts
    return total


# --- The figures of the campaign's rules (a rule with a ``figure`` of its own) ---------------


@dataclass(frozen=True)
class RuleFigure:
    """One rule's own figure: organizations of the base the rule covers, and of them those
    meeting what it asks (the same counts as ``flask rules show``)."""

    code: str
    name: str  # "50人以上企业有党员率"
    target: str
    scope: str  # the organizations counted, as a sentence names them: "职工50人以上的非公企业"
    met_words: str  # "有党员的"
    rate_words: str  # "有党员率"
    covered: int
    met: int
    # The rule's due date (seed 000's "X月X日前"), and once it has passed (on the day the
    # figures are read), how many of those covered met the target by then.
    due_on: date | None = None
    met_by_due: int | None = None
    # A share rather than a duty of each (seed 003 例9: "80%单独建立党组织"), in per cent.
    share: int | None = None

    @property
    def rate(self) -> float | None:
        """met / covered (None when the rule covers no organization)."""
        return _rate(self.met, self.covered)

    @property
    def due_text(self) -> str:
        """ "须于11月30日前", and after it "须于11月30日前，截至11月30日已达到3个"; "" without."""
        return due_text(self.due_on, self.met_by_due)

    @property
    def reached(self) -> bool | None:
        """Whether the figure reaches its share (None: no share, or no organization covered)."""
        return None if self.share is None else reaches(self.met, self.covered, Decimal(self.share))

    @property
    def share_text(self) -> str:
        """ "目标80%，已达到" or "目标80%，未达到，尚差2个"; "" without a share."""
        if self.share is None:
            return ""
        if self.reached is None:
            return f"目标{self.share}%"
        if self.reached:
            return f"目标{self.share}%，已达到"
        needed = -(-self.covered * self.share // 100)  # ceiling
        return f"目标{self.share}%，未达到，尚差{needed - self.met}个"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the rate (what a bulletin's snapshot keeps)."""
        data = {**asdict(self), "rate": self.rate, "due_text": self.due_text}
        data |= {"reached": self.reached, "share_text": self.share_text}
        data["due_on"] = self.due_on.isoformat() if self.due_on else None
        return data


def due_text(due_on: date | None, met_by_due: int | None) -> str:
    """A rule figure's due date as pages and bulletins say it."""
    if due_on is None:
        return ""
    done = "" if met_by_due is None else f"，截至{due_on.month}月{due_on.day}日已达到{met_by_due}个"
    return rules.due_words(due_on) + done


def rule_figures(
    session: Session,
    campaign: Campaign,
    unit_ids: list[int] | None = None,
    as_of: date | None = None,
) -> list[RuleFigure]:
    """The figures of the campaign's rules: one per rule switched on that names a figure,
    from the weakest target up (有党员, 党组织, 单独组建: as the plans list them, "50人以上的有党员、
    100人以上的建有党的组织"), else in the rule set's order. Sums over the tally (RULE_TALLY); as
    of ``as_of`` (Party orgs counted from their founding day) with what the organizations whose
    Party org was founded after it met then less now."""
    from campaign import rulesets  # noqa: PLC0415 (rulesets reads the ledger's models)

    rule_set = rulesets.rule_set_of(campaign)
    kept_as = {id(r): _rule_key(i, r) for i, r in enumerate(rule_set.rules)}
    chosen = [r for r in rule_set.active if r.figure]
    chosen.sort(key=lambda r: -rules.LADDER.index(r.target))
    counts = _kept_rule_counts(session, campaign, [kept_as[id(r)] for r in chosen], unit_ids)
    if counts is not None and as_of is not None:
        counts = _rule_counts_then(session, campaign, chosen, unit_ids, as_of, counts)
    if counts is None:
        columns = None if as_of is None else _AsOf(as_of)
        counts = rulesets.rule_counts(session, campaign, chosen, unit_ids, columns)
    out = []
    for rule, (covered, met) in zip(chosen, counts, strict=True):
        met_words, rate_words = rulesets.figure_words(rule)
        out.append(
            RuleFigure(
                code=rule.code,
                name=rule.figure_name(),
                target=rule.target.value,
                scope=rulesets.figure_scope(rule),
                met_words=met_words,
                rate_words=rate_words,
                covered=covered,
                met=met,
            )
        )
    out = _with_due_dates(session, campaign, chosen, out, unit_ids, as_of)
    return _with_shares(chosen, out)


def _with_shares(chosen: list[rules.Rule], found: list[RuleFigure]) -> list[RuleFigure]:
    """The figures of rules that are a share carry it (compared with it by ``reached``)."""
    return [
        f if rule.share is None else replace(f, share=rule.share)
        for rule, f in zip(chosen, found, strict=True)
    ]


def _with_due_dates(
    session: Session,
    campaign: Campaign,
    chosen: list[rules.Rule],
    found: list[RuleFigure],
    unit_ids: list[int] | None,
    as_of: date | None,
) -> list[RuleFigure]:
    """The figures of rules with a due date carry it, and once it has passed (on ``as_of``,
    default today) how many met the target by that day (Party orgs counted from their
    founding day): one statement per due date."""
    from campaign import rulesets  # noqa: PLC0415 (rulesets reads the ledger's models)

    on = as_of or today(campaign.timezone)
    out = list(found)
    for due_on in sorted({d for r in chosen if (d := r.due_on) is not None}):
        at = [i for i, r in enumerate(chosen) if r.due_on == due_on]
        met_by: list[int | None] = [None] * len(at)
        if on > due_on:
            counted = rulesets.rule_counts(
                session, campaign, [chosen[i] for i in at], unit_ids, _AsOf(due_on)
            )
            met_by = [met for _, met in counted]
        for i, n in zip(at, met_by, strict=True):
            out[i] = replace(out[i], due_on=due_on, met_by_due=n)
    return out


# --- The tally of the rules' figures: RuleCounts kept in step with the ledger -------------


def _rule_conditions(campaign: Campaign) -> list[tuple[str, dict[str, Any]]]:
    """Per rule of the campaign's rule set (switched on or not): its code, and the conditions
    on one organization of being covered (in the base, and the rule's own condition) and of
    meeting what the rule asks (``rules.MET`` of its target): the counts of
    ``rulesets.rule_counts``, read from each rule's own SQL, whatever its fields."""
    from campaign import rulesets  # noqa: PLC0415 (rulesets reads the ledger's models)

    return _conditions_of(rulesets.rule_set_of(campaign))


@lru_cache(maxsize=64)
def _conditions_of(rule_set: Any) -> list[tuple[str, dict[str, Any]]]:
    """``_rule_conditions`` of one rule set (an immutable value), built once: every commit that
    changes organizations recounts their groups with them."""
    out = []
    for i, rule in enumerate(rule_set.rules):
        covered, met = _rule_sql(rule, Org)
        out.append((_rule_key(i, rule), {"covered": covered, "met": met}))
    return out


def _rule_key(position: int, rule: Any) -> str:
    """How the tally names a rule: its place in the rule set and its code ("3:employees_member";
    two rules may share a code, as seed 004's 互联网 and 文化创意 ones do)."""
    return f"{position}:{rule.code}"


def _rule_sql(rule: Any, columns: Any) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Whether an organization is covered by ``rule`` (in the base, and the rule's own
    condition), and whether it is covered and meets what the rule asks, its Party org read
    from ``columns`` (the ledger, or ``_AsOf`` a past day): ``rulesets.rule_sql``."""
    from campaign import rulesets  # noqa: PLC0415 (rulesets reads the ledger's models)

    return rulesets.rule_sql(rule, Org, columns)


RULE_TALLY = tally.ItemTally(
    title="规则指标计数",
    source_title="台账",
    model=RuleCounts,
    source=Organization,
    keys=LEDGER_TALLY.keys,
    counts=lambda _campaign: {},
    item_column="rule",
    items=_rule_conditions,
)


def _kept_rule_counts(
    session: Session, campaign: Campaign, chosen: list[str], unit_ids: list[int] | None
) -> list[tuple[int, int]] | None:
    """(covered, met) per rule of ``chosen`` (their ``_rule_key``), summed over the tally; None
    while the tally holds nothing for a campaign with organizations (a database upgraded to it and not yet
    recounted: ``flask campaign recount``), whose figures are then read from the ledger."""
    if not chosen:
        return []
    settle(session)
    stmt = select(
        RuleCounts.rule,
        func.coalesce(func.sum(RuleCounts.covered), 0),
        func.coalesce(func.sum(RuleCounts.met), 0),
    ).where(RuleCounts.campaign_id == campaign.id)
    if unit_ids is not None:
        stmt = stmt.where(RuleCounts.unit_id.in_(unit_ids))
    kept = {
        code: (int(c), int(m))
        for code, c, m in session.execute(
            stmt.where(RuleCounts.rule.in_(chosen)).group_by(RuleCounts.rule)
        )
    }
    if not kept:
        tallied = select(RuleCounts.rule).where(RuleCounts.campaign_id == campaign.id).limit(1)
        ledger = select(Org.id).where(Org.campaign_id == campaign.id).limit(1)
        if session.scalar(tallied) is None and session.scalar(ledger) is not None:
            return None
    return [kept.get(key, (0, 0)) for key in chosen]


def _rule_counts_then(
    session: Session,
    campaign: Campaign,
    chosen: list[Any],
    unit_ids: list[int] | None,
    as_of: date,
    now_: list[tuple[int, int]],
) -> list[tuple[int, int]]:
    """(covered, met) per rule as of a past day from the counts now: whom a rule covers does not
    depend on the day; what it meets does, through the Party orgs founded after it (an index
    range), whose "met" then less "met" now is added (the rules' own conditions, as
    ``rulesets.rule_counts`` reads them as of a day)."""
    if not chosen:
        return []
    then = _AsOf(as_of)
    deltas = []
    for rule in chosen:
        met_then, met_now = _rule_sql(rule, then)[1], _rule_sql(rule, Org)[1]
        deltas.append(func.coalesce(func.sum(_one_if(met_then) - _one_if(met_now)), 0))
    stmt = _scoped(select(*deltas).where(Org.party_org_founded_on > as_of), campaign.id, unit_ids)
    row = session.execute(stmt).one()
    return [(covered, met + int(d)) for (covered, met), d in zip(now_, row, strict=True)]
