"""A campaign's rule set as data: presets named by their seed plan, reading and checking a
rule set (JSON on the campaign, YAML in a file a city shares), and what each rule covers.

No Flask here. ``rules`` holds what a rule is and how one organization is judged by a rule
set (``rules.evaluate``); this module holds which rules a campaign has. A rule's bound may
name one of the campaign's settings (``rules.Thresholds``: the settings page's 应有党员的职工
人数 and the like), whose number it then is, so the numbers a city changes on the settings
page and the rules it reads on the rules page are one thing.
"""

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from functools import lru_cache
from typing import Any

import yaml
from sqlalchemy import and_, case, func, select

from campaign.core.errors import ValidationFailed
from campaign.core.vocab import (
    EnterpriseCategory,
    OrgKind,
    RegistrationLevel,
    SocialCategory,
    Target,
    category_vocab,
)
from campaign.rules import (
    ANY_MEANS,
    BOUNDED,
    CITY_SOCIAL_GROUPS,
    DUE_SETTINGS,
    FIRMS,
    LADDER,
    LARGE_TYPED,
    MEANS,
    STAFFED_SOCIAL,
    Bound,
    DueDates,
    Rule,
    RuleSet,
    Thresholds,
    met_sql,
    tag_label,
)

E, S = OrgKind.ENTERPRISE.value, OrgKind.SOCIAL.value
SETTING_NAMES = tuple(f.name for f in fields(Thresholds))
DEFAULT_PRESET = "seed-004"
MAX_RULES = 100
MAX_COUNT = 1_000_000  # as campaigns.MAX_COUNT: no threshold of people is larger
MAX_FILE_BYTES = 200_000


@dataclass(frozen=True)
class Preset:
    """A rule set named by the seed plan it reads, with where each rule comes from."""

    code: str
    title: str
    description: str
    rules: tuple[Rule, ...]


def _at_least(bound: Bound) -> tuple[Bound, Bound]:
    return (bound, None)


# ---- seed 004 (the city's own plan) -------------------------------------------------------

_004_TARGETS = "004“一、目标任务”"
_STANDALONE_004 = Rule(
    "formal_members",
    Target.STANDALONE,
    "有{formal_members}名以上正式党员，须单独组建",
    formal_members=_at_least("standalone_formal_members"),
    source="004“二（四）2 单独组建党组织”：凡有3名及以上正式党员的，必须单独建立党组织。",
)
_PARTY_ORG_BY_SIZE = Rule(
    "employees_party_org",
    Target.PARTY_ORG,
    "职工{employees}人以上",
    kind=E,
    employees=_at_least("party_org_required_employees"),
    source=f"{_004_TARGETS}：在非公企业，实现职工50人以上的有党员、100人以上的建有党的组织。",
    figure="{employees}人以上企业有党组织率",
)
_LARGE_TYPED = tuple(
    Rule(
        "large_typed_enterprise",
        Target.PARTY_ORG,
        "规模较大的{tag}企业（职工{employees}人以上）",
        kind=E,
        tags=(category.value,),
        employees=_at_least("large_enterprise_employees"),
        source=f"{_004_TARGETS}：规模较大、具备组建条件的互联网、文化创意等企业建有党的组织。",
    )
    for category in LARGE_TYPED
)
_RURAL = Rule(
    "rural_entity",
    Target.PARTY_ORG,
    "符合组建条件的农村新型经营主体",
    kind=E,
    tags=(EnterpriseCategory.RURAL.value,),
    formal_members=_at_least("rural_min_formal_members"),
    source=f"{_004_TARGETS}：在农村新型经营主体，符合条件的全部建立党组织。",
)
_CITY_SOCIAL_GROUP = Rule(
    "city_social_group",
    Target.PARTY_ORG,
    "市级社会团体",
    kind=S,
    tags=tuple(c.value for c in CITY_SOCIAL_GROUPS),
    registration_level=RegistrationLevel.CITY.value,
    source=f"{_004_TARGETS}：在社会组织，努力做到市级社会团体……建有党的组织。",
)
_CITY_SOCIAL_ORG = Rule(
    "city_social_org",
    Target.PARTY_ORG,
    "市级社会组织",
    kind=S,
    registration_level=RegistrationLevel.CITY.value,
    enabled=False,
    source=(
        "004“三（二）落实工作责任”：市级社会组织集中组建工作……确保到11月底，市级社会组织建有"
        "党的组织。（比“目标任务”的“市级社会团体”宽：一种读法，默认不启用。）"
    ),
)
_STAFFED = tuple(
    Rule(
        "staffed_social_org",
        Target.PARTY_ORG,
        "从业人员{employees}人以上的{tag}",
        kind=S,
        tags=(category.value,),
        employees=_at_least("social_staff_threshold"),
        source=f"{_004_TARGETS}：从业人员30人以上的民办学校、民办医院……建有党的组织。",
    )
    for category in STAFFED_SOCIAL
)
_FIRMS = tuple(
    Rule(
        "professional_firm",
        Target.PARTY_ORG,
        "{tag}",
        kind=S,
        tags=(category.value,),
        source=f"{_004_TARGETS}：律师、会计师、税务师事务所等实体性社会组织建有党的组织。",
    )
    for category in FIRMS
)
_MEMBER_BY_SIZE = Rule(
    "employees_member",
    Target.MEMBER,
    "职工{employees}人以上须有党员",
    kind=E,
    employees=_at_least("member_required_employees"),
    source=f"{_004_TARGETS}：在非公企业，实现职工50人以上的有党员。",
    figure="{employees}人以上企业有党员率",
)

