"""What each organization must reach, and why (DOMAIN.md §5), and whether it has.

No Flask, no database. ``evaluate`` reads an organization's ledger facts and the
campaign's thresholds and returns its ``Requirement``; ledger services store the result on
the row so figures stay SQL aggregates.

Whether an organization meets its target is one ``Condition`` per target (``MET``), written
once and read two ways: ``holds`` for one organization in Python (the board's items, a
closure's check, a page) and ``sql`` as an expression over the ledger's columns (the figures,
summed in the database). The figures, the board and the bulletin therefore cannot disagree
about which organizations are still short.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import ColumnElement, String, and_, cast, false, func, not_, or_, true

from campaign.core.vocab import (
    EXITS,
    PARTY_ORG_STATUSES_WITH_ORG,
    EnterpriseCategory,
    OperatingStatus,
    OrgKind,
    PartyOrgStatus,
    Path,
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


def due_words(day: date) -> str:
    """A due date as pages, messages and bulletins say it: "须于11月30日前"."""
    return f"须于{day.month}月{day.day}日前"


# The campaign's dates a rule's due date may name (seed 000 "三（二）实施阶段": "X月X日前…实现有3名
# 以上正式党员的…单独建立党组织。X月X日前…实现有党员的…党组织应建尽建"; a city fills the X in).
DUE_SETTINGS = {
    "standalone_due_on": "单独组建完成日期",
    "required_due_on": "应建尽建完成日期",
}


@dataclass(frozen=True)
class DueDates:
    """The campaign's due-date settings; one not set is the campaign's build deadline (the
    end of its 集中组建 phase)."""

    standalone_due_on: date | None = None
    required_due_on: date | None = None
    build_deadline: date | None = None

    def resolve(self, due: "str | date | None") -> "str | date | None":
        """The date ``due`` (a date, or the name of a setting) stands for; a name stays a
        name where there is no campaign to read it from."""
        if due is None or isinstance(due, date):
            return due
        return getattr(self, due) or self.build_deadline or due


class OrgFacts(Protocol):
    """What the rules read of an organization (a ledger row, or facts alike)."""

    @property
    def kind(self) -> str: ...
    @property
    def tags(self) -> "list[str] | tuple[str, ...]": ...
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
    @property
    def members_elsewhere(self) -> int: ...


@dataclass(frozen=True)
class Reason:
    """One rule that fired: a stable code and the sentence users read."""

    code: str
    text: str


@dataclass(frozen=True)
class Requirement:
    """The outcome of the rules for one organization; ``due_on``: the earliest date by which
    a rule asking its target wants it reached (None: by the campaign's end, as the plan)."""

    target: Target
    path: Path
    reasons: tuple[Reason, ...]
    due_on: date | None = None
    means: str = "any"  # the work coverage its rules ask for (``MEANS``, or BOTH)

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
    "tags",
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


# ---- conditions: one definition, read in Python and in SQL -------------------------------

# What str.strip() strips (every character for which str.isspace() holds), spelled out so SQL
# trims the same: a 指导员 typed as an ideographic space (U+3000) is no 指导员 in either.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


class Condition:
    """A condition on one organization's ledger facts, read two ways from one definition.

    ``holds(org)`` evaluates it for one organization (any object with the facts as
    attributes); ``sql(columns)`` gives the same condition as a SQLAlchemy expression, where
    ``columns`` has the facts as attributes holding SQL expressions (the Organization class,
    or stand-ins such as a Party org counted only from its founding day). Only the forms
    below exist, so nothing can be said in one reading that the other cannot say. Combine
    with ``&``, ``|`` and ``~``.
    """

    def holds(self, org: Any) -> bool:
        raise NotImplementedError

    def sql(self, columns: Any) -> ColumnElement[bool]:
        raise NotImplementedError

    def __and__(self, other: "Condition") -> "Condition":
        return All((self, other))

    def __or__(self, other: "Condition") -> "Condition":
        return AnyOf((self, other))

    def __invert__(self) -> "Condition":
        return Not(self)


@dataclass(frozen=True)
class Among(Condition):
    """The fact is one of ``values`` (stored codes)."""

    fact: str
    values: tuple[str, ...]

    def __init__(self, fact: str, values: Iterable[str]) -> None:
        object.__setattr__(self, "fact", fact)
        # Plain codes: an enum member compares equal in Python and binds as its text in SQL.
        object.__setattr__(self, "values", tuple(str(v) for v in values))

    def holds(self, org: Any) -> bool:
        return bool(getattr(org, self.fact) in self.values)

    def sql(self, columns: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = getattr(columns, self.fact).in_(self.values)
        return condition


@dataclass(frozen=True)
class AtLeast(Condition):
    """The sum of the counts ``facts`` is ``minimum`` or more."""

    facts: tuple[str, ...]
    minimum: int

    def holds(self, org: Any) -> bool:
        return bool(sum(getattr(org, f) for f in self.facts) >= self.minimum)

    def sql(self, columns: Any) -> ColumnElement[bool]:
        total = getattr(columns, self.facts[0])
        for fact in self.facts[1:]:
            total = total + getattr(columns, fact)
        condition: ColumnElement[bool] = total >= self.minimum
        return condition


@dataclass(frozen=True)
class MoreThanHalf(Condition):
    """The count ``part`` is more than half of the count ``whole`` (so ``whole`` is not 0)."""

    part: str
    whole: str

    def holds(self, org: Any) -> bool:
        return bool(2 * getattr(org, self.part) > getattr(org, self.whole))

    def sql(self, columns: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = 2 * getattr(columns, self.part) > getattr(
            columns, self.whole
        )
        return condition


@dataclass(frozen=True)
class Filled(Condition):
    """The text ``fact`` holds more than whitespace."""

    fact: str

    def holds(self, org: Any) -> bool:
        return bool(getattr(org, self.fact).strip(WHITESPACE) != "")

    def sql(self, columns: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = func.trim(getattr(columns, self.fact), WHITESPACE) != ""
        return condition


@dataclass(frozen=True)
class All(Condition):
    """Every one of ``parts`` (none: always)."""

    parts: tuple[Condition, ...]

    def holds(self, org: Any) -> bool:
        return bool(all(p.holds(org) for p in self.parts))

    def sql(self, columns: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = (
            and_(*(p.sql(columns) for p in self.parts)) if self.parts else true()
        )
        return condition


@dataclass(frozen=True)
class AnyOf(Condition):
    """At least one of ``parts`` (none: never)."""

    parts: tuple[Condition, ...]

    def holds(self, org: Any) -> bool:
        return bool(any(p.holds(org) for p in self.parts))

    def sql(self, columns: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = (
            or_(*(p.sql(columns) for p in self.parts)) if self.parts else false()
        )
        return condition


@dataclass(frozen=True)
class Not(Condition):
    """Not ``part``."""

    part: Condition

    def holds(self, org: Any) -> bool:
        return bool(not self.part.holds(org))

    def sql(self, columns: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = not_(self.part.sql(columns))
        return condition


# ---- what each target asks, as conditions ----------------------------------------------

_STATUS = "party_org_status"
HAS_PARTY_ORG = Among(_STATUS, PARTY_ORG_STATUSES_WITH_ORG)  # 单独 + 联合 + 功能型
HAS_STANDALONE_ORG = Among(_STATUS, (PartyOrgStatus.STANDALONE,))
# "有党员" counts formal and probationary members.
HAS_MEMBER = AtLeast(("formal_members", "probationary_members"), 1)
# Party org, or 党建工作指导员, or a mass organization (工会/共青团/妇联).
HAS_INSTRUCTOR = Filled("instructor")
HAS_MASS_ORGANIZATION = Filled("mass_organizations")
WORK_COVERED = HAS_PARTY_ORG | HAS_INSTRUCTOR | HAS_MASS_ORGANIZATION

# Work coverage by which means: a rule asking 实现工作覆盖 may ask for a 党建指导员 only (seed 003
# 例3: "30人以上企业有党建指导员"), a 群团组织 only, or either (the default). A Party org covers
# the Party's work whatever the means. An organization's row keeps the means its rules ask
# together (``coverage_means``): BOTH when one asks a 指导员 and another a 群团组织.
ANY_MEANS, BOTH = "any", "both"
MEANS = {ANY_MEANS: "党建指导员或群团组织", "instructor": "党建指导员", "mass": "群团组织"}
_BY_MEANS: dict[str, Condition] = {
    ANY_MEANS: HAS_INSTRUCTOR | HAS_MASS_ORGANIZATION,
    "instructor": HAS_INSTRUCTOR,
    "mass": HAS_MASS_ORGANIZATION,
    BOTH: HAS_INSTRUCTOR & HAS_MASS_ORGANIZATION,
}


def covered_by(means: str) -> Condition:
    """Work coverage by ``means`` (one of ``MEANS``, or BOTH): a Party org, or the means."""
    return HAS_PARTY_ORG | _BY_MEANS[means]


# The Party's work reaching the organization by the means its rules ask (its stored means).
COVERED_AS_ASKED = HAS_PARTY_ORG | AnyOf(
    tuple(Among("coverage_means", (m,)) & by for m, by in _BY_MEANS.items())
)


def combined_means(asked: Iterable[str]) -> str:
    """The means several rules ask together: either, one of them, or BOTH."""
    wanted = {m for m in asked if m != ANY_MEANS}
    if not wanted:
        return ANY_MEANS
    return wanted.pop() if len(wanted) == 1 else BOTH


# Seed 004, 抓好集中组建 4: "建立功能型党组织。以机关事业单位人员为主体组成的社会组织等，可以建立
# 功能型党组织，党员按照一方隶属、双重管理、多方活动的原则，进行有效管理，党员不重复交纳党费，
# 不重复进行党内统计。" So a 功能型 Party org is for a social organization (not an enterprise)
# made up mainly of people from 机关事业单位, whose members keep their Party relationship
# there (一方隶属). The ledger knows this through its members: more than half of its formal
# members keep their relationship elsewhere (组织关系在外党员数, ``members_elsewhere``).
FUNCTIONAL_FITS = Among("kind", (OrgKind.SOCIAL,)) & MoreThanHalf(
    "members_elsewhere", "formal_members"
)
HAS_FITTING_FUNCTIONAL_ORG = Among(_STATUS, (PartyOrgStatus.FUNCTIONAL,)) & FUNCTIONAL_FITS

# Whether an organization is where its target says (else it is an item on the board, and
# short in the figures of its target). Up the ladder each target asks more:
MET: dict[Target, Condition] = {
    Target.EXCLUDED: All(()),
    # 单独组建; or, where the seed allows one, a 功能型 Party org (a joint one is not enough).
    Target.STANDALONE: HAS_STANDALONE_ORG | HAS_FITTING_FUNCTIONAL_ORG,
    # A Party org: standalone or joint, or 功能型 where the seed allows one.
    Target.PARTY_ORG: Among(_STATUS, (PartyOrgStatus.STANDALONE, PartyOrgStatus.JOINT))
    | HAS_FITTING_FUNCTIONAL_ORG,
    # A member (正式 + 预备), and the Party's work reaching it as every organization without
    # the conditions for a Party org must ("尚不具备条件建立党组织的，实现党的工作覆盖").
    # By the means its rules ask (``coverage_means``; either, unless a rule says which).
    Target.MEMBER: HAS_MEMBER & COVERED_AS_ASKED,
    Target.WORK_COVERAGE: COVERED_AS_ASKED,
}


def members(org: OrgFacts) -> int:
    """Members counted for "有党员": formal plus probationary."""
    return org.formal_members + org.probationary_members


def has_party_org(org: OrgFacts) -> bool:
    """Whether the organization is covered by a Party org of any form."""
    return HAS_PARTY_ORG.holds(org)


def has_work_coverage(org: OrgFacts) -> bool:
    """Party org, or 党建工作指导员, or a mass organization (工会/共青团/妇联)."""
    return WORK_COVERED.holds(org)


FUNCTIONAL_NOT_FOR_ENTERPRISES = (
    "功能型党组织适用于以机关事业单位人员为主体组成的社会组织，非公企业不能建立功能型党组织"
)


def functional_refusal(org: OrgFacts) -> str | None:
    """Why ``org`` may not have a 功能型 Party org (None when the seed allows one)."""
    if org.kind != OrgKind.SOCIAL:
        return FUNCTIONAL_NOT_FOR_ENTERPRISES
    if not FUNCTIONAL_FITS.holds(org):
        return (
            "功能型党组织适用于以机关事业单位人员为主体组成的社会组织：组织关系在外的正式党员"
            f"（{org.members_elsewhere}名）须超过正式党员（{org.formal_members}名）的一半"
        )
    return None


def met_sql(columns: Any, targets: Iterable[Target]) -> ColumnElement[bool]:
    """SQL: the organization's stored target is one of ``targets`` and it meets it."""
    return or_(*(and_(columns.target == t.value, MET[t].sql(columns)) for t in targets))


# ---- a rule set: which organizations each rule covers, and what they must reach ------------

# A rule's bounds are inclusive ("50人以上" is 50 or more). A bound is a number, or the name of
# one of the campaign's settings (``Thresholds``), whose number it then is: the settings page
# changes every rule that names it.
Bound = int | str | None
# The targets a rule may ask, strongest first: the strongest that fires wins.
LADDER = (Target.STANDALONE, Target.PARTY_ORG, Target.MEMBER, Target.WORK_COVERAGE)
# Count facts a rule may bound, and the word its "why" text uses for each bound.
BOUNDED = {
    "employees": ("employees",),
    "formal_members": ("formal_members",),
    "members": ("formal_members", "probationary_members"),  # 有党员: 正式 + 预备
}


@dataclass(frozen=True)
class AtMost(Condition):
    """The sum of the counts ``facts`` is ``maximum`` or less."""

    facts: tuple[str, ...]
    maximum: int

    def holds(self, org: Any) -> bool:
        return bool(sum(getattr(org, f) for f in self.facts) <= self.maximum)

    def sql(self, columns: Any) -> ColumnElement[bool]:
        total = getattr(columns, self.facts[0])
        for fact in self.facts[1:]:
            total = total + getattr(columns, fact)
        condition: ColumnElement[bool] = total <= self.maximum
        return condition


@dataclass(frozen=True)
class HasTag(Condition):
    """The organization has the category ``tag`` (one of its tags)."""

    tag: str

    def holds(self, org: Any) -> bool:
        return bool(self.tag in org.tags)

    def sql(self, columns: Any) -> ColumnElement[bool]:
        # The tags are a JSON list of plain codes kept as written by both databases: the code
        # in quotes is found only as a whole element (ledger.checks.has_tag).
        condition: ColumnElement[bool] = cast(columns.tags, String).like(f'%"{self.tag}"%')
        return condition


@dataclass(frozen=True)
class Rule:
    """One rule of a campaign's rule set: the organizations it covers and what they must reach.

    Covered are the organizations of ``kind`` (None: both kinds) having at least one of
    ``tags`` (none given: any), at ``registration_level`` (None: any), whose counts lie within
    the inclusive bounds (``employees``, ``formal_members``, ``members`` = 正式 + 预备). ``why``
    is what users read; it may name the rule's own numbers as {employees}, {formal_members},
    {members} (the lower bounds) and the category that matched as {tag}. ``source`` cites the
    plan's passage. A rule switched off (``enabled`` false) is kept, documented, and not read.
    ``figure`` (optional) names the figure of its own the rule has (met / covered, as
    ``rulesets.rule_counts`` counts them), e.g. "{employees}人以上企业有党员率". ``due``
    (optional) is the date by which the rule wants its target reached: a date, or the name of
    one of the campaign's due-date settings (``DUE_SETTINGS``), whose date it then is; the
    board's items it opens are planned for that day at the latest. ``means`` (a rule asking
    实现工作覆盖 only): the work coverage it asks for (``MEANS``: a 党建指导员, a 群团组织, or
    either). ``share`` (a per cent, 1-100) makes the rule a target for a share of the
    organizations it covers rather than a duty of each (seed 003 例9: "100人以上的企业80%单独
    建立党组织"): it judges no organization and opens no item; its figure is compared with it.
    """

    code: str
    target: Target
    why: str
    kind: str | None = None
    tags: tuple[str, ...] = ()
    registration_level: str | None = None
    employees: tuple[Bound, Bound] = (None, None)
    formal_members: tuple[Bound, Bound] = (None, None)
    members: tuple[Bound, Bound] = (None, None)
    enabled: bool = True
    source: str = ""
    figure: str = ""
    due: str | date | None = None
    means: str = ANY_MEANS
    share: int | None = None

    @property
    def met_condition(self) -> Condition:
        """Whether an organization the rule covers meets what the rule asks (its figure's
        "met"): the target's condition, for 实现工作覆盖 by the rule's own means."""
        if self.target is Target.WORK_COVERAGE:
            return covered_by(self.means)
        return MET[self.target]

    def ask_text(self) -> str:
        """What the rule asks, as the rules page says it: "实现工作覆盖（须有党建指导员）", or
        for a share "比例目标：80%应单独组建（不列入攻坚事项）"."""
        asked = self.target.label
        if self.target is Target.WORK_COVERAGE and self.means != ANY_MEANS:
            asked = f"{asked}（须有{MEANS[self.means]}）"
        if self.share is not None:
            return f"比例目标：{self.share}%{asked}（不列入攻坚事项）"
        return asked

    def resolved(self, thresholds: Thresholds, dates: DueDates = DueDates()) -> "Rule":
        """The rule with every bound that names a setting replaced by the setting's number,
        and its due date by the setting's date."""

        def numbers(bounds: tuple[Bound, Bound]) -> tuple[Bound, Bound]:
            low, high = (getattr(thresholds, b) if isinstance(b, str) else b for b in bounds)
            return (low, high)

        return replace(
            self,
            employees=numbers(self.employees),
            formal_members=numbers(self.formal_members),
            members=numbers(self.members),
            due=dates.resolve(self.due),
        )

    @property
    def due_on(self) -> date | None:
        """The rule's due date once resolved (None: none, or a setting not read yet)."""
        return self.due if isinstance(self.due, date) else None

    def due_text(self) -> str:
        """ "须于11月30日前" (or the setting's name where it is not read yet); "" without."""
        if self.due is None:
            return ""
        if isinstance(self.due, date):
            return due_words(self.due)
        return f"须于{DUE_SETTINGS.get(self.due, self.due)}前"

    @cached_property
    def condition(self) -> Condition:
        """Whether an organization is covered, as a ``Condition`` (bounds resolved)."""
        parts: list[Condition] = []
        if self.kind is not None:
            parts.append(Among("kind", (self.kind,)))
        if self.registration_level is not None:
            parts.append(Among("registration_level", (self.registration_level,)))
        if self.tags:
            parts.append(AnyOf(tuple(HasTag(t) for t in self.tags)))
        for fact, facts in BOUNDED.items():
            low, high = getattr(self, fact)
            if low is not None:
                assert isinstance(low, int), "resolve the rule first"
                parts.append(AtLeast(facts, low))
            if high is not None:
                assert isinstance(high, int), "resolve the rule first"
                parts.append(AtMost(facts, high))
        return All(tuple(parts))

    def _text(self, text: str, tag: str) -> str:
        return text.format(
            employees=self.employees[0],
            formal_members=self.formal_members[0],
            members=self.members[0],
            tag=tag_label(tag) if tag else "",
        )

    def figure_name(self) -> str:
        """The rule's figure as users read it (its numbers and first category in the text)."""
        return self._text(self.figure, self.tags[0] if self.tags else "")

    def reason(self, org: Any = None) -> Reason:
        """The ``Reason`` users read when the rule fires for ``org`` (its numbers in the text)."""
        tag = next((t for t in self.tags if org is None or t in org.tags), "")
        return Reason(self.code, self._text(self.why, tag))


def tag_label(tag: str) -> str:
    """A category's Chinese name (either kind's vocabulary)."""
    for vocab in (EnterpriseCategory, SocialCategory):
        if tag in vocab._value2member_map_:
            return vocab(tag).label
    return tag


@dataclass(frozen=True)
class RuleSet:
    """A campaign's rules (bounds resolved against ``thresholds``, its settings), and the
    preset they came from. ``thresholds.standalone_formal_members`` also decides the
    suggested path (own Party org, joint, or grow members)."""

    rules: tuple[Rule, ...]
    thresholds: Thresholds = Thresholds()
    preset: str = ""
    dates: DueDates = DueDates()

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "rules", tuple(r.resolved(self.thresholds, self.dates) for r in self.rules)
        )

    @property
    def active(self) -> tuple[Rule, ...]:
        """The rules switched on."""
        return tuple(r for r in self.rules if r.enabled)

    @property
    def duties(self) -> tuple[Rule, ...]:
        """The rules switched on that ask each organization they cover (a share does not)."""
        return tuple(r for r in self.active if r.share is None)


WORK_COVERAGE_REASON = Reason("work_coverage", "尚不具备组建条件，实现党的工作覆盖")


def suggested_path(org: OrgFacts, t: Thresholds) -> Path:
    """How to get there: own org with enough formal members, joint with 1-2, else grow members."""
    if org.formal_members >= t.standalone_formal_members:
        return Path.STANDALONE
    if members(org) > 0:
        return Path.JOINT
    return Path.GROW_MEMBERS


def evaluate(org: OrgFacts, rule_set: "RuleSet | Thresholds") -> Requirement:
    """What ``org`` must reach under ``rule_set`` (thresholds alone: seed 004's rules with
    those numbers), and which rules say so. The strongest target of the rules that fire wins;
    a Party org's reasons are every rule asking for one (own or any), else those of the
    target; no rule: the Party's work coverage."""
    if isinstance(rule_set, Thresholds):
        from campaign.rulesets import seed_004

        rule_set = seed_004(rule_set)
    if org.operating_status in EXITS.get(org.kind, ()):
        label = OperatingStatus(org.operating_status).label
        why = f"{label}企业" if org.kind == OrgKind.ENTERPRISE else f"社会组织已{label}"
        return Requirement(
            Target.EXCLUDED, Path.NONE, (Reason("excluded_status", f"{why}，不纳入党建基数"),)
        )
    fired = [r for r in rule_set.duties if r.condition.holds(org)]
    if not fired:
        return Requirement(
            Target.WORK_COVERAGE, suggested_path(org, rule_set.thresholds), (WORK_COVERAGE_REASON,)
        )
    target = min((r.target for r in fired), key=LADDER.index)
    asks = _ORG_LEVEL if target in _ORG_LEVEL else (target,)
    asking = [r for r in fired if r.target in asks]
    reasons = tuple(r.reason(org) for r in asking)
    due_on = min((d for r in asking if (d := r.due_on) is not None), default=None)
    # The work coverage the rules ask for, whatever target wins (应有党员 reads it too).
    means = combined_means(r.means for r in fired if r.target is Target.WORK_COVERAGE)
    return Requirement(target, suggested_path(org, rule_set.thresholds), reasons, due_on, means)


_ORG_LEVEL = (Target.STANDALONE, Target.PARTY_ORG)


class _AsIf:
    def __init__(self, org: Any, changes: dict[str, Any]) -> None:
        self._org, self._changes = org, changes

    def __getattr__(self, name: str) -> Any:
        return self._changes[name] if name in self._changes else getattr(self._org, name)


def as_if(org: Any, **changes: Any) -> Any:
    """``org``'s facts with ``changes`` in place of some (what an act would write into its row,
    or a Party org not founded yet), to ask the conditions about."""
    return _AsIf(org, changes)


def met(org: OrgFacts, target: Target) -> bool:
    """Whether ``org`` already is where ``target`` says it must be (else: a board item)."""
    return MET[target].holds(org)  # a stored code finds its member (a StrEnum)


def meets(org: OrgFacts, requirement: Requirement) -> bool:
    """Whether ``org`` already is where the rules say it must be (else: a board item), by
    the means the requirement asks (which its row may not hold yet)."""
    return met(as_if(org, coverage_means=requirement.means), requirement.target)
