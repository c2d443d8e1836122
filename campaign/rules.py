"""What each organization must reach, and why (DOMAIN.md §5).

Pure functions: no Flask, no database. ``evaluate`` reads an organization's
ledger facts and the campaign's thresholds and returns its ``Requirement``;
ledger services store the result on the row so figures stay SQL aggregates.
"""

from dataclasses import dataclass
from typing import Protocol

from campaign.core.vocab import (
    EXCLUDED_STATUSES,
    PARTY_ORG_STATUSES_WITH_ORG,
    EnterpriseCategory,
    OperatingStatus,
    OrgKind,
    PartyOrgStatus,
    Path,
    RegistrationLevel,
    SocialCategory,
    Target,
)


@dataclass(frozen=True)
class Thresholds:
    """The campaign settings the rules read; defaults are those of seed 004."""

    member_required_employees: int = 50
    party_org_required_employees: int = 100
    standalone_formal_members: int = 3
    social_staff_threshold: int = 30
    large_enterprise_employees: int = 50
    rural_min_formal_members: int = 1

    @classmethod
    def of(cls, campaign: object) -> "Thresholds":
        """The thresholds set on a campaign row."""
        return cls(**{name: getattr(campaign, name) for name in cls.__dataclass_fields__})


class OrgFacts(Protocol):
    """What the rules read of an organization (a ledger row, or facts alike)."""

    @property
    def kind(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def operating_status(self) -> str: ...
    @property
    def registration_level(self) -> str | None: ...
    @property
    def employees(self) -> int: ...
    @property
    def formal_members(self) -> int: ...
    @property
    def probationary_members(self) -> int: ...
    @property
    def party_org_status(self) -> str: ...
    @property
    def instructor(self) -> str: ...
    @property
    def mass_organizations(self) -> str: ...


@dataclass(frozen=True)
class Reason:
    """One rule that fired: a stable code and the sentence users read."""

    code: str
    text: str


@dataclass(frozen=True)
class Requirement:
    """The outcome of the rules for one organization."""

    target: Target
    path: Path
    reasons: tuple[Reason, ...]

    @property
    def in_base(self) -> bool:
        return self.target is not Target.EXCLUDED

    @property
    def must_have_party_org(self) -> bool:
        return self.target in (Target.STANDALONE, Target.PARTY_ORG)

    @property
    def must_have_member(self) -> bool:
        return self.target in (Target.STANDALONE, Target.PARTY_ORG, Target.MEMBER)

    @property
    def rule_codes(self) -> str:
        return ",".join(r.code for r in self.reasons)


# The facts ``evaluate`` reads (tests/test_rules.py checks it): organizations alike in these
# get the same Requirement, so a bulk caller such as an import evaluates each combination once.
EVALUATED_FACTS = (
    "kind",
    "category",
    "operating_status",
    "registration_level",
    "employees",
    "formal_members",
    "probationary_members",
)

CITY_SOCIAL_GROUPS = (SocialCategory.ASSOCIATION, SocialCategory.TRADE_ASSOCIATION)
STAFFED_SOCIAL = (SocialCategory.SCHOOL, SocialCategory.HOSPITAL)
FIRMS = (SocialCategory.LAW_FIRM, SocialCategory.ACCOUNTING_FIRM, SocialCategory.TAX_FIRM)
LARGE_TYPED = (EnterpriseCategory.INTERNET, EnterpriseCategory.CULTURAL)


def members(org: OrgFacts) -> int:
    """Members counted for "有党员": formal plus probationary."""
    return org.formal_members + org.probationary_members


def has_party_org(org: OrgFacts) -> bool:
    """Whether the organization is covered by a Party org of any form."""
    return org.party_org_status in PARTY_ORG_STATUSES_WITH_ORG


def has_work_coverage(org: OrgFacts) -> bool:
    """Party org, or 党建工作指导员, or a mass organization (工会/共青团/妇联)."""
    return has_party_org(org) or bool(org.instructor.strip() or org.mass_organizations.strip())


def _party_org_reasons(org: OrgFacts, t: Thresholds) -> list[Reason]:
    reasons = []
    if org.formal_members >= t.standalone_formal_members:
        reasons.append(
            Reason("formal_members", f"有{t.standalone_formal_members}名以上正式党员，须单独组建")
        )
    if org.kind == OrgKind.ENTERPRISE:
        if org.employees >= t.party_org_required_employees:
            reasons.append(
                Reason("employees_party_org", f"职工{t.party_org_required_employees}人以上")
            )
        if org.category in LARGE_TYPED and org.employees >= t.large_enterprise_employees:
            label = EnterpriseCategory(org.category).label
            reasons.append(
                Reason(
                    "large_typed_enterprise",
                    f"规模较大的{label}企业（职工{t.large_enterprise_employees}人以上）",
                )
            )
        if (
            org.category == EnterpriseCategory.RURAL
            and org.formal_members >= t.rural_min_formal_members
        ):
            reasons.append(Reason("rural_entity", "符合组建条件的农村新型经营主体"))
    else:
        if org.registration_level == RegistrationLevel.CITY and org.category in CITY_SOCIAL_GROUPS:
            reasons.append(Reason("city_social_group", "市级社会团体"))
        if org.category in STAFFED_SOCIAL and org.employees >= t.social_staff_threshold:
            label = SocialCategory(org.category).label
            reasons.append(
                Reason("staffed_social_org", f"从业人员{t.social_staff_threshold}人以上的{label}")
            )
        if org.category in FIRMS:
            reasons.append(Reason("professional_firm", SocialCategory(org.category).label))
    return reasons


def suggested_path(org: OrgFacts, t: Thresholds) -> Path:
    """How to get there: own org with enough formal members, joint with 1-2, else grow members."""
    if org.formal_members >= t.standalone_formal_members:
        return Path.STANDALONE
    if members(org) > 0:
        return Path.JOINT
    return Path.GROW_MEMBERS


def evaluate(org: OrgFacts, t: Thresholds) -> Requirement:
    """What ``org`` must reach under thresholds ``t``, and which rules say so."""
    if org.kind == OrgKind.ENTERPRISE and org.operating_status in EXCLUDED_STATUSES:
        label = OperatingStatus(org.operating_status).label
        return Requirement(
            Target.EXCLUDED, Path.NONE, (Reason("excluded_status", f"{label}企业，不纳入党建基数"),)
        )
    reasons = _party_org_reasons(org, t)
    if org.formal_members >= t.standalone_formal_members:
        target = Target.STANDALONE
    elif reasons:
        target = Target.PARTY_ORG
    elif org.kind == OrgKind.ENTERPRISE and org.employees >= t.member_required_employees:
        reasons = [Reason("employees_member", f"职工{t.member_required_employees}人以上须有党员")]
        target = Target.MEMBER
    else:
        reasons = [Reason("work_coverage", "尚不具备组建条件，实现党的工作覆盖")]
        target = Target.WORK_COVERAGE
    return Requirement(target, suggested_path(org, t), tuple(reasons))


def meets(org: OrgFacts, requirement: Requirement) -> bool:
    """Whether ``org`` already is where the rules say it must be (else: a board item)."""
    match requirement.target:
        case Target.EXCLUDED:
            return True
        case Target.STANDALONE:
            return org.party_org_status == PartyOrgStatus.STANDALONE
        case Target.PARTY_ORG:
            return has_party_org(org)
        case Target.MEMBER:
            return members(org) > 0 and has_work_coverage(org)
        case _:
            return has_work_coverage(org)
