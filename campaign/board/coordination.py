"""协调事项: a problem a unit cannot solve alone (an organization that refuses to set up a Party
organization, a dispute over whose it is) raised with the city, on one of its items or on the
unit itself; the city's working group answers it, or assigns it to one of its members who
answers. Open ones show on the unit's home and the coordinator's, and ``open_issues`` is the
list a bulletin's annex reads."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from campaign import audit
from campaign.board.models import (
    OPEN_ISSUES,
    BoardItem,
    CoordinationIssue,
    IssueKind,
    IssueStatus,
)
from campaign.core import events
from campaign.core.clock import now
from campaign.core.db import Session, claim, serialize
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Campaign, Unit, User
from campaign.core.permissions import CAMPAIGN_EDITORS
from campaign.core.text import cleaned_for

ALREADY_ANSWERED = "该协调事项已答复，无需再次处理"


@dataclass(frozen=True)
class Raised:
    """What a unit types when it raises an issue (read once from the form)."""

    kind: str
    subject: str
    detail: str
    item_id: int | None = None

    @classmethod
    def from_form(cls, form) -> "Raised":
        raw = (form.get("item_id") or "").strip()
        return cls(
            kind=(form.get("kind") or "").strip(),
            subject=form.get("subject") or "",
            detail=form.get("detail") or "",
            item_id=int(raw) if raw.isdigit() else None,
        )


def raise_issue(
    session: Session, campaign: Campaign, unit: Unit, raised: Raised, user
) -> CoordinationIssue:
    """A unit asks the city for help, on one of its items or on the unit (item_id None)."""
    problems = []
    kinds = {k.value for k in IssueKind}
    if raised.kind not in kinds:
        problems.append(("kind", "请选择「事项类别」"))
    subject = cleaned_for(CoordinationIssue.subject, raised.subject.strip())
    detail = cleaned_for(CoordinationIssue.detail, raised.detail.strip())
    if not subject:
        problems.append(("subject", "「事项」不能为空：请用一句话说明需要市级协调的问题"))
    item = None
    if raised.item_id is not None:
        item = session.get(BoardItem, raised.item_id)
        if item is None or item.campaign_id != campaign.id or item.unit_id != unit.id:
            problems.append(("item_id", f"「涉及组织」第{raised.item_id}号事项不属于{unit.name}"))
    if problems:
        raise ValidationFailed(problems)
    # One unit's issues one at a time: the same issue posted twice (a double click) is kept once.
    serialize(session, CoordinationIssue.__table__, campaign.id, unit.id)
    if session.scalar(
        select(CoordinationIssue.id).where(
            CoordinationIssue.campaign_id == campaign.id,
            CoordinationIssue.unit_id == unit.id,
            CoordinationIssue.status.in_(OPEN_ISSUES),
            CoordinationIssue.subject == subject,
            (CoordinationIssue.item_id == item.id if item else CoordinationIssue.item_id.is_(None)),
        )
    ):
        raise Conflict(f"“{subject}”已提出，正在等待市级专班处理，未重复提交")
    issue = CoordinationIssue(
        campaign_id=campaign.id,
        unit_id=unit.id,
        item_id=item.id if item else None,
        kind=IssueKind(raised.kind),
        subject=subject,
        detail=detail,
        raised_by_id=getattr(user, "id", None),
        raised_at=now(),
    )
    session.add(issue)
    session.flush()
    audit.record(
        session,
        user=user,
        action="coordination.raise",
        obj_type="coordination_issue",
        obj_id=issue.id,
        after={
            "unit": unit.code,
            "item": issue.item_id,
            "kind": issue.kind,
            "subject": subject,
            "detail": detail,
        },
    )
    events.publish(session, events.CoordinationRaised(issue, user=user))
    return issue


def assignees(session: Session) -> list[User]:
    """Who an issue may be assigned to: the city's working group (coordinators, admins)."""
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_(CAMPAIGN_EDITORS))
            .order_by(User.role, User.id)
        )
    )


