"""What the forecast's API reads: the day to forecast from."""

from marshmallow import Schema

from campaign.core.inputs import Day


class ForecastQuerySchema(Schema):
    as_of = Day(
        "预测基准日",
        optional=True,
        load_default=None,
        metadata={"description": "按该日已知的情况预测（党组织成立日期不晚于该日），默认今天"},
    )