SEED_004 = Preset(
    "seed-004",
    "集中组建实施方案的规则（种子004）",
    "职工50人以上的非公企业有党员、100人以上的建有党组织；规模较大的互联网、文化创意企业和"
    "符合条件的农村新型经营主体建有党组织；市级社会团体，从业人员30人以上的民办学校、民办医院，"
    "律师、会计师、税务师事务所建有党组织；3名以上正式党员的单独组建；其余实现党的工作覆盖。"
    "“落实工作责任”中“市级社会组织建有党的组织”的宽读法作为可选规则（city_social_org），"
    "默认不启用。",
    (
        _STANDALONE_004,
        _PARTY_ORG_BY_SIZE,
        *_LARGE_TYPED,
        _RURAL,
        _CITY_SOCIAL_GROUP,
        _CITY_SOCIAL_ORG,
        *_STAFFED,
        *_FIRMS,
        _MEMBER_BY_SIZE,
    ),
)

# ---- seed 000 (a generic plan with X placeholders) ----------------------------------------

_000_GOALS = "000“一、总体目标”"
_000_STEPS = "000“三（二）实施阶段”"


def _from_000(rule: Rule, passage: str) -> Rule:
    return replace(rule, source=passage)


SEED_000 = Preset(
    "seed-000",
    "“两新”组织党建工作方案的规则（种子000）",
    "在种子004的规模和类别规则（50人有党员、100人有党组织、市级社会团体、30人以上民办学校"
    "和医院、律师会计师税务师事务所）之上，要求“有党员的非公经济组织和社会组织党组织应建尽建”："
    "基数内有党员（正式+预备）的组织都须建立党组织，正式党员不足3名的联合组建；3名以上正式"
    "党员的单独组建。种子000未提互联网、文化创意企业和农村新型经营主体，不设这几条。"
    "“实施阶段”的两个日期（X月X日前）由城市填写：3名以上正式党员的单独组建须于“单独组建完成"
    "日期”前，有党员的组织建立党组织须于“应建尽建完成日期”前（不填则为集中组建截止日）。",
    (
        replace(
            _STANDALONE_004,
            source=f"{_000_STEPS}：X月X日前……实现有3名以上正式党员的非公经济组织和社会组织单独"
            "建立党组织。（第一个日期：行动设置“单独组建完成日期”。）",
            figure="{formal_members}名以上正式党员的组织单独组建率",
            due="standalone_due_on",
        ),
        _from_000(
            _PARTY_ORG_BY_SIZE,
            f"{_000_GOALS}：实现非公有制企业职工50人以上的有党员、100人以上的有党组织。",
        ),
        Rule(
            "members_party_org",
            Target.PARTY_ORG,
            "有党员的组织党组织应建尽建（正式党员不足单独组建人数的联合组建）",
            members=_at_least(1),
            source=f"{_000_STEPS}：X月X日前……实现有党员的非公经济组织和社会组织党组织应建尽建。"
            "（第二个日期：行动设置“应建尽建完成日期”。）",
            figure="有党员的组织建有党组织率",
            due="required_due_on",
        ),
        _from_000(
            _CITY_SOCIAL_GROUP,
            f"{_000_GOALS}：市级社会团体……等实体性社会组织有党的组织。",
        ),
        *(
            _from_000(
                r,
                f"{_000_GOALS}：从业人员30人以上的民办学校、民办医院……等实体性社会组织有党的组织。",
            )
            for r in _STAFFED
        ),
        *(
            _from_000(r, f"{_000_GOALS}：律师、会计师、税务师事务所等实体性社会组织有党的组织。")
            for r in _FIRMS
        ),
        _from_000(
            _MEMBER_BY_SIZE,
            f"{_000_GOALS}：实现非公有制企业职工50人以上的有党员。",
        ),
    ),
)

