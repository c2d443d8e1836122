"""What each role has to do next (待办), read from the areas: counts, each with the page of the
work it counts, and the short lists behind the counts that have no page of their own.

Only reads: every act stays on its area's page (a closure is verified on its item, a change
request decided on the change requests page, a unit urged through notifications.urging).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from campaign import figures, targets
from campaign.board import coordination
from campaign.board import services as board
from campaign.board.models import (
    OPEN_STATES,
    BoardItem,
    CheckResult,
    Closure,
    ClosureStatus,
    ItemState,
    SpotCheck,
    SpotCheckResult,
)
from campaign.core.campaigns import build_deadline
from campaign.core.db import Session
from campaign.core.models import Campaign, Unit
from campaign.half_monthly import services as half_monthly
from campaign.half_monthly.models import ReportState
from campaign.ledger.models import (
    ChangeRequest,
    ChangeStatus,
    LedgerStatus,
    Organization,
    UnitLedger,
)
from campaign.timeline import tasks
from campaign.timeline.models import Deliverable, Review, Task, TaskSubmission
from campaign.timeline.states import TaskState
from reports.models import Bulletin

# A task is "due" on the operator's home this many days before its due day.
TASK_DAYS = 7
# A change request decided this recently is still news on the operator's home.
DECIDED_DAYS = 7


@dataclass(frozen=True)
class Todo:
    """One line of a home's 待办: a count and the page where the work is done."""

    key: str  # stable id, for the page (id="todo-<key>") and its tests
    label: str
    count: int
    url: str
    note: str = ""
    urgent: bool = False  # shown in red while count > 0


@dataclass(frozen=True)
class Row:
    """One entry of a 待办 list: what, about whom, since when, and where to act."""

    title: str
    detail: str
    when: str
    url: str
    unit: str = ""


# ---- the pieces -----------------------------------------------------------------------


def report_todos(session: Session, campaign: Campaign, unit: Unit, moment: datetime) -> list[Todo]:
    """The unit's 半月报: this period (days left, or filed), and the last one if still owed."""
    out = []
    today = moment.date()
    past = [p for p in half_monthly.periods(campaign) if p.due_on < today]
    if past:
        last = past[-1]
        state = _report_state(session, campaign, unit, last.due_on, moment)
        if state in (ReportState.MISSING, ReportState.RETURNED):
            said = "已退回，待重新报送" if state == ReportState.RETURNED else "逾期未报送"
            out.append(
                Todo(
                    "report-late",
                    f"{last.due_on.month}月{last.due_on.day}日半月报",
                    1,
                    _report_url(campaign, unit, last.due_on),
                    said,
                    urgent=True,
                )
            )
    period = half_monthly.current_period(campaign, today)
    if period is not None:
        state = _report_state(session, campaign, unit, period.due_on, moment)
        left = (period.due_on - today).days
        owing = state in (ReportState.WAITING, ReportState.RETURNED)
        note = (
            ("今天截止" if left == 0 else f"还有{left}天截止")
            if owing
            else ReportState(state).label
        )
        out.append(
            Todo(
                "report",
                f"本期半月报（{period.due_on.month}月{period.due_on.day}日）",
                1 if owing else 0,
                _report_url(campaign, unit, period.due_on),
                note,
                urgent=owing and left <= 3,
            )
        )
    return out


def _report_state(
    session: Session, campaign: Campaign, unit: Unit, due_on: date, moment: datetime
) -> ReportState:
    rows = half_monthly.period_overview(session, campaign, due_on, [unit.id], moment)
    return rows[0][2] if rows else ReportState.WAITING


def _report_url(campaign: Campaign, unit: Unit, due_on: date) -> str:
    return url_for(
        "half_monthly.unit_report", campaign_id=campaign.id, code=unit.code, due=due_on.isoformat()
    )


