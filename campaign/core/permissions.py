"""The one place that decides who may see and change what.

Coordinators (市级专班), leadership and admins see the whole city; unit
operators and leaders see their own unit and the streets/parks below it.
Whatever a user may not see answers 404 (``require`` and the ``*_or_404`` loaders), so
object ids leak nothing. What he sees but may not do answers 403 with the reason
(``ensure``): every ``may_*`` check carries its reason in Chinese.
"""

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from flask import abort
from sqlalchemy import Select, select

from campaign.core.extensions import db
from campaign.core.models import Campaign, Unit, User
from campaign.core.vocab import REMIT_SCOPE, Remit, Role, UnitKind

CITY_WIDE_ROLES = (Role.COORDINATOR, Role.LEADERSHIP, Role.ADMIN)
CAMPAIGN_EDITORS = (Role.COORDINATOR, Role.ADMIN)


class UnitRecord(Protocol):
    """A row that belongs to one unit in one campaign (an import, a task, a report…)."""

    @property
    def campaign_id(self) -> int: ...

    @property
    def unit_id(self) -> int: ...


M = TypeVar("M", bound=UnitRecord)
R = TypeVar("R", bound=tuple[Any, ...])


def because(reason: str) -> Callable[[Callable[..., bool]], Callable[..., bool]]:
    """Attach the Chinese reason a refused ``may_*`` check gives the user (403)."""

    def attach(check: Callable[..., bool]) -> Callable[..., bool]:
        check.reason = reason  # type: ignore[attr-defined]  # mypy knows no function attributes
        return check

    return attach


def ensure(check: Callable[..., bool], *args: Any) -> None:
    """Abort with 403 and ``check``'s reason unless ``check(*args)``: for what the user sees
    (the object was loaded through a ``*_or_404`` first) but may not do."""
    if not check(*args):
        abort(403, description=check.reason)  # type: ignore[attr-defined]  # set by ``because``


def sees_city(user: User) -> bool:
    """Whether ``user`` reads every unit's data."""
    return user.role in CITY_WIDE_ROLES


@because("此操作仅限市级专班和系统管理员")
def may_edit_campaign(user: User) -> bool:
    """Coordinators and admins edit phases and settings."""
    return user.role in CAMPAIGN_EDITORS


@because("只有市级专班和系统管理员可以创建攻坚行动")
def may_create_campaign(user: User) -> bool:
    """Coordinators and admins create campaigns."""
    return user.role in CAMPAIGN_EDITORS


def require(allowed: bool) -> None:
    """Abort with 404 unless ``allowed``: for what the user may not see at all."""
    if not allowed:
        abort(404)


def visible_unit_ids(user: User) -> list[int] | None:
    """Responsible unit ids ``user`` may read, or None for all."""
    if sees_city(user):
        return None
    return [user.unit_id] if user.unit_id else []


def scope_units(user: User, stmt: Select[R]) -> Select[R]:
    """Restrict a select over Unit to the responsible units ``user`` may read."""
    ids = visible_unit_ids(user)
    return stmt if ids is None else stmt.where(Unit.id.in_(ids))


def responsible_units(user: User) -> list[Unit]:
    """The responsible units ``user`` may read, in display order."""
    stmt = select(Unit).where(Unit.is_responsible).order_by(Unit.position, Unit.id)
    return list(db.session.scalars(scope_units(user, stmt)))


