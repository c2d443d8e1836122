"""The latest forecast of each campaign, kept: pages read it instead of computing it."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from campaign.core.clock import now
from campaign.core.db import Base


class ForecastRun(Base):
    """A campaign's forecast as last computed (``forecast.services.refresh``): every unit's
    projections as of ``as_of``, and the change record's end it saw; the scheduler computes it
    again when something was recorded since or the day changed, and a verified or revoked
    closure, an approved ledger, new settings refresh it in their own transaction."""

    __tablename__ = "forecast_run"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(default=now)
    as_of: Mapped[date]
    audit_seen: Mapped[int] = mapped_column(default=0)
    # {"deadline", "weeks", "units": {unit id: {figure: Projection fields}}}
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
