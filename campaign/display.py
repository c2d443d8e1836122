"""Formatting for templates: percentages, dates and labels, the same on every page."""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from campaign import figures, targets
from campaign.board.models import CheckResult, Closure, ClosureMethod, ItemState
from campaign.core import vocab
from campaign.core.clock import DEFAULT_TZ
from campaign.core.templates import TEMPLATES
from campaign.core.text import field_of
from campaign.core.vocab import Labelled
from campaign.ledger import fields
from campaign.rulesets import PRESET_CHOICES

if TYPE_CHECKING:
    from jinja2 import Environment

WEEKDAYS = "一二三四五六日"


def percent(value: float | None, digits: int = 1) -> str:
    """0.8125 -> "81.3%"; None (no denominator) -> "—"."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def points(now: float | None, before: float | None) -> str:
    """Change of a rate in percentage points: "+1.2", "-0.4", "持平"; "—" without a before."""
    if now is None or before is None:
        return "—"
    delta = round((now - before) * 100, 1)
    return "持平" if delta == 0 else f"{delta:+.1f}"


def change_in_points(now: float | None, before: float | None) -> str | None:
    """The same change in words: "提高1.2个百分点", "下降0.4个百分点", "持平"; None without a before."""
    d = points(now, before)
    if d == "—":
        return None
    return d if d == "持平" else ("提高" if d[0] == "+" else "下降") + d[1:] + "个百分点"


def target(value) -> str:
    """A target percentage as set: 80.00 -> "80", 80.50 -> "80.5"."""
    return f"{Decimal(value).normalize():f}"


def cn_date(value: date | None) -> str:
    """2026-08-15 -> "2026年8月15日"."""
    return "" if value is None else f"{value.year}年{value.month}月{value.day}日"


def short_date(value: date | None) -> str:
    """2026-08-15 -> "8月15日"."""
    return "" if value is None else f"{value.month}月{value.day}日"


def day(value: date | str | None) -> str:
    """A date or an ISO date/time string -> "11月25日"."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10]) if value else None
    return short_date(value)


