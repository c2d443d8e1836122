"""The ledger (台账): one row per organization, the columns of DOMAIN.md §4."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from campaign.core.clock import now
from campaign.core.db import Base, enum_text
from campaign.core.models import Unit, User
from campaign.core.text import text_field
from campaign.core.vocab import (
    Affiliation,
    Labelled,
    LiaisonRole,
    OperatingStatus,
    OrgKind,
    PartyOrgStatus,
    Path,
    Target,
    canonical_tags,
    category_vocab,
    primary_tag,
)
from campaign.ledger.fields import LABELS


class Organization(Base):
    """A non-public enterprise (附表1) or social organization (附表2) in a campaign's ledger."""

    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    # The responsible unit whose ledger holds the row, and the street/town/park below it.
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[OrgKind] = mapped_column(String(20))

    name: Mapped[str] = mapped_column(String(200), info=text_field(LABELS["name"]))
    credit_code: Mapped[str] = mapped_column(String(18), info=text_field(LABELS["credit_code"]))
    district_name: Mapped[str] = mapped_column(
        String(40), default="", info=text_field(LABELS["district_name"])
    )
    # 企业类别 for enterprises, 类别 for social organizations (vocab enums): several per
    # organization (``tags``, in the vocabulary's order); ``category`` is the first, the group
    # its counts are kept under (LedgerCounts), written whenever the tags are.
    tags: Mapped[list[str]] = mapped_column(JSON, server_default=text("'[]'"))
    category: Mapped[str] = mapped_column(String(30))
    operating_status: Mapped[OperatingStatus] = mapped_column(
        String(20), default=OperatingStatus.NORMAL
    )
    registration_level: Mapped[str | None] = mapped_column(String(20))  # social only
    supervising_unit: Mapped[str] = mapped_column(
        String(100), default="", info=text_field(LABELS["supervising_unit"])
    )

    employees: Mapped[int] = mapped_column(default=0)
    formal_members: Mapped[int] = mapped_column(default=0)
    probationary_members: Mapped[int] = mapped_column(default=0)
    # 组织关系在外党员数: of the formal members, those whose Party relationship is kept elsewhere
    # (一方隶属: in the 机关事业单位 they come from). They are part of formal_members, which
    # counts the formal members working here, as the rules read it ("3名以上正式党员"); their
    # 党内统计 is their home organization's, so no figure adds them up as this
    # organization's own members (不重复统计). What makes a 功能型 Party org fit (rules).
    members_elsewhere: Mapped[int] = mapped_column(default=0, server_default="0")
    investor: Mapped[str] = mapped_column(
        String(80), default="", info=text_field(LABELS["investor"])
    )
    investor_is_member: Mapped[bool] = mapped_column(default=False)

    party_org_status: Mapped[PartyOrgStatus] = mapped_column(
        String(20), default=PartyOrgStatus.NONE
    )
    party_org_name: Mapped[str] = mapped_column(
        String(200), default="", info=text_field(LABELS["party_org_name"])
    )
    party_org_founded_on: Mapped[date | None]
    no_party_org_reason: Mapped[str] = mapped_column(
        Text, default="", info=text_field(LABELS["no_party_org_reason"], 1000)
    )
    instructor: Mapped[str] = mapped_column(
        String(80), default="", info=text_field(LABELS["instructor"])
    )
    mass_organizations: Mapped[str] = mapped_column(
        String(100), default="", info=text_field(LABELS["mass_organizations"])
    )
    measures: Mapped[str] = mapped_column(
        Text, default="", info=text_field(LABELS["measures"], 2000)
    )
    planned_on: Mapped[date | None]  # 计划完成时间
    responsible_person: Mapped[str] = mapped_column(
        String(80), default="", info=text_field(LABELS["responsible_person"])
    )

    # Seed 004 phase 5 (理顺隶属关系): whom the Party org reports to, and whether the unit has
    # put that right (with the day). Only for an organization with a Party org (the 附表 checks).
    affiliation: Mapped[Affiliation | None] = mapped_column(enum_text(Affiliation, 20))
    affiliation_settled: Mapped[bool] = mapped_column(default=False, server_default=false())
    affiliation_settled_on: Mapped[date | None]
    # Seed 004 phase 6: the 第一书记 or 党建工作指导员 sent to a new Party org, from which unit,
    # since when (the 指导员 of an organization still without one is ``instructor``).
    liaison_role: Mapped[LiaisonRole | None] = mapped_column(enum_text(LiaisonRole, 20))
    liaison_name: Mapped[str] = mapped_column(
        String(80), default="", server_default="", info=text_field(LABELS["liaison_name"])
    )
    liaison_unit: Mapped[str] = mapped_column(
        String(100), default="", server_default="", info=text_field(LABELS["liaison_unit"])
    )
    liaison_assigned_on: Mapped[date | None]

    # Who put the organization out of (or back into) the base, and why (DOMAIN.md §5).
    exclusion_note: Mapped[str] = mapped_column(
        Text, default="", info=text_field(LABELS["exclusion_note"], 1000)
    )
    exclusion_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    exclusion_decided_at: Mapped[datetime | None]

    # What the rules say (rules.evaluate), stored so figures are plain SQL aggregates.
    # Written by ledger.services on every change and on every change of campaign settings.
    in_base: Mapped[bool] = mapped_column(default=True)
    target: Mapped[Target] = mapped_column(String(20), default=Target.WORK_COVERAGE)
    path: Mapped[Path] = mapped_column(String(20), default=Path.NONE)
    rule_codes: Mapped[str] = mapped_column(String(200), default="")
    # The work coverage its rules ask for (rules.MEANS: any | instructor | mass, or both).
    coverage_means: Mapped[str] = mapped_column(String(12), default="any", server_default="any")

    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    area: Mapped[Unit | None] = relationship(foreign_keys=[area_id])
    exclusion_decided_by: Mapped[User | None] = relationship(foreign_keys=[exclusion_decided_by_id])

    __table_args__ = (
        UniqueConstraint("campaign_id", "credit_code"),
        Index("ix_organization_campaign_unit", "campaign_id", "unit_id", "in_base"),
        # One tally group (LedgerCounts) is recounted through this index after a change.
        Index(
            "ix_organization_tally_group", "campaign_id", "unit_id", "area_id", "kind", "category"
        ),
        # Figures as of a past day add what the Party orgs founded after it change; new Party
        # orgs of a period per unit (figures.founded_between) are read from the index alone.
        Index(
            "ix_organization_founded",
            "campaign_id",
            "party_org_founded_on",
            "unit_id",
            postgresql_include=["in_base", "party_org_status"],
        ),
        CheckConstraint(
            "employees >= 0 AND formal_members >= 0 AND probationary_members >= 0",
            name="counts_not_negative",
        ),
        CheckConstraint("members_elsewhere >= 0", name="members_elsewhere_not_negative"),
    )

    @validates("tags")
    def _tags_with_primary(self, key: str, tags: list[str]) -> list[str]:
        tags = canonical_tags(self.kind, tags) if self.kind else list(tags)
        self.category = primary_tag(tags)
        return tags

    @property
    def category_label(self) -> str:
        """The organization's tags as users read them: 规模以上、互联网."""
        vocab = category_vocab(self.kind)
        return "、".join(vocab(t).label for t in (self.tags or [self.category]))

    def __repr__(self) -> str:
        return f"<Organization {self.credit_code} {self.name}>"


