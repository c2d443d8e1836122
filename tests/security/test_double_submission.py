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
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select, update

from app import create_app
from campaign.audit import AuditEntry
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem, Closure, ItemNote, SpotCheck
from campaign.core.accounts import issue_token
from campaign.core.errors import Conflict
from campaign.core.extensions import db
from campaign.core.vocab import UnitKind
from campaign.half_monthly.models import UnitReport
from campaign.ledger import importing
from campaign.ledger import services as ledger
from campaign.ledger.models import (
    ChangeRequest,
    ExclusionProposal,
    ImportBatch,
    Organization,
    UnitLedger,
)
from campaign.timeline import tasks
from campaign.timeline.models import Deliverable, Task
from notifications.models import Delivery, Event
from tests import documents
from tests.conftest import (
    csrf_token,
    loaded,
    login,
    make_campaign,
    make_org,
    make_unit,
    make_user,
    refs,
)
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


def post_api(clients: list, paths: str | list[str], body: dict) -> list:
    """Every API client posts ``body`` as JSON at once, to ``paths`` (one for all, or one
    each)."""

    def send(k: int, client):
        url = paths if isinstance(paths, str) else paths[k]
        return client.post(url, json=body, headers=client.headers)

    return at_once(clients, send)


def post_files(clients: list, path: str, form: dict, **files: tuple[str, bytes]) -> list:
    """Every API client posts ``form`` with ``files`` (field: (name, bytes)) at once."""

    def send(k: int, client):
        data = {**form, **{f: (io.BytesIO(d), name) for f, (name, d) in files.items()}}
        return client.post(
            path, data=data, headers=client.headers, content_type="multipart/form-data"
        )

    return at_once(clients, send)


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
def w(app, tmp_path, built_once):
    """江岸区 (with 二七街道), its operator, a coordinator, campaign 2026; the ledger holds A
    (120 staff) and B (60 staff), approved as the base."""
    app.config["JOBS_IN_BACKGROUND"] = False
    built = loaded(built_once("tests.security.double_submission.w", lambda: _build(app, tmp_path)))
    return SimpleNamespace(app=app, **vars(built), storage=tmp_path / "storage")


def _build(app, tmp_path) -> SimpleNamespace:
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
    return refs(
        SimpleNamespace(campaign=campaign, cid=campaign.id, jiangan=jiangan, op=op, coord=coord)
    )


def previewed(w, rows: list[dict]) -> ImportBatch:
    """The operator's upload of ``rows`` (附表1), checked and previewed, not applied."""
    batch = importing.start_import(
        db.session, w.campaign, w.jiangan, ledger_xlsx(rows), "台账.xlsx", w.op, w.storage
    )
    db.session.commit()
    batch = importing.run_import(db.session, batch.id, w.storage)
    assert batch.status == "previewed", batch.problems
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
    answers = post_files(clients, url, {}, file=("台账.xlsx", data))
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


def test_twenty_page_posts_of_one_report_with_its_attachment_file_one_version(w):
    """Through the page, with an attachment: the same text and the same file are one
    filing; the same text with another file is a correction (a new version)."""
    url = f"/campaigns/{w.cid}/units/jiangan/reports/2026-11-10"
    clients = logged_in(w.app, "jiangan_op", 20, url)
    form = {"progress": "完成组建3个", "problems": "无", "next_steps": "继续"}
    for version, pdf in enumerate((documents.pdf("first"), documents.pdf("corrected")), start=1):

        def send(k: int, client, pdf=pdf):
            data = {"csrf_token": client.csrf, **form, "attachment": (io.BytesIO(pdf), "附件.pdf")}
            return client.post(url, data=data, content_type="multipart/form-data")

        answers = at_once(clients, send)
        statuses = Counter(a.status_code for a in answers)
        assert statuses == {302: 1, 409: 19}, statuses
        message = f"该期半月报已报送（第{version}版），内容相同，未重复报送"
        assert all(message in a.get_data(as_text=True) for a in answers if a.status_code == 409)
        db.session.expire_all()
        reports = db.session.scalars(select(UnitReport).order_by(UnitReport.version)).all()
        assert [(r.version, r.status) for r in reports][-1] == (version, "submitted")
        assert len(reports) == version
        assert reports[-1].attachment_name == "附件.pdf"
        for client in clients:
            flashed(client)  # the winner's "已报送第N版", shown by its next page


