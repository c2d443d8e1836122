"""GET /api/v1/campaigns/<id>/forecast on tests/api/test_api.py's world, scoped like the figures.

On 2026-10-10 (41 days, 5.86 weeks to the 11-20 deadline; the pace over the 4 weeks
(09-12, 10-10]):
江岸区: base 3, Party orgs 2 (甲 06-01, 乙 10-01): 66.7 %. Weeks 0, 0, 1, 0: pace 0.25, standard
  deviation 0.433; 0.25 × 5.86 = 1.46 → 1, and 1 organization (丙) is left: 3/3 = 100 %; low
  0 → 66.7 %; high 0.683 × 5.86 = 4 → 1 → 100 %. 应建尽建 1 of 1. Not at risk.
武昌区: base 2, Party orgs 1 (乙, no founding date: counted all along): 50 %, no pace: 50 % at
  the deadline, below 80 %: at risk; 应建尽建 1 of 2: 50 %, at risk.
The city: 3 + 1 of 5 = 80 %: reaches 80 %, not at risk.
"""

import pytest

from tests.api.test_api import get
from tests.timeutil import at


def _forecast(client, world, username, query=""):
    with at(2026, 10, 10, 10, 0):
        return get(client, world, username, f"/api/v1/campaigns/{world.cid}/forecast{query}")


@pytest.mark.parametrize("username", ["coord", "boss", "root"])
def test_city_roles_get_every_unit_and_the_city(client, world, username):
    response = _forecast(client, world, username)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["as_of"], body["deadline"], body["days_left"], body["weeks"]) == (
        "2026-10-10",
        "2026-11-20",
        41,
        4,
    )
    assert "平均值" in body["method"]
    units = {u["unit"]: u for u in body["units"]}
    assert list(units) == ["jiangan", "wuchang"]

    jiangan = units["jiangan"]["figures"]["party_org_coverage"]
    assert jiangan["today"] == pytest.approx(2 / 3)
    assert (jiangan["projected"], jiangan["high"]) == (1.0, 1.0)
    assert jiangan["low"] == pytest.approx(2 / 3)
    assert (jiangan["gain"], jiangan["room"], jiangan["pace"]) == (1, 1, 0.25)
    assert (jiangan["target"], jiangan["at_risk"]) == (80.0, False)
    assert units["jiangan"]["at_risk"] is False

    wuchang = units["wuchang"]["figures"]
    assert (
        wuchang["party_org_coverage"]["projected"],
        wuchang["party_org_coverage"]["at_risk"],
    ) == (
        0.5,
        True,
    )
    assert (wuchang["required_coverage"]["projected"], wuchang["required_coverage"]["target"]) == (
        0.5,
        100.0,
    )
    assert units["wuchang"]["at_risk"] is True

    city = body["overall"]["party_org_coverage"]
    assert (city["part"], city["whole"], city["gain"], city["projected"]) == (3, 5, 1, 0.8)
    assert city["at_risk"] is False


@pytest.mark.parametrize("username", ["jiangan_op", "jiangan_leader"])
def test_a_unit_user_gets_only_its_unit(client, world, username):
    body = _forecast(client, world, username).json
    assert [u["unit"] for u in body["units"]] == ["jiangan"]
    assert body["overall"] == body["units"][0]["figures"]


def test_as_of_a_past_day_forecasts_from_what_was_known_then(client, world):
    # On 09-30 江岸乙 had no Party org yet: 1 of 3, and no Party org in the last 4 weeks.
    body = _forecast(client, world, "coord", "?as_of=2026-09-30").json
    jiangan = body["units"][0]["figures"]["party_org_coverage"]
    assert body["as_of"] == "2026-09-30"
    assert (jiangan["part"], jiangan["gain"], jiangan["projected"]) == (1, 0, pytest.approx(1 / 3))
    assert jiangan["at_risk"] is True


@pytest.mark.parametrize(
    ("query", "message"),
    [("?as_of=2026-10-11", "不能晚于今天"), ("?as_of=yesterday", "应为日期")],
)
def test_a_day_to_come_or_not_a_day_is_refused_by_name(client, world, query, message):
    response = _forecast(client, world, "coord", query)
    assert response.status_code == 422
    assert message in str(response.json)
    assert "as_of" in str(response.json)


def test_no_token_no_forecast_and_no_other_campaign(client, world):
    with at(2026, 10, 10, 10, 0):
        assert client.get(f"/api/v1/campaigns/{world.cid}/forecast").status_code == 401
    assert _forecast(client, world, "coord").status_code == 200
    with at(2026, 10, 10, 10, 0):
        missing = get(client, world, "coord", f"/api/v1/campaigns/{world.cid + 99}/forecast")
    assert missing.status_code == 404


def test_the_openapi_document_describes_the_forecast(client, world):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/campaigns/{campaign_id}/forecast"]["get"]
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["as_of"]
    schemas = spec["components"]["schemas"]
    projection = next(s for name, s in schemas.items() if name.startswith("Projection"))
    assert {"projected", "low", "high", "target", "at_risk"} <= set(projection["properties"])
