"""The bulletin archive (pages) and /api/v1 bulletins: who may produce, list and read what.

The ledger is make_two_districts() (tests/conftest.py) plus 武昌丙, an enterprise of 10
staff with 3 formal members and no Party org (应单独组建: a board item). On 2026-11-06 at
10:00 武昌区 files its 销号 (单独组建, 武昌丙党支部, founded 11-05) and the unit's leader
verifies it: the one closure verified in 第6期's period (10-26 to 11-10), which the
attachment's 本期销号 sheet lists. "Today" is 2026-11-12 09:00 Beijing time: the cut-offs of
the six report days 08-25 ... 11-10 have passed (each 18:00), 11-25's has not.

Who sees what (reports/views.py, reports/api.py): every logged-in user lists bulletins and
reads the PDF (it is addressed to every unit); the attachment and the snapshot are for
city-wide users (coordinator, leadership, admin); only coordinators and admins produce one.
"""

import hashlib
import io
import json
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import func, select

from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem
from campaign.core.accounts import issue_token
from campaign.core.extensions import db
from campaign.core.storage import resolve
from reports import render, services
from reports.models import Bulletin, BulletinRun
from tests import documents
from tests.conftest import csrf_token, login, make_org, make_two_districts, make_user
from tests.timeutil import at, machine_zone, shanghai

TITLE_6 = "关于全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况的通报（第6期）"
PDF_UPLOAD = ("批复文件.pdf", documents.pdf("closure evidence"))


@pytest.fixture(autouse=True)
def utc_machine_zone():
    with machine_zone("UTC"):
        yield


@pytest.fixture
def w(app):
    app.config["JOBS_IN_BACKGROUND"] = False  # the run happens inside the POST
    with at(2026, 11, 6, 10, 0):
        built = make_two_districts()
        campaign, wuchang = built.campaign, built.wuchang
        org = make_org(campaign, wuchang, name="武昌丙", employees=10, formal=3)
        users = {
            "coord": make_user("coord", "coordinator"),
            "boss": make_user("boss", "leadership"),
            "jiangan_op": make_user("jiangan_op", "operator", built.jiangan),
            "wuchang_leader": make_user("wuchang_leader", "leader", wuchang),
        }
        storage = Path(app.config["STORAGE_PATH"])
        board.sync_items(db.session, campaign)
        item = db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))
        board.submit_closure(
            db.session,
            item,
            ClosureClaim.from_form(
                {
                    "method": "standalone",
                    "party_org_name": "武昌丙党支部",
                    "secretary": "王书记",
                    "formal_members": "3",
                    "established_on": "2026-11-05",
                }
            ),
            PDF_UPLOAD,
            users["wuchang_leader"],
            storage,
        )
        board.verify_closure(db.session, item, users["wuchang_leader"])
        db.session.commit()
    with at(2026, 11, 12, 9, 0):
        yield SimpleNamespace(
            app=app,
            campaign=campaign,
            cid=campaign.id,
            wuchang=wuchang,
            org=org,
            storage=storage,
            settings=services.settings_from(app.config),
            **users,
        )


def client_for(w, username: str):
    client = w.app.test_client()
    assert login(client, username).status_code == 302
    return client


def fetch(client, path: str, **kw):
    """GET, read and close: a file response holds its file open until closed."""
    response = client.get(path, **kw)
    response.get_data()
    response.close()
    return response


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- pages -----------------------------------------------------------------------------------


