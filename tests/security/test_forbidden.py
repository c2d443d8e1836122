"""404 for what a user may not see, 403 with the reason for what he sees but may not do.

The world is tests/api/test_api.py's: 江岸区 (jiangan) with its operator and leader, 武昌区
(wuchang), a coordinator, leadership and an admin, each with an API token."""

import io

import pytest

from campaign.core.extensions import db
from tests.api.test_api import bearer
from tests.conftest import csrf_token, login, make_user
from tests.ledger.conftest import CODE_A, enterprise, ledger_xlsx

LEDGER_REASON = "只有本单位的台账填报员可以导入、修改和报送本单位台账"
EDITORS_REASON = "此操作仅限市级专班和系统管理员"
REPORT_REASON = "只有本单位的填报员可以报送本单位的阶段任务和半月报"
SPOT_CHECK_REASON = "只有市级专班可以组织随机抽查和回头看"


def _ledger_file() -> bytes:
    return ledger_xlsx([enterprise("某某公司", CODE_A)])


def _import(client, world, username, code):
    return client.post(
        f"/api/v1/units/{code}/ledger",
        data={"file": (io.BytesIO(_ledger_file()), "台账.xlsx")},
        headers=bearer(world.tokens[username]),
        content_type="multipart/form-data",
    )


def test_a_coordinator_importing_a_units_ledger_is_told_why_not_that_it_is_missing(client, world):
    response = _import(client, world, "coord", "jiangan")
    assert response.status_code == 403
    assert response.json["message"] == LEDGER_REASON


def test_an_operator_of_another_unit_gets_404_and_no_reason(client, world):
    response = _import(client, world, "jiangan_op", "wuchang")
    assert response.status_code == 404
    assert response.json["message"] == "未找到，或无权查看"


@pytest.mark.parametrize(
    ("username", "status", "message"),
    [
        ("jiangan_op", 403, EDITORS_REASON),
        ("jiangan_leader", 403, EDITORS_REASON),
        ("boss", 403, EDITORS_REASON),
        ("coord", 200, None),
    ],
)
def test_settings_are_read_by_all_and_changed_by_editors(client, world, username, status, message):
    response = client.patch(
        f"/api/v1/campaigns/{world.cid}/settings",
        json={"target_party_org_coverage": "81"},
        headers=bearer(world.tokens[username]),
    )
    assert response.status_code == status
    if message:
        assert response.json["message"] == message


def test_a_coordinator_filing_a_units_half_monthly_report_is_told_why(client, world):
    response = client.post(
        f"/api/v1/campaigns/{world.cid}/units/jiangan/reports/2026-09-10",
        json={"progress": "代报"},
        headers=bearer(world.tokens["coord"]),
    )
    assert response.status_code == 403
    assert response.json["message"] == REPORT_REASON


@pytest.mark.parametrize(
    ("username", "status"),
    [("boss", 403), ("jiangan_op", 404), ("jiangan_leader", 404)],
)
def test_spot_checks_are_refused_to_leadership_and_unknown_to_districts(
    client, world, username, status
):
    response = client.post(
        f"/api/v1/campaigns/{world.cid}/spot-checks",
        json={"size": 1},
        headers=bearer(world.tokens[username]),
    )
    assert response.status_code == status
    if status == 403:
        assert response.json["message"] == SPOT_CHECK_REASON


def test_the_403_page_says_why_in_chinese(app, world):
    make_user("coord_page", "coordinator")
    db.session.commit()
    client = app.test_client()
    assert login(client, "coord_page").status_code == 302
    token = csrf_token(client, f"/campaigns/{world.cid}/units/jiangan/ledger")
    response = client.post(
        f"/campaigns/{world.cid}/units/jiangan/ledger/imports",
        data={"csrf_token": token, "file": (io.BytesIO(_ledger_file()), "台账.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "无权执行此操作" in html and LEDGER_REASON in html
