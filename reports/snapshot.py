"""The bulletin's data: every figure and list it shows, frozen as JSON at the cut-off.

Built from figures.py and the records only (never typed), with no Flask, so it is tested
as a plain function. The snapshot is stored with the bulletin: rendering reads nothing
else, so an old bulletin re-renders identically and every number can be traced.

The PDF shows counts, and the snapshot holds those (SQL COUNT/GROUP BY). The long lists
behind them (the period's closures, the overdue items: 180,000 rows in a province) go
only to the xlsx attachment: ``lists`` reads them as plain rows from the same conditions
the counts use, streamed into the workbook in the same run.
"""

import re
from collections.abc import Iterator
from dataclasses import asdict, fields
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import joinedload

from campaign import figures, targets
from campaign.board import coordination
from campaign.board import services as board
from campaign.board.models import (
    BoardItem,
    CheckResult,
    Closure,
    ClosureMethod,
    ClosureStatus,
    IssueKind,
    IssueStatus,
    ItemState,
    SpotCheck,
)
from campaign.core import campaigns as timeline
from campaign.core.db import Session
from campaign.core.models import Campaign, Phase, Unit
from campaign.core.vocab import OrgKind, Target, UnitKind
from campaign.display import percent, short_date
from campaign.display import target as display_target
from campaign.forecast import services as forecast
from campaign.half_monthly import services as half_monthly
from campaign.ledger.models import Organization
from campaign.quality import services as quality
from campaign.timeline import tasks
from campaign.timeline.states import TaskState

# 2: the closures and overdue items are counted in the snapshot and listed only in the
# attachment (1 carried both lists whole; reports.render still reads it).
# 3: what the 公文 prints from the campaign's own texts (subject, action, 主送), each unit's
# previous rank, 50人以上有党员率 and 100人以上有党组织率, the 非公 / 社会组织 split
# (``by_kind``); reports.render reads versions 1 and 2 as they were printed.
# 4: each unit compared with its own target (campaign.targets: ``target``, ``own_target``,
# ``targets`` per rate; ``gap`` and ``reaches`` against it), each kind with its own
# (``by_kind[k]["targets"]``), and the 工作覆盖率 target; version 3 reads as it was printed.
# Version 4 snapshots may also carry ``rule_figures`` (the figures of the campaign's rules, in
# place of the two 50/100人 figures); one without them prints those two as before.
VERSION = 4
# Rows fetched at a time while the attachment's lists stream (a server-side cursor on
# PostgreSQL), so a province's lists are never all in memory.
STREAM_ROWS = 2000


_PHASE_COUNTS = [f.name for f in fields(figures.PhaseCounts)]

# The usual short form of the plan's long name for the organizations concerned.
TWO_NEW = ("非公有制经济组织和社会组织", "“两新”组织")


def subject(campaign: Campaign) -> str:
    """What the campaign is, from its own name without the city and the year:
    "武汉市非公有制经济组织和社会组织党组织集中组建“百日攻坚行动”（2026年）" ->
    "“两新”组织党组织集中组建“百日攻坚行动”"."""
    name = campaign.name.strip()
    name = re.sub(r"[（(]\s*\d{4}\s*年?\s*[）)]$", "", name).strip()
    if campaign.city_name and name.startswith(campaign.city_name):
        name = name[len(campaign.city_name) :]
    return name.replace(*TWO_NEW) or campaign.name


def action(campaign: Campaign) -> str:
    """The campaign's short name as its texts quote it ("“百日攻坚行动”"), else its subject."""
    quoted = re.findall(r"“[^”]+”", subject(campaign))
    return quoted[-1] if quoted else f"“{subject(campaign)}”"


def title(campaign: Campaign, number: int) -> str:
    """关于<the campaign's bulletin subject>的通报（第N期）; without one, 关于全市<subject>工作
    进展情况的通报（第N期）, the subject from the campaign's name."""
    if campaign.bulletin_subject:
        return timeline.bulletin_title(campaign, number)
    return f"关于全市{subject(campaign)}工作进展情况的通报（第{number}期）"


