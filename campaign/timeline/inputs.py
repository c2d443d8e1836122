"""What the timeline's pages and API accept: the schemas (the OpenAPI document is made from
them) and the typed values the services take (campaign.core.inputs)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from marshmallow import Schema, fields, validate

from campaign.core.inputs import Choice, Day, Input, text
from campaign.timeline.models import Audience, Deliverable, Task, TaskSubmission

NO_PHASE = "请选择所属阶段"
DUE = "「截止日期」应为日期（如 2026-08-26），而不是“{input}”"


class DeliverableSchema(Schema):
    """A deliverable a phase asks of the responsible units."""

    phase_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=2**31 - 1, error=NO_PHASE),
        error_messages={"invalid": NO_PHASE},
        metadata={"description": "所属阶段（新增时必填）"},
    )
    name = text(Deliverable.name, load_default="")
    description = text(Deliverable.description, load_default="")
    audience = Choice(Audience, "「报送单位」无效：{input}", optional=True, load_default=None)
    due_on = Day("截止日期", message=DUE, load_default=None)


@dataclass(frozen=True)
class DeliverableInput(Input):
    """A deliverable as a coordinator sets it; ``audience`` None asks every unit."""

    name: str = ""
    description: str = ""
    audience: Audience | None = None
    due_on: date | None = None
    phase_id: int | None = None

    @classmethod
    def from_form(cls, form: Any) -> "DeliverableInput":
        return cls.read(DeliverableSchema(), form)


class TaskChangeSchema(Schema):
    """One unit's share of a deliverable; a field left out stays as it is."""

    due_on = Day("截止日期", message=DUE, optional=True, load_default=None)
    dropped = fields.Boolean(load_default=None, allow_none=True)
    drop_reason = text(Task.drop_reason, load_default="")


@dataclass(frozen=True)
class TaskChange(Input):
    """A change of one unit's task: its own due date (None: as it is), dropped or taken back
    (None: as it is) with the reason."""

    due_on: date | None = None
    dropped: bool | None = None
    drop_reason: str = ""

    @classmethod
    def from_form(cls, form: Any) -> "TaskChange":
        return cls.read(TaskChangeSchema(), form)


class TaskDeliverySchema(Schema):
    """A unit's delivery of a task: a note (and a file, added by the API)."""

    note = text(TaskSubmission.note, load_default="")


class ReviewSchema(Schema):
    accept = fields.Boolean(required=True, metadata={"description": "通过为 true，退回为 false"})
    comment = text(TaskSubmission.review_comment, load_default="")


class TaskQuerySchema(Schema):
    unit = fields.String(load_default=None, metadata={"description": "单位代码；不给为可见的全部"})
