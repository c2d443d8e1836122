"""Creating campaigns from templates, editing settings and phases, deadlines."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from marshmallow import Schema, ValidationError, fields
from sqlalchemy import select

from campaign import audit, rulesets
from campaign.core import events, inputs
from campaign.core.db import Session, serialize
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Actor, Campaign, CityProfile, Phase
from campaign.core.templates import TEMPLATES, CampaignTemplate


class SettingKind(StrEnum):
    """What a setting holds, and so how a form's text or an API value is read."""

    TEXT = "text"  # one line, not empty
    LONGTEXT = "longtext"  # several lines, may be empty
    DATE = "date"
    DUE = "due"  # a date a rule names as its due date, or empty (the build deadline)
    COUNT = "count"  # a number of people: a rule threshold
    DAY = "day"  # a day of the month, 1-28
    PERCENT = "percent"  # 0-100, two decimals at most; "85%" reads as 85
    NAMED = "named"  # how many units a bulletin names, 1-10
    YESNO = "yesno"  # 是 / 否
    HOURS = "hours"  # a number of hours, 1-168
    PREFIX = "prefix"  # a 发文字号's prefix ("武组专"): 1-12 characters, no digits or brackets
    OPTIONAL = "optional"  # one line, may be empty
    TIME = "time"  # HH:MM, or empty


K = SettingKind
# Editable settings: field -> (Chinese label, kind).
SETTINGS = {
    "name": ("行动名称", K.TEXT),
    "issuing_body": ("发文机关", K.TEXT),
    "starts_on": ("开始日期", K.DATE),
    "ends_on": ("结束日期", K.DATE),
    "report_day_first": ("半月报送日（一）", K.DAY),
    "report_day_second": ("半月报送日（二）", K.DAY),
    "member_required_employees": ("应有党员的职工人数", K.COUNT),
    "party_org_required_employees": ("应建党组织的职工人数", K.COUNT),
    "standalone_formal_members": ("单独组建所需正式党员数", K.COUNT),
    "social_staff_threshold": ("民办学校、医院应建的从业人员数", K.COUNT),
    "large_enterprise_employees": ("规模较大互联网、文化创意企业的职工人数", K.COUNT),
    "rural_min_formal_members": ("农村新型经营主体应建所需正式党员数", K.COUNT),
    "standalone_due_on": ("单独组建完成日期（规则引用；不填则为集中组建截止日）", K.DUE),
    "required_due_on": ("应建尽建完成日期（规则引用；不填则为集中组建截止日）", K.DUE),
    "target_party_org_coverage": ("党组织覆盖率目标（%）", K.PERCENT),
    "target_required_coverage": ("应建尽建率目标（%）", K.PERCENT),
    "target_work_coverage": ("工作覆盖率目标（%）", K.PERCENT),
    "bulletin_named_units": ("通报点名的后进单位数", K.NAMED),
    "bulletin_review": ("通报须经审核签发后发布", K.YESNO),
    "bulletin_sign_hours": ("草稿截止后多少小时未签发即提醒签发人", K.HOURS),
    "document_prefix": ("发文字号前缀（如“武组专”）", K.PREFIX),
    "masthead": ("通报发文机关标志（不填则为“发文机关＋文件”）", K.OPTIONAL),
    "bulletin_subject": ("通报标题事由（关于……的通报）", K.TEXT),
    "addressees": ("主送单位（不填则按各责任单位生成）", K.OPTIONAL),
    "bulletin_time": ("通报数据截止时间（HH:MM；不填则按系统设置）", K.TIME),
}
MAX_COUNT = 1_000_000  # no threshold of people is larger; keeps values inside an INTEGER
MAX_NAMED = 10
MAX_HOURS = 168
MAX_PREFIX = 12
YES, NO = ("是", "true", "1", "yes", "on"), ("否", "false", "0", "no", "off")
RULE_SETTINGS = [f for f, (_, kind) in SETTINGS.items() if kind == K.COUNT]
# The data-quality signals' thresholds (campaign/quality): counts, but no rule's, so changing
# one re-judges no organization (they are added after RULE_SETTINGS is taken).
SETTINGS.update(
    {
        "signal_evidence_orgs": ("数据质量：同一佐证材料涉及的组织数", K.COUNT),
        "signal_burst_days": ("数据质量：报送日前集中成立的天数", K.COUNT),
        "signal_burst_factor": ("数据质量：集中成立超出本单位平均进度的倍数", K.COUNT),
        "signal_burst_min": ("数据质量：集中成立的最少党组织数", K.COUNT),
        "signal_quick_minutes": ("数据质量：提交后几分钟内核验算作快速核验", K.COUNT),
        "signal_quick_count": ("数据质量：同一核验人快速核验的销号数", K.COUNT),
        "signal_threshold_days": ("数据质量：销号前人数变动的天数", K.COUNT),
        "signal_person_orgs": ("数据质量：同一书记、指导员在本单位合理兼任的组织数", K.COUNT),
        "signal_edits_per_org": ("数据质量：基数确定后同一组织的修改次数", K.COUNT),
        "signal_exclusion_factor": ("数据质量：剔除率超出全市的倍数", K.COUNT),
        "signal_exclusion_min": ("数据质量：剔除率提示的最少剔除数", K.COUNT),
    }
)
PHASE_FIELDS = {
    "name": ("阶段名称", K.TEXT),
    "starts_on": ("开始日期", K.DATE),
    "ends_on": ("截止日期", K.DATE),
    "deliverable": ("工作任务与报送材料", K.LONGTEXT),
}


