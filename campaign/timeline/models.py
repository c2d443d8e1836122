"""What each phase asks of the responsible units: deliverables and per-unit tasks (DOMAIN.md §2)."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from campaign.core.db import Base, StoredFile
from campaign.core.models import Phase, Unit
from campaign.core.text import text_field


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
    file: Mapped[StoredFile] = composite("file_name", "file_path", "sha256")
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
