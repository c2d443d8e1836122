"""Stored evidence: a missing file is a Chinese 404, never a 500; an upload that lost is removed.

The probe found that a restored database pointing at files that are not there answered
500, and that the document of a closure refused with 409 stayed in storage for good.
"""

import io
import threading
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem, Closure
from campaign.core.errors import STALE
from campaign.core.extensions import db
from campaign.core.models import User
from campaign.core.storage import resolve
from campaign.half_monthly.models import UnitReport
from campaign.timeline.models import Deliverable, Task, TaskSubmission
from reports.models import Bulletin
from tests import documents
from tests.conftest import csrf_token, login, make_two_districts, make_user
from tests.timeutil import at

MISSING = "文件不存在或已被移除"
CLOSURE_FORM = {
    "method": "joint",
    "joint_form": "区域联建",
    "party_org_name": "中共武昌甲联合支部",
    "established_on": "2026-11-18",
    "formal_members": "0",
    "secretary": "张三",
}


@pytest.fixture
def world(app):
    with at(2026, 11, 20, 10, 0):
        built = make_two_districts()
        make_user("wuchang_op", "operator", built.wuchang)
        make_user("coord", "coordinator")
        board.sync_items(db.session, built.campaign)
        db.session.commit()
        built.item_id = db.session.scalar(
            select(BoardItem.id).where(BoardItem.unit_id == built.wuchang.id)
        )
        built.task_id = db.session.scalar(
            select(Task.id)
            .join(Deliverable)
            .where(Task.unit_id == built.wuchang.id, Deliverable.code == "work_plan")
        )
        built.storage = Path(app.config["STORAGE_PATH"])
        runner = app.test_cli_runner()
        built.token = runner.invoke(args=["users", "token", "wuchang_op"]).output.strip()
        built.coord_token = runner.invoke(args=["users", "token", "coord"]).output.strip()
    return built


