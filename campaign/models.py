"""Every model, imported once so the metadata (and Alembic) sees all tables, and every
tally, so campaign.tally keeps each from the first flush on."""

from campaign.accounts.models import ApiToken, Unit, User
from campaign.audit import AuditEntry
from campaign.board.models import (
    BOARD_TALLY,
    BoardCounts,
    BoardItem,
    Closure,
    ItemNote,
    SpotCheck,
    SpotCheckResult,
)
from campaign.figures import LEDGER_TALLY
from campaign.ledger.models import (
    ChangeRequest,
    ImportBatch,
    LedgerConflict,
    LedgerCounts,
    Organization,
    UnitLedger,
)
from campaign.ratelimit import RateLimitCounter
from campaign.reporting.models import UnitReport
from campaign.timeline.models import Campaign, Deliverable, Phase, Task, TaskSubmission

__all__ = [
    "BOARD_TALLY",
    "LEDGER_TALLY",
    "BoardCounts",
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
    "LedgerCounts",
    "Organization",
    "Phase",
    "RateLimitCounter",
    "Task",
    "TaskSubmission",
    "Unit",
    "UnitLedger",
    "UnitReport",
    "User",
]