# ---- 4. the ledger's review: submit, approve or return ------------------------------------

M = 20  # concurrent posts in the races below (the same mechanism as above, fewer threads)


def test_a_report_with_line_breaks_posted_twice_from_a_browser_is_one_filing(w):
    """Browsers send a textarea's line breaks as CR LF; the report keeps them as LF. The same
    text posted again is still the same filing, and so is a note."""
    url = f"/campaigns/{w.cid}/units/jiangan/reports/2026-11-10"
    [client] = logged_in(w.app, "jiangan_op", 1, url)
    form = {"progress": "一、完成组建3个\r\n二、推进中5个", "problems": "无", "next_steps": "继续"}
    first = client.post(url, data={"csrf_token": client.csrf, **form})
    assert first.status_code == 302
    again = client.post(url, data={"csrf_token": client.csrf, **form})
    assert again.status_code == 409
    assert "该期半月报已报送（第1版），内容相同，未重复报送" in again.get_data(as_text=True)
    db.session.expire_all()
    [report] = db.session.scalars(select(UnitReport)).all()
    assert report.progress == "一、完成组建3个\n二、推进中5个"


def draft_ledgers(w, n: int) -> list[SimpleNamespace]:
    """``n`` districts, each with an operator and one organization in a draft ledger."""
    made = []
    for k in range(n):
        unit = make_unit(f"d{k}", f"测试{k}区")
        make_user(f"d{k}_op", "operator", unit)
        make_org(w.campaign, unit)
        made.append(SimpleNamespace(unit=unit, code=unit.code, username=f"d{k}_op"))
    tasks.ensure_tasks(db.session, w.campaign)  # their phase tasks, the ledger's among them
    db.session.commit()
    return made


def ledger_of(w, unit) -> UnitLedger:
    db.session.expire_all()
    return ledger.unit_ledger(db.session, w.campaign, unit)


def test_twenty_submissions_of_one_ledger_send_it_for_review_once(w):
    for d in draft_ledgers(w, ROUNDS):
        url = f"/campaigns/{w.cid}/units/{d.code}/ledger"
        clients = logged_in(w.app, d.username, M, url)
        answers = post_pages(clients, f"{url}/submit")
        assert page_outcomes(clients, answers) == {
            ("success", "台账状态：待审核。"): 1,
            ("error", "台账当前为“待审核”，不能报送审核"): M - 1,
        }
        unit_ledger = ledger_of(w, d.unit)
        assert unit_ledger.status == "submitted"
        assert audit_count("ledger.submitted", unit_ledger.id) == 1
        # The survey phase's ledger deliverable got one delivery, awaiting review.
        [task] = db.session.scalars(
            select(Task)
            .join(Deliverable)
            .where(Deliverable.fulfilled_by == "ledger", Task.unit_id == d.unit.id)
        ).all()
        assert [s.review for s in task.submissions] == ["pending"]


def test_approving_and_returning_one_ledger_at_once_does_one_of_them(w):
    clients = logged_in(w.app, "coord", M, f"/campaigns/{w.cid}/change-requests")
    for d in draft_ledgers(w, ROUNDS):
        ledger.submit_ledger(db.session, ledger_of(w, d.unit), None)
        db.session.commit()
        url = f"/campaigns/{w.cid}/units/{d.code}/ledger/"
        answers = post_pages(
            clients, [url + ("approve", "return")[k % 2] for k in range(M)], comment="请核实"
        )
        outcomes = page_outcomes(clients, answers)
        unit_ledger = ledger_of(w, d.unit)
        label = {"approved": "已审核（党建基数）", "returned": "已退回"}[unit_ledger.status]
        assert outcomes == {
            ("success", f"台账状态：{label}。"): 1,
            ("error", f"台账当前为“{label}”，只有待审核的台账可以审核通过"): M // 2
            - (unit_ledger.status == "approved"),
            ("error", f"台账当前为“{label}”，只有待审核的台账可以退回"): M // 2
            - (unit_ledger.status == "returned"),
        }
        assert (
            audit_count("ledger.approved", unit_ledger.id)
            + audit_count("ledger.returned", unit_ledger.id)
            == 1
        )


# ---- 5. exclusions ------------------------------------------------------------------------


