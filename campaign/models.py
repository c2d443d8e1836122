"""Every model, imported once so the metadata (and Alembic) sees all tables."""

from campaign.accounts.models import ApiToken, Unit, User
from campaign.audit import AuditEntry
from campaign.ledger.models import Organization
from campaign.timeline.models import Campaign, Phase

__all__ = ["ApiToken", "AuditEntry", "Campaign", "Organization", "Phase", "Unit", "User"]
