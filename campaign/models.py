"""Every model, imported once so the metadata (and Alembic) sees all tables, and every
tally, so campaign.tally keeps each from the first flush on."""

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
from campaign.core.models import ApiToken, Campaign, CityProfile, Phase, Unit, User
from campaign.core.ratelimit import RateLimitCounter
from campaign.figures import LEDGER_TALLY, RULE_TALLY
from campaign.forecast.models import ForecastRun
from campaign.half_monthly.models import UnitReport
from campaign.ledger.models import (
    ChangeRequest,
    CheckNote,
    ImportBatch,
    LedgerConflict,
    LedgerCounts,
    Organization,
    RuleCounts,
    UnitLedger,
)
from campaign.quality.models import QualityRun, QualitySignal
from campaign.targets import RateTarget
from campaign.timeline.models import Deliverable, Task, TaskSubmission

__all__ = [
    "CheckNote",
    "BOARD_TALLY",
    "LEDGER_TALLY",
    "RULE_TALLY",
    "RuleCounts",
    "BoardCounts",
    "BoardItem",
    "Closure",
    "ItemNote",
    "SpotCheck",
    "SpotCheckResult",
    "ApiToken",
    "AuditEntry",
    "Campaign",
    "CityProfile",
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
    "QualityRun",
    "ForecastRun",
    "QualitySignal",
    "RateTarget",
]
