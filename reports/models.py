"""A bulletin (通报) per campaign and half-month period, and every attempt to produce one."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.core.clock import now
from campaign.core.db import Base
from campaign.core.models import Campaign, User

TRIGGERS = {"schedule": "定时", "manual": "手动", "cli": "命令行", "api": "接口"}


STATUSES = {"draft": "待签发", "published": "已发布"}


class Bulletin(Base):
    """A bulletin: its frozen data snapshot, its PDF and xlsx, with their SHA-256.

    At most one per campaign and period, enforced by the database whatever produces it
    (the scheduler in any number of processes, the CLI, a coordinator's button). With the
    campaign's review on it is a draft until a leader signs it (签发): only then is it given
    its 发文字号 (``document_seq``, unique per campaign) and told to its 主送 units.
    """

    __tablename__ = "bulletin"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    number: Mapped[int]  # 第N期: the period's place in the campaign
    due_on: Mapped[date]  # the half-monthly report day it follows
    cutoff_at: Mapped[datetime]  # 数据截至
    title: Mapped[str] = mapped_column(String(300))
    snapshot: Mapped[str] = mapped_column(Text)  # JSON: every figure and list it shows
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    pdf_path: Mapped[str] = mapped_column(String(500))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_pages: Mapped[int]
    # The HTML the PDF was drawn from, as archived beside it (none before 2026-12): a later
    # version of the template may lay the snapshot out differently, so `bulletin verify`
    # reproduces the PDF from this text and says when today's template would differ.
    html_path: Mapped[str | None] = mapped_column(String(500))
    html_sha256: Mapped[str | None] = mapped_column(String(64))
    xlsx_path: Mapped[str] = mapped_column(String(500))
    xlsx_sha256: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(20))  # schedule | manual | cli | api
    created_at: Mapped[datetime] = mapped_column(default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(20), default="published", server_default="published")
    document_seq: Mapped[int | None]  # the N of "武组专〔2026〕N号"
    document_number: Mapped[str] = mapped_column(String(60), default="", server_default="")
    signed_at: Mapped[datetime | None]  # when it was signed, or published unreviewed
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    campaign: Mapped[Campaign] = relationship()
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])

    __table_args__ = (
        UniqueConstraint("campaign_id", "due_on", name="bulletin_once_per_period"),
        UniqueConstraint("campaign_id", "number", name="bulletin_number"),
        UniqueConstraint("campaign_id", "document_seq", name="bulletin_document_seq"),
    )

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def trigger_label(self) -> str:
        return TRIGGERS.get(self.trigger, self.trigger)


RUN_STATUSES = {
    "running": "生成中",
    "published": "已发布",
    "exists": "已存在，未重复生成",
    "failed": "失败",
    "abandoned": "中断",
}


class BulletinRun(Base):
    """One attempt to produce a period's bulletin: progress while it runs, then its outcome.

    Failures stay here (with the error) for coordinators to see; the scheduler retries them.
    """

    __tablename__ = "bulletin_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    due_on: Mapped[date]
    trigger: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="running")
    step: Mapped[str] = mapped_column(String(40), default="")
    progress: Mapped[int] = mapped_column(default=0)  # percent
    error: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(100), default="")  # host:pid
    started_at: Mapped[datetime] = mapped_column(default=now)
    heartbeat_at: Mapped[datetime] = mapped_column(default=now)
    finished_at: Mapped[datetime | None]
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletin.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    @property
    def status_label(self) -> str:
        return RUN_STATUSES.get(self.status, self.status)

    @property
    def trigger_label(self) -> str:
        return TRIGGERS.get(self.trigger, self.trigger)