def test_coordinator_produces_a_bulletin_and_each_role_reads_what_it_may(w):
    base = f"/campaigns/{w.cid}/bulletins"
    coord = client_for(w, "coord")

    page = coord.get(base).get_data(as_text=True)
    assert "尚无通报" in page
    assert f'action="{base}/generate"' in page
    # The report days whose cut-off has passed by 11-12 09:00, newest first.
    offered = [
        d
        for d in ("08-25", "09-10", "09-25", "10-10", "10-25", "11-10", "11-25")
        if f'<option value="2026-{d}">' in page
    ]
    assert offered == ["08-25", "09-10", "09-25", "10-10", "10-25", "11-10"]

    response = coord.post(
        f"{base}/generate", data={"due_on": "2026-11-10", "csrf_token": csrf_token(coord, base)}
    )
    run = db.session.scalars(select(BulletinRun)).one()
    assert response.status_code == 302
    assert response.headers["Location"] == f"{base}?run={run.id}"
    bulletin = db.session.scalars(select(Bulletin)).one()
    assert (bulletin.number, bulletin.due_on, bulletin.title) == (6, date(2026, 11, 10), TITLE_6)
    assert (bulletin.trigger, bulletin.created_by_id) == ("manual", w.coord.id)

    status = coord.get(f"{base}/runs/{run.id}")
    assert status.json == {
        "status": "published",
        "status_label": "已发布",
        "step": "完成",
        "progress": 100,
        "error": "",
        "done": True,
    }

    page = coord.get(base).get_data(as_text=True)
    assert "第6期" in page and TITLE_6 in page
    assert f'href="{base}/6.pdf"' in page and f'href="{base}/6.xlsx"' in page
    assert '<option value="2026-11-10">' not in page  # produced: no longer offered
    assert '<option value="2026-10-25">' in page

    pdf = fetch(coord, f"{base}/6.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and sha256(pdf.data) == bulletin.pdf_sha256

    xlsx = fetch(coord, f"{base}/6.xlsx")
    assert xlsx.status_code == 200
    # Saved under the campaign's name and the 期, as a download.
    disposition = xlsx.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == (
        "武汉市非公有制经济组织和社会组织党组织集中组建“百日攻坚行动”（2026年）-第6期-附件.xlsx"
    )
    closures = openpyxl.load_workbook(io.BytesIO(xlsx.data), read_only=True)["本期销号"]
    rows = list(closures.iter_rows(values_only=True))
    assert rows[0][0] == f"{TITLE_6}——本期销号"
    assert rows[1][:2] == ("单位", "组织名称")
    assert [r[:7] for r in rows[2:]] == [
        (
            "武昌区",
            "武昌丙",
            w.org.credit_code,
            "单独组建",
            "武昌丙党支部",
            datetime(2026, 11, 5),
            datetime(2026, 11, 6, 10, 0),
        )
    ]

    snapshot = coord.get(f"{base}/6/snapshot.json")
    assert snapshot.mimetype == "application/json"
    assert sha256(snapshot.data) == bulletin.snapshot_sha256
    assert snapshot.json["number"] == 6 and snapshot.json["overall"]["closures_verified"] == 1

    # Asked a second time, the page says so in Chinese and nothing new is produced.
    again = coord.post(
        f"{base}/generate",
        data={"due_on": "2026-11-10", "csrf_token": csrf_token(coord, base)},
        follow_redirects=True,
    )
    assert "第6期通报已于2026-11-12 09:00生成，不重复生成" in again.get_data(as_text=True)
    assert (count(Bulletin), count(BulletinRun)) == (1, 1)

    # A district operator: the list and the PDF, nothing behind them, no producing.
    operator = client_for(w, "jiangan_op")
    page = operator.get(base).get_data(as_text=True)
    assert TITLE_6 in page and f'href="{base}/6.pdf"' in page
    assert "6.xlsx" not in page and "snapshot.json" not in page
    assert "/generate" not in page and "生成记录" not in page
    pdf = fetch(operator, f"{base}/6.pdf")
    assert pdf.status_code == 200 and sha256(pdf.data) == bulletin.pdf_sha256
    assert fetch(operator, f"{base}/6.xlsx").status_code == 404
    assert operator.get(f"{base}/6/snapshot.json").status_code == 404
    assert operator.get(f"{base}/runs/{run.id}").status_code == 404
    token = csrf_token(operator, base)
    refused = operator.post(f"{base}/generate", data={"due_on": "2026-10-25", "csrf_token": token})
    assert refused.status_code == 403  # he reads the archive, but does not produce bulletins

    # Leadership: everything to read, nothing to produce; the archive lists 第N期, the date
    # and the PDF (the attachment, the snapshot and the hashes are for the working group).
    boss = client_for(w, "boss")
    page = boss.get(base).get_data(as_text=True)
    assert f'href="{base}/6.pdf"' in page
    assert "6.xlsx" not in page and "snapshot.json" not in page
    assert bulletin.pdf_sha256[:16] not in page
    assert "/generate" not in page
    assert fetch(boss, f"{base}/6.xlsx").status_code == 200
    assert boss.get(f"{base}/6/snapshot.json").json["number"] == 6
    assert boss.get(f"{base}/runs/{run.id}").json["status"] == "published"
    token = csrf_token(boss, base)
    refused = boss.post(f"{base}/generate", data={"due_on": "2026-10-25", "csrf_token": token})
    assert refused.status_code == 403

    assert (count(Bulletin), count(BulletinRun)) == (1, 1)
    assert coord.get(f"{base}/7.pdf").status_code == 404


def test_a_failed_run_is_shown_with_its_error(w):
    w.wuchang.name = "武昌区\U000f0041"  # a character no installed face has
    db.session.commit()
    with pytest.raises(render.RenderRefused) as refused:
        services.generate(
            db.session,
            w.campaign,
            date(2026, 11, 10),
            w.settings,
            "schedule",
            moment=shanghai(2026, 11, 10, 18, 0),
        )
    run = db.session.scalars(select(BulletinRun)).one()
    base = f"/campaigns/{w.cid}/bulletins"

    coord = client_for(w, "coord")
    page = coord.get(base).get_data(as_text=True)
    assert "尚无通报" in page
    assert "生成记录" in page and "失败" in page
    assert str(refused.value) in page
    status = coord.get(f"{base}/runs/{run.id}").json
    assert (status["status"], status["error"], status["done"]) == (
        "failed",
        str(refused.value),
        True,
    )
    # The period is still offered: nothing was published.
    assert '<option value="2026-11-10">' in page
    # Unit users do not see the attempts.
    operator = client_for(w, "jiangan_op")
    assert "生成记录" not in operator.get(base).get_data(as_text=True)


def test_a_run_whose_process_died_shows_as_interrupted_before_anything_settles_it(w):
    # "Now" is 09:00: a run last heard of 2 minutes ago is alive, one a second earlier is not.
    alive, dead = (
        services.start_run(db.session, w.campaign, due_on, w.settings, "manual", moment=moment)
        for due_on, moment in [
            (date(2026, 10, 25), shanghai(2026, 11, 12, 8, 58, 0)),
            (date(2026, 11, 10), shanghai(2026, 11, 12, 8, 57, 59)),
        ]
    )
    base = f"/campaigns/{w.cid}/bulletins"
    coord = client_for(w, "coord")

    def shown(run) -> tuple:
        status = coord.get(f"{base}/runs/{run.id}").json
        return status["status"], status["status_label"], status["error"], status["done"]

    assert shown(alive) == ("running", "生成中", "", False)
    assert shown(dead) == (
        "abandoned",
        "中断",
        "进程在生成过程中中断（未生成通报，将自动重新生成）",
        True,
    )
    # Shown, not written: the scheduler's job settles it.
    db.session.expire_all()
    assert db.session.scalars(select(BulletinRun.status).order_by(BulletinRun.id)).all() == [
        "running",
        "running",
    ]


def test_a_run_waits_as_queued_only_when_a_job_thread_will_produce_it(w):
    # A page's request is produced by a job thread: 排队 until the thread starts it. The
    # scheduler and the CLI produce the bulletin at once: its first step from the start.
    queued, at_once = (
        services.start_run(db.session, w.campaign, due_on, w.settings, how, queued=how == "manual")
        for due_on, how in [(date(2026, 10, 25), "manual"), (date(2026, 11, 10), "cli")]
    )
    coord = client_for(w, "coord")

    def shown(run) -> tuple:
        status = coord.get(f"/campaigns/{w.cid}/bulletins/runs/{run.id}").json
        return status["step"], status["progress"]

    assert (shown(queued), shown(at_once)) == (("排队", 0), ("汇总数据", 5))
    # Either way the caller hears every step from 汇总数据 to 完成.
    for run in (queued, at_once):
        heard: list[str] = []
        services.produce(db.session, run, w.settings, progress=lambda s, p, h=heard: h.append(s))
        assert (heard[0], heard[-1], shown(run)) == ("汇总数据", "完成", ("完成", 100))


# ---- API -------------------------------------------------------------------------------------


def test_api_produces_once_and_scopes_what_each_token_reads(w, client):
    tokens = {
        name: issue_token(db.session, getattr(w, name)) for name in ("coord", "boss", "jiangan_op")
    }
    db.session.commit()
    base = f"/api/v1/campaigns/{w.cid}/bulletins"

    def call(method, username, path="", **kw):
        headers = {"Authorization": f"Bearer {tokens[username]}"}
        response = client.open(base + path, method=method, headers=headers, **kw)
        response.get_data()
        response.close()  # the PDF response holds its file open until closed
        return response

    assert client.get(base).status_code == 401
    # Everyone reads the archive; only coordinators produce, and the others are told why.
    for username in ("boss", "jiangan_op"):
        refused = call("POST", username, json={"due_on": "2026-11-10"})
        assert refused.status_code == 403
        assert refused.json["message"] == "此操作仅限市级专班和系统管理员"
    assert count(BulletinRun) == 0

    created = call("POST", "coord", json={"due_on": "2026-11-10"})
    assert created.status_code == 201
    bulletin = db.session.scalars(select(Bulletin)).one()
    assert created.json["number"] == 6 and created.json["title"] == TITLE_6
    assert (created.json["due_on"], created.json["trigger"]) == ("2026-11-10", "api")
    assert created.json["pdf_sha256"] == sha256(resolve(bulletin.pdf_path).read_bytes())

    again = call("POST", "coord", json={"due_on": "2026-11-10"})
    assert again.status_code == 409
    assert again.json["message"] == "第6期通报已于2026-11-12 09:00生成，不重复生成"
    early = call("POST", "coord", json={"due_on": "2026-11-25"})
    assert early.status_code == 409
    assert early.json["message"] == "第7期通报的数据截至2026-11-25 18:00，此前不能生成"
    not_a_day = call("POST", "coord", json={"due_on": "2026-11-11"})
    assert not_a_day.status_code == 409
    assert "2026-11-11 不是本行动的半月报送日" in not_a_day.json["message"]
    assert (count(Bulletin), count(BulletinRun)) == (1, 1)

    for username in ("coord", "boss", "jiangan_op"):
        listed = call("GET", username)
        assert listed.status_code == 200
        assert [(b["number"], b["title"]) for b in listed.json] == [(6, TITLE_6)]
        assert call("GET", username, "/6").json["pdf_sha256"] == bulletin.pdf_sha256
        pdf = call("GET", username, "/6/pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert pdf.data.startswith(b"%PDF") and sha256(pdf.data) == bulletin.pdf_sha256
        assert call("GET", username, "/7").status_code == 404

    assert call("GET", "jiangan_op", "/6/snapshot").status_code == 404
    snapshot = call("GET", "boss", "/6/snapshot")
    assert snapshot.status_code == 200 and sha256(snapshot.data) == bulletin.snapshot_sha256
    assert json.loads(snapshot.data)["title"] == TITLE_6