def unit_or_404(user: User, code: str) -> Unit:
    """The unit with ``code`` if ``user`` may read it (or its parent unit), else 404."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code)) or abort(404)
    ids = visible_unit_ids(user)
    if ids is not None and unit.id not in ids and unit.parent_id not in ids:
        abort(404)
    return unit


def campaign_or_404(user: User, campaign_id: int) -> Campaign:
    """A campaign; every logged-in user of the city may read its timeline."""
    return db.session.get(Campaign, campaign_id) or abort(404)


@because("只有本单位的台账填报员可以导入、修改和报送本单位台账")
def may_edit_ledger(user: User, unit: Unit) -> bool:
    """Unit operators import their own unit's ledger; admins may act for any responsible unit.

    Streets and parks keep no ledger of their own (their rows are the district's).
    """
    if not unit.is_responsible:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.OPERATOR and user.unit_id == unit.id


@because("只有市级专班可以审核台账、处理变更申请和剔除组织")
def may_review_ledgers(user: User) -> bool:
    """Coordinators (and admins) approve or return ledgers, decide change requests and exclusions."""
    return user.role in CAMPAIGN_EDITORS


def unit_record_or_404(user: User, model: type[M], record_id: int, campaign_id: int) -> M:
    """A row of ``model`` (it has ``unit_id`` and a campaign) that belongs to ``campaign_id`` and
    to a unit ``user`` may read, else 404: imports, change requests, tasks, reports."""
    record = db.session.get(model, record_id)
    ids = visible_unit_ids(user)
    if (
        record is None
        or record.campaign_id != campaign_id
        or (ids is not None and record.unit_id not in ids)
    ):
        abort(404)
    return record


@because("只有本单位的填报员可以报送本单位的阶段任务和半月报")
def may_deliver(user: User, unit: Unit) -> bool:
    """Unit operators deliver their own unit's tasks and reports (admins may act for any unit);
    a verifying department's users its own tasks (落实专项工作责任情况报告)."""
    if user.role == Role.VERIFIER:
        return bool(unit.remit) and user.unit_id == unit.id
    return may_edit_ledger(user, unit)


@because("只有本单位的填报员可以维护攻坚计划、记录进展和提交销号")
def may_work_items(user: User, unit: Unit) -> bool:
    """Unit operators keep their unit's plans and notes and submit its closures."""
    return may_edit_ledger(user, unit)


@because("只有本单位负责人可以核验或退回销号")
def may_verify_closures(user: User, unit: Unit) -> bool:
    """A unit's leader verifies or returns its closures (an operator never verifies)."""
    if not unit.is_responsible:
        return False
    return user.role == Role.ADMIN or (user.role == Role.LEADER and user.unit_id == unit.id)


@because("只有市级专班可以组织随机抽查和回头看")
def may_spot_check(user: User) -> bool:
    """Coordinators draw spot checks and run the look-back."""
    return user.role in CAMPAIGN_EDITORS


def on_team(user: User, check: Any) -> bool:
    """Whether ``user`` is of a verifying department named on the team of spot check
    ``check`` (its ``team_unit_ids``)."""
    return remit_of(user) is not None and user.unit_id in (check.team_unit_ids or [])


def sees_spot_check(user: User, check: Any) -> bool:
    """City-wide roles read every spot check; a verifying department those on whose team it
    is named."""
    return sees_city(user) or on_team(user, check)


@because("只有市级专班和检查组成员可以记录检查结论")
def may_record_spot_result(user: User, check: Any) -> bool:
    """Coordinators, and the departments named on the check's team, record its findings."""
    return may_spot_check(user) or on_team(user, check)


@because("单位群机器人由本单位负责人设置，全市群机器人由市级专班设置")
def may_set_webhook(user: User, unit: Unit) -> bool:
    """A unit's group robot is set by its admins: its leader; the city's by coordinators;
    system admins set any."""
    if user.role == Role.ADMIN:
        return True
    if unit.kind == UnitKind.CITY:
        return user.role == Role.COORDINATOR
    return user.role == Role.LEADER and user.unit_id == unit.id


@because("用户管理仅限系统管理员")
def may_administer_users(user: User) -> bool:
    """Admins create, change, disable and enable users and reset their passwords."""
    return user.role == Role.ADMIN


@because("单位管理仅限市级专班和系统管理员")
def may_manage_units(user: User) -> bool:
    """Coordinators and admins add, rename, move, reorder, retire and reactivate units."""
    return user.role in CAMPAIGN_EDITORS


# ---- verifying departments (seed 004: 工商, 商务, 经信, 工商联, 教育, 卫生计生, 司法, 财政, 税务) ---


def remit_of(user: User) -> Remit | None:
    """The remit of a verifying department's user (his unit's), else None."""
    if user.role != Role.VERIFIER or user.unit is None or not user.unit.remit:
        return None
    return Remit(user.unit.remit)


def sees_organization(user: User, kind: str, tags: list[str], unit_id: int) -> bool:
    """Whether ``user`` may read an organization of ``kind`` with ``tags`` in the ledger of
    ``unit_id``: city-wide roles every one, unit users their unit's, a verifying department
    those in its remit, wherever they are (read-only)."""
    remit = remit_of(user)
    if remit is not None:
        return in_remit(remit, kind, tags)
    ids = visible_unit_ids(user)
    return ids is None or unit_id in ids


def in_remit(remit: Remit, kind: str, tags: list[str]) -> bool:
    """Whether an organization of ``kind`` with ``tags`` is in ``remit`` (REMIT_SCOPE)."""
    scope = REMIT_SCOPE.get(remit)
    if scope is None:
        return False
    scope_kind, tag = scope
    return kind == scope_kind and (tag is None or tag in tags)


@because("核查意见由职责范围内的核查部门填写")
def may_note_check(user: User, kind: str, tags: list[str]) -> bool:
    """A verifying department adds its check notes to the organizations in its remit."""
    remit = remit_of(user)
    return remit is not None and in_remit(remit, kind, tags)


@because("剔除“空壳”“僵尸”“影子”企业须由工商部门核实确认")
def may_confirm_exclusions(user: User) -> bool:
    """工商 confirms or rejects the enterprises proposed to leave the base (seed 004:
    工商部门负责……剔除有名无实的“空壳”企业、久不运转的“僵尸”企业、多重注册的“影子”企业)."""
    return remit_of(user) == Remit.AIC


@because("剔除申请由本单位的台账填报员或市级专班提出，经工商部门确认后生效")
def may_propose_exclusion(user: User, unit: Unit) -> bool:
    """A district (its operator) proposes to take an enterprise of its ledger out of the base
    as 空壳/僵尸/影子; coordinators may too. 工商 confirms (``may_confirm_exclusions``)."""
    return may_review_ledgers(user) or may_edit_ledger(user, unit)


def user_or_404(viewer: User, username: str) -> User:
    """The account ``username`` for an admin; 404 for anyone else (whether it exists is
    not theirs to know) and for a username that does not exist."""
    require(may_administer_users(viewer))
    found = db.session.scalar(select(User).where(User.username == username))
    if found is None:
        abort(404)
    return found