def addressees(units: list[Unit]) -> str:
    """主送, from the kinds of the responsible units: 各区委组织部, the parks' 党工委组织部,
    the city departments by name."""
    districts = [u for u in units if u.kind == UnitKind.DISTRICT]
    parks = [u.name for u in units if u.kind == UnitKind.PARK]
    out = ["各区委组织部"] if districts else []
    if parks:
        out.append("、".join(parks) + "党工委组织部")
    out += [u.name for u in units if u.kind not in (UnitKind.DISTRICT, UnitKind.PARK)]
    return "，".join(out)


def cutoff_of(campaign: Campaign, due_on: date, at: time) -> datetime:
    """The bulletin's cut-off: the report day at the campaign's time (else ``at``, the
    scheduled time), in the campaign's zone."""
    at = timeline.bulletin_time(campaign, at)
    return datetime.combine(due_on, at, tzinfo=ZoneInfo(campaign.timezone))


def _rates(f: figures.Figures) -> dict[str, Any]:
    return {
        "counts": f.as_dict()["counts"],
        "party_org_coverage": f.party_org_coverage,
        "work_coverage": f.work_coverage,
        "required_coverage": f.required_coverage,
        "standalone_rate": f.standalone_rate,
        "member_rate": f.member_rate,
        "party_org_rate_by_size": f.party_org_rate_by_size,
    }


def _phase_figures(counts: figures.PhaseCounts) -> dict[str, Any]:
    """Seed 004 phases 5 and 6 (理顺率, 新建党组织选派率) with their counts."""
    return {
        **asdict(counts),
        "settled_rate": counts.settled_rate,
        "liaison_rate": counts.liaison_rate,
    }


def _rank_key(unit: dict[str, Any]) -> tuple[bool, Any, Any, int]:
    coverage = unit["party_org_coverage"]
    required = unit["required_coverage"]
    return (
        coverage is None,
        -(coverage or 0),
        -(required if required is not None else 1),
        unit["position"],
    )


def _units(
    session: Session,
    campaign: Campaign,
    period: half_monthly.Period,
    cutoff_day: date,
    before: dict[str, Any],
    before_rank: dict[str, int],
    closures: dict[int, int],
    goals: targets.Targets,
    rows: list[tuple[Unit, figures.Figures]],
    as_of: date | None,
) -> list[dict[str, Any]]:
    """Each unit's line of the ranking, from its ``rows`` (``figures.by_unit`` at the cut-off,
    read ``as_of``: ``figures.as_of_day``)."""
    new = figures.founded_between(session, campaign, period.starts_on, period.due_on)
    items = board.unit_counts(session, campaign, on=cutoff_day)
    phases = figures.phase_counts_by_unit(session, campaign, as_of=as_of)
    units: list[dict[str, Any]] = []
    for position, (unit, f) in enumerate(rows):
        counts = items.get(unit.id, {})
        # 点名 and 距目标 by the unit's own target where it has one (campaign.targets).
        goal = goals.of(targets.Rate.PARTY_ORG_COVERAGE, unit.id)
        units.append(
            {
                "code": unit.code,
                "name": unit.name,
                "position": position,
                **_rates(f),
                "new_party_orgs": new.get(unit.id, 0),
                "previous_coverage": before.get(unit.code),
                "previous_rank": before_rank.get(unit.code),
                "overdue_items": counts.get("overdue", 0),
                "open_items": sum(counts.get(s, 0) for s in board.OPEN_STATES),
                "awaiting_items": counts.get(ItemState.AWAITING, 0),
                "closed_items": counts.get(ItemState.CLOSED, 0),
                "closures_verified": closures.get(unit.id, 0),
                "gap": goal.gap(f.counts),
                "reaches": goal.reaches(f.counts),
                "target": str(goal.percent),
                "own_target": goal.own,
                "targets": goals.all_of(unit.id, f.counts),
                "phases": _phase_figures(phases.get(unit.id, figures.PhaseCounts())),
            }
        )
    _rank(units)
    return units


def _rank(units: list[dict[str, Any]]) -> None:
    """Sort ``units`` by the ranking and set each one's ``rank`` (equal figures share one)."""
    units.sort(key=_rank_key)
    for place, row in enumerate(units, 1):
        tied = place > 1 and _rank_key(row)[:3] == _rank_key(units[place - 2])[:3]
        row["rank"] = units[place - 2]["rank"] if tied else place  # 并列