class LedgerCounts(Base):
    """The counts behind the figures (figures.Counts), kept per group of organizations.

    One row per (campaign, unit, street/park, kind, category): a few thousand rows for a
    million organizations, so current figures are a SUM over this table, not a scan of the
    ledger. Derived data: figures.recount rebuilds any part of it from the ledger by SQL,
    and every commit that changed organizations recounts the groups it touched.
    """

    __tablename__ = "ledger_counts"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    area_key: Mapped[int] = mapped_column(primary_key=True)  # area_id, 0 for none
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    category: Mapped[str] = mapped_column(String(30), primary_key=True)

    base: Mapped[int] = mapped_column(default=0)
    excluded: Mapped[int] = mapped_column(default=0)
    with_party_org: Mapped[int] = mapped_column(default=0)
    standalone: Mapped[int] = mapped_column(default=0)
    work_covered: Mapped[int] = mapped_column(default=0)
    required: Mapped[int] = mapped_column(default=0)
    required_met: Mapped[int] = mapped_column(default=0)
    member_required: Mapped[int] = mapped_column(default=0)
    member_required_met: Mapped[int] = mapped_column(default=0)
    party_org_required_by_size: Mapped[int] = mapped_column(default=0)
    party_org_required_by_size_met: Mapped[int] = mapped_column(default=0)
    due_standalone: Mapped[int] = mapped_column(default=0)
    met_standalone: Mapped[int] = mapped_column(default=0)
    due_party_org: Mapped[int] = mapped_column(default=0)
    met_party_org: Mapped[int] = mapped_column(default=0)
    due_member: Mapped[int] = mapped_column(default=0)
    met_member: Mapped[int] = mapped_column(default=0)
    due_work_coverage: Mapped[int] = mapped_column(default=0)
    met_work_coverage: Mapped[int] = mapped_column(default=0)
    # Seed 004 phases 5 and 6 (figures.PhaseCounts; its Party orgs are ``with_party_org``).
    settled: Mapped[int] = mapped_column(default=0)
    new_party_orgs: Mapped[int] = mapped_column(default=0)
    new_with_liaison: Mapped[int] = mapped_column(default=0)


