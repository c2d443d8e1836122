"""The campaign itself: units (责任单位 and the streets/parks below them), users and API
tokens, and the campaign with its settings and phases (DOMAIN.md §2, §5, §6)."""

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeAlias

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.core.clock import DEFAULT_TZ, now
from campaign.core.db import Base
from campaign.core.text import text_field
from campaign.core.vocab import Role, UnitKind


class Unit(Base):
    """An administrative unit: the city, a district, a city department, or a street/town/park."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short, stable code used in the CLI, the API and file names (e.g. "jiangan").
    code: Mapped[str] = mapped_column(String(40), unique=True, info=text_field("单位代码"))
    name: Mapped[str] = mapped_column(String(100), info=text_field("单位名称"))
    kind: Mapped[UnitKind] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # A responsible unit (责任单位) keeps a ledger, reports half-monthly and is ranked.
    is_responsible: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    # A unit is never deleted once used; a retired one keeps its rows and takes no new users.
    active: Mapped[bool] = mapped_column(default=True)
    # A verifying department's remit (vocab.Remit; "" for none): its users read the
    # organizations in it, city-wide, and it owes the departments' deliverables.
    remit: Mapped[str] = mapped_column(String(20), default="", server_default="")

    parent: Mapped["Unit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent", order_by="Unit.position")

    @property
    def parent_code(self) -> str | None:
        """The parent's code, as the change record names it."""
        return self.parent.code if self.parent is not None else None

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


def new_session_key() -> str:
    """A fresh random key; a session is valid while it carries its user's current key."""
    return secrets.token_urlsafe(24)


class User(Base):
    """A person who logs in; what they may see follows from role and unit."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, info=text_field("用户名"))
    display_name: Mapped[str] = mapped_column(String(80), default="", info=text_field("姓名"))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    email: Mapped[str] = mapped_column(String(200), default="", info=text_field("电子邮件"))
    phone: Mapped[str] = mapped_column(String(20), default="", info=text_field("手机号码"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    # Set when an admin gives a one-time password: no page opens until the user chose his own.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[datetime | None]
    # Part of the id every session cookie carries (get_id); replaced on logout, when the user
    # is disabled, and by anything else that must end his sessions (accounts.end_sessions).
    session_key: Mapped[str] = mapped_column(String(40), default=new_session_key)

    unit: Mapped[Unit | None] = relationship()

    # The attributes Flask-Login reads, written out so models never import Flask.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # Flask-Login's "alternative id": a copied cookie dies with the key it carries.
        return f"{self.id}:{self.session_key}"

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    def __repr__(self) -> str:
        return f"<User {self.username}>"


# Who did something, as services take it and the change record names it: a user, the name of
# a system actor ("cli", "scheduler", "demo"), or no one.
Actor: TypeAlias = User | str | None


class CityProfile(Base):
    """The city this installation serves, as `flask init` set it up: the name and the issuing
    body (发文机关) a new campaign takes unless its template is given others. One row."""

    __tablename__ = "city_profile"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # always 1
    city_name: Mapped[str] = mapped_column(String(40), info=text_field("城市"))
    issuing_body: Mapped[str] = mapped_column(String(100), info=text_field("发文机关"))
    created_at: Mapped[datetime] = mapped_column(default=now)

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


class ApiToken(Base):
    """A bearer token for /api/v1; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


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
    # Which organizations each rule covers and what they must reach (campaign/rulesets.py);
    # bounds may name the thresholds above. NULL: the ``seed-004`` preset.
    rule_set: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Dates a rule's due date may name (seed 000's two "X月X日前"); NULL: the build deadline.
    standalone_due_on: Mapped[date | None]
    required_due_on: Mapped[date | None]

    # Targets in percent (DOMAIN.md §6).
    target_party_org_coverage: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("80"))
    target_required_coverage: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("100"))
    # Seed 000: "党的工作覆盖率达到100%". Per kind and per unit: campaign.targets.
    target_work_coverage: Mapped[Decimal] = mapped_column(
        Numeric(5, 2), default=Decimal("100"), server_default="100"
    )
    # How many units below target a bulletin names (点名), worst first.
    bulletin_named_units: Mapped[int] = mapped_column(default=3, server_default="3")
    # Review and 签发 (issue 18): off, a bulletin is published at its cut-off; on, it waits as
    # a draft for a leader to sign it, who is reminded once ``bulletin_sign_hours`` after the
    # cut-off have passed. Published bulletins are numbered "prefix〔year〕N号".
    bulletin_review: Mapped[bool] = mapped_column(default=False, server_default=false())
    bulletin_sign_hours: Mapped[int] = mapped_column(default=16, server_default="16")
    document_prefix: Mapped[str] = mapped_column(
        String(20), default="武组专", server_default="武组专", info=text_field("发文字号前缀")
    )
    # Thresholds of the data-quality signals (campaign/quality): what makes a 线索.
    signal_evidence_orgs: Mapped[int] = mapped_column(default=2, server_default="2")
    signal_burst_days: Mapped[int] = mapped_column(default=3, server_default="3")
    signal_burst_factor: Mapped[int] = mapped_column(default=3, server_default="3")
    signal_burst_min: Mapped[int] = mapped_column(default=5, server_default="5")
    signal_quick_minutes: Mapped[int] = mapped_column(default=10, server_default="10")
    signal_quick_count: Mapped[int] = mapped_column(default=10, server_default="10")
    signal_threshold_days: Mapped[int] = mapped_column(default=30, server_default="30")
    signal_person_orgs: Mapped[int] = mapped_column(default=10, server_default="10")
    signal_edits_per_org: Mapped[int] = mapped_column(default=3, server_default="3")
    signal_exclusion_factor: Mapped[int] = mapped_column(default=2, server_default="2")
    signal_exclusion_min: Mapped[int] = mapped_column(default=5, server_default="5")
    # The bulletin's own texts (campaigns.bulletin_title): 报头, the subject of its title
    # (关于…的通报), its 文号 prefix (e.g. 攻坚办: 攻坚办〔2027〕3号; none: 第3期), 主送; and
    # the time of day of its cut-off, HH:MM (empty: the installation's BULLETIN_TIME).
    masthead: Mapped[str] = mapped_column(
        String(100), default="", server_default="", info=text_field("通报报头")
    )
    bulletin_subject: Mapped[str] = mapped_column(
        String(200), default="", server_default="", info=text_field("通报标题事由")
    )
    addressees: Mapped[str] = mapped_column(
        String(500), default="", server_default="", info=text_field("主送单位")
    )
    bulletin_time: Mapped[str] = mapped_column(
        String(5), default="", server_default="", info=text_field("通报截止时间")
    )

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