def _ranks_of(rows: list[tuple[Unit, figures.Figures]]) -> dict[str, int]:
    """The ranks ``rows`` (figures of an earlier day) would have had in a bulletin."""
    units: list[dict[str, Any]] = [
        {
            "code": u.code,
            "position": position,
            "party_org_coverage": f.party_org_coverage,
            "required_coverage": f.required_coverage,
        }
        for position, (u, f) in enumerate(rows)
    ]
    _rank(units)
    return {u["code"]: u["rank"] for u in units if u["party_org_coverage"] is not None}


BOTTOM = 3  # "排名后三位"


def _at_bottom(units: list[dict[str, Any]]) -> set[str]:
    """The codes of the units ranked in the last three places (a unit tied into them counts;
    a unit with no base has no coverage and is not ranked among them)."""
    ranked = [u for u in units if u["party_org_coverage"] is not None]
    return {u["code"] for u in ranked if u["rank"] > len(ranked) - BOTTOM}


def _bottom_streaks(units: list[dict[str, Any]], previous: dict[str, Any] | None) -> None:
    """Each unit's ``bottom_streak``: how many bulletins in a row, this one included, have
    ranked it in the last three places (0 when this one does not). A bulletin published
    before streaks were kept counts as one when it ranked the unit there."""
    earlier: dict[str, int] = {}
    if previous is not None:
        bottom = _at_bottom(previous["units"])
        for u in previous["units"]:
            kept = u.get("bottom_streak")
            earlier[u["code"]] = kept if kept is not None else int(u["code"] in bottom)
    bottom = _at_bottom(units)
    for u in units:
        u["bottom_streak"] = earlier.get(u["code"], 0) + 1 if u["code"] in bottom else 0


def closures_since(campaign: Campaign, period: half_monthly.Period, cutoff: datetime) -> datetime:
    """Where the period's closures start: after the previous bulletin's cut-off (its report day
    at the same time), so one verified that evening is in the next bulletin, not in none."""
    if period.starts_on > campaign.starts_on:
        return cutoff_of(campaign, period.starts_on - timedelta(days=1), cutoff.timetz())
    return datetime.combine(period.starts_on, time(0), tzinfo=ZoneInfo(campaign.timezone))


def _verified_between(
    campaign: Campaign, since: datetime, cutoff: datetime
) -> list[ColumnElement[bool]]:
    """The closures a bulletin reports: verified in (since, cutoff] and not revoked since.

    One set of conditions for the count the PDF prints and the rows the attachment lists."""
    return [
        BoardItem.campaign_id == campaign.id,
        Closure.status == ClosureStatus.VERIFIED,
        Closure.decided_at >= since,
        Closure.decided_at <= cutoff,
    ]


def _closure_counts(
    session: Session, campaign: Campaign, since: datetime, cutoff: datetime
) -> dict[int, int]:
    """Closures verified in the period, per unit."""
    stmt = (
        select(BoardItem.unit_id, func.count())
        .select_from(Closure)
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .where(*_verified_between(campaign, since, cutoff))
        .group_by(BoardItem.unit_id)
    )
    return dict(session.execute(stmt).tuples().all())


def _closure_rows(
    session: Session, campaign: Campaign, since: datetime, cutoff: datetime
) -> Iterator[tuple[Any, ...]]:
    """The period's verified closures, one row each, as the attachment's 本期销号 sheet shows
    them: 单位, 组织名称, 统一社会信用代码, 销号方式, 党组织名称, 成立日期, 核验时间."""
    stmt = (
        select(
            Unit.name,
            Organization.name,
            Organization.credit_code,
            Closure.method,
            Closure.party_org_name,
            Closure.established_on,
            Closure.decided_at,
        )
        .select_from(Closure)
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .join(Organization, Organization.id == BoardItem.organization_id)
        .join(Unit, Unit.id == BoardItem.unit_id)
        .where(*_verified_between(campaign, since, cutoff))
        .order_by(Unit.position, Unit.id, Closure.decided_at, Closure.id)
        .execution_options(yield_per=STREAM_ROWS)
    )
    zone = ZoneInfo(campaign.timezone)
    for unit, name, code, method, party_org, established, verified in session.execute(stmt):
        yield (
            unit,
            name,
            code,
            ClosureMethod(method).label,
            party_org,
            established,
            verified.astimezone(zone),  # local time: the attachment writes it as such
        )


