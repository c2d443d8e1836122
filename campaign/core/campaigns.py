"""Creating campaigns from templates, editing settings and phases, deadlines."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from marshmallow import Schema, ValidationError, fields
from sqlalchemy import select

from campaign import audit
from campaign.core import events, inputs
from campaign.core.db import Session, serialize
from campaign.core.errors import ValidationFailed
from campaign.core.models import Actor, Campaign, CityProfile, Phase
from campaign.core.templates import TEMPLATES


class SettingKind(StrEnum):
    """What a setting holds, and so how a form's text or an API value is read."""

    TEXT = "text"  # one line, not empty
    LONGTEXT = "longtext"  # several lines, may be empty
    DATE = "date"
    COUNT = "count"  # a number of people: a rule threshold
    DAY = "day"  # a day of the month, 1-28
    PERCENT = "percent"  # 0-100, two decimals at most; "85%" reads as 85
    NAMED = "named"  # how many units a bulletin names, 1-10
    YESNO = "yesno"  # 是 / 否
    HOURS = "hours"  # a number of hours, 1-168
    PREFIX = "prefix"  # a 发文字号's prefix ("武组专"): 1-12 characters, no digits or brackets


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
    "target_party_org_coverage": ("党组织覆盖率目标（%）", K.PERCENT),
    "target_required_coverage": ("应建尽建率目标（%）", K.PERCENT),
    "bulletin_named_units": ("通报点名的后进单位数", K.NAMED),
    "bulletin_review": ("通报须经审核签发后发布", K.YESNO),
    "bulletin_sign_hours": ("草稿截止后多少小时未签发即提醒签发人", K.HOURS),
    "document_prefix": ("发文字号前缀（如“武组专”）", K.PREFIX),
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


def create_from_template(
    session: Session, template: str, year: int, user: Actor = None, shift_days: int = 0
) -> Campaign:
    """A new campaign from ``template`` with every phase shifted to ``year``, for the city
    and issuing body of the city's profile (`flask init`), else the template's.
    ``shift_days`` moves every date further by that many days (the demo places its campaign
    around today)."""
    try:
        tpl = TEMPLATES[template]
    except KeyError:
        known = "、".join(TEMPLATES)
        problem = f"没有名为“{template}”的模板（可用：{known}）"
        raise ValidationFailed([("template", problem)]) from None
    if not 2000 <= year <= 2100:
        raise ValidationFailed([("year", f"年份“{year}”无效，应在2000至2100之间")])
    # The city `flask init` set up, if any, over the template's own (seed 004's Wuhan).
    profile = session.get(CityProfile, 1)
    city = profile.city_name if profile else tpl.city_name
    shift = timedelta(days=shift_days)
    campaign = Campaign(
        name=tpl.name.format(city=city, year=year),
        year=year,
        template=tpl.code,
        city_name=city,
        issuing_body=profile.issuing_body if profile else tpl.issuing_body,
        starts_on=date(year, *tpl.starts) + shift,
        ends_on=date(year, *tpl.ends) + shift,
    )
    campaign.phases = [
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
    session.add(campaign)
    session.flush()
    audit.record(
        session,
        user=user,
        action="campaign.create",
        obj_type="campaign",
        obj_id=campaign.id,
        after={"name": campaign.name, "template": template, "year": year},
    )
    events.publish(session, events.CampaignCreated(campaign, template, user=user))
    return campaign


def _parse(label: str, kind: SettingKind, raw: str) -> Any:
    """``raw`` (a form's text, or an API value as text) read as a setting of ``kind``;
    ValueError with the Chinese message naming the setting."""
    raw = (raw or "").strip()
    if kind in (K.TEXT, K.LONGTEXT):
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
    if kind == K.DATE:
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
    K.DATE: {"type": "string", "format": "date"},
    K.COUNT: {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
    K.DAY: {"type": "integer", "minimum": 1, "maximum": 28},
    K.NAMED: {"type": "integer", "minimum": 1, "maximum": MAX_NAMED},
    K.PERCENT: {"type": "number", "minimum": 0, "maximum": 100, "multipleOf": 0.01},
    K.YESNO: {"type": "string", "enum": ["是", "否"]},
    K.HOURS: {"type": "integer", "minimum": 1, "maximum": MAX_HOURS},
    K.PREFIX: {"type": "string", "minLength": 1, "maxLength": MAX_PREFIX},
}
_KIND_NOTES = {K.PERCENT: "；最多两位小数，也可写作“85%”", K.DATE: "（YYYY-MM-DD）"}


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


def settings_from(form: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a form (or the API) gives, read; ValidationFailed naming every one
    that is not what it should be."""
    return inputs.load(SettingsSchema(), form)


def phase_from(form: Mapping[str, Any]) -> dict[str, Any]:
    """A phase's fields a form gives, read; ValidationFailed likewise."""
    return inputs.load(PhaseSchema(), form)


def _check_window(obj: Campaign | Phase, values: Mapping[str, Any]) -> None:
    """Refuse ``values`` (read) if the window would end before it starts."""
    starts = values.get("starts_on", obj.starts_on)
    ends = values.get("ends_on", obj.ends_on)
    if ends < starts:
        raise ValidationFailed([("ends_on", f"结束日期（{ends}）不能早于开始日期（{starts}）")])


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
    first = values.get("report_day_first", campaign.report_day_first)
    second = values.get("report_day_second", campaign.report_day_second)
    if first >= second:
        raise ValidationFailed([("report_day_second", "第二个半月报送日应晚于第一个")])
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
