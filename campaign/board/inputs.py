"""What the board's pages and API accept: the schemas (the OpenAPI document is made from
them) and the typed values the services take (campaign.core.inputs). No Flask here: the
services import it (the API adds the uploads)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from campaign.board.models import (
    ANY_OPEN,
    BoardItem,
    CheckKind,
    Closure,
    ClosureMethod,
    ItemState,
    SizeMode,
    SpotCheck,
    SpotCheckResult,
)
from campaign.core.inputs import Choice, Count, Day, Input, text
from campaign.core.paging import MAX_PAGE, PAGE_RANGE
from campaign.core.vocab import JOINT_FORMS, OrgKind
from campaign.core.vocab import Path as RulePath

CHECKLIST = {
    "document": "批复文件真实有效",
    "members": "正式党员人数属实",
    "secretary": "书记（负责人）已明确",
    "activities": "组织生活正常开展",
}
_JOINT_FORM = {
    "enum": ["", *JOINT_FORMS],
    "description": f"联合组建方式（联合组建时必填）：{'、'.join(JOINT_FORMS)}",
}


class CreditCodes(fields.String):
    """Credit codes separated by commas (either width) or line breaks, read in any case."""

    # A string to the OpenAPI document, read as a tuple (marshmallow types String's
    # ``_deserialize`` as returning str).
    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> tuple[str, ...]:
        raw = super()._deserialize(value, attr, data, **kwargs)
        parts = raw.replace("，", ",").replace("\n", ",").split(",")
        return tuple(p.strip().upper() for p in parts if p.strip())


# ---- the plan (一企一策) ---------------------------------------------------------------


class PlanSchema(Schema):
    """An item's plan; a field left out keeps what the item has (PATCH)."""

    path = Choice(RulePath, "「推进路径」无效：{input}")
    joint_form = fields.String(metadata=_JOINT_FORM)
    measures = text(BoardItem.measures)
    planned_on = Day("计划完成时间", optional=True)
    responsible_person = text(BoardItem.responsible_person)


@dataclass(frozen=True)
class Plan(Input):
    """An item's plan as the unit sets it; ``path`` None keeps the item's path."""

    path: RulePath | None = None
    joint_form: str = ""
    measures: str = ""
    planned_on: date | None = None
    responsible_person: str = ""

    @classmethod
    def from_form(cls, form: Any) -> "Plan":
        return cls.read(PlanSchema(), form)

    @classmethod
    def of(cls, item: BoardItem, **changes: Any) -> "Plan":
        """The item's plan as it stands, with ``changes``."""
        return cls(
            **{
                "path": item.path,
                "joint_form": item.joint_form or "",
                "measures": item.measures or "",
                "planned_on": item.planned_on,
                "responsible_person": item.responsible_person or "",
                **changes,
            }
        )


# ---- 销号 ------------------------------------------------------------------------------


class ClosureSchema(Schema):
    """A 销号 claim; the approving document is uploaded beside it."""

    method = Choice(
        ClosureMethod,
        "请选择组建方式",
        required=True,
        error_messages={"required": "请选择组建方式"},
    )
    joint_form = fields.String(load_default="", metadata=_JOINT_FORM)
    party_org_name = text(Closure.party_org_name, load_default="")
    established_on = Day("成立时间", load_default=None)
    formal_members = Count("正式党员数", load_default=0)
    secretary = text(Closure.secretary, load_default="")
    instructor = text(Closure.instructor, load_default="")
    mass_organizations = text(Closure.mass_organizations, load_default="")
    covered_codes = CreditCodes(
        load_default=tuple,
        metadata={"description": "联合组建覆盖的本单位其他组织的统一社会信用代码，逗号或换行分隔"},
    )


@dataclass(frozen=True)
class ClosureClaim(Input):
    """What a unit claims 销号 with (the document aside)."""

    method: ClosureMethod | None = None
    joint_form: str = ""
    party_org_name: str = ""
    established_on: date | None = None
    formal_members: int = 0
    secretary: str = ""
    instructor: str = ""
    mass_organizations: str = ""
    covered_codes: tuple[str, ...] = ()

    @classmethod
    def from_form(cls, form: Any) -> "ClosureClaim":
        return cls.read(ClosureSchema(), form)


class ReasonSchema(Schema):
    reason = text(
        Closure.decision_reason,
        load_default="",
        metadata={"description": "退回理由（退回时必填）"},
    )


# ---- spot checks and the look-back -----------------------------------------------------

DRAW_SIZE = "抽查数量应为正整数，或1至100之间的百分比"


def _seed_in_range(seed: int | None) -> None:
    # Range would compare a seed left empty (None: one is drawn) and fail with a TypeError.
    if seed is not None and seed > 2**63 - 1:
        raise ValidationError("「随机种子」过大")


class DrawSchema(Schema):
    kind = Choice(CheckKind, "「类型」无效：{input}", load_default=CheckKind.SPOT_CHECK)
    mode = Choice(SizeMode, DRAW_SIZE, load_default=SizeMode.COUNT)
    size = fields.Integer(
        required=True,
        validate=validate.Range(min=1, error=DRAW_SIZE),
        error_messages={"invalid": DRAW_SIZE, "required": DRAW_SIZE},
        metadata={"description": "抽取数量（count），或百分比 1-100（percent）"},
    )
    seed = Count(
        "随机种子",
        blank=None,
        metadata={"description": "随机种子；不给则自动生成并记录"},
        load_default=None,
        validate=_seed_in_range,
    )
    units = fields.List(
        fields.String(), load_default=list, metadata={"description": "单位代码；不给为全部"}
    )
    note = text(SpotCheck.note, load_default="")


class ResultSchema(Schema):
    passed = fields.Boolean(required=True, metadata={"description": "合格为 true"})
    notes = text(SpotCheckResult.notes, load_default="")
    checklist = fields.Dict(
        keys=fields.String(validate=validate.OneOf(list(CHECKLIST))),
        values=fields.Boolean(),
        load_default=dict,
        metadata={"description": "；".join(f"{k}：{v}" for k, v in CHECKLIST.items())},
    )


# ---- reading the board -----------------------------------------------------------------


class ItemQuerySchema(Schema):
    unit = fields.String(required=True, metadata={"description": "单位代码"})
    state = fields.String(
        load_default=ANY_OPEN,
        validate=validate.OneOf(
            [ANY_OPEN, *ItemState],
            error="「状态」应为 open（全部未销号）或 " + "、".join(ItemState) + "，而不是“{input}”",
        ),
        metadata={
            "enum": [ANY_OPEN, *(s.value for s in ItemState)],
            "description": "open：全部未销号；"
            + "；".join(f"{s.value}：{s.label}" for s in ItemState),
        },
    )
    q = fields.String(load_default="", metadata={"description": "组织名称或统一社会信用代码"})
    kind = Choice(OrgKind, "「类型」无效：{input}", optional=True, load_default=None)
    path = Choice(RulePath, "「推进路径」无效：{input}", optional=True, load_default=None)
    person = fields.String(load_default="", metadata={"description": "责任人（包含）"})
    overdue = fields.Boolean(load_default=False, metadata={"description": "只看逾期"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE, error=PAGE_RANGE))