def full_day(value: date | str | None) -> str:
    """A date or an ISO date/time string -> "2026年11月25日"."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10]) if value else None
    return cn_date(value)


def local_time(value: datetime | None, tz: str = DEFAULT_TZ) -> str:
    """A stored (UTC) moment as Beijing time, "2026-11-22 10:40"."""
    return "" if value is None else value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def weekday(value: date) -> str:
    return "星期" + WEEKDAYS[value.weekday()]


AUDIT_ACTIONS = {
    "closure.submit": "提交销号",
    "closure.verify": "核验销号",
    "closure.return": "退回销号",
    "closure.revoke": "撤销销号",
    "spot_check.result": "抽查结论",
    "spot_check.draw": "随机抽查抽取",
    "lookback.draw": "回头看抽取",
    "item.plan": "修改计划",
    "item.note": "记录进展",
    "item.follow": "随台账调整",
    "organization.create": "新增组织",
    "organization.update": "修改台账",
    "organization.remove": "删除组织",
    "organization.closure": "销号写入台账",
    "organization.closure_revoked": "撤销销号恢复台账",
    "organization.exclude": "剔除出基数",
    "organization.restore": "恢复到基数",
    "ledger.submitted": "报送台账",
    "ledger.approved": "审核通过台账",
    "ledger.returned": "退回台账",
    "ledger.import": "导入台账",
    "ledger.import_discard": "放弃导入",
    "change_request.accepted": "采纳变更申请",
    "change_request.rejected": "驳回变更申请",
    "report.submit": "报送半月报",
    "report.return": "退回半月报",
    "task.update": "修改任务",
    "task.submit": "提交任务成果",
    "task.accepted": "通过任务成果",
    "task.returned": "退回任务成果",
    "deliverable.create": "新增阶段任务",
    "deliverable.update": "修改阶段任务",
    "deliverable.drop": "取消阶段任务",
    "campaign.create": "创建行动",
    "campaign.settings": "修改行动设置",
    "campaign.rules": "修改行动规则",
    "item.rules": "规则修改后调整攻坚事项",
    "phase.update": "修改阶段",
    "user.create": "创建用户",
    "user.update": "修改用户",
    "user.disable": "停用用户",
    "user.enable": "启用用户",
    "user.reset_password": "重置密码",
    "user.password": "本人修改密码",
    "token.issue": "签发接口令牌",
    "unit.create": "新增单位",
    "unit.update": "修改单位",
    "unit.urge": "催办",
    "coordination.raise": "提出协调事项",
    "coordination.assign": "交办协调事项",
    "coordination.answer": "答复协调事项",
    "system.init": "系统初始化",
    "bulletin.publish": "发布通报",
    "bulletin.draft": "生成通报草稿",
    "bulletin.edit": "修改通报草稿",
    "bulletin.sign": "签发通报",
    "demo.load": "载入演示数据",
    "audit.seal": "重新签名变更记录",
    "phase.create": "添加阶段",
    "phase.move": "调整阶段顺序",
    "phase.delete": "删除阶段",
    "deliverable.move": "调整报送要求顺序",
    "deliverable.delete": "删除报送要求",
    "organization.check_note": "核查意见",
    "target.set": "设置目标",
    "target.remove": "删除目标",
    "organization.exclusion_proposed": "提请工商部门确认剔除",
    "organization.exclusion_confirmed": "工商部门确认剔除",
    "organization.exclusion_rejected": "工商部门不予确认剔除",
}


def _column_label(column: Any) -> str:
    """The label a model gives one of its text columns (campaign.core.text.text_field)."""
    spec = field_of(column)
    assert spec is not None, column
    return spec.label


# The organization's fields as the ledger names them; then what other records carry (a
# closure's fields by the labels its model gives them).
FIELD_LABELS = {
    **fields.LABELS,
    "closure": "销号编号",
    "method": "组建方式",
    "joint_form": "联合组建方式",
    "secretary": _column_label(Closure.__table__.c.secretary),
    "established_on": "成立时间",
    "document_name": "批复文件",
    "covered_org_ids": "联合组建覆盖的组织",
    "reason": "理由",
    "notes": "说明",
    "result": "结论",
    "path": "推进路径",
    "target": "规则要求",
    "text": "进展",
    "noted_on": "日期",
    "organizations": "涉及组织",
    "spot_check": "抽查编号",
    "drawn": "抽中的销号编号",
    "population": "已核验销号数",
    "seed": "随机种子",
    "kept": "保留未恢复",
    "source": "来源",
    "comment": "意见",
    "status": "状态",
    # accounts (campaign/core/accounts.py): never a password
    "username": "用户名",
    "display_name": "姓名",
    "role": "角色",
    "unit": "所属单位",
    "phone": "手机号码",
    "email": "电子邮件",
    "active": "状态",
    "tokens_revoked": "作废的接口令牌",
    "must_change_password": "登录后须修改密码",
    "after_reset": "重置后首次修改",
    "city_name": "城市",
    "issuing_body": "发文机关",
    "admin": "系统管理员",
    # bulletins (reports/services.py)
    "requirements": "下步工作要求",
    "document_number": "发文字号",
    "signed_on": "签发日期",
    "pdf_sha256": "PDF的SHA-256",
    "snapshot_sha256": "数据快照的SHA-256",
    "number": "期数",
    "due_on": "报送日",
    "trigger": "生成方式",
    "bulletin_review": "通报须经审核签发后发布",
    "bulletin_sign_hours": "草稿截止后未签发提醒（小时）",
    "document_prefix": "发文字号前缀",
    "remit": "核查职责",
    "proposed_status": "提请剔除类型",
    "decision_note": "工商部门意见",
    "team_unit_ids": "检查组成员",
}
# A unit's fields (campaign/core/units.py), where they differ from the above.
UNIT_FIELD_LABELS = {
    "code": "单位代码",
    "remit": "核查职责",
    "name": "单位名称",
    "kind": "类型",
    "parent_code": "上级单位",
    "position": "排序",
    "is_responsible": "责任单位",
    "active": "状态",
}
# The order fields are read in: what an act is about first (a closure's number and method, as
# its form asks them), then as the ledger lists them (entries are stored with sorted keys).
_ORDER = {
    key: i
    for i, key in enumerate(
        dict.fromkeys(["closure", "spot_check", "method", "result", "joint_form", *FIELD_LABELS])
    )
}
# Recorded to prove what was filed, not for people to read (the file is shown by its name).
HIDDEN_FIELDS = {"document_sha256", "sha256"}
_YES_NO: dict[object, str] = {True: "是", False: "否"}


def _labels(*enums: type[Labelled]) -> dict[object, str]:
    """Each member's stored code -> its label (the labels live beside the enums)."""
    return {m.value: m.label for enum in enums for m in enum}