def overdue_items(session: Session, campaign: Campaign, unit: Unit) -> Todo:
    """Items past their planned date and still open: the unit's board filtered to them."""
    n = board.unit_counts(session, campaign, [unit.id]).get(unit.id, {}).get("overdue", 0)
    return Todo(
        "overdue",
        "逾期攻坚事项",
        n,
        url_for("board.unit", campaign_id=campaign.id, code=unit.code, overdue=1),
        "超过计划完成时间仍未销号",
        urgent=True,
    )


def returned_closures(session: Session, campaign: Campaign, unit: Unit) -> list[Row]:
    """Items whose last closure was returned (or revoked by a check) and not claimed again,
    with the reason: the operator works them again."""
    latest = (
        select(Closure.item_id, func.max(Closure.id).label("id"))
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .where(BoardItem.campaign_id == campaign.id, BoardItem.unit_id == unit.id)
        .group_by(Closure.item_id)
        .subquery()
    )
    stmt = (
        select(Closure, BoardItem, Organization.name)
        .join(latest, Closure.id == latest.c.id)
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .join(Organization, Organization.id == BoardItem.organization_id)
        .where(
            Closure.status.in_((ClosureStatus.RETURNED, ClosureStatus.REVOKED)),
            BoardItem.state.in_(OPEN_STATES),
        )
        .order_by(Closure.decided_at.desc(), Closure.id.desc())
    )
    return [
        Row(
            name,
            f"{ClosureStatus(c.status).label}：{item.last_reason or c.decision_reason}",
            _when(c.decided_at),
            url_for("board.item", campaign_id=campaign.id, item_id=item.id),
        )
        for c, item, name in session.execute(stmt)
    ]


def awaiting_verification(session: Session, campaign: Campaign, unit: Unit) -> list[Row]:
    """The unit's closures waiting for its leader, the oldest claim first."""
    stmt = (
        select(Closure, BoardItem, Organization.name)
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .join(Organization, Organization.id == BoardItem.organization_id)
        .where(
            BoardItem.campaign_id == campaign.id,
            BoardItem.unit_id == unit.id,
            BoardItem.state == ItemState.AWAITING,
            Closure.status == ClosureStatus.PENDING,
        )
        .order_by(Closure.submitted_at, Closure.id)
    )
    return [
        Row(
            name,
            c.method_label,
            _when(c.submitted_at),
            url_for("board.item", campaign_id=campaign.id, item_id=item.id),
        )
        for c, item, name in session.execute(stmt)
    ]


def due_tasks(session: Session, campaign: Campaign, unit: Unit, moment: datetime) -> list[Row]:
    """Phase tasks the unit still has to deliver that are due within TASK_DAYS or overdue,
    the earliest due first."""
    today = moment.date()
    _, rows = tasks.matrix(session, campaign, [unit.id], moment)
    out = []
    for _, cells in rows:
        for cell in sorted(cells.values(), key=lambda c: (c.task.due_on, c.task.id)):
            task = cell.task
            if not task.awaits_delivery or cell.state in (
                TaskState.DONE_ON_TIME,
                TaskState.DONE_LATE,
            ):
                continue
            left = (task.due_on - today).days
            if cell.state != TaskState.OVERDUE and left > TASK_DAYS:
                continue
            when = (
                "已逾期"
                if cell.state == TaskState.OVERDUE
                else ("今天截止" if left == 0 else f"还有{left}天")
            )
            out.append(
                Row(
                    task.deliverable.name,
                    cell.label,
                    f"{task.due_on.month}月{task.due_on.day}日截止（{when}）",
                    url_for("timeline.task", campaign_id=campaign.id, task_id=task.id),
                )
            )
    return out


