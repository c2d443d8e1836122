"""挂图作战 items, their plans and notes, 销号 closures, and spot checks (DOMAIN.md §7)."""

from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from campaign.core.clock import now
from campaign.core.db import Base, StoredFile, enum_text
from campaign.core.models import Unit, User
from campaign.core.text import text_field
from campaign.core.vocab import Labelled, OrgKind, Path, Target
from campaign.ledger.fields import LABELS
from campaign.ledger.models import Organization
from campaign.tally import Key, Tally


class ItemState(Labelled):
    """Where an item is on the wall chart: todo → in_progress → awaiting → closed, back to
    in_progress when a closure is returned, reopened when a verified one is revoked."""

    TODO = "todo", "待攻坚"
    IN_PROGRESS = "in_progress", "推进中"
    AWAITING = "awaiting", "待核验"
    CLOSED = "closed", "已销号"
    REOPENED = "reopened", "已撤销销号"


# The states in which a unit still works an item (and may claim its closure).
OPEN_STATES = (ItemState.TODO, ItemState.IN_PROGRESS, ItemState.REOPENED)
# What a list of items asks for to have every open state at once.
ANY_OPEN: Literal["open"] = "open"
# The board's columns, left to right: the work as it flows.
COLUMNS = (
    ItemState.TODO,
    ItemState.IN_PROGRESS,
    ItemState.AWAITING,
    ItemState.CLOSED,
)
# Shown apart from the flow: closures a spot check or the look-back revoked, to work again.
APART = (ItemState.REOPENED,)


class ClosureMethod(Labelled):
    """How the organization met its target (组建方式)."""

    STANDALONE = "standalone", "单独组建"
    JOINT = "joint", "联合组建"
    FUNCTIONAL = "functional", "功能型党组织"
    WORK_COVERAGE = "work_coverage", "工作覆盖（指导员、群团组织）"


class ClosureStatus(Labelled):
    """pending → verified | returned; verified → revoked (spot check, look-back)."""

    PENDING = "pending", "待核验"
    VERIFIED = "verified", "已核验"
    RETURNED = "returned", "已退回"
    REVOKED = "revoked", "已撤销"


class CheckKind(Labelled):
    SPOT_CHECK = "spot_check", "随机抽查"
    LOOKBACK = "lookback", "回头看"


class SizeMode(Labelled):
    """How a draw's size is given: a number of closures or a percentage of them."""

    COUNT = "count", "数量"
    PERCENT = "percent", "百分比"


class CheckResult(Labelled):
    PENDING = "pending", "待检查"
    PASS = "pass", "合格"
    FAIL = "fail", "不合格"


class BoardItem(Base):
    """One organization on the wall chart until the rules are met (一企一策/一社一策)."""

    __tablename__ = "board_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    # The organization's kind, kept on the item (it follows the organization, as unit_id
    # does) so the board filtered by kind is a range of ix_board_item_kind_column.
    kind: Mapped[OrgKind] = mapped_column(enum_text(OrgKind, 20))
    target: Mapped[Target] = mapped_column(enum_text(Target, 20))  # what the rules ask
    state: Mapped[ItemState] = mapped_column(enum_text(ItemState, 20), default=ItemState.TODO)
    # The plan.
    path: Mapped[Path] = mapped_column(enum_text(Path, 20))  # as suggested, then as chosen
    joint_form: Mapped[str] = mapped_column(String(20), default="")  # 区域联建 …
    measures: Mapped[str] = mapped_column(
        Text, default="", info=text_field(LABELS["measures"], 2000, multiline=True)
    )
    planned_on: Mapped[date | None]
    responsible_person: Mapped[str] = mapped_column(
        String(80), default="", info=text_field(LABELS["responsible_person"])
    )
    # Why it was last sent back or reopened.
    last_reason: Mapped[str] = mapped_column(
        Text, default="", info=text_field("退回理由", 1000, multiline=True)
    )
    # Closed by work coverage only: never counted as a Party org.
    work_coverage_only: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    version: Mapped[int] = mapped_column(default=1)

    organization: Mapped[Organization] = relationship()
    unit: Mapped[Unit] = relationship()
    notes: Mapped[list["ItemNote"]] = relationship(order_by="ItemNote.id.desc()")
    closures: Mapped[list["Closure"]] = relationship(
        back_populates="item", order_by="Closure.id.desc()", foreign_keys="Closure.item_id"
    )

    __table_args__ = (
        UniqueConstraint("campaign_id", "organization_id"),
        # A board column in its order (planned date, then id): each page reads just its rows,
        # and the per-unit and per-column counts read the index only.
        Index("ix_board_item_column", "campaign_id", "unit_id", "state", "planned_on", "id"),
        # The same for one kind of organization (the board's ?kind= filter).
        Index(
            "ix_board_item_kind_column",
            "campaign_id",
            "unit_id",
            "kind",
            "state",
            "planned_on",
            "id",
        ),
    )
    __mapper_args__ = {"version_id_col": version}

    @property
    def state_label(self) -> str:
        return ItemState(self.state).label

    @property
    def is_open(self) -> bool:
        """Still worked by its unit: no closure awaiting verification or verified."""
        return self.state in OPEN_STATES

    def days_overdue(self, on: date) -> int:
        """Days past its planned date on ``on`` while still open (0 when not overdue): the
        board's "overdue" (services.overdue), counted in days."""
        if self.planned_on is None or not self.is_open or self.planned_on >= on:
            return 0
        return (on - self.planned_on).days