# ---- seed 003 (ten work summaries) ---------------------------------------------------------

_003_TOWNSHIP = "003 例3（一个乡的总结）“明确目标任务”"
SEED_003 = Preset(
    "seed-003",
    "“两新”组织党建工作总结十篇中的规则（种子003）",
    "按例3一个乡的目标任务：有3名以上正式党员的“两新”组织单独建立党组织；30人以上企业有党建"
    "指导员（实现工作覆盖，须有党建指导员：群团组织不能代替，已建党组织的即已覆盖）、50人以上"
    "企业有党员（其党的工作覆盖也须有指导员）、规模以上企业单独建"
    "党组织；暂不具备条件的实现党的工作全覆盖。其他各篇的规则作为可选规则，默认不启用：例7"
    "（上海）“30人以上的上海高科技企业中有党员”（类别为高新技术企业、职工30人以上的企业须有党员）"
    "和“20人以上的新社会组织中有党员”；例10“员工人数在15人以上的‘两新’组织都有党员”。"
    "例9“100人以上的企业80%单独建立党组织”是比例目标而非每个组织的要求：设为比例目标（share: 80），"
    "只统计覆盖的企业中单独建立党组织的比例并与80%对照，不列入攻坚事项，默认不启用。",
    (
        Rule(
            "formal_members",
            Target.STANDALONE,
            "有{formal_members}名以上正式党员，须单独组建",
            formal_members=_at_least("standalone_formal_members"),
            source=f"{_003_TOWNSHIP}：有3名以上正式党员的“两新”组织全部单独建立党组织。",
            figure="{formal_members}名以上正式党员的组织单独组建率",
        ),
        Rule(
            "above_scale_standalone",
            Target.STANDALONE,
            "规模以上企业单独建党组织",
            kind=E,
            tags=(EnterpriseCategory.ABOVE_SCALE.value,),
            source=f"{_003_TOWNSHIP}：……规模以上企业单独建党组织。",
            figure="规模以上企业单独组建率",
        ),
        Rule(
            "employees_member",
            Target.MEMBER,
            "职工{employees}人以上须有党员",
            kind=E,
            employees=_at_least("member_required_employees"),
            source=f"{_003_TOWNSHIP}：……50人以上企业有党员……",
            figure="{employees}人以上企业有党员率",
        ),
        Rule(
            "employees_instructor",
            Target.WORK_COVERAGE,
            "职工{employees}人以上的企业须有党建指导员",
            kind=E,
            employees=_at_least(30),
            source=f"{_003_TOWNSHIP}：……30人以上企业有党建指导员……",
            figure="{employees}人以上企业有党建指导员率",
            means="instructor",
        ),
        Rule(
            "high_tech_member",
            Target.MEMBER,
            "职工{employees}人以上的{tag}须有党员",
            kind=E,
            tags=(EnterpriseCategory.HIGH_TECH.value,),
            employees=_at_least(30),
            enabled=False,
            source="003 例7（上海）：……提出了要在30人以上的上海高科技企业中有党员……的要求。",
            figure="{employees}人以上高新技术企业有党员率",
        ),
        Rule(
            "share_standalone_100",
            Target.STANDALONE,
            "职工{employees}人以上的企业80%单独建立党组织",
            kind=E,
            employees=_at_least(100),
            enabled=False,
            source="003 例9：……努力使50人以上的企业都有党员，100人以上的企业80%单独建立党组织。",
            figure="{employees}人以上企业单独组建率",
            share=80,
        ),
        Rule(
            "social_member",
            Target.MEMBER,
            "从业人员{employees}人以上的社会组织须有党员",
            kind=S,
            employees=_at_least(20),
            enabled=False,
            source="003 例7（上海）：……20人以上的新社会组织中有党员的要求。",
        ),
        Rule(
            "staff_member",
            Target.MEMBER,
            "员工{employees}人以上的“两新”组织须有党员",
            employees=_at_least(15),
            enabled=False,
            source="003 例10：力争通过3-5年努力，员工人数在15人以上的“两新”组织都有党员。",
        ),
    ),
)

PRESETS: dict[str, Preset] = {p.code: p for p in (SEED_004, SEED_000, SEED_003)}
PRESET_CHOICES = [(p.code, p.title) for p in PRESETS.values()]


@lru_cache(maxsize=64)
def seed_004(thresholds: Thresholds) -> RuleSet:
    """Seed 004's rules with ``thresholds``' numbers (what campaigns were judged by before
    rule sets were data, and what a campaign without its own rule set reads)."""
    return RuleSet(SEED_004.rules, thresholds, SEED_004.code)


