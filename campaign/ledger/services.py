"""Ledger writes: organizations with the rules' verdict stored on each row."""

from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from campaign import audit, rules
from campaign.ledger.models import Organization
from campaign.timeline.models import Campaign

# The ledger columns recorded in the change record.
LEDGER_FIELDS = [
    "name",
    "credit_code",
    "kind",
    "unit_id",
    "area_id",
    "district_name",
    "category",
    "operating_status",
    "registration_level",
    "supervising_unit",
    "employees",
    "formal_members",
    "probationary_members",
    "investor",
    "investor_is_member",
    "party_org_status",
    "party_org_name",
    "party_org_founded_on",
    "no_party_org_reason",
    "instructor",
    "mass_organizations",
    "measures",
    "planned_on",
    "responsible_person",
]
_RULE_INPUTS = [
    Organization.id,
    Organization.kind,
    Organization.category,
    Organization.operating_status,
    Organization.registration_level,
    Organization.employees,
    Organization.formal_members,
    Organization.probationary_members,
    Organization.party_org_status,
    Organization.instructor,
    Organization.mass_organizations,
]


def apply_rules(org: Any, thresholds: rules.Thresholds) -> dict:
    """The stored verdict columns (in_base, target, path, rule_codes) for ``org``."""
    req = rules.evaluate(org, thresholds)
    return {
        "in_base": req.in_base,
        "target": req.target.value,
        "path": req.path.value,
        "rule_codes": req.rule_codes,
    }


def add_organization(session: Session, campaign: Campaign, data: dict, user) -> Organization:
    """A new ledger row, judged by the rules and recorded."""
    org = Organization(campaign_id=campaign.id, **data)
    for key, value in apply_rules(org, rules.Thresholds.of(campaign)).items():
        setattr(org, key, value)
    session.add(org)
    session.flush()
    audit.record(
        session,
        user=user,
        action="organization.create",
        obj_type="organization",
        obj_id=org.id,
        after=audit.snapshot(org, LEDGER_FIELDS),
    )
    return org


def reevaluate_campaign(session: Session, campaign: Campaign, batch: int = 5000) -> int:
    """Re-judge every organization after a threshold changed; returns rows whose verdict moved."""
    thresholds = rules.Thresholds.of(campaign)
    stmt = select(
        *_RULE_INPUTS,
        Organization.in_base,
        Organization.target,
        Organization.path,
        Organization.rule_codes,
    ).where(Organization.campaign_id == campaign.id)
    # Read everything first: a streaming cursor and updates must not share the connection.
    pending = []
    for row in session.execute(stmt).yield_per(batch):
        verdict = apply_rules(row, thresholds)
        if any(getattr(row, k) != v for k, v in verdict.items()):
            pending.append({"id": row.id, **verdict})
    for start in range(0, len(pending), batch):
        session.execute(update(Organization), pending[start : start + batch])
    return len(pending)


def list_organizations(
    session: Session,
    campaign: Campaign,
    unit_id: int,
    q: str = "",
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Organization], int]:
    """One page of a unit's ledger, searched by name or credit code, and the total count."""
    stmt = select(Organization).where(
        Organization.campaign_id == campaign.id, Organization.unit_id == unit_id
    )
    if q:
        stmt = stmt.where(or_(Organization.name.contains(q), Organization.credit_code.contains(q)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(
        stmt.options(joinedload(Organization.area))
        .order_by(Organization.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total