def test_twenty_proposals_confirmations_and_restores_of_one_enterprise_each_count_once(w):
    # The district proposes (twenty posts: one proposal), 工商 confirms (twenty: it leaves
    # once), the coordinator restores (twenty: it comes back once), round after round.
    from campaign.core import units

    city = make_unit("city-gsj", "市工商局", kind=UnitKind.DEPARTMENT, responsible=False)
    units.set_remit(db.session, city, "aic", "test")
    make_user("gsj", "verifier", city)
    db.session.commit()
    page = f"/campaigns/{w.cid}/exclusions"
    districts = logged_in(w.app, "jiangan_op", M, page)
    aic = logged_in(w.app, "gsj", M, page)
    clients = logged_in(w.app, "coord", M, page)
    a = db.session.scalar(select(Organization).where(Organization.credit_code == CODE_A))
    url = f"/campaigns/{w.cid}/organizations/{a.id}"
    for _ in range(ROUNDS):
        answers = post_pages(
            districts, f"{url}/exclude", status="zombie", reason="工商核实：长期停业"
        )
        assert page_outcomes(districts, answers) == {
            ("success", "已提请工商部门确认剔除“江岸甲”；确认前仍在党建基数内。"): 1,
            ("error", "“江岸甲”的剔除申请正等待工商部门确认，未重复提请"): M - 1,
        }
        db.session.expire_all()
        assert db.session.get(Organization, a.id).in_base is True
        proposal = db.session.scalars(
            select(ExclusionProposal).order_by(ExclusionProposal.id.desc())
        ).first()
        confirm = f"/campaigns/{w.cid}/exclusion-proposals/{proposal.id}/confirm"
        answers = post_pages(aic, confirm, note="")
        assert page_outcomes(aic, answers) == {
            ("success", "已确认：“江岸甲”剔除出党建基数。"): 1,
            ("error", "该剔除申请已确认，未重复处理"): M - 1,
        }
        db.session.expire_all()
        assert db.session.get(Organization, a.id).in_base is False
        answers = post_pages(clients, f"{url}/restore", reason="复核：恢复经营")
        assert page_outcomes(clients, answers) == {
            ("success", "“江岸甲”已恢复到党建基数。"): 1,
            ("error", "该组织未被剔除"): M - 1,
        }
    db.session.expire_all()
    assert db.session.get(Organization, a.id).in_base is True
    assert audit_count("organization.exclusion_proposed", a.id) == ROUNDS
    assert audit_count("organization.exclusion_confirmed", a.id) == ROUNDS
    assert audit_count("organization.exclude", a.id) == ROUNDS
    assert audit_count("organization.restore", a.id) == ROUNDS


# ---- 6. phase tasks: deliver, review -------------------------------------------------------


def task_for(w, code: str) -> Task:
    return db.session.scalar(
        select(Task).join(Deliverable).where(Deliverable.code == code, Task.unit_id == w.jiangan.id)
    )


def test_twenty_deliveries_of_one_task_file_it_once_and_twenty_reviews_decide_it_once(w):
    op = api_clients(w.app, issue_token(db.session, w.op), M)
    coord = api_clients(w.app, issue_token(db.session, w.coord), M)
    db.session.commit()
    for code in ("work_plan", "acceptance_report", "lookback_summary"):
        task = task_for(w, code)
        url = f"/api/v1/campaigns/{w.cid}/tasks/{task.id}"
        answers = post_files(
            op, f"{url}/submissions", {"note": "见附件"}, file=("方案.pdf", documents.pdf("plan"))
        )
        outcomes = api_outcomes(answers)
        assert outcomes[(409, "该项已报送（待审核），不能重复报送")] == M - 1, outcomes
        assert sorted(status for status, _ in outcomes) == [201, 409]

        answers = post_api(coord, f"{url}/review", {"accept": True})
        outcomes = api_outcomes(answers)
        assert outcomes[(409, "该项没有待审核的报送")] == M - 1, outcomes
        assert sorted(status for status, _ in outcomes) == [200, 409]

        db.session.expire_all()
        task = db.session.get(Task, task.id)
        assert (task.status, [s.review for s in task.submissions]) == ("accepted", ["accepted"])
        assert audit_count("task.submit", task.id) == 1
        assert audit_count("task.accepted", task.id) == 1


# ---- 7. returning a report ----------------------------------------------------------------


