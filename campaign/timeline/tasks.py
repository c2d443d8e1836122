"""Per-unit phase tasks: deliverables, their tasks, submissions and reviews.

Kept apart from timeline.services so the ledger review can record its
deliverable here without an import cycle.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from campaign import audit
from campaign.core import events
from campaign.core.clock import now, today
from campaign.core.db import Session, claim, serialize
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Campaign, Phase, Unit
from campaign.core.storage import store_upload
from campaign.core.text import cleaned_for
from campaign.core.vocab import UnitKind
from campaign.timeline.inputs import DUE, NO_PHASE, DeliverableInput, TaskChange
from campaign.timeline.models import (
    AWAITING_DELIVERY,
    Audience,
    Deliverable,
    Fulfilment,
    Review,
    Task,
    TaskStatus,
    TaskSubmission,
)
from campaign.timeline.states import TaskFacts, TaskState, task_state
from campaign.timeline.templates import DELIVERABLES


def _owes(unit: Unit, audience: Audience) -> bool:
    if not unit.is_responsible:
        # A verifying department (a remit, no ledger) owes what the departments owe: its
        # 落实专项工作责任情况报告 (seed 004).
        return bool(unit.remit) and audience == Audience.DEPARTMENTS
    if audience == Audience.DISTRICTS:
        return unit.kind == UnitKind.DISTRICT
    if audience == Audience.DEPARTMENTS:
        return unit.kind == UnitKind.DEPARTMENT
    return True


def ensure_tasks(session: Session, campaign: Campaign) -> int:
    """Create the missing task of every active responsible unit (and verifying department) for
    every deliverable; returns how many."""
    units = session.scalars(
        select(Unit).where(Unit.is_responsible | (Unit.remit != ""), Unit.active)
    ).all()
    deliverables = session.scalars(
        select(Deliverable)
        .where(Deliverable.campaign_id == campaign.id, Deliverable.dropped.is_(False))
        .options(selectinload(Deliverable.tasks))
    ).all()
    created = 0
    for d in deliverables:
        have = {t.unit_id for t in d.tasks}
        for unit in units:
            if unit.id not in have and _owes(unit, d.audience):
                session.add(Task(deliverable=d, unit_id=unit.id, due_on=d.due_on))
                created += 1
    session.flush()
    return created


def create_deliverables(session: Session, campaign: Campaign, template: str) -> None:
    """The template's deliverables for ``campaign`` (its year), with a task per unit."""
    phases = {p.code: p for p in campaign.phases}
    for i, d in enumerate(DELIVERABLES.get(template, ())):
        session.add(
            Deliverable(
                campaign_id=campaign.id,
                phase_id=phases[d.phase].id,
                code=d.code or f"d{i}",
                name=d.name,
                description=d.description,
                audience=d.audience,
                due_on=date(campaign.year, *d.due),
                fulfilled_by=d.fulfilled_by,
                position=i + 1,
            )
        )
    session.flush()
    ensure_tasks(session, campaign)


# ---- coordinators edit deliverables and tasks ----------------------------------------


def _check_due(campaign: Campaign, due: date) -> None:
    if not campaign.starts_on <= due <= campaign.ends_on:
        raise ValidationFailed(
            [
                (
                    "due_on",
                    f"截止日期（{due}）应在行动期间（{campaign.starts_on}至{campaign.ends_on}）内",
                )
            ]
        )