# What a new campaign is given (the form, the API, the CLI): a template and a year, and, where
# given, its own texts and dates in place of the template's.
NEW_CAMPAIGN_FIELDS = {
    field: SETTINGS[field]
    for field in (
        "name",
        "issuing_body",
        "masthead",
        "bulletin_subject",
        "document_prefix",
        "addressees",
        "report_day_first",
        "report_day_second",
        "bulletin_time",
        "starts_on",
        "ends_on",
    )
}
TEMPLATE_CHOICES = [(t.code, t.label or t.code) for t in TEMPLATES.values()]


def _template(code: str) -> CampaignTemplate:
    try:
        return TEMPLATES[code]
    except KeyError:
        known = "、".join(TEMPLATES)
        problem = f"没有名为“{code}”的模板（可用：{known}）"
        raise ValidationFailed([("template", problem)]) from None


def create_from_template(
    session: Session,
    template: str,
    year: int,
    user: Actor = None,
    values: Mapping[str, Any] | None = None,
    shift_days: int = 0,
) -> Campaign:
    """A new campaign from ``template`` with every phase shifted to ``year``, for the city
    and issuing body of the city's profile (`flask init`), else the template's; ``values``
    (read by ``new_campaign_from``) given replace the template's texts, report days and dates.
    ``shift_days`` moves every date further by that many days (the demo places its campaign
    around today). All or nothing; the same campaign (name and year) is not created twice."""
    tpl = _template(template)
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationFailed([("year", f"年份“{year}”无效，应在2000至2100之间")])
    given = {k: v for k, v in (values or {}).items() if k in NEW_CAMPAIGN_FIELDS}
    # The rule set: a preset named by its seed plan (issue 16), seed 004's unless given.
    rule_set = rulesets.preset_data((values or {}).get("rules") or rulesets.DEFAULT_PRESET)
    # The city `flask init` set up, if any, over the template's own (seed 004's Wuhan).
    profile = session.get(CityProfile, 1)
    city = profile.city_name if profile else tpl.city_name
    shift = timedelta(days=shift_days)
    name = given.pop("name", None) or tpl.name.format(city=city, year=year)
    texts = {"city": city, "name": name}
    campaign = Campaign(
        name=name,
        year=year,
        template=tpl.code,
        city_name=city,
        issuing_body=profile.issuing_body if profile else tpl.issuing_body,
        masthead=tpl.masthead.format(**texts),
        bulletin_subject=tpl.bulletin_subject.format(**texts),
        addressees=tpl.addressees.format(**texts),
        document_prefix=tpl.document_prefix,
        starts_on=date(year, *tpl.starts) + shift,
        ends_on=date(year, *tpl.ends) + shift,
        report_day_first=10,  # "每月10日、25日前" unless given
        report_day_second=25,
        rule_set=rule_set,
    )
    for field, value in given.items():
        setattr(campaign, field, value)
    phases = [
        Phase(
            position=i,
            code=p.code,
            name=p.name,
            starts_on=date(year, *p.starts) + shift,
            ends_on=date(year, *p.ends) + shift,
            deliverable=p.deliverable,
        )
        for i, p in enumerate(tpl.phases, start=1)
    ]
    _check_window(campaign, {})
    _check_report_days(campaign.report_day_first, campaign.report_day_second)
    _check_phases_inside(campaign.starts_on, campaign.ends_on, phases)
    # One creation at a time: the same form posted twice creates one campaign.
    serialize(session, Campaign.__table__, 0)
    if session.scalar(select(Campaign.id).where(Campaign.name == name, Campaign.year == year)):
        raise Conflict(f"已有{year}年的攻坚行动“{name}”，未重复创建")
    campaign.phases = phases
    session.add(campaign)
    session.flush()
    audit.record(
        session,
        user=user,
        action="campaign.create",
        obj_type="campaign",
        obj_id=campaign.id,
        after={
            "template": template,
            "rules": rule_set["preset"],
            **audit.snapshot(campaign, ["year", *NEW_CAMPAIGN_FIELDS]),
            "phases": [p.name for p in phases],
        },
    )
    events.publish(session, events.CampaignCreated(campaign, template, user=user))
    return campaign


