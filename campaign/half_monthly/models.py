"""Half-monthly unit reports (半月报), with the figures frozen at submission."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from campaign.core.db import Base, StoredFile, enum_text
from campaign.core.models import Unit
from campaign.core.text import text_field
from campaign.core.vocab import Labelled


class ReportStatus(Labelled):
    """submitted → returned, or superseded by a later version; never edited in place."""

    SUBMITTED = "submitted", "已报送"
    RETURNED = "returned", "已退回"
    SUPERSEDED = "superseded", "已被新版本取代"


class ReportState(Labelled):
    """Where a unit stands for a period (``services.report_state``)."""

    ON_TIME = "on_time", "按时报送"
    LATE = "late", "迟报"
    RETURNED = "returned", "已退回"
    MISSING = "missing", "未报送"
    WAITING = "waiting", "待报送"


# A unit that still owes the period's report (the reminders name them).
OWING = (ReportState.WAITING, ReportState.MISSING, ReportState.RETURNED)


class UnitReport(Base):
    """One version of a unit's report for the period due on ``due_on`` (the 10th or 25th)."""

    __tablename__ = "unit_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    due_on: Mapped[date]
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[ReportStatus] = mapped_column(
        enum_text(ReportStatus, 20), default=ReportStatus.SUBMITTED
    )
    submitted_at: Mapped[datetime]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    is_late: Mapped[bool] = mapped_column(default=False)
    # The figures at the moment of submission, never typed in and never recomputed.
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Each section at most 5,000 characters: longer than a whole city plan (seed 004: 4,380).
    progress: Mapped[str] = mapped_column(
        Text, default="", info=text_field("工作进展", 5000, multiline=True)
    )
    problems: Mapped[str] = mapped_column(
        Text, default="", info=text_field("存在问题", 5000, multiline=True)
    )
    next_steps: Mapped[str] = mapped_column(
        Text, default="", info=text_field("下步打算", 5000, multiline=True)
    )
    attachment_name: Mapped[str] = mapped_column(String(255), default="", info=text_field("附件名"))
    attachment_path: Mapped[str] = mapped_column(String(500), default="")
    attachment_sha256: Mapped[str] = mapped_column(String(64), default="")
    attachment: Mapped[StoredFile] = composite(
        "attachment_name", "attachment_path", "attachment_sha256"
    )
    returned_at: Mapped[datetime | None]
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    return_comment: Mapped[str] = mapped_column(
        Text, default="", info=text_field("退回意见", 1000, multiline=True)
    )

    unit: Mapped[Unit] = relationship()

    @property
    def is_current(self) -> bool:
        """The version in force: filed, neither returned nor superseded."""
        return self.status == ReportStatus.SUBMITTED

    @property
    def is_returned(self) -> bool:
        return self.status == ReportStatus.RETURNED

    @property
    def is_superseded(self) -> bool:
        return self.status == ReportStatus.SUPERSEDED

    __table_args__ = (
        UniqueConstraint("campaign_id", "unit_id", "due_on", "version"),
        Index("ix_unit_report_period", "campaign_id", "due_on"),
    )
