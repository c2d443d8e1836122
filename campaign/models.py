"""Every model, imported once so the metadata (and Alembic) sees all tables."""

from campaign.accounts.models import ApiToken, Unit, User
from campaign.audit import AuditEntry
from campaign.board.models import BoardItem, Closure, ItemNote, SpotCheck, SpotCheckResult
from campaign.ledger.models import (
    ChangeRequest,
    ImportBatch,
    LedgerConflict,
    Organization,
    UnitLedger,
)
from campaign.reporting.models import UnitReport
from campaign.timeline.models import Campaign, Deliverable, Phase, Task, TaskSubmission

__all__ = [
    "BoardItem",
    "Closure",
    "ItemNote",
    "SpotCheck",
    "SpotCheckResult",
    "ApiToken",
    "AuditEntry",
    "Campaign",
    "ChangeRequest",
    "Deliverable",
    "ImportBatch",
    "LedgerConflict",
    "Organization",
    "Phase",
    "Task",
    "TaskSubmission",
    "Unit",
    "UnitLedger",
    "UnitReport",
    "User",
]