class LedgerStatus(Labelled):
    """draft → submitted → approved (the unit's base), or returned → submitted again."""

    DRAFT = "draft", "填报中"
    SUBMITTED = "submitted", "待审核"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "已审核（党建基数）"


# Ledgers that imports replace; the others change by request.
EDITABLE = (LedgerStatus.DRAFT, LedgerStatus.RETURNED)


class UnitLedger(Base):
    """A responsible unit's ledger in a campaign: its review state (draft → approved base)."""

    __tablename__ = "unit_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    status: Mapped[LedgerStatus] = mapped_column(
        enum_text(LedgerStatus, 20), default=LedgerStatus.DRAFT
    )
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    review_comment: Mapped[str] = mapped_column(
        Text, default="", info=text_field("审核意见", 1000, multiline=True)
    )
    # Bumped on every change so two reviewers acting at once cannot both succeed.
    version: Mapped[int] = mapped_column(default=1)

    unit: Mapped[Unit] = relationship()

    __table_args__ = (UniqueConstraint("campaign_id", "unit_id"),)
    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return LedgerStatus(self.status).label

    @property
    def is_editable(self) -> bool:
        """Draft and returned ledgers are replaced by imports; others change by request."""
        return self.status in EDITABLE

    @property
    def awaits_review(self) -> bool:
        return self.status == LedgerStatus.SUBMITTED