def preset(code: str) -> Preset:
    """The preset named ``code``; ValidationFailed listing the presets otherwise."""
    try:
        return PRESETS[code]
    except KeyError:
        known = "、".join(PRESETS)
        raise ValidationFailed(
            [("rules", f"没有名为“{code}”的规则预设（可用：{known}）")]
        ) from None


# ---- the stored form (JSON on the campaign, YAML in a file) ----------------------------------

RULE_FIELDS = {
    "code": "代码",
    "target": "要求",
    "why": "理由",
    "kind": "组织类型",
    "tags": "类别",
    "registration_level": "登记层级",
    "employees": "职工（从业人员）数",
    "formal_members": "正式党员数",
    "members": "党员数（正式+预备）",
    "enabled": "是否启用",
    "source": "出处",
    "figure": "指标名称",
    "due": "完成日期",
    "means": "工作覆盖方式",
    "share": "比例目标（%）",
}
TOP_FIELDS = ("preset", "title", "settings", "rules")
_PLACEHOLDERS = {"employees", "formal_members", "members", "tag"}
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def rule_data(rule: Rule) -> dict[str, Any]:
    """One rule as plain data (what is stored and exported); defaults left out."""
    data: dict[str, Any] = {"code": rule.code, "target": rule.target.value, "why": rule.why}
    if rule.kind is not None:
        data["kind"] = rule.kind
    if rule.tags:
        data["tags"] = list(rule.tags)
    if rule.registration_level is not None:
        data["registration_level"] = rule.registration_level
    for fact in BOUNDED:
        low, high = getattr(rule, fact)
        bounds = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
        if bounds:
            data[fact] = bounds
    data["enabled"] = rule.enabled
    if rule.source:
        data["source"] = rule.source
    if rule.figure:
        data["figure"] = rule.figure
    if rule.due is not None:
        data["due"] = rule.due.isoformat() if isinstance(rule.due, date) else rule.due
    if rule.means != ANY_MEANS:
        data["means"] = rule.means
    if rule.share is not None:
        data["share"] = rule.share
    return data


def preset_data(code: str) -> dict[str, Any]:
    """A preset as the data a campaign stores."""
    p = preset(code)
    return {"preset": p.code, "title": p.title, "rules": [rule_data(r) for r in p.rules]}


def _where(i: int, raw: Any) -> str:
    code = raw.get("code") if isinstance(raw, Mapping) else None
    return f"第{i}条规则" + (f"（{code}）" if isinstance(code, str) and code else "")


def _field(where: str, key: str) -> str:
    return f"{where}的「{RULE_FIELDS[key]}」（{key}）"


def _bound(where: str, key: str, raw: Any, problems: list[tuple[str, str]]) -> tuple[Bound, Bound]:
    if raw is None:
        return (None, None)
    if not isinstance(raw, Mapping) or not raw or set(raw) - {"min", "max"}:
        problems.append(
            (key, f"{_field(where, key)}应写作 {{min: 下限, max: 上限}}（含本数），而不是“{raw}”")
        )
        return (None, None)
    out: list[Bound] = []
    for side, word in (("min", "下限"), ("max", "上限")):
        value = raw.get(side)
        if value is None or (isinstance(value, str) and value in SETTING_NAMES):
            out.append(value)
        elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
            out.append(value)
        else:
            names = "、".join(SETTING_NAMES)
            problems.append(
                (
                    key,
                    f"{_field(where, key)}的{word}应为0至{MAX_COUNT}的整数或一项行动设置的名称"
                    f"（{names}），而不是“{value}”",
                )
            )
            out.append(None)
    low, high = out
    if isinstance(low, int) and isinstance(high, int) and low > high:
        problems.append((key, f"{_field(where, key)}的下限（{low}）大于上限（{high}）"))
    return (low, high)


