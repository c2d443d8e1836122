"""What the half-monthly report pages and API accept: the schemas (the OpenAPI document is
made from them) and the typed values the services take (campaign.core.inputs)."""

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema

from campaign.core.inputs import Day, Input, text
from campaign.half_monthly.models import UnitReport

NO_PROGRESS = "「工作进展」不能为空"


class ReportInputSchema(Schema):
    """A unit's report for a period: three sections of text (an attachment beside it)."""

    progress = text(UnitReport.progress, required=True, error_messages={"required": NO_PROGRESS})
    problems = text(UnitReport.problems, load_default="")
    next_steps = text(UnitReport.next_steps, load_default="")


@dataclass(frozen=True)
class ReportText(Input):
    """What a unit writes in its report."""

    progress: str = ""
    problems: str = ""
    next_steps: str = ""

    @classmethod
    def from_form(cls, form: Any) -> "ReportText":
        return cls.read(ReportInputSchema(), form)


class ReportQuerySchema(Schema):
    due = Day("报送日", required=True, metadata={"description": "报送日，如 2026-11-10"})


class CommentSchema(Schema):
    comment = text(UnitReport.return_comment, required=True)
