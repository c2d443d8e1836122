"""The forecast on the overview and the wall chart, on tests/forecast/test_forecast.py's ledger."""

import pytest

from campaign.core.extensions import db
from tests.conftest import login, make_user
from tests.forecast.test_forecast import ledger  # noqa: F401  (a fixture, used by name)
from tests.timeutil import at

B_AT_RISK = "按当前进度，预计10月1日达到 40.0%（32.5%–47.5%），低于目标"


@pytest.fixture
def users(ledger):  # noqa: F811
    from campaign.core.models import Unit

    a = db.session.scalar(db.select(Unit).where(Unit.code == "a"))
    make_user("coord", "coordinator")
    make_user("a_op", "operator", a)
    db.session.commit()
    return ledger


def _page(client, username, path):
    with at(2026, 9, 17, 10, 0):
        login(client, username)
        response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _pages(client, username, *paths):
    with at(2026, 9, 17, 10, 0):
        login(client, username)
        return [client.get(path).get_data(as_text=True) for path in paths]


def test_the_overview_names_the_units_at_risk_and_says_how(client, users):
    html = _page(client, "coord", f"/campaigns/{users.id}")
    block = html[html.index('id="forecast"') :]
    assert f"乙区</a>：{B_AT_RISK}" in block
    assert "甲区</a>：" not in block and "丙区</a>：" not in block  # both reach 80 %
    # The city: 33 of 71 today, 46 of 71 at the deadline.
    assert "全市党组织覆盖率：按当前进度，预计10月1日达到 64.8%" in block
    assert "取最近3周每周新建党组织数" in block


def test_the_wall_chart_shows_each_units_projection(client, users):
    html = _page(client, "coord", f"/campaigns/{users.id}/board")
    assert B_AT_RISK in html
    assert "预计10月1日 100.0%（100.0%–100.0%）" in html  # 甲区, within its open items
    assert 'id="forecast-method"' in html


def test_a_unit_sees_only_its_own_forecast(client, users):
    overview, board = _pages(
        client, "a_op", f"/campaigns/{users.id}", f"/campaigns/{users.id}/board"
    )
    for html in (overview, board):
        assert "乙区" not in html and B_AT_RISK not in html
    assert "本单位党组织覆盖率：按当前进度，预计10月1日达到 100.0%" in overview


def test_once_the_deadline_has_passed_the_pages_project_nothing(client, users):
    with at(2026, 10, 2, 10, 0):
        login(client, "coord")
        overview = client.get(f"/campaigns/{users.id}").get_data(as_text=True)
        board = client.get(f"/campaigns/{users.id}/board").get_data(as_text=True)
    assert 'id="forecast"' not in overview and "截止日预测" not in overview
    assert "按当前进度" not in board and 'id="forecast-method"' not in board