def _rule(i: int, raw: Any, problems: list[tuple[str, str]]) -> Rule | None:
    where = _where(i, raw)
    if not isinstance(raw, Mapping):
        problems.append(("rules", f"{where}应为一组“字段: 值”，而不是“{raw}”"))
        return None
    found = len(problems)
    if unknown := [str(k) for k in raw if k not in RULE_FIELDS]:
        known = "、".join(RULE_FIELDS)
        problems.append(("rules", f"{where}有不认识的字段“{'、'.join(unknown)}”（可用：{known}）"))
    code = raw.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        problems.append(
            (
                "code",
                f"{_field(where, 'code')}应为小写字母开头的字母、数字、下划线（最多40个），而不是“{code}”",
            )
        )
    target = raw.get("target")
    if target not in [t.value for t in LADDER]:
        options = "、".join(f"{t.value}（{t.label}）" for t in LADDER)
        problems.append(("target", f"{_field(where, 'target')}应为{options}之一，而不是“{target}”"))
    kind = raw.get("kind")
    if kind is not None and kind not in (E, S):
        problems.append(
            (
                "kind",
                f"{_field(where, 'kind')}应为 enterprise（非公企业）或 social（社会组织），或不写（两类都适用），而不是“{kind}”",
            )
        )
        kind = None
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append(("tags", f"{_field(where, 'tags')}应为类别代码的列表，而不是“{tags}”"))
        tags = []
    vocabs = [category_vocab(kind)] if kind else [EnterpriseCategory, SocialCategory]
    known_tags = {c.value for v in vocabs for c in v}
    if odd := [t for t in tags if t not in known_tags]:
        options = "、".join(f"{c.value}（{c.label}）" for v in vocabs for c in v)
        problems.append(
            ("tags", f"{_field(where, 'tags')}中没有类别“{'、'.join(odd)}”（可用：{options}）")
        )
    level = raw.get("registration_level")
    if level is not None and level not in [lv.value for lv in RegistrationLevel]:
        problems.append(
            (
                "registration_level",
                f"{_field(where, 'registration_level')}应为 city（市级）或 district（区级及以下），或不写，而不是“{level}”",
            )
        )
    bounds = {fact: _bound(where, fact, raw.get(fact), problems) for fact in BOUNDED}
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(
            ("enabled", f"{_field(where, 'enabled')}应为 true 或 false，而不是“{enabled}”")
        )
    source = raw.get("source", "")
    if not isinstance(source, str) or len(source) > 500:
        problems.append(("source", f"{_field(where, 'source')}应为不超过500字的文字"))
    why = raw.get("why")
    if not isinstance(why, str) or not why.strip() or len(why) > 200:
        problems.append(("why", f"{_field(where, 'why')}应为不超过200字的文字，不能为空"))
    else:
        _check_why(where, why, bounds, tags, problems)
    figure = raw.get("figure", "")
    if not isinstance(figure, str) or len(figure) > 40:
        problems.append(
            (
                "figure",
                f"{_field(where, 'figure')}应为不超过40字的文字（不设指标可不写），而不是“{figure}”",
            )
        )
    elif figure.strip():
        _check_why(where, figure, bounds, tags, problems, key="figure")
    due = _due(where, raw.get("due"), problems)
    means = raw.get("means", ANY_MEANS)
    if not isinstance(means, str) or means not in MEANS:
        options = "、".join(f"{k}（{v}）" for k, v in MEANS.items())
        problems.append(("means", f"{_field(where, 'means')}应为{options}之一，而不是“{means}”"))
    elif means != ANY_MEANS and target != Target.WORK_COVERAGE.value:
        problems.append(
            (
                "means",
                f"{_field(where, 'means')}只适用于要求为 work_coverage（实现工作覆盖）的规则",
            )
        )
    share = raw.get("share")
    if share is not None and (
        not isinstance(share, int) or isinstance(share, bool) or not 1 <= share <= 100
    ):
        problems.append(
            (
                "share",
                f"{_field(where, 'share')}应为1至100的整数（百分比：其覆盖的组织中须达到要求的比例），"
                f"而不是“{share}”",
            )
        )
    elif share is not None and not (isinstance(figure, str) and figure.strip()):
        problems.append(
            ("share", f"{_field(where, 'share')}：比例目标须有「指标名称」（figure）与之对照")
        )
    if len(problems) > found:
        return None
    assert isinstance(code, str) and isinstance(target, str) and isinstance(why, str)
    return Rule(
        code,
        Target(target),
        why.strip(),
        kind=kind,
        tags=tuple(tags),
        registration_level=level,
        enabled=enabled,
        source=source,
        figure=figure.strip(),
        due=due,
        means=means,
        share=share,
        **bounds,
    )


def _date(raw: Any) -> date | None:
    """``raw`` as a date (a date YAML read, or YYYY-MM-DD), None if it is none."""
    if isinstance(raw, date) and not hasattr(raw, "hour"):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            return None
    return None


def _due(where: str, raw: Any, problems: list[tuple[str, str]]) -> str | date | None:
    """A rule's due date: a date (YYYY-MM-DD), or the name of a due-date setting."""
    if raw is None or (isinstance(raw, str) and raw in DUE_SETTINGS):
        return raw
    if (when := _date(raw)) is not None:
        return when
    names = "、".join(f"{k}（{v}）" for k, v in DUE_SETTINGS.items())
    problems.append(
        (
            "due",
            f"{_field(where, 'due')}应为日期（如 2026-11-30）或一项行动设置的名称（{names}），"
            f"而不是“{raw}”",
        )
    )
    return None


