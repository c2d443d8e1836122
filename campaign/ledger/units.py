"""What the ledger says when a unit is to be retired: not while a running campaign's ledger
holds its rows (they would be nobody's to keep)."""

from sqlalchemy import func, select

from campaign.core import events
from campaign.core.clock import today
from campaign.core.db import Session
from campaign.core.models import Campaign
from campaign.ledger.models import Organization


def refuse_retiring_a_unit_with_rows(session: Session, event: events.UnitRetiring) -> None:
    """A unit with ledger rows in a campaign not yet ended stays in use."""
    unit = event.unit
    rows = session.execute(
        select(Campaign.name, func.count(Organization.id))
        .join(Campaign, Campaign.id == Organization.campaign_id)
        .where(Organization.unit_id == unit.id, Campaign.ends_on >= today())
        .group_by(Campaign.id, Campaign.name)
        .order_by(Campaign.id)
    ).all()
    for name, count in rows:
        event.problems.append(
            (
                "active",
                f"单位“{unit.name}”（{unit.code}）在进行中的行动“{name}”中有{count}条台账记录，"
                "不能撤销",
            )
        )