def _client(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _stored_files(world) -> list[Path]:
    return sorted(p for p in world.storage.rglob("*") if p.is_file())


def _api_closure(app, world, document: bytes):
    return app.test_client().post(
        f"/api/v1/campaigns/{world.campaign.id}/items/{world.item_id}/closures",
        headers={"Authorization": f"Bearer {world.token}"},
        data={**CLOSURE_FORM, "document": (io.BytesIO(document), "批复.pdf")},
        content_type="multipart/form-data",
    )


# ---- a stored file that is not there ---------------------------------------------------


def test_every_view_serving_a_stored_file_answers_a_missing_one_with_a_chinese_404(app, world):
    with at(2026, 11, 20, 10, 0):
        assert _api_closure(app, world, documents.pdf("批复")).status_code == 201
        client = _client(app, "wuchang_op")
        url = f"/campaigns/{world.campaign.id}/tasks/{world.task_id}"
        client.post(
            url,
            data={
                "csrf_token": csrf_token(client, url),
                "action": "submit",
                "note": "方案",
                "file": (io.BytesIO(documents.pdf("方案")), "方案.pdf"),
            },
            content_type="multipart/form-data",
        )
        url = f"/campaigns/{world.campaign.id}/units/wuchang/reports/2026-11-25"
        report = client.post(
            url,
            data={
                "csrf_token": csrf_token(client, url),
                "progress": "本期新建党组织1个。",
                "attachment": (io.BytesIO(documents.image("PNG")), "照片.png"),
            },
            content_type="multipart/form-data",
        )
        assert report.status_code == 302
        db.session.add(
            Bulletin(
                campaign_id=world.campaign.id,
                number=6,
                due_on=date(2026, 11, 10),
                cutoff_at=datetime.fromisoformat("2026-11-10T18:00+08:00"),
                title="通报",
                snapshot="{}",
                snapshot_sha256="0" * 64,
                pdf_path="bulletins/1/2026-06-0123456789abcdef.pdf",
                pdf_sha256="0" * 64,
                pdf_pages=1,
                xlsx_path="bulletins/1/2026-06-0123456789abcdef.xlsx",
                xlsx_sha256="0" * 64,
                trigger="manual",
            )
        )
        db.session.commit()
        closure = db.session.scalar(select(Closure))
        submission = db.session.scalar(select(TaskSubmission))
        attachment = db.session.scalar(select(UnitReport))
        for path in (closure.document_path, submission.file_path, attachment.attachment_path):
            resolve(path).unlink()  # lost on disk, or a restore that did not bring it
        cid = world.campaign.id
        pages = {
            "wuchang_op": [
                f"/campaigns/{cid}/closures/{closure.id}/document",
                f"/campaigns/{cid}/tasks/{world.task_id}/submissions/{submission.id}",
                f"/campaigns/{cid}/reports/{attachment.id}/attachment",
                f"/campaigns/{cid}/bulletins/6.pdf",
            ],
            "coord": [f"/campaigns/{cid}/bulletins/6.xlsx"],
        }
        for username, urls in pages.items():
            client = _client(app, username)
            for url in urls:
                response = client.get(url)
                assert response.status_code == 404, url
                assert MISSING in response.get_data(as_text=True), url
        response = app.test_client().get(
            f"/api/v1/campaigns/{cid}/bulletins/6/pdf",
            headers={"Authorization": f"Bearer {world.token}"},
        )
    assert response.status_code == 404
    assert response.get_json()["message"].startswith(MISSING)


def test_a_stored_file_is_served_with_its_type_and_nosniff(app, world):
    with at(2026, 11, 20, 10, 0):
        assert _api_closure(app, world, documents.pdf("批复")).status_code == 201
        closure = db.session.scalar(select(Closure))
        url = f"/campaigns/{world.campaign.id}/closures/{closure.id}/document"
        with _client(app, "wuchang_op").get(url) as response:
            assert response.status_code == 200
            assert response.data == documents.pdf("批复")
            assert response.headers["Content-Type"] == "application/pdf"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            # Shown in the browser for whoever judges it, its content checked again first.
            assert response.headers["Content-Disposition"].startswith("inline;")


# ---- an upload that lost -----------------------------------------------------------------


@contextmanager
def changed_meanwhile(table: str, row_id: int):
    """Another user changes the row (its version moves on) between this request's read
    and its write, on a connection of its own: the write then finds a stale version.

    The other change comes before this transaction first writes: at its first flush, or at
    its first UPDATE statement (a claim, campaign.core.db.claim, locks the row; a change made
    after it would wait for this transaction, which waits for it)."""

    done = []

    def bump(*_args):
        if done:
            return
        done.append(True)
        with db.engine.begin() as other:
            other.execute(
                text(f"UPDATE {table} SET version = version + 1 WHERE id = :id"), {"id": row_id}
            )

    def before_update(state):
        if state.is_update:
            bump()

    event.listen(db.session, "before_flush", bump)
    event.listen(db.session, "do_orm_execute", before_update)
    try:
        yield
    finally:
        event.remove(db.session, "before_flush", bump)
        event.remove(db.session, "do_orm_execute", before_update)


def test_a_closure_refused_with_409_leaves_no_file_behind(app, world):
    with at(2026, 11, 20, 10, 0):
        with changed_meanwhile("board_item", world.item_id):
            response = _api_closure(app, world, documents.pdf("批复"))
        assert response.status_code == 409
        assert response.get_json()["message"] == STALE
        assert db.session.scalar(select(func.count()).select_from(Closure)) == 0
        assert _stored_files(world) == []

        # The same document sent again is filed, and kept.
        assert _api_closure(app, world, documents.pdf("批复")).status_code == 201
        [kept] = _stored_files(world)
        assert kept == resolve(db.session.scalar(select(Closure.document_path)))


def test_a_closure_refused_on_the_page_leaves_no_file_behind(app, world):
    with at(2026, 11, 20, 10, 0):
        client = _client(app, "wuchang_op")
        url = f"/campaigns/{world.campaign.id}/items/{world.item_id}"
        token = csrf_token(client, url)
        with changed_meanwhile("board_item", world.item_id):
            response = client.post(
                url,
                data={
                    **CLOSURE_FORM,
                    "csrf_token": token,
                    "action": "close",
                    "document": (io.BytesIO(documents.pdf("批复")), "批复.pdf"),
                },
                content_type="multipart/form-data",
                follow_redirects=True,
            )
    assert STALE in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0
    assert _stored_files(world) == []


def test_a_task_delivery_refused_with_409_leaves_no_file_behind(app, world):
    with at(2026, 11, 20, 10, 0):
        with changed_meanwhile("task", world.task_id):
            response = app.test_client().post(
                f"/api/v1/campaigns/{world.campaign.id}/tasks/{world.task_id}/submissions",
                headers={"Authorization": f"Bearer {world.token}"},
                data={"note": "方案", "file": (io.BytesIO(documents.docx()), "方案.docx")},
                content_type="multipart/form-data",
            )
    assert response.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(TaskSubmission)) == 0
    assert _stored_files(world) == []


def test_a_file_kept_by_a_committed_closure_survives_a_loser_with_the_same_bytes(app, world):
    """Two submissions of the same document race on one item (a double click): whichever
    commits keeps its file; the loser removes only the file it wrote itself."""
    same = documents.pdf("批复")
    user_id = db.session.scalar(select(User.id).where(User.username == "wuchang_op"))
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list = [None, None]

    def submit(k: int) -> None:
        with app.app_context():
            session = db.session
            try:
                item = session.get(BoardItem, world.item_id)
                user = session.get(User, user_id)
                barrier.wait()
                board.submit_closure(
                    session,
                    item,
                    ClosureClaim.from_form(CLOSURE_FORM),
                    ("批复.pdf", same),
                    user,
                    world.storage,
                )
                session.commit()
                outcomes[k] = "ok"
            except Exception as error:  # noqa: BLE001 (the outcome is the assertion)
                session.rollback()
                outcomes[k] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(k,)) for k in range(2)]
    with at(2026, 11, 20, 10, 0):  # the clock is the process's: the threads share it
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert outcomes.count("ok") == 1, outcomes
    db.session.expire_all()
    [closure] = db.session.scalars(select(Closure)).all()
    assert _stored_files(world) == [resolve(closure.document_path)]
    assert resolve(closure.document_path).read_bytes() == same