# Values recorded as codes or flags, as people read them (by the field they belong to).
VALUE_LABELS: dict[str, dict[object, str]] = {
    "role": _labels(vocab.Role),
    "active": {True: "启用", False: "停用"},
    "must_change_password": _YES_NO,
    "bulletin_review": _YES_NO,
    "after_reset": _YES_NO,
    "kind": _labels(vocab.OrgKind),
    "category": _labels(vocab.EnterpriseCategory, vocab.SocialCategory),
    "tags": _labels(vocab.EnterpriseCategory, vocab.SocialCategory),
    "operating_status": _labels(vocab.OperatingStatus),
    "proposed_status": _labels(vocab.OperatingStatus),
    "registration_level": _labels(vocab.RegistrationLevel),
    "party_org_status": _labels(vocab.PartyOrgStatus),
    "target": _labels(vocab.Target),
    "path": _labels(vocab.Path),
    "method": _labels(ClosureMethod),
    "result": _labels(CheckResult),
    "affiliation": _labels(vocab.Affiliation),
    "affiliation_settled": _YES_NO,
    "liaison_role": _labels(vocab.LiaisonRole),
}

UNIT_VALUE_LABELS: dict[str, dict[object, str]] = {
    "kind": _labels(vocab.UnitKind),
    "remit": {"": "无", **_labels(vocab.Remit)},
    "active": {True: "在用", False: "已撤销"},
}
# Where a record's own fields are named otherwise than an organization's (by object type).
OBJECT_FIELD_LABELS: dict[str, dict[str, str]] = {
    "unit": UNIT_FIELD_LABELS,
    "campaign": {
        "name": "行动名称",
        "year": "年度",
        "template": "依据模板",
        "phases": "阶段",
        "starts_on": "开始日期",
        "ends_on": "结束日期",
        "report_day_first": "半月报送日（一）",
        "report_day_second": "半月报送日（二）",
        "masthead": "通报发文机关标志",
        "bulletin_subject": "通报标题事由",
        "addressees": "主送单位",
        "bulletin_time": "通报数据截止时间",
        "target_party_org_coverage": "党组织覆盖率目标（%）",
        "target_required_coverage": "应建尽建率目标（%）",
        "target_work_coverage": "工作覆盖率目标（%）",
        "rules": "规则",
        "items_opened": "新增攻坚事项（个）",
        "items_closed": "不再需要的攻坚事项（个）",
        "figures_change": "指标变化",
    },
    # A unit's or a kind's own target (campaign/targets.py).
    "rate_target": {
        "unit": "适用单位",
        "kind": "组织类型",
        "rate": "指标",
        "percent": "目标（%）",
        "reason": "理由",
    },
    "phase": {"name": "阶段名称", "starts_on": "开始日期", "ends_on": "截止日期"},
    # An item adjusted to a new rule set (board.follow_new_rules).
    "board_item": {"state": "攻坚状态", "last_reason": "说明"},
}
OBJECT_VALUE_LABELS: dict[str, dict[str, dict[object, str]]] = {
    "unit": UNIT_VALUE_LABELS,
    "campaign": {
        "template": {code: t.city_name + "方案" for code, t in TEMPLATES.items()},
        "rules": {code: title for code, title in PRESET_CHOICES},
    },
    "board_item": {"state": _labels(ItemState)},
    "rate_target": {"kind": _labels(targets.Scope), "rate": _labels(targets.Rate)},
}
# Records whose fields read in an order of their own (what the record is about first).
OBJECT_FIELD_ORDER: dict[str, list[str]] = {
    "rate_target": ["unit", "kind", "rate", "percent", "reason"],
}
# Fields that hold ids, shown by the name of what they point at.
USER_ID_FIELDS = {"exclusion_decided_by_id", "decided_by_id", "submitted_by_id"}
UNIT_ID_FIELDS = {"unit_id", "area_id", "unit_ids", "team_unit_ids"}
ORG_ID_FIELDS = {"organizations", "kept", "covered_org_ids"}
UNIT_CODE_FIELDS = {"parent_code"}
_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@dataclass(frozen=True)
class Names:
    """The names of the users, units and organizations a set of entries points at."""

    users: dict[int, str] = field(default_factory=dict)
    units: dict[int, str] = field(default_factory=dict)
    unit_codes: dict[str, str] = field(default_factory=dict)
    orgs: dict[int, str] = field(default_factory=dict)


