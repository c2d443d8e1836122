"""Campaign templates, settings validation and deadlines (DOMAIN.md §2)."""

import json
from datetime import date
from decimal import Decimal

import pytest

from campaign.audit import AuditEntry
from campaign.core import campaigns as services
from campaign.core.campaigns import phase_from, settings_from
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.models import Campaign
from tests.conftest import make_campaign

WUHAN_2016_PHASES = [
    ("制定实施方案", "08-14", "08-15"),
    ("召开培训会议", "08-16", "08-17"),
    ("全面排查摸底", "08-18", "08-26"),
    ("抓好集中组建", "08-27", "11-20"),
    ("理顺隶属关系", "08-18", "11-20"),
    ("扩大工作覆盖", "08-27", "11-20"),
    ("组织检查验收", "11-21", "12-05"),
    ("建立长效机制", "12-06", "12-30"),
]


def test_cli_creates_campaign_with_phases_shifted_to_the_year(app, runner):
    result = runner.invoke(
        args=["campaign", "create", "--template", "wuhan-2016", "--year", "2031"]
    )
    assert result.exit_code == 0, result.output
    campaign = db.session.scalar(db.select(Campaign))
    assert campaign.year == 2031 and "2031" in campaign.name
    assert (campaign.starts_on, campaign.ends_on) == (date(2031, 8, 14), date(2031, 12, 30))
    got = [(p.name, f"{p.starts_on:%m-%d}", f"{p.ends_on:%m-%d}") for p in campaign.phases]
    assert got == WUHAN_2016_PHASES
    assert all(p.starts_on.year == p.ends_on.year == 2031 for p in campaign.phases)
    assert "8月15日" not in result.output and "2031-11-20" in result.output


def test_cli_refuses_unknown_template(app, runner):
    result = runner.invoke(args=["campaign", "create", "--template", "shanghai", "--year", "2026"])
    assert result.exit_code != 0
    assert "没有名为“shanghai”的模板" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Campaign)) == 0


def test_defaults_are_those_of_seed_004(app):
    c = make_campaign()
    assert (c.member_required_employees, c.party_org_required_employees) == (50, 100)
    assert (c.standalone_formal_members, c.social_staff_threshold) == (3, 30)
    assert (c.target_party_org_coverage, c.target_required_coverage) == (80, 100)
    assert (c.report_day_first, c.report_day_second, c.timezone) == (10, 25, "Asia/Shanghai")


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"member_required_employees": "-1"}, "不能为负数"),
        ({"target_party_org_coverage": "120"}, "应在0%至100%之间"),
        ({"target_party_org_coverage": "99.999"}, "最多保留两位小数"),
        ({"standalone_formal_members": "三"}, "应为整数"),
        ({"ends_on": "2026-08-01"}, "不能早于开始日期"),
        ({"report_day_first": "31"}, "应在1至28日之间"),
        ({"bulletin_named_units": "0"}, "「通报点名的后进单位数」应在1至10个之间（0）"),
        ({"bulletin_named_units": "11"}, "「通报点名的后进单位数」应在1至10个之间（11）"),
        ({"name": "  "}, "不能为空"),
    ],
    ids=[
        "negative-threshold",
        "target-above-100",
        "three-decimals",
        "not-a-number",
        "ends-before-start",
        "report-day",
        "no-unit-named",
        "too-many-named",
        "blank-name",
    ],
)
def test_bad_settings_are_refused_whole(app, raw, message):
    c = make_campaign()
    db.session.commit()
    before = (c.member_required_employees, c.target_party_org_coverage, c.ends_on, c.name)
    with pytest.raises(ValidationFailed) as e:
        # A valid change alongside the bad one must not be applied either.
        services.update_settings(
            db.session, c, settings_from({**raw, "social_staff_threshold": "15"}), user=None
        )
    assert message in str(e.value)
    db.session.rollback()
    c = db.session.get(Campaign, c.id)
    assert (c.member_required_employees, c.target_party_org_coverage, c.ends_on, c.name) == before
    assert c.social_staff_threshold == 30


def test_settings_change_is_recorded_with_before_and_after(app):
    c = make_campaign()
    changed = services.update_settings(
        db.session,
        c,
        settings_from({"target_party_org_coverage": "85", "member_required_employees": "50"}),
        user=None,
    )
    db.session.commit()
    assert changed == {"target_party_org_coverage": Decimal("85")}  # 50 was unchanged
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "campaign.settings"))
    before, after = json.loads(entry.before), json.loads(entry.after)
    assert Decimal(before["target_party_org_coverage"]) == 80
    assert Decimal(after["target_party_org_coverage"]) == 85


def test_phase_ending_before_it_starts_is_refused(app):
    c = make_campaign()
    phase = c.phases[3]
    with pytest.raises(ValidationFailed) as e:
        services.update_phase(
            db.session,
            phase,
            phase_from({"starts_on": "2026-11-21", "ends_on": "2026-11-20"}),
            None,
        )
    assert "不能早于开始日期" in str(e.value)


def test_report_due_days_are_the_10th_and_25th_within_the_campaign(app):
    c = make_campaign(2026)
    # Starts 08-14 (so not 08-10) and ends 12-30: Aug 25, then two a month Sep-Dec.
    assert services.report_due_days(c) == [
        date(2026, 8, 25),
        date(2026, 9, 10),
        date(2026, 9, 25),
        date(2026, 10, 10),
        date(2026, 10, 25),
        date(2026, 11, 10),
        date(2026, 11, 25),
        date(2026, 12, 10),
        date(2026, 12, 25),
    ]


@pytest.mark.parametrize(
    "today, day, label, left",
    [
        (date(2026, 11, 22), date(2026, 11, 25), "半月报送截止", 3),
        (date(2026, 11, 25), date(2026, 11, 25), "半月报送截止", 0),  # due today until 23:59:59
        (date(2026, 11, 26), date(2026, 12, 5), "组织检查验收截止", 9),
        (date(2026, 8, 15), date(2026, 8, 15), "制定实施方案截止", 0),
    ],
)
def test_next_deadline(app, today, day, label, left):
    c = make_campaign(2026)
    d = services.next_deadline(c, today)
    assert (d.day, d.label, d.days_left(today)) == (day, label, left)


def test_no_deadline_after_the_campaign(app):
    assert services.next_deadline(make_campaign(2026), date(2026, 12, 31)) is None


def test_phases_in_force(app):
    c = make_campaign(2026)
    names = [p.name for p in services.current_phases(c, date(2026, 9, 1))]
    assert names == ["抓好集中组建", "理顺隶属关系", "扩大工作覆盖"]