def save_deliverable(
    session: Session,
    campaign: Campaign,
    deliverable: Deliverable | None,
    wanted: DeliverableInput,
    user,
) -> Deliverable:
    """Add a deliverable to a phase, or change one; task due dates follow unless set per unit."""
    problems = []
    name = cleaned_for(Deliverable.__table__.c.name, wanted.name.strip())
    if not name:
        problems.append(("name", "「材料名称」不能为空"))
    problems += wanted.problems_of("audience")
    audience = wanted.audience or Audience.ALL
    phase = session.get(Phase, wanted.phase_id) if wanted.phase_id is not None else None
    if deliverable is None and (phase is None or phase.campaign_id != campaign.id):
        problems.append(("phase_id", NO_PHASE))
    if problems:
        raise ValidationFailed(problems)
    due = wanted.due_on
    if due is None:
        raise ValidationFailed(wanted.problems_of("due_on") or [("due_on", DUE.format(input=""))])
    _check_due(campaign, due)
    if deliverable is None:
        assert phase is not None  # without one, refused above
        # One addition at a time per campaign: the same form posted twice adds one deliverable.
        serialize(session, Deliverable.__table__, campaign.id)
        if session.scalar(
            select(Deliverable.id).where(
                Deliverable.campaign_id == campaign.id,
                Deliverable.phase_id == phase.id,
                Deliverable.name == name,
                Deliverable.dropped.is_(False),
            )
        ):
            raise Conflict(f"该阶段已有报送要求“{name}”，未重复添加")
        last = session.scalar(
            select(func.max(Deliverable.position)).where(Deliverable.phase_id == phase.id)
        )
        deliverable = Deliverable(
            campaign_id=campaign.id,
            phase_id=phase.id,
            due_on=due,
            name=name,
            audience=audience,
            position=(last or 0) + 1,
        )
        session.add(deliverable)
        _fill(session, deliverable, wanted, name, audience, due)
        audit.record(
            session,
            user=user,
            action="deliverable.create",
            obj_type="deliverable",
            obj_id=deliverable.id,
            after=audit.snapshot(deliverable, DELIVERABLE_FIELDS),
        )
    else:
        # A change posted again records nothing.
        with audit.recorded_change(
            session, deliverable, DELIVERABLE_FIELDS, user=user, action="deliverable.update"
        ):
            for task in deliverable.tasks:
                if not task.due_overridden:
                    task.due_on = due
            _fill(session, deliverable, wanted, name, audience, due)
    ensure_tasks(session, campaign)
    return deliverable


DELIVERABLE_FIELDS = ["name", "description", "audience", "due_on"]


def _fill(
    session: Session,
    deliverable: Deliverable,
    wanted: DeliverableInput,
    name: str,
    audience: Audience,
    due: date,
) -> None:
    """Write a deliverable's fields; units no longer asked are dropped, and taken back if
    asked again."""
    deliverable.name, deliverable.audience, deliverable.due_on = name, audience, due
    deliverable.description = wanted.description.strip()
    for task in deliverable.tasks:
        owes = _owes(session.get_one(Unit, task.unit_id), audience)
        if not owes and not task.dropped:
            task.dropped, task.drop_reason = True, "报送单位范围调整"
        elif owes and task.dropped and task.drop_reason == "报送单位范围调整":
            task.dropped, task.drop_reason = False, ""
    session.flush()


def _delivered_by(session: Session, deliverables: list[int]) -> list[str]:
    """The names of the units that have delivered work (a submission, reviewed or not) for
    any of ``deliverables``, in display order."""
    if not deliverables:
        return []
    return list(
        session.scalars(
            select(Unit.name)
            .join(Task, Task.unit_id == Unit.id)
            .where(
                Task.deliverable_id.in_(deliverables),
                select(TaskSubmission.id).where(TaskSubmission.task_id == Task.id).exists(),
            )
            .group_by(Unit.id, Unit.name, Unit.position)
            .order_by(Unit.position, Unit.id)
        )
    )


def _work_refusal(units: list[str], what: str) -> str:
    shown = "、".join(units[:5]) + (f"等{len(units)}个单位" if len(units) > 5 else "")
    return (
        f"{shown}已报送{what}的材料，不能删除（已报送的材料须留档）；如不再要求，可对单位逐个取消"
    )


def drop_deliverable(session: Session, deliverable: Deliverable, reason: str, user) -> None:
    """Drop a deliverable for every unit (recorded; its tasks stay on file); refused while a
    unit has delivered work for it."""
    if not reason.strip():
        raise ValidationFailed([("reason", "取消报送要求时必须填写理由")])
    delivered = _delivered_by(session, [deliverable.id])
    if delivered:
        problem = _work_refusal(delivered, f"“{deliverable.name}”")
        raise ValidationFailed([("deliverable", problem)])
    claim(
        session,
        deliverable,
        Deliverable.dropped.is_(False),
        "该项报送要求已取消，未重复取消",
        dropped=True,
    )
    for task in deliverable.tasks:
        task.dropped, task.drop_reason = True, reason.strip()
    audit.record(
        session,
        user=user,
        action="deliverable.drop",
        obj_type="deliverable",
        obj_id=deliverable.id,
        after={"reason": reason.strip()},
    )
    session.flush()