def decided_changes(
    session: Session, campaign: Campaign, unit: Unit, moment: datetime
) -> list[Row]:
    """The unit's change requests decided in the last DECIDED_DAYS days, newest first."""
    since = moment - timedelta(days=DECIDED_DAYS)
    stmt = (
        select(ChangeRequest)
        .where(
            ChangeRequest.campaign_id == campaign.id,
            ChangeRequest.unit_id == unit.id,
            ChangeRequest.status != ChangeStatus.PENDING,
            ChangeRequest.decided_at >= since,
        )
        .order_by(ChangeRequest.decided_at.desc(), ChangeRequest.id.desc())
    )
    return [
        Row(
            f"{r.action.label}：{r.payload.get('name') or r.credit_code}",
            ChangeStatus(r.status).label
            + (f"：{r.decision_comment}" if r.decision_comment else ""),
            _when(r.decided_at),
            url_for("ledger.ledger", campaign_id=campaign.id, code=unit.code),
        )
        for r in session.scalars(stmt)
    ]


def to_review(session: Session, campaign: Campaign) -> list[Row]:
    """What the working group has to review: ledgers submitted for approval, phase task
    deliveries waiting for review, and bulletin drafts waiting for 签发, the oldest first."""
    out = []
    ledgers = session.scalars(
        select(UnitLedger)
        .where(UnitLedger.campaign_id == campaign.id, UnitLedger.status == LedgerStatus.SUBMITTED)
        .order_by(UnitLedger.submitted_at, UnitLedger.id)
    )
    units = {u.id: u for u in session.scalars(select(Unit))}
    for ledger in ledgers:
        unit = units[ledger.unit_id]
        out.append(
            Row(
                "台账（党建基数）待审核",
                "",
                _when(ledger.submitted_at),
                url_for("ledger.ledger", campaign_id=campaign.id, code=unit.code),
                unit.name,
            )
        )
    deliveries = session.scalars(
        select(TaskSubmission)
        .join(Task, Task.id == TaskSubmission.task_id)
        .join(Deliverable, Deliverable.id == Task.deliverable_id)
        .where(
            Deliverable.campaign_id == campaign.id,
            TaskSubmission.review == Review.PENDING,
            Task.dropped.is_(False),
        )
        .options(joinedload(TaskSubmission.task).joinedload(Task.deliverable))
        .order_by(TaskSubmission.submitted_at, TaskSubmission.id)
    )
    for s in deliveries:
        out.append(
            Row(
                f"阶段任务材料待审核：{s.task.deliverable.name}",
                s.file_name,
                _when(s.submitted_at),
                url_for("timeline.task", campaign_id=campaign.id, task_id=s.task_id),
                units[s.task.unit_id].name,
            )
        )
    drafts = session.scalars(
        select(Bulletin)
        .where(Bulletin.campaign_id == campaign.id, Bulletin.status == "draft")
        .order_by(Bulletin.created_at, Bulletin.id)
    )
    for b in drafts:  # waiting for the coordinator's wording and leadership's 签发
        out.append(
            Row(
                f"通报草稿待审核签发：第{b.number}期",
                b.title,
                _when(b.created_at),
                url_for("bulletins.draft", campaign_id=campaign.id, number=b.number),
            )
        )
    return sorted(out, key=lambda row: row.when)  # "YYYY-MM-DD HH:MM": the oldest first


def pending_changes(session: Session, campaign: Campaign) -> int:
    """Change requests waiting for the working group."""
    return (
        session.scalar(
            select(func.count(ChangeRequest.id)).where(
                ChangeRequest.campaign_id == campaign.id,
                ChangeRequest.status == ChangeStatus.PENDING,
            )
        )
        or 0
    )


def spot_results_to_record(session: Session, campaign: Campaign) -> tuple[int, int | None]:
    """Drawn closures whose check is not recorded yet, and the one draw holding them all
    (None when they are spread over several, or there are none)."""
    rows = session.execute(
        select(SpotCheck.id, func.count(SpotCheckResult.id))
        .join(SpotCheckResult, SpotCheckResult.spot_check_id == SpotCheck.id)
        .where(SpotCheck.campaign_id == campaign.id, SpotCheckResult.result == CheckResult.PENDING)
        .group_by(SpotCheck.id)
    ).all()
    total = sum(n for _, n in rows)
    return total, (rows[0][0] if len(rows) == 1 else None)