def test_twenty_returns_of_one_report_return_it_once(w):
    op = api_clients(w.app, issue_token(db.session, w.op), 1)[0]
    coord = api_clients(w.app, issue_token(db.session, w.coord), M)
    db.session.commit()
    url = f"/api/v1/campaigns/{w.cid}/units/jiangan/reports/2026-11-10"
    for version in range(1, ROUNDS + 1):
        filed = op.post(url, json={"progress": f"第{version}版"}, headers=op.headers)
        assert filed.status_code == 201, filed.json
        report_id = filed.json["id"]
        answers = post_api(
            coord, f"/api/v1/campaigns/{w.cid}/reports/{report_id}/return", {"comment": "补充数据"}
        )
        assert api_outcomes(answers) == {
            (200, None): 1,
            (409, "只能退回最新一版已报送的报告"): M - 1,
        }
        assert audit_count("report.return", report_id) == 1


# ---- 8. 销号: submitting, verifying or returning, spot-check findings ----------------------------


def board_items(w, n: int) -> list[int]:
    """``n`` enterprises of 10 staff and 4 formal members (应单独组建) on 江岸区's board."""
    orgs = [
        make_org(w.campaign, w.jiangan, name=f"四党员{k}", employees=10, formal=4) for k in range(n)
    ]
    board.sync_items(db.session, w.campaign)
    db.session.commit()
    return [
        db.session.scalar(select(BoardItem.id).where(BoardItem.organization_id == o.id))
        for o in orgs
    ]


CLOSURE = {
    "method": "standalone",
    "party_org_name": "四党员公司党支部",
    "secretary": "张书记",
    "formal_members": "4",
    "established_on": "2026-10-08",
}


def test_twenty_submissions_of_one_closure_file_it_once(w):
    clients = api_clients(w.app, issue_token(db.session, w.op), M)
    db.session.commit()
    for item_id in board_items(w, ROUNDS):
        url = f"/api/v1/campaigns/{w.cid}/items/{item_id}/closures"
        answers = post_files(
            clients, url, CLOSURE, document=("批复.pdf", documents.pdf("approval"))
        )
        outcomes = api_outcomes(answers)
        assert outcomes[(409, "该组织当前为“待核验”，不能提交销号")] == M - 1, outcomes
        assert sorted(status for status, _ in outcomes) == [201, 409]
        closures = db.session.scalars(select(Closure.status).where(Closure.item_id == item_id))
        assert list(closures) == ["pending"]
        assert audit_count("closure.submit", item_id) == 1


def test_verifying_and_returning_one_closure_at_once_decides_it_once(w):
    leader = make_user("jiangan_leader", "leader", w.jiangan)
    clients = api_clients(w.app, issue_token(db.session, leader), M)
    db.session.commit()
    for item_id in board_items(w, ROUNDS):
        board.submit_closure(
            db.session,
            db.session.get(BoardItem, item_id),
            ClosureClaim.from_form(CLOSURE),
            ("批复.pdf", documents.pdf("approval")),
            w.op,
            w.storage,
        )
        db.session.commit()
        base = f"/api/v1/campaigns/{w.cid}/items/{item_id}/"
        paths = [base + ("verify", "return")[k % 2] for k in range(M)]
        answers = post_api(clients, paths, {"reason": "批复文件未盖章"})
        outcomes = api_outcomes(answers)
        assert outcomes[(409, "没有待核验的销号")] == M - 1, outcomes
        assert sorted(status for status, _ in outcomes) == [200, 409]
        [closure] = db.session.scalars(select(Closure).where(Closure.item_id == item_id))
        assert closure.status in ("verified", "returned")
        assert audit_count("closure.verify", item_id) + audit_count("closure.return", item_id) == 1


def test_twenty_failing_findings_on_one_drawn_closure_revoke_it_once(w):
    leader = make_user("jiangan_leader", "leader", w.jiangan)
    clients = api_clients(w.app, issue_token(db.session, w.coord), M)
    items = board_items(w, ROUNDS)
    for item_id in items:
        item = db.session.get(BoardItem, item_id)
        board.submit_closure(
            db.session,
            item,
            ClosureClaim.from_form(CLOSURE),
            ("批复.pdf", documents.pdf("approval")),
            w.op,
            w.storage,
        )
        board.verify_closure(db.session, item, leader)
    check = board.draw(db.session, w.campaign, None, "count", ROUNDS, w.coord, seed=7)
    db.session.commit()
    for result in check.results:
        url = f"/api/v1/campaigns/{w.cid}/spot-checks/{check.id}/results/{result.id}"
        answers = post_api(clients, url, {"passed": False, "notes": "党员人数不实"})
        assert api_outcomes(answers) == {(200, None): 1, (409, "该项已有检查结论"): M - 1}
        item_id = result.closure.item_id
        assert audit_count("spot_check.result", item_id) == 1
        assert audit_count("closure.revoke", item_id) == 1
    db.session.expire_all()
    assert {c.status for c in db.session.scalars(select(Closure))} == {"revoked"}
    assert {
        o.party_org_status
        for o in db.session.scalars(select(Organization).where(Organization.name.like("四党员%")))
    } == {"none"}