def move_deliverable(session: Session, deliverable: Deliverable, offset: int, user) -> bool:
    """Move ``deliverable`` ``offset`` places earlier (negative) or later among its phase's
    (not dropped); recorded. Returns whether it moved."""
    serialize(session, Deliverable.__table__, deliverable.campaign_id)
    siblings = list(
        session.scalars(
            select(Deliverable)
            .where(
                Deliverable.phase_id == deliverable.phase_id,
                Deliverable.dropped.is_(False),
            )
            .order_by(Deliverable.position, Deliverable.id)
        )
    )
    if deliverable not in siblings:
        raise ValidationFailed([("deliverable", "该项报送要求已取消，不能调整顺序")])
    at = siblings.index(deliverable)
    to = max(0, min(len(siblings) - 1, at + offset))
    if to == at:
        return False
    before = [d.name for d in siblings]
    siblings.insert(to, siblings.pop(at))
    for i, d in enumerate(siblings, start=1):
        d.position = i
    audit.record(
        session,
        user=user,
        action="deliverable.move",
        obj_type="phase",
        obj_id=deliverable.phase_id,
        before={"deliverables": before},
        after={"deliverables": [d.name for d in siblings], "moved": deliverable.name},
    )
    session.flush()
    return True


def change_task(session: Session, task: Task, change: TaskChange, user) -> Task:
    """Change one unit's due date, or drop/restore the deliverable for that unit."""
    campaign = session.get_one(Campaign, task.deliverable.campaign_id)
    problems = change.problems_of("due_on", "dropped")
    if problems:
        raise ValidationFailed(problems)
    # The same change posted again changes nothing and records nothing.
    fields = ["due_on", "dropped", "drop_reason"]
    with audit.recorded_change(session, task, fields, user=user, action="task.update"):
        if change.due_on is not None:
            _check_due(campaign, change.due_on)
            if change.due_on != task.due_on:
                task.due_on, task.due_overridden = change.due_on, True
        if change.dropped is not None:
            reason = change.drop_reason.strip()
            if change.dropped and not reason:
                raise ValidationFailed([("drop_reason", "对该单位取消此项报送时必须填写理由")])
            task.dropped, task.drop_reason = change.dropped, reason if change.dropped else ""
    session.flush()
    return task


# ---- units deliver, coordinators accept or return ------------------------------------


def submit_task(
    session: Session,
    task: Task,
    note: str,
    file: tuple[str, bytes] | None,
    user,
    storage: Path,
    at: datetime | None = None,
) -> TaskSubmission:
    """A unit delivers (a note, usually a file); it waits for the coordinator's review."""
    if task.dropped:
        raise ValidationFailed([("task", "该项已取消报送")])
    if task.deliverable.fulfilled_by == Fulfilment.LEDGER:
        raise ValidationFailed([("task", "台账请在台账页面报送审核")])
    # The first of two submissions makes it wait for review; the other is told so.
    claim(
        session,
        task,
        Task.status.in_(AWAITING_DELIVERY),
        lambda: f"该项已报送（{TaskStatus(task.status).label}），不能重复报送",
        status=TaskStatus.SUBMITTED,
    )
    submission = TaskSubmission(
        task=task,
        note=note.strip(),
        submitted_at=at or now(),
        submitted_by_id=getattr(user, "id", None),
    )
    if file is not None:
        submission.file = store_upload(
            session, storage, "tasks", str(task.id), *file, field="file", label="材料"
        )
    elif not note.strip():
        raise ValidationFailed([("file", "请上传材料或填写说明")])
    session.add(submission)
    session.flush()
    audit.record(
        session,
        user=user,
        action="task.submit",
        obj_type="task",
        obj_id=task.id,
        after={
            "submission": submission.id,
            "file": submission.file_name,
            "sha256": submission.sha256,
            "note": submission.note,
        },
    )
    return submission