def audit_action(code: str) -> str:
    """A change record's action in Chinese (the code itself when it has no label yet)."""
    return AUDIT_ACTIONS.get(code, code)


def audit_values(
    raw: str, object_type: str = "", names: Names | None = None, *, compact: bool = False
) -> str:
    """A change record's before/after JSON as "字段：值；…" for people: fields by their labels,
    codes by their labels, ids by the names they point at (``names``); the fields of a unit or
    a campaign by their own names (``object_type``). ``compact`` leaves empty values out (a
    record of creation, where an empty field says nothing)."""
    data = json.loads(raw or "{}")
    labels = {**FIELD_LABELS, **OBJECT_FIELD_LABELS.get(object_type, {})}
    values = {**VALUE_LABELS, **OBJECT_VALUE_LABELS.get(object_type, {})}
    names = names or Names()
    order = {k: i for i, k in enumerate(OBJECT_FIELD_ORDER.get(object_type, []))} or _ORDER
    shown = sorted(data.items(), key=lambda kv: order.get(kv[0], len(order)))
    return "；".join(
        f"{labels.get(k, k)}：{_value(k, v, values, names)}"
        for k, v in shown
        if k not in HIDDEN_FIELDS and not (compact and v in (None, "", []))
    )


def _named(table: dict, value: object, what: str) -> str:
    return table.get(value) or f"{what}（编号{value}）"


def _value(
    key: str,
    value: object,
    known: dict[str, dict[object, str]] | None = None,
    names: Names | None = None,
) -> str:
    names = names or Names()
    if value is None or value == "":
        return "（空）"
    if key in USER_ID_FIELDS and isinstance(value, int):
        return _named(names.users, value, "用户")
    if key in UNIT_ID_FIELDS:
        ids = value if isinstance(value, list) else [value]
        return "、".join(_named(names.units, i, "单位") for i in ids) or "无"
    if key in ORG_ID_FIELDS and isinstance(value, list):
        return "、".join(_named(names.orgs, i, "组织") for i in value) or "无"
    if key in UNIT_CODE_FIELDS and isinstance(value, str):
        return names.unit_codes.get(value, value)
    labels = (known or VALUE_LABELS).get(key)
    if labels and isinstance(value, str | bool) and value in labels:
        return labels[value]
    if isinstance(value, bool):
        return _YES_NO[value]
    if isinstance(value, list):
        return "、".join(_value(key, v, known, names) for v in value) or "无"
    if isinstance(value, str) and _MOMENT.match(value):
        return local_time(datetime.fromisoformat(value))
    return str(value)


