"""The campaign's targets: what 党组织覆盖率, 应建尽建率 and 工作覆盖率 must reach, city-wide
(the campaign's settings), per kind of organization (seed 000: "非公经济组织党组织覆盖率不低于X%、
社会组织党组织覆盖率不低于X%") and per unit (seed 000: counties already above the standard "要
严谨制定切实可行的提升目标"; a unit's own target overrides the city's).

``Targets.of`` is the one answer to "what is unit U's target for rate R (and kind K)": the
overview, the wall chart and the bulletin compare each unit with it. No Flask here.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import ForeignKey, Numeric, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign import audit
from campaign.core import inputs
from campaign.core.campaigns import K, Setting
from campaign.core.db import Base, Session, serialize
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Actor, Campaign, Unit
from campaign.core.text import text_field
from campaign.core.vocab import Labelled, OrgKind
from campaign.figures import Counts


class Rate(Labelled):
    """A rate that has a target (DOMAIN.md §6)."""

    PARTY_ORG_COVERAGE = "party_org_coverage", "党组织覆盖率"
    REQUIRED_COVERAGE = "required_coverage", "应建尽建率"
    WORK_COVERAGE = "work_coverage", "工作覆盖率"


class Scope(Labelled):
    """Which organizations a target is for: all of them, or one kind."""

    ALL = "all", "全部组织"
    ENTERPRISE = OrgKind.ENTERPRISE.value, OrgKind.ENTERPRISE.label
    SOCIAL = OrgKind.SOCIAL.value, OrgKind.SOCIAL.label


# The campaign's setting that holds each rate's city-wide target.
CITY_SETTING = {
    Rate.PARTY_ORG_COVERAGE: "target_party_org_coverage",
    Rate.REQUIRED_COVERAGE: "target_required_coverage",
    Rate.WORK_COVERAGE: "target_work_coverage",
}
# Each rate's part and whole (fields of figures.Counts).
PARTS = {
    Rate.PARTY_ORG_COVERAGE: ("with_party_org", "base"),
    Rate.REQUIRED_COVERAGE: ("required_met", "required"),
    Rate.WORK_COVERAGE: ("work_covered", "base"),
}
REASON_LENGTH = 200


class RateTarget(Base):
    """A target of the campaign other than its city-wide settings: for one kind of
    organization (``unit_id`` empty: city-wide), or for one unit (of every kind, or one)."""

    __tablename__ = "rate_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    rate: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(20), default=Scope.ALL.value)
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    reason: Mapped[str] = mapped_column(String(REASON_LENGTH), default="", info=text_field("理由"))

    unit: Mapped[Unit | None] = relationship()


@dataclass(frozen=True)
class Goal:
    """One target as it applies: the percent, and whose it is ("city", "kind" or "unit")."""

    rate: Rate
    percent: Decimal
    source: str = "city"
    reason: str = ""

    @property
    def own(self) -> bool:
        """Whether it is the unit's own target (not the city's)."""
        return self.source == "unit"

    @property
    def text(self) -> str:
        """As shown: "80%", or "75%（本单位）" where it is the unit's own."""
        shown = f"{self.percent.normalize():f}%"
        return shown + ("（本单位）" if self.own else "")

    def reaches(self, counts: Counts) -> bool | None:
        """Whether ``counts`` reach it, in exact integers (None without a whole)."""
        part, whole = (getattr(counts, name) for name in PARTS[self.rate])
        if not whole:
            return None
        return part * 10000 >= int(self.percent * 100) * whole

    def gap(self, counts: Counts) -> int:
        """How many more organizations must count for ``counts`` to reach it."""
        part, whole = (getattr(counts, name) for name in PARTS[self.rate])
        needed = -(-whole * int(self.percent * 100) // 10000)  # ceiling
        return max(0, needed - part)

    def as_dict(self, counts: Counts) -> dict[str, Any]:
        """JSON-ready, with whether ``counts`` reach it and what they lack (the bulletin's)."""
        return {
            "percent": f"{self.percent:.2f}",
            "source": self.source,
            "own": self.own,
            "reaches": self.reaches(counts),
            "gap": self.gap(counts),
        }


class Targets:
    """A campaign's targets, read once (one query): ``of`` answers for any unit and kind."""

    def __init__(self, campaign: Campaign, rows: Iterable[RateTarget]) -> None:
        self.campaign = campaign
        self.rows = sorted(rows, key=lambda r: (r.unit_id or 0, r.rate, r.kind))
        self._by = {(r.unit_id, r.rate, r.kind): r for r in self.rows}

    def of(self, rate: Rate | str, unit_id: int | None = None, kind: str | None = None) -> Goal:
        """Unit ``unit_id``'s target for ``rate`` over organizations of ``kind`` (None: all):
        its own for that kind, else its own, else the city's for that kind, else the city's."""
        rate = Rate(rate)
        kinds = [kind, Scope.ALL.value] if kind else [Scope.ALL.value]
        if unit_id is not None:
            for k in kinds:
                if row := self._by.get((unit_id, rate.value, k)):
                    return Goal(rate, Decimal(row.percent), "unit", row.reason)
        if kind and (row := self._by.get((None, rate.value, kind))):
            return Goal(rate, Decimal(row.percent), "kind", row.reason)
        return Goal(rate, Decimal(getattr(self.campaign, CITY_SETTING[rate])))

    @property
    def by_kind(self) -> bool:
        """Whether any target is set for one kind of organization (city-wide)."""
        return any(r.unit_id is None and r.kind != Scope.ALL.value for r in self.rows)

    def all_of(self, unit_id: int | None, counts: Counts, kind: str | None = None) -> dict:
        """Every rate's target for a unit (None: the city) with whether ``counts`` reach it."""
        return {rate.value: self.of(rate, unit_id, kind).as_dict(counts) for rate in Rate}


def load(session: Session, campaign: Campaign) -> Targets:
    """``campaign``'s targets."""
    rows = session.scalars(select(RateTarget).where(RateTarget.campaign_id == campaign.id))
    return Targets(campaign, rows)


# ---- editing: the settings page's table, the API ---------------------------------------


class RateTargetSchema(Schema):
    """One target: for a unit (its code; empty: city-wide), a kind, a rate, a percent and,
    optionally, why."""

    unit = fields.String(
        load_default="", metadata={"description": "单位代码（不填为全市按组织类型的目标）"}
    )
    kind = fields.String(
        load_default=Scope.ALL.value,
        validate=validate.OneOf(
            [s.value for s in Scope], error="「组织类型」应为全部组织、非公企业或社会组织"
        ),
        metadata={"description": "组织类型：" + "；".join(f"{v}：{t}" for v, t in Scope.choices())},
    )
    rate = fields.String(
        required=True,
        error_messages={"required": "「指标」必填"},
        validate=validate.OneOf(
            [r.value for r in Rate], error="「指标」应为党组织覆盖率、应建尽建率或工作覆盖率"
        ),
        metadata={"description": "指标：" + "；".join(f"{v}：{t}" for v, t in Rate.choices())},
    )
    percent = Setting(
        "目标（%）", K.PERCENT, required=True, error_messages={"required": "「目标（%）」必填"}
    )
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=REASON_LENGTH, error=f"「理由」最多{REASON_LENGTH}个字"),
        metadata={"description": "理由（可不填）"},
    )