def _overdue_rows(
    session: Session, campaign: Campaign, cutoff_day: date
) -> Iterator[tuple[Any, ...]]:
    """Open items past their planned date at the cut-off, one row each (逾期事项 sheet):
    单位, 组织名称, 统一社会信用代码, 攻坚目标, 状态, 计划完成时间, 责任人."""
    stmt = (
        select(
            Unit.name,
            Organization.name,
            Organization.credit_code,
            BoardItem.target,
            BoardItem.state,
            BoardItem.planned_on,
            BoardItem.responsible_person,
        )
        .select_from(BoardItem)
        .join(Organization, Organization.id == BoardItem.organization_id)
        .join(Unit, Unit.id == BoardItem.unit_id)
        .where(BoardItem.campaign_id == campaign.id, board.overdue(cutoff_day))
        .order_by(Unit.position, Unit.id, BoardItem.planned_on, BoardItem.id)
        .execution_options(yield_per=STREAM_ROWS)
    )
    for unit, name, code, target, state, planned_on, person in session.execute(stmt):
        yield (
            unit,
            name,
            code,
            Target(target).label,
            ItemState(state).label,
            planned_on,
            person,
        )


def _coordination_rows(
    session: Session, campaign: Campaign, cutoff: datetime
) -> Iterator[tuple[Any, ...]]:
    """协调事项 raised by the cut-off and still waiting for the city's answer, oldest first
    (未解决的协调事项 sheet): 单位, 类别, 事项, 涉及组织, 提出时间, 状态, 承办人."""
    zone = ZoneInfo(campaign.timezone)
    for issue in coordination.open_issues(session, campaign, raised_by=cutoff):
        assignee = issue.assignee
        yield (
            issue.unit.name,
            IssueKind(issue.kind).label,
            issue.subject,
            issue.item.organization.name if issue.item else "",
            issue.raised_at.astimezone(zone),  # local time: the attachment writes it as such
            IssueStatus(issue.status).label,
            (assignee.display_name or assignee.username) if assignee else "",
        )


def lists(
    session: Session, campaign: Campaign, period: half_monthly.Period, cutoff: datetime
) -> dict[str, Iterator[tuple[Any, ...]]]:
    """The attachment's long lists at ``cutoff``, by sheet: rows read (lazily, streamed) with
    the conditions the snapshot counted them by. Read them in the transaction that built the
    snapshot, so the lists are what the PDF counts."""
    cutoff_day = cutoff.astimezone(ZoneInfo(campaign.timezone)).date()
    since = closures_since(campaign, period, cutoff)
    return {
        "closures": _closure_rows(session, campaign, since, cutoff),
        "overdue_items": _overdue_rows(session, campaign, cutoff_day),
        "quality": quality.detail_rows(session, campaign),
        "coordination": _coordination_rows(session, campaign, cutoff),
    }


def listed(
    session: Session, campaign: Campaign, period: half_monthly.Period, cutoff: datetime
) -> int:
    """How many rows the two long lists (closures, overdue items) hold at ``cutoff``, counted as
    ``build`` counts them: the attachment's progress, known before the figures are gathered."""
    since = closures_since(campaign, period, cutoff)
    items = board.unit_counts(
        session, campaign, on=cutoff.astimezone(ZoneInfo(campaign.timezone)).date()
    )
    closures = _closure_counts(session, campaign, since, cutoff)
    overdue: int = sum(c.get("overdue", 0) for c in items.values())
    return sum(closures.values()) + overdue


def _deliverables(
    session: Session, campaign: Campaign, period: half_monthly.Period, cutoff: datetime
) -> dict[str, Any]:
    """Phase deliverables overdue at the cut-off, and those delivered late this period (点名)."""
    deliverables, rows = tasks.matrix(session, campaign, None, cutoff)
    overdue: list[dict[str, Any]] = []
    late: list[dict[str, Any]] = []
    for unit, cells in rows:
        for d in deliverables:
            cell = cells.get(d.id)
            if cell is None:
                continue
            entry = {
                "unit": unit.name,
                "deliverable": d.name,
                "phase": d.phase.name,
                "due_on": cell.task.due_on.isoformat(),
                "state": cell.label,
            }
            if cell.state == TaskState.OVERDUE:
                overdue.append(entry)
            elif cell.state == TaskState.DONE_LATE and period.starts_on <= cell.task.due_on:
                late.append(entry)
    return {"overdue": overdue, "late": late}