def _when(moment: datetime | None) -> str:
    from campaign.display import local_time  # noqa: PLC0415 (a template filter, read here)

    return local_time(moment)


# ---- the ranking ----------------------------------------------------------------------


@dataclass
class Ranked:
    """A unit's place among the responsible units by 党组织覆盖率 (as the bulletin ranks)."""

    unit: Unit
    figures: figures.Figures
    rank: int | None
    gap: int
    reaches: bool | None
    previous_rank: int | None = None
    trend: list[float | None] = field(default_factory=list)

    @property
    def coverage(self) -> float | None:
        return self.figures.party_org_coverage

    @property
    def rank_change(self) -> int | None:
        """Places gained since the last bulletin (negative: lost); None without one."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    def signal(self, target: Decimal) -> str:
        """green: at or above the target; amber: within 10 points below it; red: further."""
        if self.coverage is None:
            return "none"
        if self.reaches:
            return "green"
        return "amber" if self.coverage * 100 >= float(target) - 10 else "red"


def _rank_key(position: int, f: figures.Figures) -> tuple[bool, float, float, int]:
    # The bulletin's order (reports.snapshot): coverage, then 应建尽建率, then the units' order.
    coverage, required = f.party_org_coverage, f.required_coverage
    return (
        coverage is None,
        -(coverage or 0),
        -(required if required is not None else 1),
        position,
    )


def ranking(session: Session, campaign: Campaign) -> list[Ranked]:
    """Every responsible unit ranked by its figures now; ties share a place (并列), a unit
    without a base is not ranked."""
    goals = targets.load(session, campaign)  # each unit against its own target
    rows = list(enumerate(figures.by_unit(session, campaign)))
    rows.sort(key=lambda r: _rank_key(r[0], r[1][1]))
    out: list[Ranked] = []
    for place, (_, (unit, f)) in enumerate(rows, 1):
        rank: int | None = place
        if f.party_org_coverage is None:
            rank = None
        elif out and out[-1].rank is not None:
            earlier = _rank_key(0, out[-1].figures)[:3]
            if earlier == _rank_key(0, f)[:3]:
                rank = out[-1].rank
        goal = goals.of(targets.Rate.PARTY_ORG_COVERAGE, unit.id)
        out.append(Ranked(unit, f, rank, goal.gap(f.counts), goal.reaches(f.counts)))
    return out


def unit_rank(session: Session, campaign: Campaign, unit: Unit) -> tuple[Ranked | None, int]:
    """The unit's place, and how many units are ranked."""
    ranked = ranking(session, campaign)
    mine = next((r for r in ranked if r.unit.id == unit.id), None)
    return mine, sum(1 for r in ranked if r.rank is not None)


# ---- the homes ------------------------------------------------------------------------


def operator_home(session: Session, campaign: Campaign, unit: Unit, moment: datetime) -> dict:
    """A district operator's 待办."""
    returned = returned_closures(session, campaign, unit)
    due = due_tasks(session, campaign, unit, moment)
    decided = decided_changes(session, campaign, unit, moment)
    todos = [
        *report_todos(session, campaign, unit, moment),
        overdue_items(session, campaign, unit),
        Todo(
            "returned",
            "被退回的销号",
            len(returned),
            url_for("home.todo_list", campaign_id=campaign.id, what="returned"),
            "按退回理由补充后重新提交",
            urgent=True,
        ),
        Todo(
            "tasks",
            "待报送的阶段任务",
            len(due),
            url_for("home.todo_list", campaign_id=campaign.id, what="tasks"),
            f"{TASK_DAYS}天内截止或已逾期",
        ),
        Todo(
            "decided",
            "已处理的变更申请",
            len(decided),
            url_for("home.todo_list", campaign_id=campaign.id, what="decided"),
            f"近{DECIDED_DAYS}天",
        ),
        _issues_todo(session, campaign, [unit.id]),
    ]
    return {"todos": todos, "returned": returned[:5]}