# The planned date the board's tally keeps for an item without one: never before a day, so
# "planned_on < day" (overdue) reads the same on the tally as on the items.
NO_PLANNED_DATE = date.max


class BoardCounts(Base):
    """Board items per (campaign, unit, state, planned date): what the wall chart counts.

    A few thousand rows for 700,000 items, so items per unit and state, and the overdue ones
    (open, planned before a day), are sums over this table, not a scan of the items. Derived
    data, kept in step by campaign.tally (``BOARD_TALLY``).
    """

    __tablename__ = "board_counts"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    state: Mapped[ItemState] = mapped_column(enum_text(ItemState, 20), primary_key=True)
    planned_key: Mapped[date] = mapped_column(primary_key=True)  # NO_PLANNED_DATE for none
    items: Mapped[int] = mapped_column(default=0)


BOARD_TALLY = Tally(
    title="挂图计数",
    source_title="挂图事项",
    model=BoardCounts,
    source=BoardItem,
    keys=(
        Key("unit_id", "unit_id"),
        Key("state", "state"),
        Key("planned_key", "planned_on", null=NO_PLANNED_DATE),
    ),
    counts=lambda campaign: {"items": func.count()},
    key_only=True,
)


class ItemNote(Base):
    """A dated progress note on an item."""

    __tablename__ = "item_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("board_item.id"), index=True)
    noted_on: Mapped[date]
    text: Mapped[str] = mapped_column(Text, info=text_field("进展情况", 2000, multiline=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Closure(Base):
    """A 销号 claim with its evidence; counts only once verified, and can be revoked."""

    __tablename__ = "closure"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("board_item.id"), index=True)
    method: Mapped[ClosureMethod] = mapped_column(enum_text(ClosureMethod, 20))
    joint_form: Mapped[str] = mapped_column(String(20), default="")
    party_org_name: Mapped[str] = mapped_column(
        String(200), default="", info=text_field(LABELS["party_org_name"])
    )
    established_on: Mapped[date | None]
    formal_members: Mapped[int] = mapped_column(default=0)
    secretary: Mapped[str] = mapped_column(
        String(80), default="", info=text_field("书记（负责人）")
    )
    instructor: Mapped[str] = mapped_column(
        String(80), default="", info=text_field(LABELS["instructor"])
    )
    mass_organizations: Mapped[str] = mapped_column(
        String(100), default="", info=text_field(LABELS["mass_organizations"])
    )
    # Other organizations a joint Party org covers (their ids).
    covered_org_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    document_name: Mapped[str] = mapped_column(
        String(255), default="", info=text_field("批复文件名")
    )
    document_path: Mapped[str] = mapped_column(String(500), default="")
    document_sha256: Mapped[str] = mapped_column(String(64), default="")
    document: Mapped[StoredFile] = composite("document_name", "document_path", "document_sha256")
    status: Mapped[ClosureStatus] = mapped_column(
        enum_text(ClosureStatus, 20), default=ClosureStatus.PENDING
    )
    submitted_at: Mapped[datetime] = mapped_column(default=now)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decision_reason: Mapped[str] = mapped_column(
        Text, default="", info=text_field("核验意见", 1000, multiline=True)
    )
    # The ledger fields of every organization it changed, before verification and after, so a
    # revoked closure puts them back exactly: {"<org id>": {"before": {...}, "after": {...}}}.
    ledger_before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    item: Mapped[BoardItem] = relationship(back_populates="closures", foreign_keys=[item_id])

    __table_args__ = (
        # The queues (status) and a period's verified closures (status, decided_at range),
        # with the item for the join to its unit read from the index on PostgreSQL.
        Index(
            "ix_closure_status_decided",
            "status",
            "decided_at",
            postgresql_include=["item_id"],
        ),
    )

    @property
    def method_label(self) -> str:
        return ClosureMethod(self.method).label

    @property
    def status_label(self) -> str:
        return ClosureStatus(self.status).label


class SpotCheck(Base):
    """A random draw of verified closures (随机抽查) or a look-back batch (回头看), reproducible."""

    __tablename__ = "spot_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    kind: Mapped[CheckKind] = mapped_column(enum_text(CheckKind, 20), default=CheckKind.SPOT_CHECK)
    seed: Mapped[int]
    unit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # [] = every unit
    size_mode: Mapped[SizeMode] = mapped_column(enum_text(SizeMode, 10), default=SizeMode.COUNT)
    size_value: Mapped[int] = mapped_column(default=0)
    population_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # closures drawn from
    drawn_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # closures drawn
    # The verifying departments named as members of the team (统战, 工商 …), by unit id.
    # (No Python default: Core inserts written before this column still work.)
    team_unit_ids: Mapped[list[int]] = mapped_column(JSON, server_default=text("'[]'"))
    note: Mapped[str] = mapped_column(
        Text, default="", info=text_field("抽查说明", 1000, multiline=True)
    )
    created_at: Mapped[datetime] = mapped_column(default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    results: Mapped[list["SpotCheckResult"]] = relationship(order_by="SpotCheckResult.id")

    @property
    def size_unit(self) -> str:
        return "%" if self.size_mode == SizeMode.PERCENT else ""

    @property
    def failed(self) -> int:
        """How many drawn closures failed the check."""
        return sum(r.result == CheckResult.FAIL for r in self.results)


class SpotCheckResult(Base):
    """A checker's finding on one drawn closure: a checklist, notes, pass or fail."""

    __tablename__ = "spot_check_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(ForeignKey("spot_check.id"), index=True)
    closure_id: Mapped[int] = mapped_column(ForeignKey("closure.id"))
    result: Mapped[CheckResult] = mapped_column(
        enum_text(CheckResult, 10), default=CheckResult.PENDING
    )
    checklist: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(
        # 1000, as the closure's reason it becomes when the finding fails the closure.
        Text,
        default="",
        info=text_field("问题说明", 1000, multiline=True),
    )
    checked_at: Mapped[datetime | None]
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    closure: Mapped[Closure] = relationship()

    __table_args__ = (UniqueConstraint("spot_check_id", "closure_id"),)

    @property
    def is_pending(self) -> bool:
        return self.result == CheckResult.PENDING


# ---- 协调事项: a problem a unit cannot solve alone and raises with the city ----------------


class IssueKind(Labelled):
    """What the unit needs the city for."""

    REFUSES = "refuses", "组织拒绝组建"
    AFFILIATION = "affiliation", "隶属关系争议"
    OTHER = "other", "其他问题"


class IssueStatus(Labelled):
    """open → assigned (交办 to a coordinator) → answered; answered ones are done."""

    OPEN = "open", "待处理"
    ASSIGNED = "assigned", "已交办"
    ANSWERED = "answered", "已答复"


# Issues still waiting for the city's answer.
OPEN_ISSUES = (IssueStatus.OPEN, IssueStatus.ASSIGNED)


class CoordinationIssue(Base):
    """A 协调事项: raised by a unit on one of its items or on the unit itself, answered (or
    assigned to a coordinator who answers) by the city's working group."""

    __tablename__ = "coordination_issue"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("board_item.id"), index=True)
    kind: Mapped[IssueKind] = mapped_column(enum_text(IssueKind, 20))
    subject: Mapped[str] = mapped_column(String(100), info=text_field("事项"))
    detail: Mapped[str] = mapped_column(
        Text, default="", info=text_field("情况说明", 2000, multiline=True)
    )
    status: Mapped[IssueStatus] = mapped_column(
        enum_text(IssueStatus, 20), default=IssueStatus.OPEN
    )
    raised_at: Mapped[datetime] = mapped_column(default=now)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    assigned_at: Mapped[datetime | None]
    answer: Mapped[str] = mapped_column(
        Text, default="", info=text_field("答复意见", 2000, multiline=True)
    )
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(default=1)

    unit: Mapped[Unit] = relationship()
    item: Mapped[BoardItem | None] = relationship()
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    __table_args__ = (Index("ix_coordination_issue_open", "campaign_id", "status"),)
    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return IssueKind(self.kind).label

    @property
    def status_label(self) -> str:
        return IssueStatus(self.status).label

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ISSUES