def _reports(
    session: Session, campaign: Campaign, due_on: date, cutoff: datetime
) -> dict[str, Any]:
    """Who filed the half-monthly report due on ``due_on``, as it stood at the cut-off."""
    # Keyed by the states' plain values: a snapshot holds what its JSON keeps, nothing whose
    # class lives in the app (the attachment's worker would import the app to unpickle it).
    states: dict[str, list[str]] = {s.value: [] for s in half_monthly.REPORT_STATE_LABELS}
    for unit, _, state in half_monthly.period_overview(session, campaign, due_on, None, cutoff):
        states[state.value].append(unit.name)
    return {"due_on": due_on.isoformat(), **states}


def _spot_checks(session: Session, campaign: Campaign, cutoff: datetime) -> list[dict[str, Any]]:
    zone = ZoneInfo(campaign.timezone)
    checks = session.scalars(
        select(SpotCheck)
        .where(SpotCheck.campaign_id == campaign.id, SpotCheck.created_at <= cutoff)
        .options(joinedload(SpotCheck.results))
        .order_by(SpotCheck.created_at, SpotCheck.id)
    ).unique()
    out: list[dict[str, Any]] = []
    for check in checks:
        results = [r.result for r in check.results]
        out.append(
            {
                "id": check.id,
                "kind": check.kind.label,
                "created_on": check.created_at.astimezone(zone).date().isoformat(),
                "drawn": len(results),
                "passed": results.count(CheckResult.PASS),
                "failed": results.count(CheckResult.FAIL),
                "pending": results.count(CheckResult.PENDING),
            }
        )
    return out


def _phases(campaign: Campaign, day: date) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    def phase(p: Phase) -> dict[str, Any]:
        return {
            "name": p.name,
            "starts_on": p.starts_on.isoformat(),
            "ends_on": p.ends_on.isoformat(),
        }

    in_force = [phase(p) for p in timeline.current_phases(campaign, day)]
    upcoming = [p for p in campaign.phases if p.starts_on > day]
    return in_force, (phase(min(upcoming, key=lambda p: p.starts_on)) if upcoming else None)


