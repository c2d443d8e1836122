"""What the unit pages, the units API and the units xlsx accept: the schemas (the OpenAPI
document is made from them) and the typed values campaign.core.units takes. No Flask.

A unit's name is checked as it will be stored (control characters, length) by the flush
guard's rules; its code's form, its kind against its parent's, and the tree by the service,
which reports every problem at once.
"""

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields

from campaign.core.inputs import Choice, Count, Input, messages_required, messages_text, text
from campaign.core.models import Unit
from campaign.core.vocab import UnitKind

CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_\-]{0,39}"
CODE_RULE = "1至40个字符：字母、数字、下划线或连字符，以字母或数字开头"
KIND_REFUSED = "「类型」无效：{input}"


_RESPONSIBLE: dict[str, Any] = {
    "invalid": "「责任单位」（is_responsible）应为 true 或 false",
}
_RESPONSIBLE_DOC = (
    "责任单位：报送台账和半月报、参加排名（区、开发区，以及报送市级社会组织台账的市直部门，"
    "如市民政局、市直机关工委）；只有区和市直部门可以是责任单位"
)


class NewUnitSchema(Schema):
    """A unit to add under its parent."""

    code = fields.String(
        required=True,
        error_messages=messages_required("单位代码"),
        metadata={
            "description": f"单位代码，创建后不可更改（{CODE_RULE}）",
            "pattern": f"^{CODE_PATTERN}$",
            "maxLength": 40,
        },
    )
    name = text(Unit.name, required=True, error_messages=messages_required("单位名称"))
    kind = Choice(UnitKind, KIND_REFUSED, required=True, error_messages=messages_required("类型"))
    parent = fields.String(
        load_default="",
        error_messages=messages_text("上级单位"),
        metadata={
            "description": "上级单位代码（市级单位为空；区、市直部门在市级单位下；街道、乡镇、园区在区下）"
        },
    )
    position = Count("排序", blank=None, load_default=None)
    is_responsible = fields.Boolean(
        load_default=None,
        allow_none=True,
        error_messages=_RESPONSIBLE,
        metadata={"description": _RESPONSIBLE_DOC + "；不填时区为是，其余为否"},
    )


class UnitChangesSchema(Schema):
    """What changes of a unit; a field left out stays as it is (PATCH). Its code and kind
    never change."""

    name = text(Unit.name, error_messages=messages_text("单位名称"))
    parent = fields.String(
        error_messages=messages_text("上级单位"), metadata={"description": "新的上级单位代码"}
    )
    position = Count("排序", blank=None)
    is_responsible = fields.Boolean(
        error_messages=_RESPONSIBLE, metadata={"description": _RESPONSIBLE_DOC}
    )
    active = fields.Boolean(
        error_messages={"invalid": "「状态」（active）应为 true 或 false"},
        metadata={
            "description": "false：撤销（须无启用的用户、无在用的下级单位、进行中的行动无台账记录）；true：恢复"
        },
    )


@dataclass(frozen=True, kw_only=True)
class NewUnit(Input):
    """A unit to add. ``parent`` is its parent's code ("" for none)."""

    code: str = ""
    name: str = ""
    kind: UnitKind | None = None
    parent: str = ""
    position: int | None = None
    is_responsible: bool | None = None

    @classmethod
    def from_form(cls, form: Any) -> "NewUnit":
        data = dict(form.items())
        if not str(data.get("is_responsible", "")).strip():
            data.pop("is_responsible", None)  # as the kind has it
        return cls.read(NewUnitSchema(), data)


@dataclass(frozen=True, kw_only=True)
class UnitChanges(Input):
    """Changes to a unit; None keeps what it has."""

    name: str | None = None
    parent: str | None = None
    position: int | None = None
    is_responsible: bool | None = None
    active: bool | None = None

    @classmethod
    def from_form(cls, form: Any) -> "UnitChanges":
        data = {k: v for k, v in form.items() if k in ("name", "parent", "position")}
        if "is_responsible_shown" in form:
            data["is_responsible"] = "is_responsible" in form
        return cls.read(UnitChangesSchema(), data)