def new_campaign_from(form: Mapping[str, Any]) -> tuple[str, int, dict[str, Any]]:
    """The template, the year and the other values a form (or the API) gives for a new
    campaign, read; fields left empty take the template's. ValidationFailed naming every
    field that is not what it should be."""
    problems: list[tuple[str, str]] = []
    template = str(form.get("template") or "").strip()
    if not template:
        problems.append(("template", "请选择模板"))
    elif template not in TEMPLATES:
        known = "、".join(TEMPLATES)
        problems.append(("template", f"没有名为“{template}”的模板（可用：{known}）"))
    raw_year = str(form.get("year") if form.get("year") is not None else "").strip()
    year = 0
    try:
        year = int(raw_year)
        if not 2000 <= year <= 2100:
            problems.append(("year", f"年份“{raw_year}”无效，应在2000至2100之间"))
    except ValueError:
        problems.append(("year", f"「年份」应为整数，而不是“{raw_year}”"))
    given = {
        field: form[field]
        for field in NEW_CAMPAIGN_FIELDS
        if form.get(field) is not None and str(form[field]).strip() != ""
    }
    values: dict[str, Any] = {}
    try:
        values = inputs.load(NewCampaignSchema(), given)
    except ValidationFailed as e:
        problems += e.problems
    rules = str(form.get("rules") or "").strip() or rulesets.DEFAULT_PRESET
    try:
        rulesets.preset(rules)
        values["rules"] = rules
    except ValidationFailed as e:
        problems += e.problems
    if problems:
        raise ValidationFailed(problems)
    return template, year, values


