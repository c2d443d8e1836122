"""The typed input fields (campaign/core/inputs.py) name what is wrong in the user's words."""

import pytest
from marshmallow import Schema, ValidationError

from campaign.core.inputs import Day


class Founding(Schema):
    established_on = Day("成立时间")
    planned_on = Day("计划完成时间", optional=True)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "「成立时间」不能为空"),  # left empty: missing, not "应为日期，而不是“”"
        ("  ", "「成立时间」不能为空"),
        ("2026-13-01", "「成立时间」应为日期，而不是“2026-13-01”"),
        ("十一月", "「成立时间」应为日期，而不是“十一月”"),
    ],
)
def test_a_day_left_empty_is_missing_and_a_wrong_one_is_named(given, message):
    with pytest.raises(ValidationError) as refused:
        Founding().load({"established_on": given})
    assert refused.value.messages == {"established_on": [message]}


def test_an_optional_day_left_empty_is_no_day():
    loaded = Founding().load({"established_on": "2026-11-18", "planned_on": ""})
    assert loaded["planned_on"] is None and str(loaded["established_on"]) == "2026-11-18"