# ---- 9. resending a message -----------------------------------------------------------------


def test_twenty_resends_of_one_message_queue_it_once(w):
    event = Event(kind="report_due", campaign_id=w.cid, payload={})
    db.session.add(event)
    db.session.flush()
    sent = Delivery(
        key=f"{event.id}:email:{w.op.id}",
        event_id=event.id,
        channel="email",
        user_id=w.op.id,
        address="zhang@example.cn",
        status="sent",
    )
    db.session.add(sent)
    db.session.commit()
    clients = logged_in(w.app, "coord", M, f"/campaigns/{w.cid}/change-requests")
    for round_ in range(1, ROUNDS + 1):
        answers = post_pages(clients, f"/campaigns/{w.cid}/deliveries/{sent.id}/resend")
        assert page_outcomes(clients, answers) == {
            ("success", "已重新排队发送"): 1,
            ("error", "该消息已重新排队，尚未发出，未重复排队"): M - 1,
        }
        copies = db.session.scalars(
            select(Delivery).where(Delivery.key.like(f"{sent.key}:resend:%"))
        ).all()
        assert sorted(c.key for c in copies) == [
            f"{sent.key}:resend:{n}" for n in range(1, round_ + 1)
        ]
        assert audit_count("delivery.resend", sent.id) == round_
        for copy in copies:  # the sender delivers it; a later resend is a new one
            copy.status = "sent"
        db.session.commit()


# ---- 10. waiting for another writer -----------------------------------------------------------


def holding(engine, statement, seconds: float, held: threading.Event) -> threading.Thread:
    """A thread that runs ``statement`` in a transaction of its own (taking its locks), keeps
    them ``seconds``, then commits; ``held`` is set once the locks are taken."""

    def hold() -> None:
        with engine.connect() as conn, conn.begin():
            conn.execute(statement)
            held.set()
            time.sleep(seconds)
            thread.released = time.monotonic()  # type: ignore[attr-defined]  # then commits

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10), "the holder never got its lock"
    return thread


def test_a_decision_posted_while_another_holds_the_request_waits_and_is_told_it_was_decided(w):
    """Another coordinator's transaction accepts the request and keeps its lock for a second
    and a half (on SQLite the whole database's): the post waits for it, then finds the
    request decided: the same 409 message, not a 500."""
    [request_id] = pending_requests(w, 1)
    [client] = logged_in(w.app, "coord", 1, f"/campaigns/{w.cid}/change-requests")
    accept = (
        update(ChangeRequest)
        .where(ChangeRequest.id == request_id)
        .values(status="accepted", decided_by_id=w.coord.id)
    )
    holder = holding(db.engine, accept, 1.5, threading.Event())
    [answer] = post_pages([client], f"/campaigns/{w.cid}/change-requests/{request_id}/accept")
    answered = time.monotonic()
    holder.join()
    assert page_outcomes([client], [answer]) == {("error", CHANGE_DONE): 1}
    assert answered >= holder.released  # it waited for the holder, and did not give up
    assert audit_count("change_request.accepted", request_id) == 0  # the holder records none


def test_an_import_applied_while_the_ledger_is_being_submitted_waits_and_is_refused(w):
    """The unit's submission for review is under way (its transaction holds the ledger row
    for a second) when an import of a draft is applied: the import waits, then finds the
    ledger submitted and changes nothing (on PostgreSQL it replaced the rows of a ledger
    just sent for review)."""

    def codes() -> set[str]:
        db.session.expire_all()
        return set(
            db.session.scalars(
                select(Organization.credit_code).where(Organization.unit_id == w.jiangan.id)
            )
        )

    before = codes()
    batch = previewed(w, [row("江岸新公司", "914201020000791938")])
    ledger_row = ledger.unit_ledger(db.session, w.campaign, w.jiangan)
    db.session.commit()
    submit = update(UnitLedger).where(UnitLedger.id == ledger_row.id).values(status="submitted")
    holder = holding(db.engine, submit, 1.0, threading.Event())
    with pytest.raises(Conflict, match=importing.LOCKED):
        importing.apply_import(db.session, batch, w.op)
    db.session.rollback()
    holder.join()
    assert db.session.get(ImportBatch, batch.id).status == "previewed"
    assert codes() == before  # the submitted ledger is as it was sent


