"""The ledger (台账): one row per organization, the columns of DOMAIN.md §4."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.accounts.models import Unit
from campaign.clock import now
from campaign.db import Base
from campaign.vocab import (
    EnterpriseCategory,
    OperatingStatus,
    OrgKind,
    PartyOrgStatus,
    Path,
    SocialCategory,
    Target,
)


class Organization(Base):
    """A non-public enterprise (附表1) or social organization (附表2) in a campaign's ledger."""

    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    # The responsible unit whose ledger holds the row, and the street/town/park below it.
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[OrgKind] = mapped_column(String(20))

    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    district_name: Mapped[str] = mapped_column(String(40), default="")  # 所在区
    # 企业类别 for enterprises, 类别 for social organizations (vocab enums).
    category: Mapped[str] = mapped_column(String(30))
    operating_status: Mapped[OperatingStatus] = mapped_column(
        String(20), default=OperatingStatus.NORMAL
    )
    registration_level: Mapped[str | None] = mapped_column(String(20))  # social only
    supervising_unit: Mapped[str] = mapped_column(String(100), default="")  # 业务主管单位

    employees: Mapped[int] = mapped_column(default=0)
    formal_members: Mapped[int] = mapped_column(default=0)
    probationary_members: Mapped[int] = mapped_column(default=0)
    investor: Mapped[str] = mapped_column(String(80), default="")
    investor_is_member: Mapped[bool] = mapped_column(default=False)

    party_org_status: Mapped[PartyOrgStatus] = mapped_column(
        String(20), default=PartyOrgStatus.NONE
    )
    party_org_name: Mapped[str] = mapped_column(String(200), default="")
    party_org_founded_on: Mapped[date | None]
    no_party_org_reason: Mapped[str] = mapped_column(Text, default="")
    instructor: Mapped[str] = mapped_column(String(80), default="")  # 党建工作指导员
    mass_organizations: Mapped[str] = mapped_column(String(100), default="")  # 群团组织
    measures: Mapped[str] = mapped_column(Text, default="")  # 推进措施
    planned_on: Mapped[date | None]  # 计划完成时间
    responsible_person: Mapped[str] = mapped_column(String(80), default="")

    # What the rules say (rules.evaluate), stored so figures are plain SQL aggregates.
    # Written by ledger.services on every change and on every change of campaign settings.
    in_base: Mapped[bool] = mapped_column(default=True)
    target: Mapped[Target] = mapped_column(String(20), default=Target.WORK_COVERAGE)
    path: Mapped[Path] = mapped_column(String(20), default=Path.NONE)
    rule_codes: Mapped[str] = mapped_column(String(200), default="")

    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    area: Mapped[Unit | None] = relationship(foreign_keys=[area_id])

    __table_args__ = (
        UniqueConstraint("campaign_id", "credit_code"),
        Index("ix_organization_campaign_unit", "campaign_id", "unit_id", "in_base"),
        CheckConstraint(
            "employees >= 0 AND formal_members >= 0 AND probationary_members >= 0",
            name="counts_not_negative",
        ),
    )

    @property
    def members(self) -> int:
        """Party members counted for "有党员": formal plus probationary."""
        return self.formal_members + self.probationary_members

    @property
    def category_label(self) -> str:
        vocab = EnterpriseCategory if self.kind == OrgKind.ENTERPRISE else SocialCategory
        return vocab(self.category).label

    def __repr__(self) -> str:
        return f"<Organization {self.credit_code} {self.name}>"