NOTHING_PENDING = "该项没有待审核的报送"


def _pending(task: Task) -> TaskSubmission | None:
    """The task's delivery awaiting review, if any (the newest)."""
    return next((s for s in reversed(task.submissions) if s.review == Review.PENDING), None)


def review_task(
    session: Session,
    task: Task,
    accept: bool,
    comment: str,
    user,
    at: datetime | None = None,
    *,
    by_ledger_review: bool = False,
) -> TaskSubmission:
    """Accept or return the pending delivery of a task (returning needs a reason)."""
    if task.deliverable.fulfilled_by == Fulfilment.LEDGER and not by_ledger_review:
        raise ValidationFailed([("task", "此项以台账审核为准，请在台账页面审核")])
    if not accept and not comment.strip():
        raise ValidationFailed([("comment", "退回时必须填写退回意见")])
    pending = _pending(task)
    if pending is None:
        raise Conflict(NOTHING_PENDING)
    review = Review.ACCEPTED if accept else Review.RETURNED
    # Of two reviewers (or two clicks) the first decides; the other finds nothing pending.
    claim(session, pending, TaskSubmission.review == Review.PENDING, NOTHING_PENDING, review=review)
    pending.reviewed_at, pending.reviewed_by_id = at or now(), getattr(user, "id", None)
    pending.review_comment = comment.strip()
    task.status = TaskStatus.ACCEPTED if accept else TaskStatus.RETURNED
    audit.record(
        session,
        user=user,
        action=f"task.{pending.review}",
        obj_type="task",
        obj_id=task.id,
        after={"submission": pending.id, "comment": pending.review_comment},
    )
    session.flush()
    return pending


class LedgerStep(StrEnum):
    """What happened to a unit's ledger, as its survey deliverable records it."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


def record_ledger_event(
    session: Session,
    campaign_id: int,
    unit_id: int,
    event: LedgerStep,
    user,
    comment: str = "",
    submitted_at: datetime | None = None,
) -> None:
    """The ledger review is the ledger deliverable: submitted, approved or returned with it."""
    task = session.scalar(
        select(Task)
        .join(Deliverable)
        .where(
            Deliverable.campaign_id == campaign_id,
            Deliverable.fulfilled_by == Fulfilment.LEDGER,
            Deliverable.dropped.is_(False),
            Task.unit_id == unit_id,
        )
    )
    if task is None or task.dropped:
        return
    session.refresh(task)
    if event == LedgerStep.SUBMITTED or _pending(task) is None:
        # A review whose submission predates the task (or was dropped meanwhile) still counts.
        session.add(
            TaskSubmission(
                task=task,
                note="台账报送审核",
                submitted_at=submitted_at or now(),
                submitted_by_id=getattr(user, "id", None),
            )
        )
        task.status = TaskStatus.SUBMITTED
        session.flush()
        session.refresh(task)
    if event != LedgerStep.SUBMITTED:
        review_task(
            session,
            task,
            event == LedgerStep.APPROVED,
            comment or "台账审核退回",
            user,
            by_ledger_review=True,
        )


# ---- reading: states and the units × deliverables matrix ----------------------------


def state_of(task: Task, moment: datetime, tz: str) -> TaskState:
    """The task's state at ``moment`` (its accepted delivery's time decides on-time or late)."""
    accepted = next((s for s in task.submissions if s.review == Review.ACCEPTED), None)
    pending = _pending(task)
    facts = TaskFacts(
        starts_on=task.deliverable.phase.starts_on,
        due_on=task.due_on,
        accepted=accepted is not None,
        delivered_at=accepted.submitted_at if accepted else None,
        pending_at=pending.submitted_at if pending else None,
    )
    return task_state(facts, moment, tz)


@dataclass(frozen=True)
class Cell:
    task: Task
    state: TaskState

    @property
    def label(self) -> str:
        label = self.state.label
        if self.state in (TaskState.IN_PROGRESS, TaskState.OVERDUE):
            if self.task.status in (TaskStatus.SUBMITTED, TaskStatus.RETURNED):
                label += f"·{TaskStatus(self.task.status).label}"
        return label


def matrix(
    session: Session, campaign: Campaign, unit_ids: list[int] | None, moment: datetime
) -> tuple[list[Deliverable], list[tuple[Unit, dict[int, Cell]]]]:
    """Deliverables (columns) and per unit the state of each of its tasks (cells)."""
    deliverables = session.scalars(
        select(Deliverable)
        .join(Phase)
        .where(Deliverable.campaign_id == campaign.id, Deliverable.dropped.is_(False))
        .order_by(Deliverable.due_on, Phase.position, Deliverable.id)
        .options(selectinload(Deliverable.phase))
    ).all()
    stmt = (
        select(Task)
        .join(Deliverable)
        .where(Deliverable.campaign_id == campaign.id, Task.dropped.is_(False))
        # Each task's deliverable and its phase: those just read (the identity map), not a
        # second read of the same rows.
        .options(selectinload(Task.submissions))
    )
    units_stmt = (
        select(Unit)
        .where(Unit.is_responsible | (Unit.remit != ""))
        .order_by(Unit.position, Unit.id)
    )
    if unit_ids is not None:
        stmt = stmt.where(Task.unit_id.in_(unit_ids))
        units_stmt = units_stmt.where(Unit.id.in_(unit_ids))
    cells: dict[int, dict[int, Cell]] = {}
    for task in session.scalars(stmt):
        cells.setdefault(task.unit_id, {})[task.deliverable_id] = Cell(
            task, state_of(task, moment, campaign.timezone)
        )
    return list(deliverables), [(u, cells.get(u.id, {})) for u in session.scalars(units_stmt)]


# ---- what the timeline does when other areas act ----------------------------------------


def create_for_new_campaign(session: Session, event: events.CampaignCreated) -> None:
    """A new campaign gets its template's deliverables, with a task per unit."""
    create_deliverables(session, event.campaign, event.template)


