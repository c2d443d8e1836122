"""Issue 17's journey through the API, on both databases: `init` (the CLI), the admin's token
(the CLI), the units, a coordinator and two district operators (their one-time passwords),
a 2027 campaign from the seed-000 template, 东湖区's ledger exported empty, filled and
imported by its operator, and its figures, worked out by hand in tests.city."""

import io

import openpyxl
from sqlalchemy import select

from campaign.core.extensions import db
from campaign.core.models import User
from campaign.core.vocab import UnitKind
from tests.city import UNITS, fill_ledger
from tests.timeutil import at

ADMIN_PASSWORD = "amber-kettle-road-19"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token(runner, username: str) -> str:
    said = runner.invoke(args=["users", "token", username])
    assert said.exit_code == 0, said.output
    return said.output.strip()


def test_a_city_set_up_and_run_through_the_api(app, client, runner, tmp_path):
    with at(2027, 5, 10, 10):
        said = runner.invoke(
            args=["init", "--city", "某市", "--issuer", "中共某市委组织部", "--admin", "admin"]
            + ["--password-stdin"],
            input=ADMIN_PASSWORD + "\n",
        )
        assert said.exit_code == 0, said.output
        admin = bearer(token(runner, "admin"))

        for code, name, kind, parent, position, responsible in UNITS[1:]:
            kind = next(k.value for k in UnitKind if k.label == kind)
            body = {"code": code, "name": name, "kind": kind, "parent": parent}
            body |= {"position": position}
            if responsible:
                body["is_responsible"] = responsible == "是"
            answer = client.post("/api/v1/units", headers=admin, json=body)
            assert answer.status_code == 201, (code, answer.get_json())
        listed = client.get("/api/v1/units?scope=all", headers=admin).get_json()
        assert {u["code"]: u["parent"] for u in listed if u["parent"] == "donghu"} == {
            "dh-a": "donghu",
            "dh-b": "donghu",
        }
        assert len(listed) == 12  # the city unit init made, and the eleven

        issued = {}
        for username, role, unit in [
            ("zhuanban", "coordinator", "city"),
            ("donghu_tb", "operator", "donghu"),
            ("xihu_tb", "operator", "xihu"),
        ]:
            answer = client.post(
                "/api/v1/users",
                headers=admin,
                json={"username": username, "role": role, "unit": unit, "display_name": username},
            )
            assert answer.status_code == 201, answer.get_json()
            issued[username] = answer.get_json()["one_time_password"]
        assert len(set(issued.values())) == 3
        db.session.expire_all()
        assert db.session.scalar(
            select(User.must_change_password).where(User.username == "donghu_tb")
        )

        # The operator may not create a campaign (403 with the reason); the coordinator does.
        operator, coordinator = (
            bearer(token(runner, "donghu_tb")),
            bearer(token(runner, "zhuanban")),
        )
        wanted = {"template": "seed-000", "year": 2027}
        refused = client.post("/api/v1/campaigns", headers=operator, json=wanted)
        assert refused.status_code == 403
        assert "只有市级专班和系统管理员可以创建攻坚行动" in refused.get_json()["message"]
        answer = client.post("/api/v1/campaigns", headers=coordinator, json=wanted)
        assert answer.status_code == 201, answer.get_json()
        campaign = answer.get_json()
        assert [p["name"] for p in campaign["phases"]] == ["前期筹备", "组织实施", "考核验收"]
        assert campaign["starts_on"] == "2027-04-01"

        # 东湖区's operator: the ledger (empty) as the template, filled, imported.
        cid = campaign["id"]
        empty = client.get(f"/api/v1/units/donghu/ledger?campaign_id={cid}", headers=operator)
        assert empty.status_code == 200
        (tmp_path / "template.xlsx").write_bytes(empty.data)
        filled = fill_ledger(tmp_path / "template.xlsx", tmp_path / "ledger.xlsx")
        assert openpyxl.load_workbook(filled)["附表1 非公企业"].max_row == 6
        # Not into another district's ledger (not his to see).
        other = client.post(
            f"/api/v1/units/xihu/ledger?campaign_id={cid}",
            headers=operator,
            data={"file": (io.BytesIO(filled.read_bytes()), "ledger.xlsx")},
        )
        assert other.status_code == 404
        answer = client.post(
            f"/api/v1/units/donghu/ledger?campaign_id={cid}",
            headers=operator,
            data={"file": (io.BytesIO(filled.read_bytes()), "ledger.xlsx")},
        )
        assert answer.status_code == 200, answer.get_json()
        assert (answer.get_json()["status"], answer.get_json()["summary"]["add"]) == ("applied", 5)

        # The figures: 5 in the base, 3 with a Party organization (2 of them standalone).
        seen = client.get(f"/api/v1/campaigns/{cid}/figures", headers=coordinator).get_json()
        donghu = next(u["figures"] for u in seen["units"] if u["unit"]["code"] == "donghu")
        assert (donghu["counts"]["base"], donghu["counts"]["with_party_org"]) == (5, 3)
        assert donghu["counts"]["standalone"] == 2
        assert round(donghu["party_org_coverage"], 3) == 0.6
        xihu = next(u["figures"] for u in seen["units"] if u["unit"]["code"] == "xihu")
        assert xihu["counts"]["base"] == 0
        # The operator reads his own unit's figures only.
        mine = client.get(f"/api/v1/campaigns/{cid}/figures", headers=operator).get_json()
        assert [u["unit"]["code"] for u in mine["units"]] == ["donghu"]
