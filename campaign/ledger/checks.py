"""The verifying departments' part (seed 004, 落实工作责任): the organizations in a
department's remit, city-wide and read-only, and the check notes it adds to them.

Which organizations a remit covers is ``vocab.REMIT_SCOPE`` (a kind, and a tag or none);
``permissions.in_remit`` answers it for one organization and ``in_remit_sql`` here for a
list, from the same table.
"""

from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, String, cast, false, or_, select
from sqlalchemy.orm import joinedload

from campaign import audit
from campaign.core import permissions
from campaign.core.db import Session
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.core.paging import page_of
from campaign.core.text import cleaned_for
from campaign.core.vocab import REMIT_SCOPE, OrgKind, Remit, category_vocab
from campaign.ledger.models import CheckNote, ExclusionProposal, Organization


def has_tag(tag: str) -> ColumnElement[bool]:
    """SQL: the organization has ``tag``. The tags are a JSON list of plain codes, which both
    databases keep as written (["above_scale", "internet"]): the code in quotes is found only
    as a whole element."""
    return cast(Organization.tags, String).like(f'%"{tag}"%')


def in_remit_sql(remit: Remit) -> ColumnElement[bool]:
    """SQL: the organization is in ``remit`` (REMIT_SCOPE, as permissions.in_remit reads it)."""
    scope = REMIT_SCOPE.get(remit)
    if scope is None:
        return false()
    kind, tag = scope
    condition: ColumnElement[bool] = Organization.kind == kind
    return condition if tag is None else condition & has_tag(tag)


def scope_text(remit: Remit) -> str:
    """What a remit covers, as its page says it."""
    scope = REMIT_SCOPE.get(remit)
    if scope is None:
        return "本部门参加随机抽查，不对应台账中的组织"
    kind, tag = scope
    if tag is None:
        return f"全部{OrgKind(kind).label}"
    return f"类别含“{category_vocab(kind)(tag).label}”的{OrgKind(kind).label}"


def remit_organizations(
    session: Session, campaign: Campaign, remit: Remit, q: str = "", page: int = 1
) -> Pagination:
    """One page of the organizations in ``remit``, across every unit, by unit and name."""
    stmt = select(Organization).where(Organization.campaign_id == campaign.id, in_remit_sql(remit))
    if q:
        stmt = stmt.where(
            or_(Organization.name.contains(q, autoescape=True), Organization.credit_code == q)
        )
    stmt = stmt.options(joinedload(Organization.unit)).order_by(
        Organization.unit_id, Organization.id
    )
    return page_of(session, stmt, page, 50)


def add_check_note(session: Session, org: Organization, text: str, user: Any) -> CheckNote:
    """A verifying department's check note on ``org`` (its unit named), recorded."""
    cleaned = cleaned_for(CheckNote.__table__.c.text, text.strip())
    if not cleaned:
        raise ValidationFailed([("text", "「核查意见」不能为空")])
    note = CheckNote(
        campaign_id=org.campaign_id,
        organization_id=org.id,
        unit_id=user.unit_id,
        user_id=user.id,
        text=cleaned,
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        user=user,
        action="organization.check_note",
        obj_type="organization",
        obj_id=org.id,
        after={"text": cleaned, "unit": user.unit.name},
    )
    return note


def proposal_units(user: Any) -> list[int] | None:
    """Whose exclusion proposals ``user`` reads: 工商 every unit's (its remit is every
    enterprise), the others as they read the units."""
    if permissions.may_confirm_exclusions(user):
        return None
    return permissions.visible_unit_ids(user)


def proposal_or_404(user: Any, proposal_id: int, campaign_id: int) -> ExclusionProposal:
    """An exclusion proposal of ``campaign_id`` that ``user`` reads, else 404."""
    proposal = db.session.get(ExclusionProposal, proposal_id)
    ids = proposal_units(user)
    permissions.require(
        proposal is not None
        and proposal.campaign_id == campaign_id
        and (ids is None or proposal.unit_id in ids)
    )
    assert proposal is not None  # required above
    return proposal


def notes_of(session: Session, org: Organization) -> list[CheckNote]:
    """The check notes on ``org``, oldest first."""
    return list(
        session.scalars(
            select(CheckNote)
            .where(CheckNote.organization_id == org.id)
            .options(joinedload(CheckNote.unit))
            .order_by(CheckNote.id)
        )
    )