def target_from(form: Mapping[str, Any]) -> dict[str, Any]:
    """One target a form (or the API) gives, read; ValidationFailed naming what is wrong."""
    return inputs.load(RateTargetSchema(), form)


def _plain(percent: Decimal) -> str:
    """80.00 -> "80", 76.50 -> "76.5" (as the settings page shows it)."""
    return f"{Decimal(percent).normalize():f}"


def listed(goals: Targets) -> list[dict[str, Any]]:
    """The targets other than the city-wide settings, JSON-ready (the API's answer)."""
    return [
        {
            "id": r.id,
            "unit": r.unit.code if r.unit else None,
            "unit_name": r.unit.name if r.unit else "全市",
            "kind": r.kind,
            "rate": r.rate,
            "percent": _plain(r.percent),
            "reason": r.reason,
        }
        for r in goals.rows
    ]


def _recorded(row: RateTarget) -> dict[str, Any]:
    return {
        "unit": row.unit.name if row.unit else "全市",
        "kind": row.kind,
        "rate": row.rate,
        "percent": _plain(row.percent),
        "reason": row.reason,
    }


def set_target(
    session: Session, campaign: Campaign, values: Mapping[str, Any], user: Actor
) -> RateTarget | None:
    """Set one target (read by ``target_from``): a unit's own, or the city's for one kind;
    the same unit, kind and rate again changes it. Recorded before and after; returns the
    target, or None when nothing changed."""
    serialize(session, Campaign.__table__, campaign.id)  # one edit of the campaign at a time
    code = str(values.get("unit") or "").strip()
    reason = str(values.get("reason") or "").strip()
    kind = values.get("kind") or Scope.ALL.value
    unit_id = None
    if code:
        unit = session.scalar(select(Unit).where(Unit.code == code))
        if unit is None or not unit.is_responsible:
            raise ValidationFailed([("unit", f"没有代码为“{code}”的责任单位")])
        unit_id = unit.id
    elif kind == Scope.ALL.value:
        label = Rate(values["rate"]).label
        problem = f"全市{label}目标请在上方“{label}目标（%）”中修改；此处设置单位或组织类型的目标"
        raise ValidationFailed([("unit", problem)])
    row = session.scalar(
        select(RateTarget).where(
            RateTarget.campaign_id == campaign.id,
            RateTarget.unit_id.is_(None) if unit_id is None else RateTarget.unit_id == unit_id,
            RateTarget.rate == values["rate"],
            RateTarget.kind == kind,
        )
    )
    before = _recorded(row) if row else {}
    if row is None:
        row = RateTarget(campaign_id=campaign.id, unit_id=unit_id, rate=values["rate"], kind=kind)
        session.add(row)
    row.percent, row.reason = values["percent"], reason
    session.flush()
    session.refresh(row)
    after = _recorded(row)
    if before == after:
        return None
    changed = [k for k in after if before.get(k) != after[k]] if before else list(after)
    keys = ["unit", "kind", "rate"]
    audit.record(
        session,
        user=user,
        action="target.set",
        obj_type="rate_target",
        obj_id=row.id,
        before={k: before[k] for k in dict.fromkeys(keys + changed)} if before else None,
        after={k: after[k] for k in dict.fromkeys(keys + changed)},
    )
    return row


def remove_target(session: Session, campaign: Campaign, target_id: int, user: Actor) -> str:
    """Remove one target (the unit or kind then has the city's again); recorded with what it
    was. Returns what it was, in words."""
    serialize(session, Campaign.__table__, campaign.id)
    row = session.get(RateTarget, target_id)
    if row is None or row.campaign_id != campaign.id:
        raise Conflict("该目标已删除，未重复删除")
    before = _recorded(row)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        user=user,
        action="target.remove",
        obj_type="rate_target",
        obj_id=target_id,
        before=before,
    )
    return describe(before)


def describe(recorded: Mapping[str, Any]) -> str:
    """A target in words: "江岸区非公企业党组织覆盖率目标"."""
    kind = recorded["kind"]
    scope = Scope(kind).label if kind != Scope.ALL.value else ""
    return f"{recorded['unit']}{scope}{Rate(recorded['rate']).label}目标"
