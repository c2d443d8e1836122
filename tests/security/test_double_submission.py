"""Double submissions: the same act posted many times at once takes effect once.

A double click, a browser's retry, two tabs or a retrying API client send the same POST
many times. Whatever the interleaving, exactly one of them wins; every other one is told,
in the one same clear message, that the act was already done (409 on the API, that message
flashed on the page), and nothing is written twice: one change set, one acceptance, one
report version, one entry in the change record.

Each race: N test clients (each with its own cookies or token), each posting from its own
thread, hence its own request, app context, session and database connection, released
together by a barrier; repeated on fresh records, since one lucky interleaving proves
little. On SQLite the database is a file and every thread has its own connection.
"""

import io
import json
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from campaign.accounts.services import issue_token
from campaign.audit import AuditEntry
from campaign.extensions import db
from campaign.ledger import importing
from campaign.ledger import services as ledger
from campaign.ledger.models import ChangeRequest, ImportBatch, Organization
from campaign.reporting.models import UnitReport
from campaign.vocab import UnitKind
from tests.conftest import csrf_token, login, make_campaign, make_unit, make_user
from tests.ledger.conftest import enterprise as row
from tests.ledger.conftest import ledger_xlsx
from tests.timeutil import at

N = 50  # concurrent posts of one act, as in the report that found these
ROUNDS = 3

# Valid 统一社会信用代码 (GB 32100 check character last), region 420102 江岸区.
CODE_A = "914201020000791938"
CODE_B = "91420102000158385L"
CODE_C = "914201020002375771"


# ---- the race -------------------------------------------------------------------------------


def at_once(clients: list, send: Callable[[int, object], object]) -> list:
    """``send(k, clients[k])`` for every client, each in its own thread, all released
    together; their answers (or the exception a thread met, for the assertion to show)."""
    barrier = threading.Barrier(len(clients), timeout=60)
    answers: list = [None] * len(clients)

    def worker(k: int) -> None:
        try:
            barrier.wait()
            answers[k] = send(k, clients[k])
        except BaseException as error:  # noqa: BLE001 (the outcome is the assertion)
            answers[k] = error

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a request hung (deadlock?)"
    return answers


def post_pages(clients: list, paths: str | list[str], **form) -> list:
    """Every browser posts ``form`` (with its CSRF token) at once, to ``paths`` (one for
    all, or one each)."""

    def send(k: int, client):
        url = paths if isinstance(paths, str) else paths[k]
        return client.post(url, data={"csrf_token": client.csrf, **form})

    return at_once(clients, send)


def post_api(clients: list, path: str, body: dict) -> list:
    """Every API client posts ``body`` as JSON to ``path`` at once."""
    return at_once(clients, lambda k, client: client.post(path, json=body, headers=client.headers))


def flashed(client) -> list[tuple[str, str]]:
    """The (category, message) pairs waiting to be shown to ``client``, taken as a page
    would take them."""
    with client.session_transaction() as session:
        return list(session.pop("_flashes", []))


def page_outcomes(clients: list, answers: list) -> Counter:
    """How many page posts ended in each flashed (category, message); every post must have
    been answered with a redirect, none with an error."""
    for answer in answers:
        assert not isinstance(answer, BaseException), answer
        assert answer.status_code == 302, answer.status_code
    outcomes = Counter()
    for client in clients:
        [outcome] = flashed(client)
        outcomes[outcome] += 1
    return outcomes


def api_outcomes(answers: list) -> Counter:
    """How many API posts ended in each (status, message)."""
    outcomes = Counter()
    for answer in answers:
        assert not isinstance(answer, BaseException), answer
        outcomes[(answer.status_code, (answer.json or {}).get("message"))] += 1
    return outcomes


def logged_in(app, username: str, n: int, form_page: str) -> list:
    """``n`` browsers logged in as ``username``, each with the CSRF token of ``form_page``."""
    clients = []
    for _ in range(n):
        client = app.test_client()
        assert login(client, username).status_code == 302
        client.csrf = csrf_token(client, form_page)
        clients.append(client)
    return clients


def api_clients(app, token: str, n: int) -> list:
    clients = []
    for _ in range(n):
        client = app.test_client()
        client.headers = {"Authorization": f"Bearer {token}"}
        clients.append(client)
    return clients


def audit_count(action: str, obj_id) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == action, AuditEntry.object_id == str(obj_id))
    )


# ---- a district with an approved ledger ---------------------------------------------------


@pytest.fixture(autouse=True)
def clock():
    """Everything on 2026-11-09 10:00 Beijing time, the day before a report is due (a login
    and the posts that follow it share one clock: a session cookie from the future is void)."""
    with at(2026, 11, 9, 10, 0):
        yield


