"""Changing a campaign's rule set: checked whole, recorded as one act with its effect, and
followed by the ledger (judged again) and the board (items opened, closed, reopened).

Before any unit's base is approved a coordinator changes the rules freely; after, a change
is first previewed (``change_rules`` run and rolled back by the caller) and takes effect only
when confirmed. The effect is read from the ledger by the rules' own conditions: which
organizations fall short of their target before and after (exactly the board's open items of
the approved units, rules.MET being one truth for both), and the figures before and after.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaign import audit, figures, rulesets
from campaign.core import events
from campaign.core.db import Session, serialize
from campaign.core.errors import ValidationFailed
from campaign.core.models import Actor, Campaign

CONFIRM_AFTER_BASELINE = (
    "党建基数已审核确定：修改规则须先预览其影响（新增、不再需要的攻坚事项和指标变化），确认后生效"
)


@dataclass(frozen=True)
class RulesEffect:
    """What a change of the rule set does: organizations that come short of their target
    (new board items) and those no longer short (items closed), the figures before and
    after, and the rule lines before and after."""

    opened: list[int]
    closed: list[int]
    before: figures.Figures
    after: figures.Figures
    lines_before: list[str]
    lines_after: list[str]

    @property
    def changed(self) -> bool:
        return self.lines_before != self.lines_after


def _ratio(f: figures.Figures) -> str:
    c = f.counts
    rate = f"{c.required_met / c.required:.1%}" if c.required else "—"
    return f"{c.required_met}/{c.required}（{rate}）"


def figures_text(before: figures.Figures, after: figures.Figures) -> str:
    """The figures the rules decide, before → after, in plain Chinese."""
    b, a = before.counts, after.counts
    parts = [f"应建尽建率 {_ratio(before)} → {_ratio(after)}"]
    for target, label in (
        ("standalone", "应单独组建"),
        ("party_org", "应建党组织"),
        ("member", "应有党员"),
        ("work_coverage", "实现工作覆盖"),
    ):
        due_b, due_a = getattr(b, f"due_{target}"), getattr(a, f"due_{target}")
        short_b, short_a = b.short(target), a.short(target)  # type: ignore[arg-type]
        if (due_b, short_b) != (due_a, short_a):
            parts.append(f"{label} {due_b}个（未达{short_b}个）→ {due_a}个（未达{short_a}个）")
    return "；".join(parts)


def change_rules(
    session: Session,
    campaign: Campaign,
    stored: Mapping[str, Any],
    user: Actor,
    settings: Mapping[str, int] | None = None,
    *,
    confirmed: bool = False,
) -> RulesEffect:
    """Give ``campaign`` the rule set ``stored`` (and the ``settings`` its rules name),
    checked whole; the ledger is judged again and the board follows (RulesChanged), all
    recorded as one act with its effect. After the base is approved only ``confirmed``
    (the caller previewed the effect by running this and rolling back)."""
    serialize(session, Campaign.__table__, campaign.id)
    session.refresh(campaign)
    rulesets.rules_from(stored)  # ValidationFailed naming rule and field
    settings = rulesets.settings_from({"settings": dict(settings or {})})
    if rulesets.baseline_approved(session, campaign) and not confirmed:
        raise ValidationFailed([("confirm", CONFIRM_AFTER_BASELINE)])
    lines_before = rulesets.rule_lines(rulesets.rule_set_of(campaign))
    settings_before = {k: getattr(campaign, k) for k in settings}
    short_before = rulesets.short_ids(session, campaign)
    before = figures.overall(session, campaign)
    campaign.rule_set = dict(stored)
    for key, value in settings.items():
        setattr(campaign, key, value)
    session.flush()
    events.publish(session, events.RulesChanged(campaign, user=user))
    short_after = rulesets.short_ids(session, campaign)
    after = figures.overall(session, campaign)
    effect = RulesEffect(
        opened=sorted(short_after - short_before),
        closed=sorted(short_before - short_after),
        before=before,
        after=after,
        lines_before=lines_before,
        lines_after=rulesets.rule_lines(rulesets.rule_set_of(campaign)),
    )
    changed_settings = {k: v for k, v in settings.items() if settings_before[k] != v}
    if effect.changed or changed_settings:
        audit.record(
            session,
            user=user,
            action="campaign.rules",
            obj_type="campaign",
            obj_id=campaign.id,
            before={"rules": lines_before, **{k: settings_before[k] for k in changed_settings}},
            after={
                "rules": effect.lines_after,
                **changed_settings,
                "items_opened": len(effect.opened),
                "items_closed": len(effect.closed),
                "figures_change": figures_text(before, after),
            },
        )
    return effect


def rules_from_form(
    campaign: Campaign, form: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, int]]:
    """The rule set (and settings) a rules page's form gives: a preset by name (``preset``),
    the current rules with those checked in ``enabled`` switched on (``toggle``), or a YAML
    text (``yaml``). ValidationFailed naming rule and field."""
    if form.get("preset"):
        return rulesets.preset_data(str(form["preset"])), {}
    if form.get("toggle"):
        data = dict(campaign.rule_set or rulesets.preset_data(rulesets.DEFAULT_PRESET))
        on = (
            set(form.getlist("enabled"))
            if hasattr(form, "getlist")
            else set(form.get("enabled", []))
        )
        data["rules"] = [{**r, "enabled": str(i) in on} for i, r in enumerate(data["rules"], 1)]
        return data, {}
    text = str(form.get("yaml") or "")
    if not text.strip():
        raise ValidationFailed([("yaml", "请选择预设、勾选规则，或填写规则文件（YAML）")])
    return rulesets.read_yaml(text)