def leader_home(session: Session, campaign: Campaign, unit: Unit, moment: datetime) -> dict:
    """A unit leader's 待办: closures to verify, and where his unit stands."""
    awaiting = awaiting_verification(session, campaign, unit)
    mine, ranked = unit_rank(session, campaign, unit)
    todos = [
        Todo(
            "awaiting",
            "待核验的销号",
            len(awaiting),
            url_for("home.todo_list", campaign_id=campaign.id, what="awaiting"),
            f"最早的于{awaiting[0].when}提交" if awaiting else "",
            urgent=True,
        ),
        overdue_items(session, campaign, unit),
        _issues_todo(session, campaign, [unit.id]),
    ]
    return {"todos": todos, "awaiting": awaiting[:5], "mine": mine, "ranked": ranked}


def coordinator_home(session: Session, campaign: Campaign, moment: datetime) -> dict:
    """The working group's 待办, and the units late with a report or a task."""
    from notifications import urging  # noqa: PLC0415 (the 催办 list, read only)

    spot, one_check = spot_results_to_record(session, campaign)
    review = to_review(session, campaign)
    late = urging.late_units(session, campaign, moment)
    todos = [
        Todo(
            "changes",
            "待审核的变更申请",
            pending_changes(session, campaign),
            url_for("ledger.change_requests", campaign_id=campaign.id),
        ),
        Todo(
            "spot",
            "待记录的抽查结论",
            spot,
            url_for("board.spot_check", campaign_id=campaign.id, check_id=one_check)
            if one_check
            else url_for("board.spot_checks", campaign_id=campaign.id),
        ),
        Todo(
            "late",
            "逾期未报的单位",
            len(late),
            "#late-units",
            "半月报或阶段任务",
            urgent=True,
        ),
        Todo(
            "review",
            "待审核的台账和材料",
            len(review),
            url_for("home.todo_list", campaign_id=campaign.id, what="review"),
        ),
        _issues_todo(session, campaign, None),
    ]
    return {"todos": todos, "late": late, "urge_hours": urging.URGE_INTERVAL.seconds // 3600}


def _issues_todo(session: Session, campaign: Campaign, unit_ids: list[int] | None) -> Todo:
    return Todo(
        "issues",
        "待答复的协调事项",
        coordination.count_open(session, campaign, unit_ids),
        url_for("coordination.index", campaign_id=campaign.id),
    )


# The lists behind the counts that have no page of their own: their title and who may read them.
LISTS = {
    "returned": "被退回的销号",
    "awaiting": "待核验的销号（最早提交的在前）",
    "tasks": f"待报送的阶段任务（{TASK_DAYS}天内截止或已逾期）",
    "decided": f"近{DECIDED_DAYS}天已处理的变更申请",
    "review": "待审核的台账和阶段任务材料",
}


def todo_list(
    session: Session, campaign: Campaign, what: str, unit: Unit | None, moment: datetime
) -> list[Row]:
    """The rows of one list (``unit`` for a unit's lists, None for the working group's)."""
    if what == "review":
        return to_review(session, campaign)
    assert unit is not None
    readers: dict[str, Any] = {
        "returned": lambda: returned_closures(session, campaign, unit),
        "awaiting": lambda: awaiting_verification(session, campaign, unit),
        "tasks": lambda: due_tasks(session, campaign, unit, moment),
        "decided": lambda: decided_changes(session, campaign, unit, moment),
    }
    return readers[what]()


def days_left(campaign: Campaign, today: date) -> int:
    """Days to the 集中组建 deadline."""
    return (build_deadline(campaign) - today).days
