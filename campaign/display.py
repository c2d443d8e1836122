"""Formatting for templates: percentages, dates and labels, the same on every page."""

import json
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from campaign import figures
from campaign.core import vocab
from campaign.core.clock import DEFAULT_TZ
from campaign.ledger import fields

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
    "item.plan": "修改计划",
    "item.note": "记录进展",
    "organization.create": "新增组织",
    "organization.update": "修改台账",
    "organization.remove": "删除组织",
    "organization.closure": "销号写入台账",
    "organization.closure_revoked": "撤销销号恢复台账",
    "organization.exclude": "剔除出基数",
    "organization.restore": "恢复到基数",
    "user.create": "创建用户",
    "user.update": "修改用户",
    "user.disable": "停用用户",
    "user.enable": "启用用户",
    "user.reset_password": "重置密码",
    "user.password": "本人修改密码",
    "token.issue": "签发API令牌",
    "unit.create": "新增单位",
    "unit.update": "修改单位",
    "system.init": "系统初始化",
    "campaign.create": "创建攻坚行动",
    "phase.create": "添加阶段",
    "phase.move": "调整阶段顺序",
    "phase.delete": "删除阶段",
    "deliverable.move": "调整报送要求顺序",
    "deliverable.delete": "删除报送要求",
    "organization.check_note": "核查意见",
}
# The organization's fields as the ledger names them; then what other records carry.
FIELD_LABELS = {
    **fields.LABELS,
    "closure": "销号编号",
    "method": "组建方式",
    "reason": "理由",
    "notes": "说明",
    "result": "结论",
    "document_sha256": "批复文件SHA-256",
    "path": "推进路径",
    "joint_form": "联合组建方式",
    "text": "进展",
    "noted_on": "日期",
    "organizations": "涉及组织",
    "spot_check": "抽查编号",
    "kept": "保留未恢复",
    # accounts (campaign/core/accounts.py): never a password
    "username": "用户名",
    "display_name": "姓名",
    "role": "角色",
    "unit": "所属单位",
    "phone": "手机号码",
    "email": "电子邮件",
    "active": "状态",
    "tokens_revoked": "作废的API令牌",
    "must_change_password": "登录后须修改密码",
    "after_reset": "重置后首次修改",
    "city_name": "城市",
    "issuing_body": "发文机关",
    "admin": "系统管理员",
    "remit": "核查职责",
}
# A unit's fields (campaign/core/units.py), where they differ from the above.
UNIT_FIELD_LABELS = {
    "code": "单位代码",
    "name": "单位名称",
    "kind": "类型",
    "parent_code": "上级单位",
    "position": "排序",
    "is_responsible": "责任单位",
    "active": "状态",
}
_YES_NO: dict[object, str] = {True: "是", False: "否"}
# Values recorded as codes or flags, as people read them (by the field they belong to).
VALUE_LABELS: dict[str, dict[object, str]] = {
    "role": {role.value: role.label for role in vocab.Role},
    "active": {True: "启用", False: "停用"},
    "must_change_password": _YES_NO,
    "after_reset": _YES_NO,
}

UNIT_VALUE_LABELS: dict[str, dict[object, str]] = {
    "kind": {kind.value: kind.label for kind in vocab.UnitKind},
    "active": {True: "在用", False: "已撤销"},
    "is_responsible": _YES_NO,
}


def audit_action(code: str) -> str:
    """A change record's action in Chinese (the code itself when it has no label yet)."""
    return AUDIT_ACTIONS.get(code, code)


def audit_values(raw: str, object_type: str = "") -> str:
    """A change record's before/after JSON as "字段：值；…" for people (a unit's fields by
    their own names when ``object_type`` is "unit")."""
    data = json.loads(raw or "{}")
    names = {**FIELD_LABELS, **UNIT_FIELD_LABELS} if object_type == "unit" else FIELD_LABELS
    values = UNIT_VALUE_LABELS if object_type == "unit" else VALUE_LABELS
    return "；".join(f"{names.get(k, k)}：{_value(k, v, values)}" for k, v in data.items())


def _value(key: str, value: object, known: dict[str, dict[object, str]] | None = None) -> object:
    if value is None:
        return ""
    labels = (known or VALUE_LABELS).get(key)
    return labels.get(value, value) if labels and isinstance(value, str | bool) else value


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
    "local_time": local_time,
    "target": target,
    "percent": percent,
    "cn_date": cn_date,
    "short_date": short_date,
    "weekday": weekday,
}
GLOBALS = {"vocab": vocab, "reaches": figures.reaches, "change_in_points": change_in_points}
