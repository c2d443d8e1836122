"""The campaign, its settings, and its phases (DOMAIN.md §2, §5, §6)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.accounts.models import Unit
from campaign.clock import DEFAULT_TZ, now
from campaign.db import Base
from campaign.text import text_field


class Campaign(Base):
    """One 百日攻坚 campaign, with every rule threshold and target as a setting."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), info=text_field("行动名称"))
    year: Mapped[int]
    template: Mapped[str] = mapped_column(String(40), default="")
    issuing_body: Mapped[str] = mapped_column(
        String(100), default="中共武汉市委组织部", info=text_field("发文机关")
    )
    city_name: Mapped[str] = mapped_column(String(40), default="武汉市", info=text_field("城市"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    timezone: Mapped[str] = mapped_column(String(40), default=DEFAULT_TZ)
    # Half-monthly reporting days ("每月10日、25日前").
    report_day_first: Mapped[int] = mapped_column(default=10)
    report_day_second: Mapped[int] = mapped_column(default=25)

    # Rule thresholds (DOMAIN.md §5); all inclusive ("50人以上" means >= 50).
    member_required_employees: Mapped[int] = mapped_column(default=50)
    party_org_required_employees: Mapped[int] = mapped_column(default=100)
    standalone_formal_members: Mapped[int] = mapped_column(default=3)
    social_staff_threshold: Mapped[int] = mapped_column(default=30)
    large_enterprise_employees: Mapped[int] = mapped_column(default=50)
    rural_min_formal_members: Mapped[int] = mapped_column(default=1)

    # Targets in percent (DOMAIN.md §6).
    target_party_org_coverage: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("80"))
    target_required_coverage: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("100"))

    created_at: Mapped[datetime] = mapped_column(default=now)

    phases: Mapped[list["Phase"]] = relationship(
        back_populates="campaign", order_by="Phase.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="campaign_dates"),
        CheckConstraint(
            "report_day_first BETWEEN 1 AND 28 AND report_day_second BETWEEN 1 AND 28",
            name="report_days",
        ),
    )

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name!r}>"


class Phase(Base):
    """One phase of the campaign timeline, with its window and deliverable."""

    __tablename__ = "phase"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100), info=text_field("阶段名称"))
    # A phase "by 08-15" has no start of its own: it starts with the campaign.
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    deliverable: Mapped[str] = mapped_column(
        Text, default="", info=text_field("阶段任务", 2000, multiline=True)
    )

    campaign: Mapped[Campaign] = relationship(back_populates="phases")

    __table_args__ = (
        UniqueConstraint("campaign_id", "position"),
        CheckConstraint("ends_on >= starts_on", name="phase_dates"),
    )

    def __repr__(self) -> str:
        return f"<Phase {self.position} {self.name}>"


class Deliverable(Base):
    """What a phase asks of responsible units (DOMAIN.md §2): one per-unit task each."""

    __tablename__ = "deliverable"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phase.id"))
    code: Mapped[str] = mapped_column(String(40), default="")
    name: Mapped[str] = mapped_column(String(100), info=text_field("材料名称"))
    description: Mapped[str] = mapped_column(
        Text, default="", info=text_field("材料说明", 2000, multiline=True)
    )
    # Which responsible units owe it: "districts", "departments" or "all".
    audience: Mapped[str] = mapped_column(String(20), default="all")
    due_on: Mapped[date]
    # Fulfilled by another workflow instead of an upload ("ledger": the ledger review).
    fulfilled_by: Mapped[str] = mapped_column(String(20), default="")
    dropped: Mapped[bool] = mapped_column(default=False)

    phase: Mapped[Phase] = relationship()
    tasks: Mapped[list["Task"]] = relationship(back_populates="deliverable")


class Task(Base):
    """One unit's share of a deliverable, with its own due date."""

    __tablename__ = "task"

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("deliverable.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    due_on: Mapped[date]
    # Set for this unit alone: later changes to the deliverable's date leave it be.
    due_overridden: Mapped[bool] = mapped_column(default=False)
    # open → submitted → accepted, or returned → submitted again
    status: Mapped[str] = mapped_column(String(20), default="open")
    dropped: Mapped[bool] = mapped_column(default=False)
    drop_reason: Mapped[str] = mapped_column(
        Text, default="", info=text_field("取消理由", 1000, multiline=True)
    )
    version: Mapped[int] = mapped_column(default=1)

    deliverable: Mapped[Deliverable] = relationship(back_populates="tasks")
    unit: Mapped[Unit] = relationship()
    submissions: Mapped[list["TaskSubmission"]] = relationship(
        back_populates="task", order_by="TaskSubmission.id"
    )

    __table_args__ = (UniqueConstraint("deliverable_id", "unit_id"),)
    __mapper_args__ = {"version_id_col": version}

    @property
    def campaign_id(self) -> int:
        return self.deliverable.campaign_id


class TaskSubmission(Base):
    """A unit's delivery for a task (a file and a note), accepted or returned by a coordinator."""

    __tablename__ = "task_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    note: Mapped[str] = mapped_column(
        Text, default="", info=text_field("报送说明", 2000, multiline=True)
    )
    file_name: Mapped[str] = mapped_column(String(255), default="", info=text_field("材料文件名"))
    file_path: Mapped[str] = mapped_column(String(500), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    submitted_at: Mapped[datetime]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # pending → accepted | returned
    review: Mapped[str] = mapped_column(String(20), default="pending")
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    review_comment: Mapped[str] = mapped_column(
        Text, default="", info=text_field("审核意见", 1000, multiline=True)
    )

    task: Mapped[Task] = relationship(back_populates="submissions")