def _parse(label: str, kind: SettingKind, raw: str) -> Any:
    """``raw`` (a form's text, or an API value as text) read as a setting of ``kind``;
    ValueError with the Chinese message naming the setting."""
    raw = (raw or "").strip()
    if kind == K.TIME:
        if not raw:
            return ""
        try:
            return time.fromisoformat(raw).strftime("%H:%M")
        except ValueError:
            raise ValueError(f"「{label}」应为时间（如 18:00），而不是“{raw}”") from None
    if kind in (K.TEXT, K.LONGTEXT, K.OPTIONAL):
        if kind == K.TEXT and not raw:
            raise ValueError(f"「{label}」不能为空")
        return raw
    if kind == K.YESNO:
        if raw.lower() in YES:
            return True
        if raw.lower() in NO:
            return False
        raise ValueError(f"「{label}」应为“是”或“否”，而不是“{raw}”")
    if kind == K.PREFIX:
        if not raw:
            raise ValueError(f"「{label}」不能为空")
        if len(raw) > MAX_PREFIX:
            raise ValueError(f"「{label}」最多{MAX_PREFIX}个字（“{raw}”有{len(raw)}个）")
        if odd := [c for c in raw if not c.isalpha()]:
            raise ValueError(f"「{label}」只能由文字组成，不能含“{odd[0]}”（年份和序号由系统编排）")
        return raw
    if kind == K.DUE and not raw:
        return None
    if kind in (K.DATE, K.DUE):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"「{label}」应为日期（如 2026-08-15），而不是“{raw}”") from None
    if kind in (K.COUNT, K.DAY, K.NAMED, K.HOURS):
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"「{label}」应为整数，而不是“{raw}”") from None
        if kind == K.COUNT and value < 0:
            raise ValueError(f"「{label}」不能为负数（{value}）")
        if kind == K.COUNT and value > MAX_COUNT:
            raise ValueError(f"「{label}」过大（{value}），应不超过{MAX_COUNT}") from None
        if kind == K.DAY and not 1 <= value <= 28:
            raise ValueError(f"「{label}」应在1至28日之间（{value}）")
        if kind == K.NAMED and not 1 <= value <= MAX_NAMED:
            raise ValueError(f"「{label}」应在1至{MAX_NAMED}个之间（{value}）")
        if kind == K.HOURS and not 1 <= value <= MAX_HOURS:
            raise ValueError(f"「{label}」应在1至{MAX_HOURS}小时之间（{value}）")
        return value
    if kind == K.PERCENT:
        try:
            percent: Decimal | None = Decimal(raw.rstrip("%"))
        except InvalidOperation:
            percent = None
        if percent is None or not percent.is_finite():
            raise ValueError(f"「{label}」应为百分数，而不是“{raw}”")
        exponent = percent.as_tuple().exponent
        assert isinstance(exponent, int)  # not "n", "N" or "F": the value is finite
        if exponent < -2:
            raise ValueError(f"「{label}」最多保留两位小数（{raw}）")
        if not Decimal(0) <= percent <= Decimal(100):
            raise ValueError(f"「{label}」应在0%至100%之间（{percent}%）") from None
        return percent
    raise AssertionError(kind)