def field_changes(changes: dict[str, Any], added: bool = False) -> str:
    """Field-by-field changes ({field: [before, after]}) as people read them: "从业人员数：7 → 9；
    正式党员数：0 → 1" (fields and codes by their labels); ``added``: a new row, its values only."""
    if added:
        return "；".join(
            f"{FIELD_LABELS.get(k, k)}：{_value(k, new)}" for k, (_, new) in changes.items()
        )
    return "；".join(
        f"{FIELD_LABELS.get(k, k)}：{_value(k, old)} → {_value(k, new)}"
        for k, (old, new) in changes.items()
    )


@dataclass(frozen=True)
class ShownEntry:
    """One change as a page shows it: when, who (by name), what, before and after."""

    at: datetime
    who: str
    action: str
    before: str
    after: str


def _ids(entries: list[Any]) -> tuple[set[int], set[int], set[str], set[int]]:
    users: set[int] = set()
    units: set[int] = set()
    codes: set[str] = set()
    orgs: set[int] = set()
    for e in entries:
        if e.user_id:
            users.add(e.user_id)
        for raw in (e.before, e.after):
            for key, value in json.loads(raw or "{}").items():
                many = value if isinstance(value, list) else [value]
                if key in USER_ID_FIELDS:
                    users.update(v for v in many if isinstance(v, int))
                elif key in UNIT_ID_FIELDS:
                    units.update(v for v in many if isinstance(v, int))
                elif key in ORG_ID_FIELDS:
                    orgs.update(v for v in many if isinstance(v, int))
                elif key in UNIT_CODE_FIELDS and isinstance(value, str):
                    codes.add(value)
    return users, units, codes, orgs


def change_record(session: Any, entries: Iterable[Any]) -> list[ShownEntry]:
    """The change record ``entries`` (AuditEntry rows) as pages show it, in plain Chinese:
    who by name (not login), actions, fields and values by their labels, the organizations,
    units and users an entry names by their names (one query each), no hashes."""
    from campaign.core.models import Unit, User  # noqa: PLC0415
    from campaign.ledger.models import Organization  # noqa: PLC0415

    entries = list(entries)
    users, units, codes, orgs = _ids(entries)

    def lookup(query: Any) -> dict:
        return dict(session.execute(query).tuples().all())

    names = Names(
        users=lookup(
            select(User.id, func.coalesce(func.nullif(User.display_name, ""), User.username)).where(
                User.id.in_(users)
            )
        )
        if users
        else {},
        units=lookup(select(Unit.id, Unit.name).where(Unit.id.in_(units))) if units else {},
        unit_codes=lookup(select(Unit.code, Unit.name).where(Unit.code.in_(codes)))
        if codes
        else {},
        orgs=lookup(select(Organization.id, Organization.name).where(Organization.id.in_(orgs)))
        if orgs
        else {},
    )
    return [
        ShownEntry(
            at=e.at,
            who=names.users.get(e.user_id) or ("系统" if e.actor == "system" else e.actor),
            action=audit_action(e.action),
            before=audit_values(e.before, e.object_type, names),
            after=audit_values(e.after, e.object_type, names, compact=not json.loads(e.before)),
        )
        for e in entries
    ]


def environment(autoescape: bool) -> "Environment":
    """A Jinja environment over templates/ with these filters and globals, for documents and
    messages made outside a request (bulletins, mails): the same formatting as the pages."""
    from pathlib import Path  # noqa: PLC0415

    from jinja2 import Environment, FileSystemLoader, StrictUndefined  # noqa: PLC0415

    env = Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=not autoescape,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env


FILTERS = {
    "points": points,
    "day": day,
    "full_day": full_day,
    "audit_action": audit_action,
    "audit_values": audit_values,
    "field_changes": field_changes,
    "local_time": local_time,
    "target": target,
    "percent": percent,
    "cn_date": cn_date,
    "short_date": short_date,
    "weekday": weekday,
}
GLOBALS = {"vocab": vocab, "reaches": figures.reaches, "change_in_points": change_in_points}
