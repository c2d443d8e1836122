"""Every model, imported once so the metadata (and Alembic) sees all tables."""

from campaign.accounts.models import ApiToken, Unit, User
from campaign.audit import AuditEntry
from campaign.ledger.models import (
    ChangeRequest,
    ImportBatch,
    LedgerConflict,
    Organization,
    UnitLedger,
)
from campaign.timeline.models import Campaign, Phase

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Campaign",
    "ChangeRequest",
    "ImportBatch",
    "LedgerConflict",
    "Organization",
    "Phase",
    "Unit",
    "UnitLedger",
    "User",
]