# What the OpenAPI document says each kind accepts.
_KIND_DOCUMENTED: dict[SettingKind, dict[str, Any]] = {
    K.TEXT: {"type": "string", "minLength": 1},
    K.LONGTEXT: {"type": "string"},
    K.OPTIONAL: {"type": "string"},
    K.TIME: {"type": "string", "pattern": "^([01]?[0-9]|2[0-3]):[0-5][0-9]$|^$"},
    K.DATE: {"type": "string", "format": "date"},
    K.DUE: {"type": "string", "pattern": "^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    K.COUNT: {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
    K.DAY: {"type": "integer", "minimum": 1, "maximum": 28},
    K.NAMED: {"type": "integer", "minimum": 1, "maximum": MAX_NAMED},
    K.PERCENT: {"type": "number", "minimum": 0, "maximum": 100, "multipleOf": 0.01},
    K.YESNO: {"type": "string", "enum": ["是", "否"]},
    K.HOURS: {"type": "integer", "minimum": 1, "maximum": MAX_HOURS},
    K.PREFIX: {"type": "string", "minLength": 1, "maxLength": MAX_PREFIX},
}
_KIND_NOTES = {
    K.PERCENT: "；最多两位小数，也可写作“85%”",
    K.DATE: "（YYYY-MM-DD）",
    K.DUE: "（YYYY-MM-DD；不填则为集中组建截止日）",
}


class Setting(fields.Field[Any]):
    """A setting of ``kind``: a form's text or an API value (numbers as numbers or text),
    read by ``_parse``; what it refuses is said as ``_parse`` says it."""

    def __init__(self, label: str, kind: SettingKind, **kwargs: Any):
        self.label, self.kind = label, kind
        described = {"description": label + _KIND_NOTES.get(kind, ""), **_KIND_DOCUMENTED[kind]}
        super().__init__(metadata=described, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return _parse(self.label, self.kind, str(value))
        except ValueError as e:
            raise ValidationError(str(e)) from None


def _schema(spec: Mapping[str, tuple[str, SettingKind]], name: str) -> type[Schema]:
    return Schema.from_dict(
        {field: Setting(label, kind) for field, (label, kind) in spec.items()}, name=name
    )


# Any subset of the editable settings, or of a phase's fields.
SettingsSchema = _schema(SETTINGS, "SettingsSchema")
PhaseSchema = _schema(PHASE_FIELDS, "PhaseInputSchema")
NewCampaignSchema = _schema(NEW_CAMPAIGN_FIELDS, "NewCampaignFieldsSchema")


class CampaignCreateSchema(NewCampaignSchema):  # type: ignore[misc,valid-type]  # made by from_dict
    """What ``POST /api/v1/campaigns`` takes: a template and a year, and any of the campaign's
    own texts, report days and dates in place of the template's."""

    template = fields.String(
        required=True,
        metadata={"description": "模板：" + "；".join(f"{c}：{t}" for c, t in TEMPLATE_CHOICES)},
    )
    year = fields.Integer(required=True, metadata={"description": "行动年份（2000至2100）"})
    rules = fields.String(
        metadata={
            "description": "规则预设（不填为 seed-004）："
            + "；".join(f"{c}：{t}" for c, t in rulesets.PRESET_CHOICES)
        }
    )


def settings_from(form: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a form (or the API) gives, read; ValidationFailed naming every one
    that is not what it should be."""
    return inputs.load(SettingsSchema(), form)


def phase_from(form: Mapping[str, Any]) -> dict[str, Any]:
    """A phase's fields a form gives, read; ValidationFailed likewise."""
    return inputs.load(PhaseSchema(), form)


def _check_window(obj: Campaign | Phase, values: Mapping[str, Any]) -> None:
    """Refuse ``values`` (read) if the window would end before it starts, or a phase's lie
    outside its campaign's."""
    starts = values.get("starts_on", obj.starts_on)
    ends = values.get("ends_on", obj.ends_on)
    if isinstance(obj, Phase):
        _check_phase_window(obj.campaign, starts, ends)
    elif ends < starts:
        raise ValidationFailed([("ends_on", f"结束日期（{ends}）不能早于开始日期（{starts}）")])


def _check_phase_window(campaign: Campaign, starts: date, ends: date) -> None:
    """Refuse a phase's window that ends before it starts or lies outside its campaign's."""
    if ends < starts:
        raise ValidationFailed([("ends_on", f"结束日期（{ends}）不能早于开始日期（{starts}）")])
    for field, day in (("starts_on", starts), ("ends_on", ends)):
        if not campaign.starts_on <= day <= campaign.ends_on:
            raise ValidationFailed(
                [
                    (
                        field,
                        f"阶段日期（{day}）应在行动期间"
                        f"（{campaign.starts_on}至{campaign.ends_on}）内",
                    )
                ]
            )


def _check_phases_inside(starts: date, ends: date, phases: list[Phase]) -> None:
    """Refuse a campaign window that would leave one of its phases outside it."""
    outside = [p for p in phases if p.starts_on < starts or p.ends_on > ends]
    if outside:
        names = "、".join(f"“{p.name}”（{p.starts_on}至{p.ends_on}）" for p in outside)
        raise ValidationFailed(
            [("starts_on", f"行动期间（{starts}至{ends}）应包含各阶段：{names}在期间之外")]
        )


def _check_report_days(first: int, second: int) -> None:
    if first >= second:
        raise ValidationFailed([("report_day_second", "第二个半月报送日应晚于第一个")])


def _fresh(session: Session, obj: Campaign | Phase) -> None:
    """Edits of one campaign's settings or phases one at a time, each compared with what the
    one before it saved: the same form posted twice changes (and records) once."""
    campaign_id = obj.id if isinstance(obj, Campaign) else obj.campaign_id
    serialize(session, Campaign.__table__, campaign_id)
    session.refresh(obj)


def update_settings(
    session: Session, campaign: Campaign, values: Mapping[str, Any], user: Actor
) -> dict[str, Any]:
    """Change campaign settings (read by ``settings_from``); all or nothing. Returns what
    changed."""
    _fresh(session, campaign)
    _check_window(campaign, values)
    _check_phases_inside(
        values.get("starts_on", campaign.starts_on),
        values.get("ends_on", campaign.ends_on),
        campaign.phases,
    )
    _check_report_days(
        values.get("report_day_first", campaign.report_day_first),
        values.get("report_day_second", campaign.report_day_second),
    )
    with audit.recorded_change(
        session, campaign, values, user=user, action="campaign.settings"
    ) as change:
        for field, value in values.items():
            setattr(campaign, field, value)
    session.flush()
    changed = {field: values[field] for field in change.after}
    if changed:
        events.publish(session, events.SettingsChanged(campaign, changed, user=user))
    return changed


def update_phase(
    session: Session, phase: Phase, values: Mapping[str, Any], user: Actor
) -> dict[str, Any]:
    """Change a phase's name, window or deliverable (read by ``phase_from``); all or nothing."""
    _fresh(session, phase)
    _check_window(phase, values)
    with audit.recorded_change(session, phase, values, user=user, action="phase.update") as change:
        for field, value in values.items():
            setattr(phase, field, value)
    session.flush()
    return {field: values[field] for field in change.after}


PHASE_RECORD = ["position", "code", "name", "starts_on", "ends_on", "deliverable"]


def add_phase(
    session: Session, campaign: Campaign, values: Mapping[str, Any], user: Actor
) -> Phase:
    """A new phase at the end of ``campaign``'s (name and window required, inside the
    campaign's); recorded. The same phase posted twice is added once."""
    _fresh(session, campaign)
    missing = [
        (field, f"「{PHASE_FIELDS[field][0]}」不能为空")
        for field in ("name", "starts_on", "ends_on")
        if field not in values
    ]
    if missing:
        raise ValidationFailed(missing)
    if any(p.name == values["name"] for p in campaign.phases):
        raise Conflict(f"已有阶段“{values['name']}”，未重复添加")
    _check_phase_window(campaign, values["starts_on"], values["ends_on"])
    phase = Phase(
        campaign_id=campaign.id,
        position=len(campaign.phases) + 1,
        code=_free_code(campaign),
        name=values["name"],
        starts_on=values["starts_on"],
        ends_on=values["ends_on"],
        deliverable=values.get("deliverable", ""),
    )
    session.add(phase)
    session.flush()
    session.expire(campaign, ["phases"])
    audit.record(
        session,
        user=user,
        action="phase.create",
        obj_type="phase",
        obj_id=phase.id,
        after=audit.snapshot(phase, PHASE_RECORD),
    )
    return phase


def _free_code(campaign: Campaign) -> str:
    taken = {p.code for p in campaign.phases}
    return next(f"p{n}" for n in range(len(taken) + 1, len(taken) + 100) if f"p{n}" not in taken)


def _renumber(session: Session, campaign: Campaign, ordered: list[Phase]) -> None:
    """Give ``ordered`` the positions 1..n (through negatives first: a position is unique
    in its campaign at every flush)."""
    for i, phase in enumerate(ordered, start=1):
        phase.position = -i
    session.flush()
    for i, phase in enumerate(ordered, start=1):
        phase.position = i
    session.flush()
    session.expire(campaign, ["phases"])


def move_phase(session: Session, phase: Phase, offset: int, user: Actor) -> bool:
    """Move ``phase`` ``offset`` places earlier (negative) or later in its campaign's order;
    recorded. Returns whether it moved (not at the first or last place already)."""
    _fresh(session, phase)
    campaign = phase.campaign
    ordered = list(campaign.phases)
    at = ordered.index(phase)
    to = max(0, min(len(ordered) - 1, at + offset))
    if to == at:
        return False
    before = [p.name for p in ordered]
    ordered.insert(to, ordered.pop(at))
    _renumber(session, campaign, ordered)
    audit.record(
        session,
        user=user,
        action="phase.move",
        obj_type="campaign",
        obj_id=campaign.id,
        before={"phases": before},
        after={"phases": [p.name for p in ordered], "moved": phase.name},
    )
    return True


def remove_phase(session: Session, phase: Phase, user: Actor) -> None:
    """Remove ``phase`` from its campaign with what it asks of the units (its deliverables
    and their tasks), refused with the reason while any unit has delivered work for it;
    recorded with what it was."""
    _fresh(session, phase)
    campaign = phase.campaign
    veto = events.PhaseRemoving(phase, user=user)
    events.publish(session, veto)
    if veto.problems:
        raise ValidationFailed(veto.problems)
    before, phase_id = audit.snapshot(phase, PHASE_RECORD), phase.id
    events.publish(session, events.PhaseRemoved(phase, user=user))
    rest = [p for p in campaign.phases if p is not phase]
    session.delete(phase)
    session.flush()
    _renumber(session, campaign, rest)
    audit.record(
        session,
        user=user,
        action="phase.delete",
        obj_type="phase",
        obj_id=phase_id,
        before={**before, "campaign": campaign.id},
    )


@dataclass(frozen=True)
class Deadline:
    day: date
    label: str

    def days_left(self, today: date) -> int:
        return (self.day - today).days


def report_due_days(campaign: Campaign) -> list[date]:
    """Every half-monthly due date (the 10th and 25th by default) while the campaign runs."""
    days, month = [], date(campaign.starts_on.year, campaign.starts_on.month, 1)
    while month <= campaign.ends_on:
        for d in (campaign.report_day_first, campaign.report_day_second):
            day = month.replace(day=d)
            if campaign.starts_on <= day <= campaign.ends_on:
                days.append(day)
        month = (month + timedelta(days=32)).replace(day=1)
    return days


def deadlines(campaign: Campaign) -> list[Deadline]:
    """Phase deadlines and report due days, in date order."""
    items = [Deadline(p.ends_on, f"{p.name}截止") for p in campaign.phases]
    items += [Deadline(d, "半月报送截止") for d in report_due_days(campaign)]
    return sorted(items, key=lambda d: (d.day, d.label))


def next_deadline(campaign: Campaign, today: date) -> Deadline | None:
    """The first deadline on or after ``today`` (a deadline runs to the end of its day)."""
    return next((d for d in deadlines(campaign) if d.day >= today), None)


def current_phases(campaign: Campaign, today: date) -> list[Phase]:
    """The phases in force on ``today``."""
    return [p for p in campaign.phases if p.starts_on <= today <= p.ends_on]


def build_deadline(campaign: Campaign) -> date:
    """The 集中组建 deadline: the end of the "build" phase, else of the campaign."""
    return next((p.ends_on for p in campaign.phases if p.code == "build"), campaign.ends_on)


def latest_campaign(session: Session) -> Campaign | None:
    """The campaign shown by default: the most recent one."""
    return session.scalar(select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc()))


@dataclass(frozen=True)
class TimelineView:
    """Where a campaign stands on a given day, for the timeline bar."""

    campaign: Campaign
    today: date
    in_force: list[Phase]
    next: Deadline | None
    progress: float  # share of the campaign's days passed, 0..1

    def offset(self, day: date) -> float:
        """Position of ``day`` on the bar, in percent of the campaign's span."""
        span = (self.campaign.ends_on - self.campaign.starts_on).days + 1  # both ends included
        return max(0.0, min(100.0, (day - self.campaign.starts_on).days * 100 / span))

    def state(self, phase: Phase) -> str:
        """ "done", "now" or "" (not started) for a phase on this day."""
        if phase.ends_on < self.today:
            return "done"
        return "now" if phase.starts_on <= self.today else ""

    def width(self, starts: date, ends: date) -> float:
        return max(0.8, self.offset(ends + timedelta(days=1)) - self.offset(starts))


def timeline_view(campaign: Campaign, today: date) -> TimelineView:
    """The campaign's timeline as seen on ``today``."""
    span = (campaign.ends_on - campaign.starts_on).days + 1
    passed = (today - campaign.starts_on).days + 1
    return TimelineView(
        campaign=campaign,
        today=today,
        in_force=current_phases(campaign, today),
        next=next_deadline(campaign, today),
        progress=max(0.0, min(1.0, passed / span)),
    )


# ---- the bulletin's own texts ----------------------------------------------------------


def bulletin_title(campaign: Campaign, number: int) -> str:
    """关于{the campaign's subject}的通报（第N期）: the campaign's own words, none of another
    city's (a campaign without a subject is named by its name)."""
    subject = campaign.bulletin_subject or f"{campaign.name}工作进展情况"
    return f"关于{subject}的通报（第{number}期）"


def bulletin_masthead(campaign: Campaign) -> str:
    """The bulletin's 发文机关标志 (GB/T 9704): the campaign's own, else its issuing body with
    文件."""
    return campaign.masthead or f"{campaign.issuing_body}文件"


def bulletin_time(campaign: Campaign, default: time) -> time:
    """The time of day of the bulletin's cut-off: the campaign's own, else ``default`` (the
    installation's BULLETIN_TIME)."""
    return time.fromisoformat(campaign.bulletin_time) if campaign.bulletin_time else default
