"""The bulletin's data: every figure and list it shows, frozen as JSON at the cut-off.

Built from figures.py and the records only (never typed), with no Flask, so it is tested
as a plain function. The snapshot is stored with the bulletin: rendering reads nothing
else, so an old bulletin re-renders identically and every number can be traced.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from campaign import figures
from campaign.accounts.models import Unit
from campaign.board import services as board
from campaign.board.models import CLOSURE_METHODS, ITEM_STATES, BoardItem, Closure, SpotCheck
from campaign.display import percent, short_date
from campaign.display import target as display_target
from campaign.ledger.models import Organization
from campaign.reporting import services as reporting
from campaign.timeline import services as timeline
from campaign.timeline import tasks
from campaign.timeline.models import Campaign
from campaign.timeline.states import TaskState
from campaign.vocab import Target

VERSION = 1


def title(campaign: Campaign, number: int) -> str:
    """《关于全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况的通报（第N期）》."""
    return f"关于全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况的通报（第{number}期）"


def cutoff_of(campaign: Campaign, due_on: date, at: time) -> datetime:
    """The bulletin's cut-off: the report day at the scheduled time, in the campaign's zone."""
    return datetime.combine(due_on, at, tzinfo=ZoneInfo(campaign.timezone))


def _rates(f: figures.Figures) -> dict:
    return {
        "counts": f.as_dict()["counts"],
        "party_org_coverage": f.party_org_coverage,
        "work_coverage": f.work_coverage,
        "required_coverage": f.required_coverage,
        "standalone_rate": f.standalone_rate,
    }


def _rank_key(unit: dict):
    coverage = unit["party_org_coverage"]
    required = unit["required_coverage"]
    return (
        coverage is None,
        -(coverage or 0),
        -(required if required is not None else 1),
        unit["position"],
    )


def _units(session, campaign, period, cutoff_day, previous) -> list[dict]:
    target = Decimal(campaign.target_party_org_coverage)
    if previous is not None:
        before = {u["code"]: u["party_org_coverage"] for u in previous["units"]}
    elif period.starts_on > campaign.starts_on:
        # No earlier bulletin: compare with the ledger as of the previous report day.
        as_of = period.starts_on - timedelta(days=1)
        before = {
            u.code: f.party_org_coverage for u, f in figures.by_unit(session, campaign, as_of=as_of)
        }
    else:
        before = {}
    new = figures.founded_between(session, campaign, period.starts_on, period.due_on)
    items = board.unit_counts(session, campaign, on=cutoff_day)
    units = []
    for position, (unit, f) in enumerate(figures.by_unit(session, campaign, as_of=cutoff_day)):
        counts = items.get(unit.id, {})
        units.append(
            {
                "code": unit.code,
                "name": unit.name,
                "position": position,
                **_rates(f),
                "new_party_orgs": new.get(unit.id, 0),
                "previous_coverage": before.get(unit.code),
                "overdue_items": counts.get("overdue", 0),
                "open_items": sum(counts.get(s, 0) for s in board.OPEN_STATES),
                "awaiting_items": counts.get("awaiting", 0),
                "closed_items": counts.get("closed", 0),
                "gap": f.gap_to(target),
                "reaches": figures.reaches(f.counts.with_party_org, f.counts.base, target),
            }
        )
    units.sort(key=_rank_key)
    for place, unit in enumerate(units, 1):
        tied = place > 1 and _rank_key(unit)[:3] == _rank_key(units[place - 2])[:3]
        unit["rank"] = units[place - 2]["rank"] if tied else place  # 并列
    return units


def _closures(session, campaign, since: datetime, cutoff: datetime) -> list[dict]:
    """Closures verified in the period, one row each (the PDF counts them; the xlsx lists them)."""
    rows = session.scalars(
        select(Closure)
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .join(Unit, Unit.id == BoardItem.unit_id)
        .where(
            BoardItem.campaign_id == campaign.id,
            Closure.status == "verified",
            Closure.decided_at >= since,
            Closure.decided_at <= cutoff,
        )
        .options(joinedload(Closure.item).joinedload(BoardItem.organization))
        .options(joinedload(Closure.item).joinedload(BoardItem.unit))
        .order_by(Unit.position, Unit.id, Closure.decided_at, Closure.id)
    )
    zone = ZoneInfo(campaign.timezone)
    return [
        {
            "unit": c.item.unit.name,
            "unit_code": c.item.unit.code,
            "organization": c.item.organization.name,
            "credit_code": c.item.organization.credit_code,
            "method": CLOSURE_METHODS.get(c.method, c.method),
            "party_org_name": c.party_org_name,
            "established_on": c.established_on.isoformat() if c.established_on else None,
            "verified_at": c.decided_at.astimezone(zone).isoformat(timespec="minutes"),
        }
        for c in rows
    ]


def _overdue_items(session, campaign, cutoff_day: date) -> list[dict]:
    """Open items past their planned date at the cut-off (listed in the xlsx)."""
    rows = session.execute(
        select(BoardItem, Organization.name, Organization.credit_code, Unit.name)
        .join(Organization, Organization.id == BoardItem.organization_id)
        .join(Unit, Unit.id == BoardItem.unit_id)
        .where(BoardItem.campaign_id == campaign.id, board.overdue(cutoff_day))
        .order_by(Unit.position, Unit.id, BoardItem.planned_on, BoardItem.id)
    )
    return [
        {
            "unit": unit_name,
            "organization": name,
            "credit_code": code,
            "target": Target(item.target).label,
            "state": ITEM_STATES.get(item.state, item.state),
            "planned_on": item.planned_on.isoformat(),
            "responsible_person": item.responsible_person,
        }
        for item, name, code, unit_name in rows
    ]


def _deliverables(session, campaign, period, cutoff: datetime) -> dict:
    """Phase deliverables overdue at the cut-off, and those delivered late this period (点名)."""
    deliverables, rows = tasks.matrix(session, campaign, None, cutoff)
    overdue, late = [], []
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


def _reports(session, campaign, due_on: date, cutoff: datetime) -> dict:
    """Who filed the half-monthly report due on ``due_on``, as it stood at the cut-off."""
    states: dict[str, list[str]] = {s: [] for s in reporting.REPORT_STATE_LABELS}
    for unit, _, state in reporting.period_overview(session, campaign, due_on, None, cutoff):
        states[state].append(unit.name)
    return {"due_on": due_on.isoformat(), **states}


def _spot_checks(session, campaign, cutoff: datetime) -> list[dict]:
    zone = ZoneInfo(campaign.timezone)
    checks = session.scalars(
        select(SpotCheck)
        .where(SpotCheck.campaign_id == campaign.id, SpotCheck.created_at <= cutoff)
        .options(joinedload(SpotCheck.results))
        .order_by(SpotCheck.created_at, SpotCheck.id)
    ).unique()
    out = []
    for check in checks:
        results = [r.result for r in check.results]
        out.append(
            {
                "id": check.id,
                "kind": "回头看" if check.kind == "lookback" else "随机抽查",
                "created_on": check.created_at.astimezone(zone).date().isoformat(),
                "drawn": len(results),
                "passed": results.count("pass"),
                "failed": results.count("fail"),
                "pending": results.count("pending"),
            }
        )
    return out


def _previous_overall(session, campaign, period, previous) -> float | None:
    if previous is not None:
        return previous["overall"]["party_org_coverage"]
    if period.starts_on > campaign.starts_on:
        as_of = period.starts_on - timedelta(days=1)
        return figures.overall(session, campaign, as_of=as_of).party_org_coverage
    return None


def _phases(campaign: Campaign, day: date) -> tuple[list[dict], dict | None]:
    def phase(p):
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
    period: reporting.Period,
    number: int,
    cutoff: datetime,
    earlier: list[dict],
    generated_at: datetime | None = None,
) -> dict:
    """The bulletin's data at ``cutoff``; ``earlier`` are the snapshots of the campaign's earlier
    bulletins, oldest first (the last one gives "change since the last bulletin")."""
    cutoff_day = cutoff.astimezone(ZoneInfo(campaign.timezone)).date()
    generated_at = generated_at or cutoff  # when produced; a late (made-up) run says so
    # Closures verified after the previous bulletin's cut-off (18:00 on its report day), so
    # one verified that evening is in the next bulletin, not in none.
    since = (
        cutoff_of(campaign, period.starts_on - timedelta(days=1), cutoff.timetz())
        if period.starts_on > campaign.starts_on
        else datetime.combine(period.starts_on, time(0), tzinfo=ZoneInfo(campaign.timezone))
    )
    previous = earlier[-1] if earlier else None
    target = Decimal(campaign.target_party_org_coverage)

    units = _units(session, campaign, period, cutoff_day, previous)
    closures = _closures(session, campaign, since, cutoff)
    for unit in units:
        unit["closures_verified"] = sum(1 for c in closures if c["unit_code"] == unit["code"])
    overall = figures.total_of(
        [(None, figures.Figures(figures.Counts(**u["counts"]))) for u in units]
    )
    deadline = timeline.build_deadline(campaign)
    in_force, next_phase = _phases(campaign, cutoff_day)

    # The coverage trend: earlier bulletins as they were published; for a period that has no
    # bulletin, the ledger as of its report day.
    published = {s["period"]["due_on"]: s["overall"]["party_org_coverage"] for s in earlier}
    trend = []
    for n, p in enumerate(reporting.periods(campaign), 1):
        if p.due_on > period.due_on:
            break
        if p.due_on == period.due_on:
            value = overall.party_org_coverage
        elif p.due_on.isoformat() in published:
            value = published[p.due_on.isoformat()]
        else:
            value = figures.overall(session, campaign, as_of=p.due_on).party_org_coverage
        trend.append({"number": n, "due_on": p.due_on.isoformat(), "coverage": value})

    data = {
        "version": VERSION,
        "campaign": {
            "id": campaign.id,
            "name": campaign.name,
            "city_name": campaign.city_name,
            "issuing_body": campaign.issuing_body,
            "year": campaign.year,
            "target_party_org_coverage": str(campaign.target_party_org_coverage),
            "target_required_coverage": str(campaign.target_required_coverage),
        },
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
            "previous_coverage": _previous_overall(session, campaign, period, previous),
            "gap": overall.gap_to(target),
            "reaches": figures.reaches(overall.counts.with_party_org, overall.counts.base, target),
            "overdue_items": sum(u["overdue_items"] for u in units),
            "open_items": sum(u["open_items"] for u in units),
            "awaiting_items": sum(u["awaiting_items"] for u in units),
        },
        "units": units,
        "closures": closures,
        "deliverables": _deliverables(session, campaign, period, cutoff),
        "reports": _reports(session, campaign, period.due_on, cutoff),
        "spot_checks": _spot_checks(session, campaign, cutoff),
        "trend": trend,
        "overdue_items": _overdue_items(session, campaign, cutoff_day),
    }
    data["requirements"] = requirements(data)
    return data


def _names(names: list[str], limit: int = 6) -> str:
    shown = "、".join(names[:limit])
    return shown + (f"等{len(names)}个单位" if len(names) > limit else "")


def requirements(data: dict) -> list[str]:
    """下步工作要求, written from the figures: what is behind, who, and by when."""
    out = []
    overall = data["overall"]
    target = display_target(data["campaign"]["target_party_org_coverage"])
    deadline_text = short_date(date.fromisoformat(data["build_deadline"]))
    behind = [u for u in data["units"] if u["reaches"] is False]
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
                f"{_names([u['name'] for u in behind])}要倒排工期、挂图推进，确保按期达标。"
                if behind
                else ""
            )
        )
    elif behind:
        out.append(
            f"{lead}全市党组织覆盖率已达{percent(overall['party_org_coverage'])}，"
            f"但{_names([u['name'] for u in behind])}仍未达到{target}%，要加快进度。"
        )
    unmet = overall["counts"]["required"] - overall["counts"]["required_met"]
    if unmet > 0:
        out.append(
            f"全市尚有{unmet}个应建党组织的组织未建立党组织，要坚持应建尽建，"
            "逐一落实一企一策、一社一策。"
        )
    if overall["overdue_items"]:
        units = [u["name"] for u in data["units"] if u["overdue_items"]]
        out.append(
            f"{_names(units)}共有{overall['overdue_items']}个攻坚事项超过计划完成时间仍未销号，"
            "要逐项明确责任人和完成时限（清单见附件）。"
        )
    if overall["awaiting_items"]:
        out.append(
            f"尚有{overall['awaiting_items']}个销号申请待核验，各单位要及时核验，做到组建一个、销号一个。"
        )
    late = list(dict.fromkeys(d["unit"] for d in data["deliverables"]["overdue"]))
    if late:
        out.append(f"{_names(late)}有阶段任务逾期未报送，要立即补报。")
    unreported = data["reports"]["missing"] + data["reports"]["returned"]
    if unreported:
        out.append(f"{_names(unreported)}要按时报送半月进展情况，做到不漏报、不迟报。")
    if data["reports"]["waiting"]:
        due = short_date(date.fromisoformat(data["reports"]["due_on"]))
        out.append(f"{_names(data['reports']['waiting'])}请于{due}24时前完成本期半月报送。")
    if data["next_phase"]:
        p = data["next_phase"]
        s, e = date.fromisoformat(p["starts_on"]), date.fromisoformat(p["ends_on"])
        out.append(
            f"下一阶段为“{p['name']}”（{s.month}月{s.day}日至{e.month}月{e.day}日），各单位要提前谋划、做好衔接。"
        )
    out.append("各单位要严格按照台账逐一核实，坚决防止做假账、报假数。")
    return out
