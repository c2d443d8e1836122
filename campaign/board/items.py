"""Which organizations are on the wall chart: those of the base not yet where the rules say.

Kept apart from board.services so the ledger (approval, accepted changes) can call it
without an import cycle.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import audit, rules
from campaign.board.models import BoardItem
from campaign.core.models import Campaign
from campaign.ledger.models import Organization


def sync_items(session: Session, campaign: Campaign, unit_ids: list[int] | None = None) -> int:
    """Put on the board every organization of the base that does not meet its target yet."""
    thresholds = rules.Thresholds.of(campaign)
    have = select(BoardItem.organization_id).where(BoardItem.campaign_id == campaign.id)
    stmt = select(Organization).where(
        Organization.campaign_id == campaign.id,
        Organization.in_base,
        Organization.id.not_in(have),
    )
    if unit_ids is not None:
        stmt = stmt.where(Organization.unit_id.in_(unit_ids))
    created = 0
    for org in session.scalars(stmt).yield_per(2000):
        requirement = rules.evaluate(org, thresholds)
        if rules.meets(org, requirement):
            continue
        session.add(
            BoardItem(
                campaign_id=campaign.id,
                unit_id=org.unit_id,
                organization_id=org.id,
                kind=org.kind,
                target=requirement.target.value,
                path=requirement.path.value,
                measures=org.measures,
                planned_on=org.planned_on,
                responsible_person=org.responsible_person,
            )
        )
        created += 1
    session.flush()
    return created


# What an item keeps of its organization, and so follows when the ledger row changes.
FOLLOWED = ("unit_id", "kind")


def follow_organization(session: Session, org: Organization, user, source: str) -> None:
    """Bring the organization's item in step with its ledger row (recorded): on the board of
    the unit whose ledger now holds it, with its kind."""
    item = session.scalar(
        select(BoardItem).where(
            BoardItem.campaign_id == org.campaign_id, BoardItem.organization_id == org.id
        )
    )
    if item is None:
        return
    before = audit.snapshot(item, list(FOLLOWED))
    after = audit.snapshot(org, list(FOLLOWED))
    changed = [k for k in FOLLOWED if before[k] != after[k]]
    if not changed:
        return
    for key in changed:
        setattr(item, key, getattr(org, key))
    audit.record(
        session,
        user=user,
        action="item.follow",
        obj_type="board_item",
        obj_id=item.id,
        before={k: before[k] for k in changed},
        after={**{k: after[k] for k in changed}, "source": source},
    )
