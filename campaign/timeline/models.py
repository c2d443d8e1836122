"""What each phase asks of the responsible units: deliverables and per-unit tasks (DOMAIN.md §2)."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from campaign.core.db import Base, StoredFile, enum_text
from campaign.core.models import Phase, Unit
from campaign.core.text import text_field
from campaign.core.vocab import Labelled


class Audience(Labelled):
    """Which responsible units owe a deliverable."""

    DISTRICTS = "districts", "各区"
    DEPARTMENTS = "departments", "市直部门"
    ALL = "all", "全部责任单位"


class Fulfilment(Labelled):
    """How a deliverable is delivered: an upload, or another workflow's outcome."""

    UPLOAD = "", "上传材料"
    LEDGER = "ledger", "以台账审核为准"


class TaskStatus(Labelled):
    """open → submitted → accepted, or returned → submitted again."""

    OPEN = "open", "待报送"
    SUBMITTED = "submitted", "待审核"
    ACCEPTED = "accepted", "已通过"
    RETURNED = "returned", "已退回"


# A task a unit may deliver: never delivered, or returned to be delivered again.
AWAITING_DELIVERY = (TaskStatus.OPEN, TaskStatus.RETURNED)


class Review(Labelled):
    """A delivery's review: pending → accepted | returned."""

    PENDING = "pending", "待审核"
    ACCEPTED = "accepted", "已通过"
    RETURNED = "returned", "已退回"


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
    audience: Mapped[Audience] = mapped_column(enum_text(Audience, 20), default=Audience.ALL)
    due_on: Mapped[date]
    fulfilled_by: Mapped[Fulfilment] = mapped_column(
        enum_text(Fulfilment, 20), default=Fulfilment.UPLOAD
    )
    dropped: Mapped[bool] = mapped_column(default=False)
    # Order within its phase, as coordinators arrange them (ties by id).
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    phase: Mapped[Phase] = relationship()
    tasks: Mapped[list["Task"]] = relationship(back_populates="deliverable")

    @property
    def by_upload(self) -> bool:
        """Delivered by uploading it (not by another workflow such as the ledger review)."""
        return self.fulfilled_by == Fulfilment.UPLOAD


class Task(Base):
    """One unit's share of a deliverable, with its own due date."""

    __tablename__ = "task"

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("deliverable.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    due_on: Mapped[date]
    # Set for this unit alone: later changes to the deliverable's date leave it be.
    due_overridden: Mapped[bool] = mapped_column(default=False)
    status: Mapped[TaskStatus] = mapped_column(enum_text(TaskStatus, 20), default=TaskStatus.OPEN)
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

    @property
    def awaits_delivery(self) -> bool:
        return self.status in AWAITING_DELIVERY

    @property
    def awaits_review(self) -> bool:
        return self.status == TaskStatus.SUBMITTED


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
    file: Mapped[StoredFile] = composite("file_name", "file_path", "sha256")
    submitted_at: Mapped[datetime]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    review: Mapped[Review] = mapped_column(enum_text(Review, 20), default=Review.PENDING)
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    review_comment: Mapped[str] = mapped_column(
        Text, default="", info=text_field("审核意见", 1000, multiline=True)
    )

    task: Mapped[Task] = relationship(back_populates="submissions")
