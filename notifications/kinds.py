"""Every kind of event: its label, who receives it, and over which channels by default.

Recipients are resolved when the event is fanned out, from the event's payload and the
current users: a user who leaves a unit before then is not told.
"""

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from campaign.core.db import Session
from campaign.core.models import Unit, User
from campaign.core.vocab import Role, UnitKind
from notifications.models import MailingListEntry

USER_CHANNELS = ("email", "inapp")  # what a user chooses per kind; webhooks belong to units


class Audience(StrEnum):
    """Who an event of a kind is for."""

    LEADERSHIP = "leadership"  # the city's leaders
    COORDINATORS = "coordinators"  # the city's 专班
    UNIT = "unit"  # the unit's operators and leaders
    UNIT_LEADERS = "unit_leaders"
    SUBMITTER = "submitter"  # the one who did what the event is about (else the unit)
    # A bulletin's readers: every 主送 unit's operators and leaders (the payload's
    # ``unit_ids``), the coordinators and leadership.
    BULLETIN = "bulletin"
    SIGNERS = "signers"  # who signs bulletins: leadership (reports.services.may_sign)
    REVIEWERS = "reviewers"  # who reviews a draft bulletin and who signs it


# The city-wide audiences and the role each is.
_CITY_ROLES = {Audience.LEADERSHIP: Role.LEADERSHIP, Audience.COORDINATORS: Role.COORDINATOR}


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    audience: Audience
    defaults: tuple[str, ...] = USER_CHANNELS
    webhook: bool = False  # also to the unit's (or the city's) group robot


KINDS = {
    k.code: k
    for k in (
        Kind("bulletin_published", "通报发布", Audience.BULLETIN, webhook=True),
        Kind("bulletin_draft", "通报草稿待审核签发", Audience.REVIEWERS),
        Kind("bulletin_unsigned", "通报草稿逾时未签发", Audience.SIGNERS),
        Kind("bulletin_failed", "通报生成失败", Audience.COORDINATORS),
        Kind("report_due", "半月报送提醒", Audience.UNIT, webhook=True),
        Kind("task_due", "阶段任务提醒", Audience.UNIT, webhook=True),
        Kind("items_overdue", "逾期攻坚事项（每日汇总）", Audience.UNIT),
        Kind("closure_submitted", "销号待核验", Audience.UNIT_LEADERS),
        Kind("closure_returned", "销号被退回", Audience.SUBMITTER),
        Kind("closure_verified", "销号已核验", Audience.SUBMITTER),
        Kind("closure_revoked", "销号被撤销（抽查/回头看）", Audience.UNIT),
        Kind("ledger_reviewed", "台账审核结果", Audience.UNIT),
        Kind("change_request_decided", "台账变更申请处理结果", Audience.UNIT),
        Kind("urged", "市级专班催办", Audience.UNIT, webhook=True),
        Kind("coordination_raised", "新的协调事项", Audience.COORDINATORS),
        Kind("coordination_assigned", "协调事项交办", Audience.SUBMITTER),
        Kind("coordination_answered", "协调事项答复", Audience.UNIT),
    )
}


def _active(stmt):
    return stmt.where(User.active.is_(True)).order_by(User.id)


def _city_wide(session: Session, *roles: Role) -> list[User]:
    return list(session.scalars(_active(select(User).where(User.role.in_(roles)))))


def users_for(session: Session, kind: Kind, payload: dict) -> list[User]:
    """The users an event of ``kind`` is for."""
    if kind.audience == Audience.SIGNERS:
        return _city_wide(session, Role.LEADERSHIP)
    if kind.audience == Audience.REVIEWERS:
        return _city_wide(session, Role.COORDINATOR, Role.LEADERSHIP)
    if kind.audience == Audience.BULLETIN:
        units = payload.get("unit_ids") or []
        readers = _city_wide(session, Role.LEADERSHIP, Role.COORDINATOR) + list(
            session.scalars(
                _active(
                    select(User).where(
                        User.unit_id.in_(units), User.role.in_((Role.OPERATOR, Role.LEADER))
                    )
                )
            )
        )
        found = {u.id: u for u in readers}
        return [found[i] for i in sorted(found)]
    if kind.audience in _CITY_ROLES:
        role = _CITY_ROLES[kind.audience]
        return list(session.scalars(_active(select(User).where(User.role == role))))
    unit_id = payload.get("unit_id")
    if kind.audience == Audience.SUBMITTER and payload.get("user_id"):
        user = session.get(User, payload["user_id"])
        if user is not None and user.active:
            return [user]
    if unit_id is None:
        return []
    roles = (
        (Role.LEADER,) if kind.audience == Audience.UNIT_LEADERS else (Role.OPERATOR, Role.LEADER)
    )
    return list(
        session.scalars(_active(select(User).where(User.unit_id == unit_id, User.role.in_(roles))))
    )


def mailing_list(session: Session, kind: Kind, payload: dict) -> list[MailingListEntry]:
    """Addresses beyond users: the campaign's distribution list, for bulletins."""
    if kind.code != "bulletin_published" or "campaign_id" not in payload:
        return []
    return list(
        session.scalars(
            select(MailingListEntry)
            .where(MailingListEntry.campaign_id == payload["campaign_id"])
            .order_by(MailingListEntry.id)
        )
    )


def webhook_units(session: Session, kind: Kind, payload: dict) -> list[Unit]:
    """Whose group robots hear it: the unit's; the city's for city-wide events; for a
    bulletin the city's and every 主送 unit's."""
    if not kind.webhook:
        return []
    city = session.scalar(select(Unit).where(Unit.kind == UnitKind.CITY).limit(1))
    if kind.audience == Audience.BULLETIN:
        ids = payload.get("unit_ids") or []
        units = session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.id))
        return [u for u in (city, *units) if u is not None]
    if kind.audience == Audience.LEADERSHIP:
        return [city] if city is not None else []
    unit = session.get(Unit, payload["unit_id"]) if payload.get("unit_id") else None
    return [unit] if unit is not None else []