def _check_why(
    where: str,
    why: str,
    bounds: dict[str, tuple[Bound, Bound]],
    tags: list[str],
    problems: list[tuple[str, str]],
    key: str = "why",
) -> None:
    """The "why" (or the figure's name, ``key``) may name the rule's lower bounds and its
    category, nothing else."""
    try:
        parsed = list(string.Formatter().parse(why))
    except ValueError:
        problems.append((key, f"{_field(where, key)}中的花括号不成对：“{why}”"))
        return
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in _PLACEHOLDERS or spec or conversion:
            problems.append(
                (
                    key,
                    f"{_field(where, key)}只能引用{{employees}}、{{formal_members}}、{{members}}、{{tag}}，而不是“{{{name}}}”",
                )
            )
        elif name == "tag" and not tags:
            problems.append((key, f"{_field(where, key)}引用了{{tag}}，但规则未限定类别"))
        elif name != "tag" and bounds[name][0] is None:
            problems.append(
                (
                    key,
                    f"{_field(where, key)}引用了{{{name}}}，但规则未设{RULE_FIELDS[name]}下限",
                )
            )


def rules_from(data: Any) -> tuple[str, tuple[Rule, ...]]:
    """The preset name and the rules of a rule set given as data (stored JSON, or a YAML
    file's content), checked whole: ValidationFailed naming every rule and field that is not
    what it should be."""
    if not isinstance(data, Mapping):
        raise ValidationFailed([("rules", "规则文件应为一组“字段: 值”（preset、rules 等）")])
    problems: list[tuple[str, str]] = []
    if unknown := [str(k) for k in data if k not in TOP_FIELDS]:
        problems.append(
            (
                "rules",
                f"规则文件有不认识的字段“{'、'.join(unknown)}”（可用：{'、'.join(TOP_FIELDS)}）",
            )
        )
    name = data.get("preset", "")
    if not isinstance(name, str) or len(name) > 40:
        problems.append(("preset", "「预设」（preset）应为不超过40字的名称"))
        name = ""
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list):
        problems.append(("rules", "规则文件应有 rules: 规则的列表"))
        raw_rules = []
    if len(raw_rules) > MAX_RULES:
        problems.append(("rules", f"规则最多{MAX_RULES}条（文件有{len(raw_rules)}条）"))
        raw_rules = []
    parsed = [_rule(i, raw, problems) for i, raw in enumerate(raw_rules, start=1)]
    if problems:
        raise ValidationFailed(problems)
    return name, tuple(r for r in parsed if r is not None)


