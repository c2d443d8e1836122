"""The campaign's controlled vocabularies (DOMAIN.md §4), with their Chinese labels.

Values are stable English codes stored in the database; ``label`` is what users
see in pages, Excel files and bulletins.
"""

from enum import StrEnum
from typing import TYPE_CHECKING, Self


class Labelled(StrEnum):
    """A string enum whose members carry a Chinese label."""

    label: str

    if TYPE_CHECKING:
        # What callers meet: once the class is built, Enum puts its own ``__new__`` in place
        # (``Role("admin")`` looks a member up by value and makes none), keeping the
        # two-argument one below only for building the members.
        def __new__(cls, value: str) -> Self: ...

    else:

        def __new__(cls, value: str, label: str) -> Self:
            member = str.__new__(cls, value)
            member._value_ = value
            member.label = label
            return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(value, label) pairs for forms and dropdowns."""
        return [(m.value, m.label) for m in cls]

    @classmethod
    def from_label(cls, label: str) -> Self:
        """The member whose Chinese label is ``label``; ValueError if none."""
        for member in cls:
            if member.label == label:
                return member
        raise ValueError(label)


class OrgKind(Labelled):
    ENTERPRISE = "enterprise", "非公企业"
    SOCIAL = "social", "社会组织"


class EnterpriseCategory(Labelled):
    ABOVE_SCALE = "above_scale", "规模以上"
    FOREIGN = "foreign", "外商投资"
    INTERNET = "internet", "互联网"
    CULTURAL = "cultural", "文化创意"
    RURAL = "rural", "农村新型经营主体"
    CHAMBER_MEMBER = "chamber_member", "工商联会员企业"
    HIGH_TECH = "high_tech", "高新技术企业"  # seed 003 例7: 上海高科技企业
    OTHER = "other", "其他"


class SocialCategory(Labelled):
    ASSOCIATION = "association", "社会团体"
    SCHOOL = "school", "民办学校"
    HOSPITAL = "hospital", "民办医院"
    LAW_FIRM = "law_firm", "律师事务所"
    ACCOUNTING_FIRM = "accounting_firm", "会计师事务所"
    TAX_FIRM = "tax_firm", "税务师事务所"
    FOUNDATION = "foundation", "基金会"
    TRADE_ASSOCIATION = "trade_association", "行业协会商会"
    OTHER = "other", "其他"


def category_vocab(kind: str) -> type[EnterpriseCategory] | type[SocialCategory]:
    """The categories (tags) an organization of ``kind`` takes."""
    return EnterpriseCategory if kind == OrgKind.ENTERPRISE else SocialCategory


def canonical_tags(kind: str, tags: "list[str] | tuple[str, ...]") -> list[str]:
    """An organization's tags as stored: each once, in the vocabulary's order, "其他" only
    when nothing else is said. Several per organization (issue 16): a 规模以上 internet firm
    is both, and each rule and each verifying department reading one of them finds it."""
    vocab = category_vocab(kind)
    given = {str(t) for t in tags}
    ordered = [m.value for m in vocab if m.value in given]
    specific = [t for t in ordered if t != "other"]
    return specific or ordered


def primary_tag(tags: "list[str] | tuple[str, ...]") -> str:
    """The first of an organization's tags: the group its counts are kept under (the
    figures by category)."""
    return tags[0] if tags else "other"


class OperatingStatus(Labelled):
    """Whether an organization is in the 党建基数 or has left it (DOMAIN.md §5).

    Enterprises (附表1): 空壳/僵尸/影子, confirmed by 工商 (seed 004), leave the base. 停业 is
    an enterprise that has stopped business for a time (歇业) but is still registered: it
    stays in the base, with the targets its size and members give it, as 正常 does; an
    enterprise that will not come back is confirmed 僵尸 (久不运转) and leaves then.
    Social organizations (附表2): 注销 (deregistered), 撤销登记 (registration revoked by the
    registering 民政 office) and 长期停止活动 (inactive for a long time, the social
    organization's 僵尸) leave the base. Each kind takes only its own (``STATUSES_OF``).
    """

    NORMAL = "normal", "正常"
    SHELL = "shell", "空壳"
    ZOMBIE = "zombie", "僵尸"
    SHADOW = "shadow", "影子"
    SUSPENDED = "suspended", "停业"
    DEREGISTERED = "deregistered", "注销"
    REVOKED = "revoked", "撤销登记"
    INACTIVE = "inactive", "长期停止活动"


class PartyOrgStatus(Labelled):
    NONE = "none", "未建"
    STANDALONE = "standalone", "单独组建"
    JOINT = "joint", "联合组建"
    FUNCTIONAL = "functional", "功能型"


class Affiliation(Labelled):
    """Whom a Party org in a 两新组织 reports to (隶属关系, seed 004 phase 5: 理顺隶属关系).

    The plan's principle: 非公经济组织党组织 by territory (属地); city-level social
    organizations by their industry or supervising department (行业和主管部门), district-level
    and below by territory ("原则上": a principle, so what a unit records is what counts).
    """

    TERRITORIAL = "territorial", "属地"
    INDUSTRY = "industry", "行业"
    DEPARTMENT = "department", "主管部门"


class LiaisonRole(Labelled):
    """Who is sent to a new Party org to guide it (seed 004 phase 6: 对新组建的党组织 … 担任
    第一书记或党建工作指导员联系指导)."""

    FIRST_SECRETARY = "first_secretary", "第一书记"
    INSTRUCTOR = "instructor", "党建工作指导员"


class RegistrationLevel(Labelled):
    CITY = "city", "市级"
    DISTRICT = "district", "区级及以下"


class UnitKind(Labelled):
    CITY = "city", "市委组织部"
    DISTRICT = "district", "区"
    DEPARTMENT = "department", "市直部门"
    STREET = "street", "街道"
    TOWN = "town", "乡镇"
    PARK = "park", "开发区/园区"


class Role(Labelled):
    COORDINATOR = "coordinator", "市级专班"
    OPERATOR = "operator", "单位填报员"
    LEADER = "leader", "单位负责人"
    LEADERSHIP = "leadership", "领导"
    ADMIN = "admin", "系统管理员"
    VERIFIER = "verifier", "核查部门"


class Remit(Labelled):
    """What a verifying department checks (seed 004, 落实工作责任): a unit with a remit is one;
    its users (role 核查部门) read the organizations in it, city-wide and read-only."""

    AIC = "aic", "工商"
    COMMERCE = "commerce", "商务"
    ECONOMY = "economy", "经信"
    FEDERATION = "federation", "工商联"
    EDUCATION = "education", "教育"
    HEALTH = "health", "卫生计生"
    JUSTICE = "justice", "司法"
    FINANCE = "finance", "财政"
    TAX = "tax", "税务"
    UNITED_FRONT = "united_front", "统战"


class Target(Labelled):
    """What an organization must reach under the rules (DOMAIN.md §5)."""

    EXCLUDED = "excluded", "不纳入基数"
    STANDALONE = "standalone", "应单独组建"
    PARTY_ORG = "party_org", "应建党组织"
    MEMBER = "member", "应有党员"
    WORK_COVERAGE = "work_coverage", "实现工作覆盖"


class Path(Labelled):
    """The way forward the rules suggest for an organization without what it needs."""

    STANDALONE = "standalone", "单独组建"
    JOINT = "joint", "联合组建"
    GROW_MEMBERS = "grow_members", "工作覆盖并发展党员"
    NONE = "none", "已达要求"


JOINT_FORMS = ("区域联建", "同业共建", "挂靠组建", "派驻帮建", "龙头带建")
PARTY_ORG_STATUSES_WITH_ORG = (
    PartyOrgStatus.STANDALONE,
    PartyOrgStatus.JOINT,
    PartyOrgStatus.FUNCTIONAL,
)
# The statuses with which an organization of each kind leaves the base, and all it may have.
EXITS: dict[str, tuple[OperatingStatus, ...]] = {
    OrgKind.ENTERPRISE: (OperatingStatus.SHELL, OperatingStatus.ZOMBIE, OperatingStatus.SHADOW),
    OrgKind.SOCIAL: (
        OperatingStatus.DEREGISTERED,
        OperatingStatus.REVOKED,
        OperatingStatus.INACTIVE,
    ),
}
STATUSES_OF: dict[str, tuple[OperatingStatus, ...]] = {
    OrgKind.ENTERPRISE: (
        OperatingStatus.NORMAL,
        *EXITS[OrgKind.ENTERPRISE],
        OperatingStatus.SUSPENDED,
    ),
    OrgKind.SOCIAL: (OperatingStatus.NORMAL, *EXITS[OrgKind.SOCIAL]),
}
EXCLUDED_STATUSES = (*EXITS[OrgKind.ENTERPRISE], *EXITS[OrgKind.SOCIAL])

# Which organizations each verifying department's remit covers: a kind, and a tag it must
# have (None: every one of the kind). Seed 004: 工商部门负责配合组织部门核实非公经济组织底数;
# 商务部门负责核实外商投资企业底数; 经信部门负责核实规模以上企业底数; 工商联负责督促指导会员
# 企业; 教育、卫生计生、司法、财政、税务 the private schools and hospitals, the law, accounting
# and tax firms they supervise. 统战 joins the spot checks and has no organizations of its own.
REMIT_SCOPE: dict[str, tuple[str, str | None]] = {
    Remit.AIC: (OrgKind.ENTERPRISE, None),
    Remit.COMMERCE: (OrgKind.ENTERPRISE, EnterpriseCategory.FOREIGN),
    Remit.ECONOMY: (OrgKind.ENTERPRISE, EnterpriseCategory.ABOVE_SCALE),
    Remit.FEDERATION: (OrgKind.ENTERPRISE, EnterpriseCategory.CHAMBER_MEMBER),
    Remit.EDUCATION: (OrgKind.SOCIAL, SocialCategory.SCHOOL),
    Remit.HEALTH: (OrgKind.SOCIAL, SocialCategory.HOSPITAL),
    Remit.JUSTICE: (OrgKind.SOCIAL, SocialCategory.LAW_FIRM),
    Remit.FINANCE: (OrgKind.SOCIAL, SocialCategory.ACCOUNTING_FIRM),
    Remit.TAX: (OrgKind.SOCIAL, SocialCategory.TAX_FIRM),
}