def test_a_post_that_waits_for_another_writer_is_told_to_retry_or_done(w, backend):
    """Another writer holds the lock for two seconds. SQLite gives up waiting after
    SQLITE_BUSY_TIMEOUT: the post is told the system is busy and to retry, nothing kept (it
    was a 500 "database is locked"). PostgreSQL waits for a row lock as long as it takes: the
    post waits, then is done once."""
    settings = {"SQLITE_BUSY_TIMEOUT": 0.3} if backend == "sqlite" else {}
    impatient = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": w.app.config["SQLALCHEMY_DATABASE_URI"],
            "STORAGE_PATH": w.app.config["STORAGE_PATH"],
            "NOTIFY_AFTER_COMMIT": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **settings,
        }
    )
    [request_id] = pending_requests(w, 1)
    [client] = logged_in(impatient, "coord", 1, f"/campaigns/{w.cid}/change-requests")
    # Another writer, e.g. a large import, holds the write lock (on PostgreSQL: the change
    # request's row) for two seconds.
    if backend == "sqlite":
        touch = update(ImportBatch).where(ImportBatch.id == 0).values(status="processing")
    else:
        touch = (
            update(ChangeRequest)
            .where(ChangeRequest.id == request_id)
            .values(status=ChangeRequest.status)
        )
    holder = holding(db.engine, touch, 2, threading.Event())
    [answer] = post_pages([client], f"/campaigns/{w.cid}/change-requests/{request_id}/accept")
    holder.join()
    db.session.expire_all()
    if backend == "sqlite":
        assert page_outcomes([client], [answer]) == {
            ("error", "系统正忙（他人的保存尚未完成），本次未保存；请稍后重试。"): 1
        }
        assert db.session.get(ChangeRequest, request_id).status == "pending"
    else:
        assert page_outcomes([client], [answer]) == {
            ("success", f"变更申请（{CODE_B}）已采纳。"): 1
        }
        assert db.session.get(ChangeRequest, request_id).status == "accepted"
    with impatient.app_context():
        db.engine.dispose()


# ---- 11. the rest: plans, notes, draws, settings, deliverables, robots, first visits ------------


def test_the_same_note_posted_twenty_times_is_kept_once(w):
    [item_id] = board_items(w, 1)
    url = f"/campaigns/{w.cid}/items/{item_id}"
    clients = logged_in(w.app, "jiangan_op", M, url)
    answers = post_pages(clients, url, action="note", text="已约谈出资人，拟10月底前组建")
    assert page_outcomes(clients, answers) == {
        ("success", "已记录进展。"): 1,
        ("error", "2026-11-09的这条进展已记录，未重复记录"): M - 1,
    }
    assert db.session.scalar(select(func.count()).select_from(ItemNote)) == 1
    assert audit_count("item.note", item_id) == 1


def test_the_same_plan_saved_twenty_times_at_once_is_recorded_once(w):
    [item_id] = board_items(w, 1)
    clients = api_clients(w.app, issue_token(db.session, w.op), M)
    db.session.commit()
    plan = {"path": "standalone", "measures": "约谈出资人", "planned_on": "2026-11-30"}
    answers = at_once(
        clients,
        lambda k, client: client.patch(
            f"/api/v1/campaigns/{w.cid}/items/{item_id}/plan", json=plan, headers=client.headers
        ),
    )
    outcomes = api_outcomes(answers)
    # Saved once; a post racing it is told the item changed meanwhile, a later one finds the
    # plan already as it says (200, nothing changed).
    assert set(outcomes) <= {
        (200, None),
        (409, "该记录刚被他人修改（或同时提交），未保存；请刷新查看最新状态后再操作。"),
    }, outcomes
    assert audit_count("item.plan", item_id) == 1