def refuse_removing_a_phase_with_work(session: Session, event: events.PhaseRemoving) -> None:
    """A phase for which a unit has delivered work stays: its deliveries are on file."""
    ids = list(
        session.scalars(select(Deliverable.id).where(Deliverable.phase_id == event.phase.id))
    )
    delivered = _delivered_by(session, ids)
    if delivered:
        event.problems.append(("phase", _work_refusal(delivered, f"阶段“{event.phase.name}”")))


def remove_with_phase(session: Session, event: events.PhaseRemoved) -> None:
    """A removed phase's deliverables (none delivered) and their tasks go with it; the phase's
    record names them."""
    deliverables = list(
        session.scalars(select(Deliverable).where(Deliverable.phase_id == event.phase.id))
    )
    for d in deliverables:
        audit.record(
            session,
            user=event.user,
            action="deliverable.delete",
            obj_type="deliverable",
            obj_id=d.id,
            before={**audit.snapshot(d, DELIVERABLE_FIELDS), "phase": event.phase.name},
        )
        for task in d.tasks:
            session.delete(task)
        session.delete(d)
    session.flush()


def create_for_new_unit(session: Session, event: events.UnitAdded) -> None:
    """A unit added to (or back in) the work gets its tasks in every campaign not yet ended,
    at once."""
    running = session.scalars(select(Campaign).where(Campaign.ends_on >= today()))
    for campaign in running:
        ensure_tasks(session, campaign)


_LEDGER_STEPS = {
    events.LedgerSubmitted: LedgerStep.SUBMITTED,
    events.LedgerApproved: LedgerStep.APPROVED,
}


def record_ledger_review(session: Session, event: events.LedgerStatusChanged) -> None:
    """The ledger review is the survey phase's deliverable for the unit."""
    ledger = event.ledger
    record_ledger_event(
        session,
        ledger.campaign_id,
        ledger.unit_id,
        _LEDGER_STEPS.get(type(event), LedgerStep.RETURNED),
        event.user,
        event.comment,
        ledger.submitted_at,
    )