def settings_from(data: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a rule file carries (the numbers and dates its rules name);
    ValidationFailed."""
    raw = data.get("settings") or {}
    if not isinstance(raw, Mapping):
        raise ValidationFailed([("settings", "「行动设置」（settings）应为一组“设置名: 数字”")])
    problems: list[tuple[str, str]] = []
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in DUE_SETTINGS:
            when = None if value is None else _date(value)
            if value is not None and when is None:
                problems.append(
                    ("settings", f"「行动设置」“{key}”应为日期（如 2026-11-30），而不是“{value}”")
                )
            out[key] = when
            continue
        if key not in SETTING_NAMES:
            known = "、".join((*SETTING_NAMES, *DUE_SETTINGS))
            problems.append(("settings", f"「行动设置」中没有“{key}”（可用：{known}）"))
        elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT:
            problems.append(
                ("settings", f"「行动设置」“{key}”应为0至{MAX_COUNT}的整数，而不是“{value}”")
            )
        else:
            out[key] = value
    if problems:
        raise ValidationFailed(problems)
    return out


def rule_set_of(campaign: Any) -> RuleSet:
    """The campaign's rule set, its bounds read from the campaign's settings (its due dates
    too: a due-date setting not set is the campaign's build deadline)."""
    thresholds = Thresholds.of(campaign)
    if campaign.rule_set is None:
        return seed_004(thresholds)
    data = campaign.rule_set
    dates = DueDates()
    if any(isinstance(r, Mapping) and r.get("due") for r in data.get("rules") or ()):
        from campaign.core.campaigns import build_deadline  # noqa: PLC0415 (it reads rulesets)

        dates = DueDates(
            **{name: getattr(campaign, name) for name in DUE_SETTINGS},
            build_deadline=build_deadline(campaign),
        )
    return _stored(_Frozen(data), thresholds, dates)


class _Frozen:
    """Stored rule-set data, hashable by its canonical JSON (to parse it once per content)."""

    def __init__(self, data: dict[str, Any]) -> None:
        import json

        self.data, self.key = data, json.dumps(data, sort_keys=True, ensure_ascii=False)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen) and other.key == self.key


@lru_cache(maxsize=64)
def _stored(data: _Frozen, thresholds: Thresholds, dates: DueDates) -> RuleSet:
    name, parsed = rules_from(data.data)
    return RuleSet(parsed, thresholds, name, dates)


def settings_named(rules: tuple[Rule, ...]) -> list[str]:
    """The settings the rules' bounds and due dates name, in the settings' order."""
    named = {b for r in rules for fact in BOUNDED for b in getattr(r, fact) if isinstance(b, str)}
    named |= {r.due for r in rules if isinstance(r.due, str)}
    return [n for n in (*SETTING_NAMES, *DUE_SETTINGS) if n in named]


def export_yaml(campaign: Any) -> str:
    """The campaign's rule set as a YAML file another city can import: its rules, and the
    numbers of the settings they name."""
    data = campaign.rule_set or preset_data(DEFAULT_PRESET)
    _, parsed = rules_from(data)
    out: dict[str, Any] = {"preset": data.get("preset", ""), "title": data.get("title", "")}
    thresholds = Thresholds.of(campaign)
    named = settings_named(parsed)
    # A due date not set is left out: the importing campaign reads its own build deadline.
    values = {n: getattr(thresholds, n, None) or getattr(campaign, n, None) for n in named}
    if values := {n: v for n, v in values.items() if v is not None}:
        out["settings"] = values
    out["rules"] = [rule_data(r) for r in parsed]
    return yaml.safe_dump(out, allow_unicode=True, sort_keys=False, width=100)


def read_yaml(text: str | bytes) -> tuple[dict[str, Any], dict[str, int]]:
    """A YAML rule file read and checked whole: (the rule set's data, the settings it
    carries). ValidationFailed with Chinese messages naming the rule and field."""
    if len(text) > MAX_FILE_BYTES:
        raise ValidationFailed([("file", f"规则文件过大（超过{MAX_FILE_BYTES // 1000} KB）")])
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f"第{mark.line + 1}行第{mark.column + 1}列" if mark is not None else ""
        raise ValidationFailed(
            [("file", f"规则文件不是有效的YAML{at}：{getattr(e, 'problem', '') or e}")]
        ) from None
    except ValueError as e:  # a date YAML reads as one and cannot be (2026-02-30)
        raise ValidationFailed([("file", f"规则文件中有不存在的日期：{e}")]) from None
    name, parsed = rules_from(data)
    assert isinstance(data, Mapping)
    settings = settings_from(data)
    stored = {
        "preset": name,
        "title": str(data.get("title") or ""),
        "rules": [rule_data(r) for r in parsed],
    }
    return stored, settings


# ---- reading a rule set in plain Chinese, and what each rule covers ------------------------


def scope_text(rule: Rule) -> str:
    """Which organizations ``rule`` covers, in plain Chinese."""
    subject = OrgKind(rule.kind).label if rule.kind else "“两新”组织"
    if rule.registration_level:
        subject = RegistrationLevel(rule.registration_level).label + subject
    if rule.tags:
        subject = f"类别为{'或'.join(tag_label(t) for t in rule.tags)}的{subject}"
    staff = "从业人员" if rule.kind == S else "职工"
    words = {
        "employees": (staff, "人"),
        "formal_members": ("正式党员", "名"),
        "members": ("党员（含预备）", "名"),
    }
    counts = []
    for fact, (word, unit) in words.items():
        low, high = getattr(rule, fact)
        if low is not None and high is not None:
            counts.append(f"{word}{low}至{high}{unit}")
        elif low is not None:
            counts.append(f"{word}{low}{unit}以上")
        elif high is not None:
            counts.append(f"{word}{high}{unit}以下")
    return subject + ("（" + "，".join(counts) + "）" if counts else "")


def rule_line(rule: Rule) -> str:
    """One line per rule: whom it covers, what they must reach, why."""
    state = "" if rule.enabled else "〔未启用〕"
    due = f"（{rule.due_text()}）" if rule.due is not None else ""
    return f"{state}{scope_text(rule)}：{rule.ask_text()}{due}——{rule.reason().text}"


def rule_counts(
    session: Any,
    campaign: Any,
    rule_set: RuleSet | Sequence[Rule],
    unit_ids: list[int] | None = None,
    columns: Any = None,
) -> list[tuple[int, int]]:
    """Per rule of ``rule_set`` (or of a list of its rules): organizations of the campaign's
    base (in ``unit_ids``, None: all) it covers, and of them those meeting what the rule asks
    (one SQL statement). ``columns`` are what the targets are read from (the Organization
    class; ``figures`` passes the ledger as of a past day)."""
    from campaign.ledger.models import Organization as Org

    chosen = rule_set.rules if isinstance(rule_set, RuleSet) else tuple(rule_set)
    if not chosen:
        return []
    columns = Org if columns is None else columns
    sums = []
    for rule in chosen:
        covered, met = rule_sql(rule, Org, columns)
        sums += [
            func.coalesce(func.sum(case((covered, 1), else_=0)), 0),
            func.coalesce(func.sum(case((met, 1), else_=0)), 0),
        ]
    stmt = select(*sums).where(Org.campaign_id == campaign.id)
    if unit_ids is not None:
        stmt = stmt.where(Org.unit_id.in_(unit_ids))
    row = session.execute(stmt).one()
    return [(int(row[2 * i]), int(row[2 * i + 1])) for i in range(len(chosen))]


def rule_sql(rule: Rule, org: Any, columns: Any) -> tuple[Any, Any]:
    """Whether an organization (``org``: the Organization class) is covered by ``rule`` (in the
    base, and the rule's own condition), and whether it is covered and meets what the rule
    asks, its Party org and means read from ``columns`` (the ledger, or the ledger as of a past
    day). The one definition the rules page, the figures and the rules' tally count by."""
    covered = and_(org.in_base, rule.condition.sql(org))
    return covered, and_(covered, rule.met_condition.sql(columns))


# How a bulletin says a rule's figure: those that meet the target, and the rate's word.
FIGURE_WORDS = {
    Target.MEMBER: ("有党员的", "有党员率"),
    Target.PARTY_ORG: ("已建立党组织的", "有党组织率"),
    Target.STANDALONE: ("已单独建立党组织的", "单独建立党组织率"),
    Target.WORK_COVERAGE: ("已实现党的工作覆盖的", "工作覆盖率"),
}


# A figure of a rule asking for work coverage by one means says so.
MEANS_WORDS = {
    "instructor": ("已有党组织或党建指导员的", "有党建指导员率"),
    "mass": ("已有党组织或群团组织的", "有群团组织率"),
}


def figure_words(rule: Rule) -> tuple[str, str]:
    """How a bulletin says a rule's figure: those that meet it, and the rate's word."""
    if rule.target is Target.WORK_COVERAGE and rule.means in MEANS_WORDS:
        return MEANS_WORDS[rule.means]
    return FIGURE_WORDS[rule.target]


def figure_scope(rule: Rule) -> str:
    """The organizations a rule's figure counts, as a bulletin's sentence names them
    ("职工50人以上的非公企业", "有党员的“两新”组织")."""
    if rule.tags:
        subject = "、".join(tag_label(t) for t in rule.tags)
        subject += (
            ""
            if subject.endswith(("企业", "组织", "所", "学校", "医院"))
            else (OrgKind(rule.kind).label if rule.kind else "组织")
        )
    else:
        subject = OrgKind(rule.kind).label if rule.kind else "“两新”组织"
    if rule.registration_level:
        subject = RegistrationLevel(rule.registration_level).label + subject
    staff = "从业人员" if rule.kind == S else "职工"
    counts = []
    for fact, word, unit in (
        ("employees", staff, "人"),
        ("formal_members", "正式党员", "名"),
        ("members", "党员（含预备）", "名"),
    ):
        low, high = getattr(rule, fact)
        if fact == "members" and low == 1 and high is None:
            counts.append("有党员")
        elif low is not None and high is not None:
            counts.append(f"{word}{low}至{high}{unit}")
        elif low is not None:
            counts.append(f"{word}{low}{unit}以上")
        elif high is not None:
            counts.append(f"{word}{high}{unit}以下")
    return ("、".join(counts) + "的" if counts else "") + subject


def rule_lines(rule_set: RuleSet) -> list[str]:
    """The rule set in plain Chinese, one line per rule (what the change record keeps)."""
    return [rule_line(r) for r in rule_set.rules]


def short_ids(session: Any, campaign: Any) -> set[int]:
    """Organizations of the campaign's base short of their stored target (rules.MET): the
    board's open items, once their unit's base is approved."""
    from campaign.ledger.models import Organization as Org

    met = met_sql(Org, LADDER)
    stmt = select(Org.id).where(Org.campaign_id == campaign.id, Org.in_base, ~met)
    return set(session.scalars(stmt))


def baseline_approved(session: Any, campaign: Any) -> bool:
    """Whether any unit's ledger of the campaign is approved (its 党建基数 fixed)."""
    from campaign.ledger.models import LedgerStatus, UnitLedger

    stmt = select(UnitLedger.id).where(
        UnitLedger.campaign_id == campaign.id, UnitLedger.status == LedgerStatus.APPROVED
    )
    return session.scalar(stmt.limit(1)) is not None
