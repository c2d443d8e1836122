"""The one place that decides who may see and change what.

Coordinators (市级专班), leadership and admins see the whole city; unit
operators and leaders see their own unit and the streets/parks below it.
Whatever a user may not see answers 404, never 403, so object ids leak nothing.
"""

from flask import abort
from sqlalchemy import Select, select

from campaign.accounts.models import Unit, User
from campaign.extensions import db
from campaign.ledger.models import Organization
from campaign.timeline.models import Campaign
from campaign.vocab import Role, UnitKind

CITY_WIDE_ROLES = (Role.COORDINATOR, Role.LEADERSHIP, Role.ADMIN)
CAMPAIGN_EDITORS = (Role.COORDINATOR, Role.ADMIN)


def sees_city(user: User) -> bool:
    """Whether ``user`` reads every unit's data."""
    return user.role in CITY_WIDE_ROLES


def may_edit_campaign(user: User) -> bool:
    """Coordinators and admins edit phases and settings."""
    return user.role in CAMPAIGN_EDITORS


def may_manage_users(user: User) -> bool:
    return user.role == Role.ADMIN


def require(allowed: bool) -> None:
    """Abort with 404 unless ``allowed``."""
    if not allowed:
        abort(404)


def visible_unit_ids(user: User) -> list[int] | None:
    """Responsible unit ids ``user`` may read, or None for all."""
    if sees_city(user):
        return None
    return [user.unit_id] if user.unit_id else []


def scope_units(user: User, stmt: Select) -> Select:
    """Restrict a select over Unit to the responsible units ``user`` may read."""
    ids = visible_unit_ids(user)
    return stmt if ids is None else stmt.where(Unit.id.in_(ids))


def scope_organizations(user: User, stmt: Select) -> Select:
    """Restrict a select over Organization to what ``user`` may read."""
    ids = visible_unit_ids(user)
    return stmt if ids is None else stmt.where(Organization.unit_id.in_(ids))


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


def organization_or_404(user: User, org_id: int) -> Organization:
    """An organization if ``user`` may read its unit's ledger, else 404."""
    stmt = scope_organizations(user, select(Organization).where(Organization.id == org_id))
    return db.session.scalar(stmt) or abort(404)


def may_edit_ledger(user: User, unit: Unit) -> bool:
    """Unit operators import their own unit's ledger; admins may act for any responsible unit.

    Streets and parks keep no ledger of their own (their rows are the district's).
    """
    if not unit.is_responsible:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.OPERATOR and user.unit_id == unit.id


def may_review_ledgers(user: User) -> bool:
    """Coordinators (and admins) approve or return ledgers, decide change requests and exclusions."""
    return user.role in CAMPAIGN_EDITORS


def unit_record_or_404(user: User, model, record_id: int, campaign_id: int):
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


def may_deliver(user: User, unit: Unit) -> bool:
    """Unit operators deliver their own unit's tasks and reports (admins may act for any unit)."""
    return may_edit_ledger(user, unit)


def may_work_items(user: User, unit: Unit) -> bool:
    """Unit operators keep their unit's plans and notes and submit its closures."""
    return may_edit_ledger(user, unit)


def may_verify_closures(user: User, unit: Unit) -> bool:
    """A unit's leader verifies or returns its closures (an operator never verifies)."""
    if not unit.is_responsible:
        return False
    return user.role == Role.ADMIN or (user.role == Role.LEADER and user.unit_id == unit.id)


def may_spot_check(user: User) -> bool:
    """Coordinators draw spot checks and run the look-back."""
    return user.role in CAMPAIGN_EDITORS


def may_set_webhook(user: User, unit: Unit) -> bool:
    """A unit's group robot is set by its admins: its leader; the city's by coordinators;
    system admins set any."""
    if user.role == Role.ADMIN:
        return True
    if unit.kind == UnitKind.CITY:
        return user.role == Role.COORDINATOR
    return user.role == Role.LEADER and user.unit_id == unit.id