@pytest.fixture
def w(app, tmp_path):
    """江岸区 (with 二七街道), its operator, a coordinator, campaign 2026; the ledger holds A
    (120 staff) and B (60 staff), approved as the base."""
    app.config["JOBS_IN_BACKGROUND"] = False
    jiangan = make_unit("jiangan", "江岸区")
    make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    campaign = make_campaign(2026)
    op = make_user("jiangan_op", "operator", jiangan)
    coord = make_user("coord", "coordinator")
    db.session.commit()
    w = SimpleNamespace(
        app=app, campaign=campaign, cid=campaign.id, jiangan=jiangan, op=op, coord=coord
    )
    w.storage = tmp_path / "storage"
    batch = previewed(
        w, [row("江岸甲", CODE_A, 从业人员数=120), row("江岸乙", CODE_B, 从业人员数=60)]
    )
    importing.apply_import(db.session, batch, op)
    unit_ledger = ledger.unit_ledger(db.session, campaign, jiangan)
    ledger.submit_ledger(db.session, unit_ledger, op)
    ledger.approve_ledger(db.session, unit_ledger, coord)
    db.session.commit()
    return w


def previewed(w, rows: list[dict]) -> ImportBatch:
    """The operator's upload of ``rows`` (附表1), checked and previewed, not applied."""
    batch = importing.start_import(
        db.session, w.campaign, w.jiangan, ledger_xlsx(rows), "台账.xlsx", w.op, w.storage
    )
    db.session.commit()
    batch = importing.run_import(db.session, batch.id, w.storage)
    assert batch.status == "previewed", json.loads(batch.problems)
    return batch


# ---- 1. applying one import ---------------------------------------------------------------

IMPORT_DONE = "该导入已由他人（或另一次提交）处理，未重复导入"
CHANGE_SET = "台账已审核，本次导入生成变更申请：新增1个、修改1个，待市级专班审核后生效。"


def test_fifty_applies_of_one_import_make_one_change_set(w):
    """The approved base takes a file as change requests: B corrected (to 45, 44, 43 staff
    in the rounds), C added. Fifty posts of 应用 make those two requests once, and one
    ``ledger.import`` entry."""
    ledger_page = f"/campaigns/{w.cid}/units/jiangan/ledger"
    clients = logged_in(w.app, "jiangan_op", N, ledger_page)
    for k in range(ROUNDS):
        batch = previewed(
            w,
            [
                row("江岸甲", CODE_A, 从业人员数=120),
                row("江岸乙", CODE_B, 从业人员数=45 - k),
                row("江岸丙", CODE_C, 从业人员数=8 + k),
            ],
        )
        url = f"/campaigns/{w.cid}/imports/{batch.id}/apply"
        answers = post_pages(clients, url)

        assert page_outcomes(clients, answers) == {
            ("success", CHANGE_SET): 1,
            ("error", IMPORT_DONE): N - 1,
        }
        db.session.expire_all()
        assert db.session.get(ImportBatch, batch.id).status == "applied"
        made = db.session.execute(
            select(ChangeRequest.action, ChangeRequest.credit_code).where(
                ChangeRequest.import_batch_id == batch.id
            )
        ).all()
        assert sorted(made) == [("add", CODE_C), ("update", CODE_B)]
        assert audit_count("ledger.import", batch.id) == 1


def test_applying_and_discarding_one_import_at_once_does_one_of_them(w):
    """Half the posts say 应用, half 放弃: the import is applied or discarded, once."""
    ledger_page = f"/campaigns/{w.cid}/units/jiangan/ledger"
    clients = logged_in(w.app, "jiangan_op", 20, ledger_page)
    for k in range(ROUNDS):
        batch = previewed(w, [row("江岸乙", CODE_B, 从业人员数=45 - k)])
        base = f"/campaigns/{w.cid}/imports/{batch.id}/"
        answers = post_pages(clients, [base + ("apply", "discard")[k % 2] for k in range(20)])
        outcomes = page_outcomes(clients, answers)
        assert outcomes[("error", IMPORT_DONE)] == 19, outcomes
        db.session.expire_all()
        status = db.session.get(ImportBatch, batch.id).status
        requests = db.session.scalar(
            select(func.count())
            .select_from(ChangeRequest)
            .where(ChangeRequest.import_batch_id == batch.id)
        )
        if status == "applied":
            assert requests == 1
            assert (
                outcomes[
                    (
                        "success",
                        "台账已审核，本次导入生成变更申请：新增0个、修改1个，待市级专班审核后生效。",
                    )
                ]
                == 1
            )
        else:
            assert status == "discarded" and requests == 0
            assert outcomes[("success", "已放弃本次导入，台账未作修改。")] == 1
        assert (
            audit_count("ledger.import", batch.id) + audit_count("ledger.import_discard", batch.id)
            == 1
        )


