"""Data-quality signals (数据质量线索): what the detection found, per unit, and how a
coordinator judged it. A signal is a lead, not a verdict: it names the rows and why."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.core.clock import now
from campaign.core.db import Base, enum_text
from campaign.core.models import Unit, User
from campaign.core.text import text_field
from campaign.core.vocab import Labelled


class SignalCode(Labelled):
    """Every kind of signal, with a stable code (the API, the attachment and tests use it)."""

    EVIDENCE_REUSED = "evidence_reused", "同一佐证材料用于不同组织的销号"
    FOUNDING_BURST = "founding_burst", "报送截止前集中成立党组织"
    QUICK_VERIFICATION = "quick_verification", "提交后数分钟内批量核验销号"
    MEMBERS_TO_THRESHOLD = "members_to_threshold", "销号前正式党员数恰好升至单独组建门槛"
    EMPLOYEES_BELOW_THRESHOLD = "employees_below_threshold", "基数确定后从业人员数降至门槛以下"
    SAME_PERSON = "same_person", "同一人在多个组织任书记或指导员"
    FREQUENT_EDITS = "frequent_edits", "基数确定后台账频繁修改"
    HIGH_EXCLUSION = "high_exclusion", "剔除率远高于全市"
    MEMBERS_EXCEED_EMPLOYEES = "members_exceed_employees", "党员数多于从业人员数"
    PARTY_ORG_WITHOUT_MEMBERS = "party_org_without_members", "建有党组织但无正式党员"
    FOUNDED_AFTER_COUNTED = "founded_after_counted", "成立日期晚于计入的核验日期"


class SignalStatus(Labelled):
    """open (待核实) → checked_ok (已核实无误) | needs_fix (需整改); a coordinator may change
    his mind, and a signal whose rows change is open again."""

    OPEN = "open", "待核实"
    CHECKED_OK = "checked_ok", "已核实无误"
    NEEDS_FIX = "needs_fix", "需整改"


# How many rows a signal keeps by name: the page and the attachment list them; ``total``
# says how many there were.
MAX_ROWS = 200


class QualitySignal(Base):
    """One lead: a kind (``code``) for one unit about one subject (``key``: a file's hash, a
    report day, a verifier, a name…), with the rows it names and why, in plain Chinese."""

    __tablename__ = "quality_signal"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    code: Mapped[SignalCode] = mapped_column(enum_text(SignalCode, 40))
    key: Mapped[str] = mapped_column(String(120), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    # [{"organization_id", "name", "credit_code", "closure_id"?, "detail"}], at most MAX_ROWS.
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total: Mapped[int] = mapped_column(default=0)
    # Still found by the last detection; one no longer found is kept (never deleted), inactive.
    active: Mapped[bool] = mapped_column(default=True)
    status: Mapped[SignalStatus] = mapped_column(
        enum_text(SignalStatus, 20), default=SignalStatus.OPEN
    )
    note: Mapped[str] = mapped_column(
        Text, default="", info=text_field("核实说明", 1000, multiline=True)
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None]
    detected_at: Mapped[datetime] = mapped_column(default=now)
    seen_at: Mapped[datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(default=1)

    unit: Mapped[Unit] = relationship()
    reviewed_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("campaign_id", "code", "unit_id", "key"),
        # Counts per unit and status (the overview, the bulletin) read the index only.
        Index("ix_quality_signal_unit", "campaign_id", "active", "status", "unit_id"),
    )
    __mapper_args__ = {"version_id_col": version}

    @property
    def code_label(self) -> str:
        return SignalCode(self.code).label

    @property
    def status_label(self) -> str:
        return SignalStatus(self.status).label


class QualityRun(Base):
    """When a campaign's signals were last computed, and the change record's end they saw:
    the scheduler recomputes only when something was recorded since."""

    __tablename__ = "quality_run"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(default=now)
    audit_seen: Mapped[int] = mapped_column(default=0)
    found: Mapped[int] = mapped_column(default=0)