def test_the_same_draw_posted_twenty_times_draws_once(w):
    leader = make_user("jiangan_leader", "leader", w.jiangan)
    for item_id in board_items(w, 4):
        item = db.session.get(BoardItem, item_id)
        board.submit_closure(
            db.session,
            item,
            ClosureClaim.from_form(CLOSURE),
            ("批复.pdf", documents.pdf("approval")),
            w.op,
            w.storage,
        )
        board.verify_closure(db.session, item, leader)
    db.session.commit()
    url = f"/campaigns/{w.cid}/spot-checks"
    clients = logged_in(w.app, "coord", M, url)
    answers = post_pages(clients, url, mode="count", size="2", kind="spot_check", note="第一批")
    [check_id] = db.session.scalars(select(SpotCheck.id)).all()
    assert page_outcomes(clients, answers) == {
        ("success", "已抽取。"): 1,
        ("error", f"已按相同条件抽取（第{check_id}号），尚未检查，未重复抽取"): M - 1,
    }


def test_the_same_settings_saved_twenty_times_at_once_are_recorded_once(w):
    clients = api_clients(w.app, issue_token(db.session, w.coord), M)
    db.session.commit()
    answers = at_once(
        clients,
        lambda k, client: client.patch(
            f"/api/v1/campaigns/{w.cid}/settings",
            json={"party_org_required_employees": "80"},
            headers=client.headers,
        ),
    )
    assert api_outcomes(answers) == {(200, None): M}
    assert audit_count("campaign.settings", w.cid) == 1
    db.session.expire_all()
    assert db.session.get(type(w.campaign), w.cid).party_org_required_employees == 80


def test_the_same_deliverable_added_or_dropped_twenty_times_is_added_and_dropped_once(w):
    url = f"/campaigns/{w.cid}/deliverables"
    clients = logged_in(w.app, "coord", M, f"/campaigns/{w.cid}/change-requests")
    phase_id = db.session.scalar(
        select(Deliverable.phase_id).where(Deliverable.code == "acceptance_report")
    )
    form = {"name": "组建情况专项报告", "audience": "districts", "due_on": "2026-11-30"}
    answers = post_pages(clients, url, phase_id=str(phase_id), **form)
    assert page_outcomes(clients, answers) == {
        ("success", "报送要求已保存。"): 1,
        ("error", "该阶段已有报送要求“组建情况专项报告”，未重复添加"): M - 1,
    }
    [added] = db.session.scalars(select(Deliverable).where(Deliverable.name == form["name"]))
    answers = post_pages(clients, f"{url}/{added.id}", action="drop", reason="与验收报告合并")
    assert page_outcomes(clients, answers) == {
        ("success", "已取消该项报送要求。"): 1,
        ("error", "该项报送要求已取消，未重复取消"): M - 1,
    }
    assert audit_count("deliverable.create", added.id) == 1
    assert audit_count("deliverable.drop", added.id) == 1


def test_the_same_robot_saved_twenty_times_at_once_is_recorded_once(w):
    make_user("jiangan_leader", "leader", w.jiangan)
    db.session.commit()
    url = "/units/jiangan/webhook"
    clients = logged_in(w.app, "jiangan_leader", M, url)
    robot = "https://oapi.dingtalk.com/robot/send?access_token=jiangan"
    answers = post_pages(clients, url, flavour="dingtalk", url=robot)
    outcomes = page_outcomes(clients, answers)
    assert outcomes[("success", "群机器人设置已保存")] >= 1, outcomes
    assert set(outcomes) <= {
        ("success", "群机器人设置已保存"),
        ("error", "该记录刚被他人修改（或同时提交），未保存；请刷新查看最新状态后再操作。"),
    }, outcomes
    assert audit_count("webhook.set", w.jiangan.id) == 1


def test_twenty_first_visits_of_a_ledger_page_at_once_create_its_draft_once(w):
    [d] = draft_ledgers(w, 1)
    db.session.execute(delete(UnitLedger).where(UnitLedger.unit_id == d.unit.id))
    db.session.commit()
    url = f"/campaigns/{w.cid}/units/{d.code}/ledger"
    clients = logged_in(w.app, d.username, M, f"/campaigns/{w.cid}/exclusions")
    answers = at_once(clients, lambda k, client: client.get(url))
    assert [a.status_code for a in answers] == [200] * M
    assert (
        db.session.scalar(
            select(func.count()).select_from(UnitLedger).where(UnitLedger.unit_id == d.unit.id)
        )
        == 1
    )