def build(
    session: Session,
    campaign: Campaign,
    period: half_monthly.Period,
    number: int,
    cutoff: datetime,
    earlier: list[dict[str, Any]],
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """The bulletin's data at ``cutoff``; ``earlier`` are the snapshots of the campaign's earlier
    bulletins, oldest first (the last one gives "change since the last bulletin")."""
    cutoff_day = cutoff.astimezone(ZoneInfo(campaign.timezone)).date()
    generated_at = generated_at or cutoff  # when produced; a late (made-up) run says so
    previous = earlier[-1] if earlier else None
    target = Decimal(campaign.target_party_org_coverage)

    # "Change since the last bulletin": the last bulletin as published; without one, the
    # ledger as of the previous report day (one scan per unit, its total summed from them,
    # as the current total is, and the same day's point of the trend below).
    before_day = period.starts_on - timedelta(days=1)
    before_rows = None
    if previous is None and period.starts_on > campaign.starts_on:
        before_rows = figures.by_unit(session, campaign, as_of=before_day)
    before_rank: dict[str, int] = {}
    if previous is not None:
        before = {u["code"]: u["party_org_coverage"] for u in previous["units"]}
        before_rank = {
            u["code"]: u["rank"] for u in previous["units"] if u["party_org_coverage"] is not None
        }
        previous_coverage = previous["overall"]["party_org_coverage"]
    elif before_rows is not None:
        before = {u.code: f.party_org_coverage for u, f in before_rows}
        before_rank = _ranks_of(before_rows)
        previous_coverage = figures.total_of(before_rows).party_org_coverage
    else:
        before, previous_coverage = {}, None

    closures = _closure_counts(session, campaign, closures_since(campaign, period, cutoff), cutoff)
    goals = targets.load(session, campaign)
    # The figures at the cut-off: the tallies on the cut-off day itself, the ledger as of it
    # later (decided once, so every figure of the bulletin is read the same way).
    as_of = figures.as_of_day(campaign, cutoff_day)
    # Every unit's and each kind's figures at the cut-off, read once (the units' rows are
    # also the forecast's start).
    rows, by_kind = figures.by_unit_and_kind(session, campaign, as_of=as_of)
    units = _units(
        session, campaign, period, cutoff_day, before, before_rank, closures, goals, rows, as_of
    )
    _bottom_streaks(units, previous)
    overall = figures.total_of(
        [(None, figures.Figures(figures.Counts(**u["counts"]))) for u in units]
    )
    deadline = timeline.build_deadline(campaign)
    in_force, next_phase = _phases(campaign, cutoff_day)

    # The coverage trend: earlier bulletins as they were published; for a period that has no
    # bulletin, the ledger as of its report day (the previous one is already at hand).
    published = {s["period"]["due_on"]: s["overall"]["party_org_coverage"] for s in earlier}
    if before_rows is not None:
        published.setdefault(before_day.isoformat(), previous_coverage)
    shown = [p for p in half_monthly.periods(campaign) if p.due_on <= period.due_on]
    missing = [
        p.due_on
        for p in shown
        if p.due_on != period.due_on and p.due_on.isoformat() not in published
    ]
    for day, coverage in figures.coverage_trend(session, campaign, missing):
        published[day.isoformat()] = coverage
    published[period.due_on.isoformat()] = overall.party_org_coverage
    trend = [
        {"number": n, "due_on": p.due_on.isoformat(), "coverage": published[p.due_on.isoformat()]}
        for n, p in enumerate(shown, 1)
    ]

    data: dict[str, Any] = {
        "version": VERSION,
        "campaign": {
            "id": campaign.id,
            "name": campaign.name,
            "city_name": campaign.city_name,
            "issuing_body": campaign.issuing_body,
            "masthead": timeline.bulletin_masthead(campaign),
            "year": campaign.year,
            "target_party_org_coverage": str(campaign.target_party_org_coverage),
            "target_required_coverage": str(campaign.target_required_coverage),
            "target_work_coverage": str(campaign.target_work_coverage),
            # Whether a kind (city-wide) or a unit has a target of its own.
            "kind_targets": goals.by_kind,
            "own_targets": any(u["own_target"] for u in units),
            "named_units": campaign.bulletin_named_units,
            "subject": subject(campaign),
            "action": action(campaign),
            "member_required_employees": campaign.member_required_employees,
            "party_org_required_employees": campaign.party_org_required_employees,
        },
        "addressees": campaign.addressees
        or addressees(
            list(
                session.scalars(
                    select(Unit).where(Unit.is_responsible).order_by(Unit.position, Unit.id)
                )
            )
        ),
        "number": number,
        "title": title(campaign, number),
        "period": {"starts_on": period.starts_on.isoformat(), "due_on": period.due_on.isoformat()},
        "cutoff": cutoff.astimezone(ZoneInfo(campaign.timezone)).isoformat(timespec="minutes"),
        "generated_at": generated_at.astimezone(ZoneInfo(campaign.timezone)).isoformat(
            timespec="minutes"
        ),
        "build_deadline": deadline.isoformat(),
        "days_left": (deadline - cutoff_day).days,
        "phases_in_force": in_force,
        "next_phase": next_phase,
        "overall": {
            **_rates(overall),
            "new_party_orgs": sum(u["new_party_orgs"] for u in units),
            "previous_coverage": previous_coverage,
            "gap": overall.gap_to(target),
            "reaches": figures.reaches(overall.counts.with_party_org, overall.counts.base, target),
            "overdue_items": sum(u["overdue_items"] for u in units),
            "open_items": sum(u["open_items"] for u in units),
            "awaiting_items": sum(u["awaiting_items"] for u in units),
            # Every closure, also of a unit that is not ranked (as the list used to count).
            "closures_verified": sum(closures.values()),
            "targets": goals.all_of(None, overall.counts),
            "phases": _phase_figures(
                sum(
                    (
                        figures.PhaseCounts(**{k: u["phases"][k] for k in _PHASE_COUNTS})
                        for u in units
                    ),
                    figures.PhaseCounts(),
                )
            ),
        },
        "units": units,
        # The figures of the campaign's rules (a rule naming a figure of its own), city-wide at
        # the cut-off; a snapshot without them prints the 50/100人 figures of ``overall``.
        "rule_figures": [f.as_dict() for f in figures.rule_figures(session, campaign, as_of=as_of)],
        # 非公企业 and 社会组织: each kind's counts and rates (the two add up to the overall).
        "by_kind": {kind.value: _kind(by_kind, kind, goals) for kind in OrgKind},
        "deliverables": _deliverables(session, campaign, period, cutoff),
        "reports": _reports(session, campaign, period.due_on, cutoff),
        "spot_checks": _spot_checks(session, campaign, cutoff),
        "trend": trend,
        "forecast": _forecast(session, campaign, cutoff_day, rows),
        # 数据质量提示: open and to-be-fixed signals per unit, as last computed (counts only).
        "quality": quality.bulletin_section(session, campaign),
    }
    data["requirements"] = requirements(data)
    return data


def _kind(
    by_kind: dict[Any, figures.Figures], kind: OrgKind, goals: targets.Targets
) -> dict[str, Any]:
    """One kind's counts and rates, with its targets (its own where the campaign sets them)."""
    f = by_kind.get(kind.value, figures.Figures(figures.Counts()))
    return {**_rates(f), "targets": goals.all_of(None, f.counts, kind.value)}


def _forecast(
    session: Session, campaign: Campaign, day: date, rows: list[tuple[Unit, figures.Figures]]
) -> dict[str, Any] | None:
    """预计: the city's figures projected to the build deadline from what was known at the
    cut-off, and the units projected below the coverage target, the furthest below first
    (None once the deadline is reached: there is nothing left to project). The kept forecast
    when it is of the cut-off day with nothing recorded since (a bulletin made on time)."""
    made = forecast.kept_as_of(session, campaign, day, rows) or forecast.forecast(
        session, campaign, as_of=day, rows=rows
    )
    if made.days_left <= 0:
        return None
    return {
        "as_of": made.as_of.isoformat(),
        "deadline": made.deadline.isoformat(),
        "method": made.method,
        "city": {name: p.as_dict() for name, p in made.city.items()},
        "at_risk": [
            {"code": u.unit.code, "name": u.unit.name, **u.coverage.as_dict()}
            for u in made.at_risk()
        ],
    }


def _names(names: list[str], limit: int | None = None) -> str:
    """点名: ``names`` (in the order they are named, the worst first) all when they are at
    most ``limit`` (or no limit), else the first ``limit`` and "等N个单位" counting all."""
    if limit is None or len(names) <= limit:
        return "、".join(names)
    return "、".join(names[:limit]) + f"等{len(names)}个单位"


def _named(units: list[dict[str, Any]], limit: int) -> str:
    return _names([u["name"] for u in units], limit)


def _below(units: list[dict[str, Any]], limit: int, target: str, still: str = "") -> str:
    """点名 of the units below their target: "甲、乙未达到80%"; where a named unit has a target
    of its own, it is named with it: "甲（本单位目标75%）、乙未达到目标（全市目标80%）"."""
    shown = units if len(units) <= limit else units[:limit]
    if not any(u.get("own_target") for u in shown):
        return f"{_named(units, limit)}{still}未达到{target}%"
    names = [
        u["name"] + (f"（本单位目标{display_target(u['target'])}%）" if u.get("own_target") else "")
        for u in units
    ]
    return f"{_names(names, limit)}{still}未达到目标（全市目标{target}%）"


def requirements(data: dict[str, Any]) -> list[str]:
    """下步工作要求, written from the figures: what is behind, who, and by when.

    Units are named by rule (点名), not in the order of the table: those below the coverage
    target, the worst first; among them, those in the last three places for several bulletins
    in a row; those with the most overdue items; those late with a task or a report. How many
    are named is the campaign's setting (``named_units``, 3 in bulletins made before it).
    """
    out = []
    overall = data["overall"]
    limit = data["campaign"].get("named_units", 3)
    target = display_target(data["campaign"]["target_party_org_coverage"])
    deadline_text = short_date(date.fromisoformat(data["build_deadline"]))
    # Worst first: the table's ranking read from the bottom.
    behind = sorted(
        (u for u in data["units"] if u["reaches"] is False), key=_rank_key, reverse=True
    )
    if data["days_left"] > 0:
        lead = f"距集中组建截止（{deadline_text}）还有{data['days_left']}天。"
    elif data["days_left"] == 0:
        lead = f"{deadline_text}为集中组建截止日。"
    else:
        lead = f"集中组建已于{deadline_text}截止。"
    if overall["reaches"] is False:
        out.append(
            f"{lead}全市党组织覆盖率为{percent(overall['party_org_coverage'])}，距{target}%的目标"
            f"还需组建{overall['gap']}个党组织。"
            + (
                f"{_below(behind, limit, target)}，要倒排工期、挂图推进，确保按期达标。"
                if behind
                else ""
            )
        )
    elif behind:
        out.append(
            f"{lead}全市党组织覆盖率已达{percent(overall['party_org_coverage'])}，"
            f"但{_below(behind, limit, target, '仍')}，要加快进度。"
        )
    stuck = sorted(
        (u for u in data["units"] if u.get("bottom_streak", 0) >= 2), key=_rank_key, reverse=True
    )
    for streak in sorted({u["bottom_streak"] for u in stuck}, reverse=True):
        names = "、".join(u["name"] for u in stuck if u["bottom_streak"] == streak)
        out.append(
            f"{names}连续{streak}期排名后三位，要深入分析原因，拿出过硬措施，限期扭转落后局面。"
        )
    # Short of 应建尽建 as the board counts it (rules.MET): without a Party org, or without
    # the one its rule asks for (its own, where 3 or more formal members).
    counts = overall["counts"]
    unmet = counts["required"] - counts["required_met"]
    if unmet > 0:
        own = counts["due_standalone"] - counts["met_standalone"]
        out.append(
            f"全市尚有{unmet}个应建党组织的组织未按要求建立党组织"
            + (f"（其中{own}个须单独组建）" if own else "")
            + "，要坚持应建尽建，逐一落实一企一策、一社一策。"
        )
    if overall["overdue_items"]:
        # The units with the most overdue items, each with its count.
        overdue = sorted(
            (u for u in data["units"] if u["overdue_items"]),
            key=lambda u: (-u["overdue_items"], u["position"]),
        )
        each = [f"{u['name']}（{u['overdue_items']}个）" for u in overdue]
        n = overall["overdue_items"]
        if len(overdue) == 1:
            said = f"{overdue[0]['name']}有{n}个攻坚事项超过计划完成时间仍未销号"
        elif len(overdue) <= limit:
            said = f"全市有{n}个攻坚事项超过计划完成时间仍未销号，分布在{'、'.join(each)}"
        else:
            said = (
                f"全市有{n}个攻坚事项超过计划完成时间仍未销号，涉及{len(overdue)}个单位，"
                f"其中{'、'.join(each[:limit])}最多"
            )
        out.append(f"{said}，要逐项明确责任人和完成时限（清单见附件）。")
    late = list(dict.fromkeys(d["unit"] for d in data["deliverables"]["overdue"]))
    if late:
        out.append(f"{_names(late)}有阶段任务逾期未报送，要立即补报。")
    unreported = data["reports"]["missing"] + data["reports"]["returned"]
    if unreported:
        out.append(f"{_names(unreported)}要按时报送半月进展情况，做到不漏报、不迟报。")
    if waiting := data["reports"]["waiting"]:
        due = short_date(date.fromisoformat(data["reports"]["due_on"]))
        every = len(waiting) == sum(len(v) for k, v in data["reports"].items() if k != "due_on")
        who = "各单位" if every else _names(waiting)
        out.append(f"{who}请于{due}24时前完成本期半月报送。")
    if data["next_phase"]:
        p = data["next_phase"]
        s, e = date.fromisoformat(p["starts_on"]), date.fromisoformat(p["ends_on"])
        out.append(
            f"下一阶段为“{p['name']}”（{s.month}月{s.day}日至{e.month}月{e.day}日），各单位要提前谋划、做好衔接。"
        )
    out.append("各单位要严格按照台账逐一核实，坚决防止做假账、报假数。")
    return out