def assign_issue(session: Session, issue: CoordinationIssue, assignee_id: int | None, user) -> None:
    """交办: a coordinator gives an open issue to one of the working group to answer."""
    assignee = session.get(User, assignee_id) if assignee_id else None
    if assignee is None or assignee not in assignees(session):
        raise ValidationFailed([("assignee", "请选择「承办人」：市级专班的一位成员")])
    before = {"status": issue.status, "assignee": issue.assignee_id}
    claim(
        session,
        issue,
        CoordinationIssue.status.in_(OPEN_ISSUES),
        ALREADY_ANSWERED,
        status=IssueStatus.ASSIGNED,
        assignee_id=assignee.id,
        assigned_at=now(),
    )
    audit.record(
        session,
        user=user,
        action="coordination.assign",
        obj_type="coordination_issue",
        obj_id=issue.id,
        before=before,
        after={
            "status": IssueStatus.ASSIGNED,
            "assignee": assignee.display_name or assignee.username,
        },
    )
    session.flush()
    events.publish(session, events.CoordinationAssigned(issue, user=user))


def answer_issue(session: Session, issue: CoordinationIssue, answer: str, user) -> None:
    """The city's answer: the issue is done, and the unit reads it on its home."""
    answer = cleaned_for(CoordinationIssue.answer, answer.strip())
    if not answer:
        raise ValidationFailed([("answer", "「答复意见」不能为空")])
    before = {"status": issue.status}
    claim(
        session,
        issue,
        CoordinationIssue.status.in_(OPEN_ISSUES),
        ALREADY_ANSWERED,
        status=IssueStatus.ANSWERED,
        answer=answer,
        answered_at=now(),
        answered_by_id=getattr(user, "id", None),
    )
    audit.record(
        session,
        user=user,
        action="coordination.answer",
        obj_type="coordination_issue",
        obj_id=issue.id,
        before=before,
        after={"status": IssueStatus.ANSWERED, "answer": answer},
    )
    session.flush()
    events.publish(session, events.CoordinationAnswered(issue, user=user))


# ---- reading --------------------------------------------------------------------------


def _scoped(campaign: Campaign, unit_ids: list[int] | None):
    stmt = select(CoordinationIssue).where(CoordinationIssue.campaign_id == campaign.id)
    return stmt if unit_ids is None else stmt.where(CoordinationIssue.unit_id.in_(unit_ids))


def open_issues(
    session: Session,
    campaign: Campaign,
    unit_ids: list[int] | None = None,
    raised_by: datetime | None = None,
) -> list[CoordinationIssue]:
    """The issues still waiting for the city (待处理, 已交办), oldest first, with their unit and
    item loaded: what the homes show and a bulletin's annex lists (those ``raised_by`` its
    cut-off)."""
    stmt = _scoped(campaign, unit_ids).where(CoordinationIssue.status.in_(OPEN_ISSUES))
    if raised_by is not None:
        stmt = stmt.where(CoordinationIssue.raised_at <= raised_by)
    stmt = stmt.options(
        joinedload(CoordinationIssue.unit),
        joinedload(CoordinationIssue.item).joinedload(BoardItem.organization),
        joinedload(CoordinationIssue.assignee),
    ).order_by(CoordinationIssue.raised_at, CoordinationIssue.id)
    return list(session.scalars(stmt).unique())


def count_open(session: Session, campaign: Campaign, unit_ids: list[int] | None = None) -> int:
    """How many issues wait for the city."""
    stmt = _scoped(campaign, unit_ids).where(CoordinationIssue.status.in_(OPEN_ISSUES))
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def answered_issues(
    session: Session, campaign: Campaign, unit_ids: list[int] | None = None, limit: int = 50
) -> list[CoordinationIssue]:
    """The answered issues, newest answer first."""
    stmt = (
        _scoped(campaign, unit_ids)
        .where(CoordinationIssue.status == IssueStatus.ANSWERED)
        .options(joinedload(CoordinationIssue.unit), joinedload(CoordinationIssue.item))
        .order_by(CoordinationIssue.answered_at.desc(), CoordinationIssue.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt).unique())