class ImportBatch(Base):
    """One uploaded ledger file: its check, its preview of differences, and whether it was applied."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=now)
    # processing → refused | previewed → applied | discarded
    status: Mapped[str] = mapped_column(String(20), default="processing")
    progress: Mapped[int] = mapped_column(default=0)  # rows read
    total: Mapped[int] = mapped_column(default=0)
    # While processing: the upload, then every progress report (its lease, campaign.core.jobs).
    heartbeat_at: Mapped[datetime] = mapped_column(default=now)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)  # messages
    notices: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # counts per change kind
    # The rows and what changes (up to ~15 MB for 50,000 rows): loaded only when read, so a
    # list of batches does not parse every preview.
    diff: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, deferred=True)
    applied_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship()

    @property
    def summary_text(self) -> str:
        if self.status == "refused":
            return f"{len(self.problems)}处问题，未导入"
        s = self.summary
        if not s:
            return ""
        text = f"新增{s['add']}，修改{s['update']}，未变{s['same']}"
        return text + (f"，删除{s['remove']}" if s["editable"] else "（生成变更申请）")


class ChangeAction(Labelled):
    """What a change request proposes (and what an import's preview does to a row)."""

    ADD = "add", "新增"
    UPDATE = "update", "修改"
    REMOVE = "remove", "删除"
    SAME = "same", "未变"


class ChangeStatus(Labelled):
    """pending → accepted (applied to the base) | rejected."""

    PENDING = "pending", "待审核"
    ACCEPTED = "accepted", "已采纳"
    REJECTED = "rejected", "已驳回"


class ChangeRequest(Base):
    """A proposed change to an approved ledger, accepted or rejected by a coordinator."""

    __tablename__ = "change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    action: Mapped[ChangeAction] = mapped_column(enum_text(ChangeAction, 20))  # add | update
    credit_code: Mapped[str] = mapped_column(String(18))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the proposed field values
    reason: Mapped[str] = mapped_column(
        Text, default="", info=text_field("申请理由", 1000, multiline=True)
    )
    status: Mapped[ChangeStatus] = mapped_column(
        enum_text(ChangeStatus, 20), default=ChangeStatus.PENDING
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str] = mapped_column(
        Text, default="", info=text_field("审核意见", 1000, multiline=True)
    )
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    unit: Mapped[Unit] = relationship()
    organization: Mapped[Organization | None] = relationship()


class LedgerConflict(Base):
    """A credit code claimed by two units' ledgers: both units are told."""

    __tablename__ = "ledger_conflict"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    credit_code: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    holder_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    claimant_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    resolved_at: Mapped[datetime | None]

    holder_unit: Mapped[Unit] = relationship(foreign_keys=[holder_unit_id])
    claimant_unit: Mapped[Unit] = relationship(foreign_keys=[claimant_unit_id])


class CheckNote(Base):
    """A verifying department's check note on an organization in its remit (核查意见)."""

    __tablename__ = "check_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text, info=text_field("核查意见", 2000, multiline=True))
    created_at: Mapped[datetime] = mapped_column(default=now)

    unit: Mapped[Unit | None] = relationship()


class ProposalState(Labelled):
    PENDING = "pending", "待工商部门确认"
    CONFIRMED = "confirmed", "工商部门已确认"
    REJECTED = "rejected", "工商部门未确认"


class ExclusionProposal(Base):
    """A district's proposal to take an enterprise out of the base as 空壳, 僵尸 or 影子: the
    enterprise stays in the base until the department whose remit is every enterprise (工商)
    confirms it; rejected, it stays (seed 004: 工商部门负责……剔除“空壳”“僵尸”“影子”企业)."""

    __tablename__ = "exclusion_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))  # the organization's unit
    status: Mapped[OperatingStatus] = mapped_column(enum_text(OperatingStatus, 20))
    reason: Mapped[str] = mapped_column(Text, info=text_field("剔除理由", 1000))
    state: Mapped[ProposalState] = mapped_column(
        enum_text(ProposalState, 10), default=ProposalState.PENDING
    )
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(
        Text, default="", info=text_field("工商部门意见", 1000)
    )

    organization: Mapped[Organization] = relationship()
    unit: Mapped[Unit] = relationship()
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def state_label(self) -> str:
        return ProposalState(self.state).label


class RuleCounts(Base):
    """The counts behind the figures of the campaign's rules (figures.rule_figures), kept per
    group of organizations (as LedgerCounts) and rule: organizations of the base the rule
    covers, and of them those meeting what it asks.

    One row per (campaign, unit, street/park, kind, category, rule) where the rule covers
    an organization of the group. Derived data, kept by campaign.tally (figures.RULE_TALLY)
    from each rule's own SQL conditions, so a rule added later is counted without a change
    here; recounted whole when the rule set or its thresholds change.
    """

    __tablename__ = "rule_counts"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    area_key: Mapped[int] = mapped_column(primary_key=True)  # area_id, 0 for none
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    category: Mapped[str] = mapped_column(String(30), primary_key=True)
    # figures._rule_key: the rule's place in the rule set and its code ("3:employees_member")
    rule: Mapped[str] = mapped_column(String(50), primary_key=True)

    covered: Mapped[int] = mapped_column(default=0)
    met: Mapped[int] = mapped_column(default=0)