def test_twenty_api_uploads_of_one_file_to_the_base_propose_its_changes_once(w):
    """The same file posted twenty times to the API (each post its own upload and preview):
    its two changes are proposed once; the other posts are told they are already pending."""
    token = issue_token(db.session, w.op)
    db.session.commit()
    clients = api_clients(w.app, token, 20)
    data = ledger_xlsx([row("江岸乙", CODE_B, 从业人员数=45), row("江岸丙", CODE_C, 从业人员数=8)])
    url = f"/api/v1/units/jiangan/ledger?campaign_id={w.cid}"
    answers = at_once(
        clients,
        lambda k, client: client.post(
            url,
            data={"file": (io.BytesIO(data), "台账.xlsx")},
            headers=client.headers,
            content_type="multipart/form-data",
        ),
    )
    outcomes = api_outcomes(answers)
    assert outcomes == {
        (200, None): 1,
        (409, "该文件提出的变更已在待审核的变更申请中，未重复提交"): 19,
    }
    made = db.session.execute(select(ChangeRequest.action, ChangeRequest.credit_code)).all()
    assert sorted(made) == [("add", CODE_C), ("update", CODE_B)]
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "ledger.import")
        )
        == 2
    )  # the base's own import in the fixture, and this one


# ---- 2. deciding one change request -------------------------------------------------------

CHANGE_DONE = "该变更申请已由他人（或另一次提交）处理，未重复处理"


def pending_requests(w, n: int) -> list[int]:
    """``n`` imports in turn, each proposing B's staff count (46, 47, ...): pending requests."""
    ids = []
    for k in range(n):
        batch = previewed(w, [row("江岸乙", CODE_B, 从业人员数=46 + k)])
        importing.apply_import(db.session, batch, w.op)
        db.session.commit()
        ids.append(
            db.session.scalar(
                select(ChangeRequest.id).where(ChangeRequest.import_batch_id == batch.id)
            )
        )
    return ids


def test_fifty_acceptances_of_one_change_request_apply_it_once(w):
    clients = logged_in(w.app, "coord", N, f"/campaigns/{w.cid}/change-requests")
    b = db.session.scalar(select(Organization.id).where(Organization.credit_code == CODE_B))
    for request_id in pending_requests(w, ROUNDS):
        url = f"/campaigns/{w.cid}/change-requests/{request_id}/accept"
        before = audit_count("organization.update", b)
        answers = post_pages(clients, url)
        assert page_outcomes(clients, answers) == {
            ("success", f"变更申请（{CODE_B}）已采纳。"): 1,
            ("error", CHANGE_DONE): N - 1,
        }
        db.session.expire_all()
        assert db.session.get(ChangeRequest, request_id).status == "accepted"
        assert audit_count("change_request.accepted", request_id) == 1
        assert audit_count("organization.update", b) == before + 1


def test_accepting_and_rejecting_one_change_request_at_once_does_one_of_them(w):
    clients = logged_in(w.app, "coord", 20, f"/campaigns/{w.cid}/change-requests")
    for request_id in pending_requests(w, ROUNDS):
        base = f"/campaigns/{w.cid}/change-requests/{request_id}/"
        paths = [base + ("accept", "reject")[k % 2] for k in range(20)]
        answers = post_pages(clients, paths, comment="已核实")
        outcomes = page_outcomes(clients, answers)
        assert outcomes[("error", CHANGE_DONE)] == 19, outcomes
        db.session.expire_all()
        status = db.session.get(ChangeRequest, request_id).status
        verb = {"accepted": "采纳", "rejected": "驳回"}[status]
        assert outcomes[("success", f"变更申请（{CODE_B}）已{verb}。")] == 1
        assert (
            audit_count("change_request.accepted", request_id)
            + audit_count("change_request.rejected", request_id)
            == 1
        )


# ---- 3. filing one half-monthly report --------------------------------------------------------


def test_fifty_api_posts_of_one_report_file_one_version(w):
    """Round k posts a corrected report (进展k) fifty times: version k is filed once, and
    the 49 others are told it is already filed, with its version."""
    token = issue_token(db.session, w.op)
    db.session.commit()
    clients = api_clients(w.app, token, N)
    url = f"/api/v1/campaigns/{w.cid}/units/jiangan/reports/2026-11-10"
    for version in range(1, ROUNDS + 1):
        body = {
            "progress": f"第{version}次报送：完成组建3个",
            "problems": "无",
            "next_steps": "继续",
        }
        answers = post_api(clients, url, body)
        outcomes = api_outcomes(answers)
        assert (
            outcomes[(409, f"该期半月报已报送（第{version}版），内容相同，未重复报送")] == N - 1
        ), outcomes
        [(status, _)] = [key for key in outcomes if key[0] != 409]
        assert status == 201
        db.session.expire_all()
        reports = db.session.scalars(
            select(UnitReport).where(UnitReport.due_on == date(2026, 11, 10))
        ).all()
        assert [(r.version, r.progress) for r in sorted(reports, key=lambda r: r.version)][-1] == (
            version,
            body["progress"],
        )
        assert len(reports) == version
        assert audit_count("report.submit", reports[-1].id) == 1
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "report.submit")
            )
            == version
        )
