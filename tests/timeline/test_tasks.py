"""Per-unit phase tasks: the template's deliverables, coordinator edits, delivery and review.

Units (all responsible, created before the campaign so the template gives them tasks):
江岸区 (jiangan) and 武昌区 (wuchang) are districts, 市民政局 (mzj) is a city department;
二七街道 (erqi), a street below 江岸区, is not responsible and owes nothing.

The 2026 campaign from the wuhan-2016 template asks (worked out by hand from the template):

  deliverable                       audience      due     jiangan wuchang mzj
  区工作方案（含专班名单） work_plan    districts     08-17      x       x
  部门工作方案 dept_plan                departments   08-17                      x
  排查摸底台账 ledger                   all           08-26      x       x       x
  落实专项工作责任情况报告 dept_resp…   departments   11-30                      x
  检查验收情况报告 acceptance_report    districts     12-05      x       x
  “回头看”工作总结 lookback_summary     all           12-30      x       x       x
                                                               4   +   4   +   4  = 12 tasks

A deadline runs to 23:59:59 Beijing time on the due day. The process zone is UTC for these
tests; time_machine is given UTC instants (a ZoneInfo destination would also switch the
process zone to that zone, which would hide zone bugs).
"""

import hashlib
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import csrf_token, loaded, login, make_campaign, make_org, make_unit, make_user, refs
from sqlalchemy import func, select

from campaign.core.extensions import db
from campaign.core.models import Phase
from campaign.core.storage import resolve
from campaign.core.vocab import UnitKind
from campaign.ledger.services import approve_ledger, return_ledger, submit_ledger, unit_ledger
from campaign.timeline import tasks
from campaign.timeline.inputs import DeliverableInput
from campaign.timeline.models import Deliverable, Task, TaskSubmission
from campaign.timeline.states import TaskState
from tests import documents
from tests.timeutil import at, machine_zone, shanghai

PDF = documents.pdf("工作方案")

EXPECTED = {
    "jiangan": {"work_plan", "ledger", "acceptance_report", "lookback_summary"},
    "wuchang": {"work_plan", "ledger", "acceptance_report", "lookback_summary"},
    "mzj": {"dept_plan", "ledger", "dept_responsibility", "lookback_summary"},
}
DUE = {
    "work_plan": date(2026, 8, 17),
    "dept_plan": date(2026, 8, 17),
    "ledger": date(2026, 8, 26),
    "dept_responsibility": date(2026, 11, 30),
    "acceptance_report": date(2026, 12, 5),
    "lookback_summary": date(2026, 12, 30),
}


@pytest.fixture(autouse=True)
def utc_machine_zone():
    with machine_zone("UTC"):
        yield


@pytest.fixture
def world(built_once):
    return loaded(built_once("tests.timeline.tasks.world", _build_world))


def _build_world() -> SimpleNamespace:
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    mzj = make_unit("mzj", "市民政局", kind=UnitKind.DEPARTMENT)
    jiangan.position, wuchang.position, mzj.position = 1, 2, 3
    erqi = make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    coord = make_user("coord", "coordinator")
    op_jiangan = make_user("op_jiangan", "operator", jiangan)
    op_wuchang = make_user("op_wuchang", "operator", wuchang)
    op_mzj = make_user("op_mzj", "operator", mzj)
    campaign = make_campaign(2026)
    db.session.commit()
    return refs(
        SimpleNamespace(
            campaign=campaign,
            jiangan=jiangan,
            wuchang=wuchang,
            mzj=mzj,
            erqi=erqi,
            coord=coord,
            op_jiangan=op_jiangan,
            op_wuchang=op_wuchang,
            op_mzj=op_mzj,
        )
    )


def task_of(world, unit, code: str) -> Task:
    return db.session.scalar(
        select(Task)
        .join(Deliverable)
        .where(
            Deliverable.campaign_id == world.campaign.id,
            Deliverable.code == code,
            Task.unit_id == unit.id,
        )
    )


def phase(world, code: str) -> Phase:
    return next(p for p in world.campaign.phases if p.code == code)


def user_client(app, world, username: str):
    """A logged-in client and its session's CSRF token, read from a page with a form.

    Log in at the earliest moment a test travels to: Flask refuses a session cookie
    signed "in the future", so a client logged in later cannot travel back."""
    client = app.test_client()
    login(client, username)
    user = next(u for u in vars(world).values() if getattr(u, "username", None) == username)
    path = (
        f"/campaigns/{world.campaign.id}/timeline"  # coordinators edit deliverables there
        if user.unit is None
        else f"/campaigns/{world.campaign.id}/units/{user.unit.code}/reports/2026-08-25"
    )
    return client, csrf_token(client, path)


def task_url(world, task) -> str:
    return f"/campaigns/{world.campaign.id}/tasks/{task.id}"


def post_task(client, token, world, task, follow=False, **data):
    return client.post(
        task_url(world, task),
        data={"csrf_token": token, **data},
        content_type="multipart/form-data",
        follow_redirects=follow,
    )


def state_now(world, task) -> tasks.Cell:
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    return tasks.Cell(task, tasks.state_of(task, datetime.now(UTC), world.campaign.timezone))


def page_state(client, world, task) -> str:
    html = client.get(task_url(world, task)).get_data(as_text=True)
    return re.search(r'id="task-state"[^>]*>([^<]+)<', html).group(1)


def matrix_cell(html: str, world, task) -> tuple[str, str] | None:
    """(state class, label) of ``task``'s cell on the timeline page."""
    m = re.search(rf'<td class="s-(\w+)"><a href="{task_url(world, task)}">([^<]+)</a>', html)
    return (m.group(1), m.group(2)) if m else None


def submissions(task) -> int:
    return db.session.scalar(
        select(func.count()).select_from(TaskSubmission).where(TaskSubmission.task_id == task.id)
    )


# ---- the template's tasks ---------------------------------------------------------------


def test_template_gives_each_unit_the_tasks_of_its_audience(world):
    all_tasks = db.session.scalars(select(Task)).all()
    assert len(all_tasks) == 12
    for unit in (world.jiangan, world.wuchang, world.mzj):
        owned = [t for t in all_tasks if t.unit_id == unit.id]
        assert {t.deliverable.code for t in owned} == EXPECTED[unit.code]
        assert all(t.due_on == DUE[t.deliverable.code] for t in owned)
        assert all(t.status == "open" and not t.dropped for t in owned)
    assert not [t for t in all_tasks if t.unit_id == world.erqi.id]
    # Nothing is missing, so nothing more is created.
    assert tasks.ensure_tasks(db.session, world.campaign) == 0


def test_template_deliverables_and_the_ledger_one(world):
    deliverables = db.session.scalars(
        select(Deliverable).where(Deliverable.campaign_id == world.campaign.id)
    ).all()
    got = {d.code: (d.audience, d.due_on, d.phase.code, d.fulfilled_by) for d in deliverables}
    assert got == {
        "work_plan": ("districts", date(2026, 8, 17), "training", ""),
        "dept_plan": ("departments", date(2026, 8, 17), "training", ""),
        "ledger": ("all", date(2026, 8, 26), "survey", "ledger"),
        "dept_responsibility": ("departments", date(2026, 11, 30), "acceptance", ""),
        "acceptance_report": ("districts", date(2026, 12, 5), "acceptance", ""),
        "lookback_summary": ("all", date(2026, 12, 30), "lookback", ""),
    }


def test_matrix_lists_every_responsible_unit_with_its_cells(world):
    with at(2026, 8, 16, 9, 0):
        deliverables, rows = tasks.matrix(db.session, world.campaign, None, datetime.now(UTC))
    assert [d.code for d in deliverables] == [
        "work_plan",
        "dept_plan",
        "ledger",
        "dept_responsibility",
        "acceptance_report",
        "lookback_summary",
    ]
    assert [u.code for u, _ in rows] == ["jiangan", "wuchang", "mzj"]
    by_code = {d.id: d.code for d in deliverables}
    for unit, cells in rows:
        assert {by_code[d] for d in cells} == EXPECTED[unit.code]
        states = {by_code[d]: c.state for d, c in cells.items()}
        assert states["lookback_summary"] == TaskState.NOT_STARTED  # phase starts 12-06
        assert states["ledger"] == TaskState.NOT_STARTED  # phase starts 08-18
    # An operator's matrix has only their own unit.
    _, rows = tasks.matrix(db.session, world.campaign, [world.wuchang.id], datetime.now(UTC))
    assert [u.code for u, _ in rows] == ["wuchang"]


# ---- coordinators edit deliverables --------------------------------------------------------


def test_coordinator_adds_a_deliverable_for_every_unit_of_its_audience(app, world):
    client, token = user_client(app, world, "coord")
    url = f"/campaigns/{world.campaign.id}/deliverables"
    build = phase(world, "build")
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "phase_id": build.id,
            "name": "集中组建进展报告",
            "audience": "districts",
            "due_on": "2026-10-15",
        },
    )
    assert response.status_code == 302
    d = db.session.scalar(select(Deliverable).where(Deliverable.name == "集中组建进展报告"))
    assert (d.phase_id, d.audience, d.due_on) == (build.id, "districts", date(2026, 10, 15))
    assert sorted((t.unit.code, t.due_on) for t in d.tasks) == [
        ("jiangan", date(2026, 10, 15)),
        ("wuchang", date(2026, 10, 15)),
    ]
    client.post(
        url,
        data={
            "csrf_token": token,
            "phase_id": build.id,
            "name": "隶属关系调整情况",
            "audience": "all",
            "due_on": "2026-11-20",
        },
    )
    d = db.session.scalar(select(Deliverable).where(Deliverable.name == "隶属关系调整情况"))
    assert sorted(t.unit.code for t in d.tasks) == ["jiangan", "mzj", "wuchang"]
    assert db.session.scalar(select(func.count()).select_from(Task)) == 12 + 2 + 3
    html = client.get(f"/campaigns/{world.campaign.id}/timeline").get_data(as_text=True)
    assert "集中组建进展报告" in html and "隶属关系调整情况" in html


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "", "due_on": "2026-10-15"}, "「材料名称」不能为空"),
        ({"name": "材料", "due_on": "2026-12-31"}, "应在行动期间（2026-08-14至2026-12-30）内"),
        ({"name": "材料", "due_on": "十月"}, "应为日期"),
        ({"name": "材料", "due_on": "2026-10-15", "audience": "streets"}, "「报送单位」无效"),
    ],
    ids=["no-name", "after-the-campaign", "not-a-date", "bad-audience"],
)
def test_a_bad_deliverable_is_refused(app, world, data, message):
    client, token = user_client(app, world, "coord")
    response = client.post(
        f"/campaigns/{world.campaign.id}/deliverables",
        data={"csrf_token": token, "phase_id": phase(world, "build").id, **data},
        follow_redirects=True,
    )
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Deliverable)) == 6
    assert db.session.scalar(select(func.count()).select_from(Task)) == 12


def test_due_date_change_moves_tasks_except_those_set_per_unit(app, world):
    d = tasks.save_deliverable(
        db.session,
        world.campaign,
        None,
        DeliverableInput.from_form(
            {
                "phase_id": str(phase(world, "build").id),
                "name": "集中组建进展报告",
                "audience": "districts",
                "due_on": "2026-10-15",
            }
        ),
        world.coord,
    )
    db.session.commit()
    jiangan_task, wuchang_task = (
        task_of_deliverable(d, world.jiangan),
        task_of_deliverable(d, world.wuchang),
    )
    client, token = user_client(app, world, "coord")
    # 武昌区 gets its own date first ...
    post_task(client, token, world, wuchang_task, action="change", due_on="2026-10-25")
    assert db.session.get(Task, wuchang_task.id).due_on == date(2026, 10, 25)
    # ... then the deliverable moves: 江岸区 follows, 武昌区 keeps its own date.
    response = client.post(
        f"/campaigns/{world.campaign.id}/deliverables/{d.id}",
        data={
            "csrf_token": token,
            "name": "集中组建进展报告",
            "audience": "districts",
            "due_on": "2026-10-20",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Deliverable, d.id).due_on == date(2026, 10, 20)
    assert db.session.get(Task, jiangan_task.id).due_on == date(2026, 10, 20)
    assert db.session.get(Task, wuchang_task.id).due_on == date(2026, 10, 25)
    html = client.get(f"/campaigns/{world.campaign.id}/timeline").get_data(as_text=True)
    assert "10月25日截止" in html  # the per-unit date is shown in 武昌区's cell
    # A unit's own date stays its own even when the deliverable later lands on the same day.
    for due in ("2026-10-25", "2026-10-28"):
        client.post(
            f"/campaigns/{world.campaign.id}/deliverables/{d.id}",
            data={
                "csrf_token": token,
                "name": "集中组建进展报告",
                "audience": "districts",
                "due_on": due,
            },
        )
    db.session.expire_all()
    assert db.session.get(Task, jiangan_task.id).due_on == date(2026, 10, 28)
    assert db.session.get(Task, wuchang_task.id).due_on == date(2026, 10, 25)


def task_of_deliverable(d, unit) -> Task:
    return next(t for t in d.tasks if t.unit_id == unit.id)


def test_dropping_a_deliverable_needs_a_reason(app, world):
    d = db.session.scalar(select(Deliverable).where(Deliverable.code == "acceptance_report"))
    client, token = user_client(app, world, "coord")
    url = f"/campaigns/{world.campaign.id}/deliverables/{d.id}"
    response = client.post(
        url, data={"csrf_token": token, "action": "drop", "reason": "  "}, follow_redirects=True
    )
    assert "取消报送要求时必须填写理由" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(Deliverable, d.id).dropped
    assert not any(t.dropped for t in db.session.get(Deliverable, d.id).tasks)

    response = client.post(
        url,
        data={"csrf_token": token, "action": "drop", "reason": "与市级抽查合并，不再单独报送"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    db.session.expire_all()
    d = db.session.get(Deliverable, d.id)
    assert d.dropped
    assert [(t.dropped, t.drop_reason) for t in d.tasks] == [
        (True, "与市级抽查合并，不再单独报送")
    ] * 2
    assert len(d.tasks) == 2  # kept on file
    assert "检查验收情况报告" not in html
    deliverables, rows = tasks.matrix(db.session, world.campaign, None, datetime.now(UTC))
    assert "acceptance_report" not in {x.code for x in deliverables}
    assert all(d.id not in cells for _, cells in rows)
    assert tasks.ensure_tasks(db.session, world.campaign) == 0  # not recreated


def test_one_units_due_date_and_drop(app, world):
    task = task_of(world, world.jiangan, "work_plan")
    other = task_of(world, world.wuchang, "work_plan")
    client, token = user_client(app, world, "coord")

    post_task(client, token, world, task, action="change", due_on="2026-08-20", dropped="0")
    db.session.expire_all()
    assert db.session.get(Task, task.id).due_on == date(2026, 8, 20)
    assert db.session.get(Task, other.id).due_on == date(2026, 8, 17)
    assert task.deliverable.due_on == date(2026, 8, 17)

    response = post_task(client, token, world, task, action="change", due_on="2027-01-05")
    assert response.status_code == 302
    assert "应在行动期间" in client.get(task_url(world, task)).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Task, task.id).due_on == date(2026, 8, 20)

    # Dropped for this unit: a reason is required (the form sends the checkbox, then "0").
    response = client.post(
        task_url(world, task),
        data={"csrf_token": token, "action": "change", "dropped": ["1", "0"], "drop_reason": ""},
        follow_redirects=True,
    )
    assert "对该单位取消此项报送时必须填写理由" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(Task, task.id).dropped

    client.post(
        task_url(world, task),
        data={
            "csrf_token": token,
            "action": "change",
            "dropped": ["1", "0"],
            "drop_reason": "江岸区已随市级方案一并报送",
        },
    )
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert (task.dropped, task.drop_reason) == (True, "江岸区已随市级方案一并报送")
    assert not db.session.get(Task, other.id).dropped
    assert not task.deliverable.dropped
    html = client.get(f"/campaigns/{world.campaign.id}/timeline").get_data(as_text=True)
    assert matrix_cell(html, world, task) is None
    assert matrix_cell(html, world, other) is not None

    # The unit sees why, and cannot deliver it.
    op, op_token = user_client(app, world, "op_jiangan")
    response = op.get(task_url(world, task))
    assert "该单位此项已取消报送：江岸区已随市级方案一并报送" in response.get_data(as_text=True)
    response = post_task(op, op_token, world, task, action="submit", note="方案", follow=True)
    assert "该项已取消报送" in response.get_data(as_text=True)
    assert submissions(task) == 0


# ---- units deliver, coordinators accept or return ------------------------------------------


def test_delivered_on_the_last_second_is_on_time_and_at_midnight_late(app, world):
    on_time = task_of(world, world.jiangan, "work_plan")
    late = task_of(world, world.wuchang, "work_plan")
    with at(2026, 8, 17, 23, 59, 59):  # 15:59:59 UTC
        op_ja, token_ja = user_client(app, world, "op_jiangan")
        op_wc, token_wc = user_client(app, world, "op_wuchang")
        coord, token_c = user_client(app, world, "coord")
        response = post_task(
            op_ja,
            token_ja,
            world,
            on_time,
            action="submit",
            note="江岸区工作方案及专班名单",
            file=(io.BytesIO(PDF), "江岸区工作方案.pdf"),
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        cell = state_now(world, on_time)
        assert (cell.state, cell.label) == (TaskState.IN_PROGRESS, "进行中·待审核")
        # Not yet delivered: still in progress on the last second.
        assert state_now(world, late).state == TaskState.IN_PROGRESS
    with at(2026, 8, 18, 0, 0, 0):  # 16:00:00 UTC, the next day in Beijing
        post_task(
            op_wc,
            token_wc,
            world,
            late,
            action="submit",
            note="武昌区工作方案",
            file=(io.BytesIO(PDF), "武昌区工作方案.pdf"),
        )
    with at(2026, 8, 18, 9, 30):
        assert post_task(coord, token_c, world, on_time, action="accept").status_code == 302
        assert post_task(coord, token_c, world, late, action="accept").status_code == 302
        on_time_cell, late_cell = state_now(world, on_time), state_now(world, late)
        assert (on_time_cell.state, on_time_cell.label) == (TaskState.DONE_ON_TIME, "按时完成")
        assert (late_cell.state, late_cell.label) == (TaskState.DONE_LATE, "逾期完成")
        assert page_state(coord, world, on_time) == "按时完成"
        assert page_state(op_wc, world, late) == "逾期完成"
        html = coord.get(f"/campaigns/{world.campaign.id}/timeline").get_data(as_text=True)
        assert matrix_cell(html, world, on_time) == ("done_on_time", "按时完成")
        assert matrix_cell(html, world, late) == ("done_late", "逾期完成")
        # The delivery list shows Beijing time.
        assert "2026-08-17 23:59" in coord.get(task_url(world, on_time)).get_data(as_text=True)

    db.session.expire_all()
    ja_sub = db.session.get(Task, on_time.id).submissions[0]
    wc_sub = db.session.get(Task, late.id).submissions[0]
    assert ja_sub.submitted_at == shanghai(2026, 8, 17, 23, 59, 59)
    assert wc_sub.submitted_at == shanghai(2026, 8, 18, 0, 0, 0)
    assert (ja_sub.review, ja_sub.reviewed_by_id) == ("accepted", world.coord.id)
    assert db.session.get(Task, on_time.id).status == "accepted"


def test_returned_task_is_in_progress_again_and_can_be_resubmitted(app, world):
    task = task_of(world, world.mzj, "dept_plan")
    with at(2026, 8, 16, 10, 0):
        op, op_token = user_client(app, world, "op_mzj")
        coord, token = user_client(app, world, "coord")
        post_task(op, op_token, world, task, action="submit", file=(io.BytesIO(PDF), "方案.pdf"))
        response = post_task(op, op_token, world, task, action="submit", note="again", follow=True)
        assert "该项已报送（待审核），不能重复报送" in response.get_data(as_text=True)
        assert submissions(task) == 1
    with at(2026, 8, 17, 9, 0):
        response = post_task(coord, token, world, task, action="return", comment=" ", follow=True)
        assert "退回时必须填写退回意见" in response.get_data(as_text=True)
        assert db.session.get(Task, task.id).status == "submitted"
        post_task(coord, token, world, task, action="return", comment="缺少专人负责名单")
        cell = state_now(world, task)
        assert cell.task.status == "returned"
        assert (cell.state, cell.label) == (TaskState.IN_PROGRESS, "进行中·已退回")
        assert page_state(op, world, task) == "进行中·已退回"
        assert "缺少专人负责名单" in op.get(task_url(world, task)).get_data(as_text=True)
    with at(2026, 8, 18, 9, 0):  # after the due day, still returned: overdue
        assert state_now(world, task).label == "已逾期·已退回"
        post_task(
            op,
            op_token,
            world,
            task,
            action="submit",
            note="补充专人负责名单",
            file=(io.BytesIO(documents.pdf("工作方案 v2")), "方案（修改）.pdf"),
        )
        assert state_now(world, task).label == "已逾期·待审核"
        post_task(coord, token, world, task, action="accept")
        cell = state_now(world, task)
        # The accepted delivery is the resubmission of 08-18: late.
        assert (cell.state, cell.label) == (TaskState.DONE_LATE, "逾期完成")
        response = post_task(op, op_token, world, task, action="submit", note="x", follow=True)
        assert "该项已报送（已通过），不能重复报送" in response.get_data(as_text=True)
    db.session.expire_all()
    subs = db.session.get(Task, task.id).submissions
    assert [(s.review, s.file_name) for s in subs] == [
        ("returned", "方案.pdf"),
        ("accepted", "方案（修改）.pdf"),
    ]
    assert subs[0].review_comment == "缺少专人负责名单"


def test_undelivered_task_is_overdue_after_its_due_day_in_the_matrix(app, world):
    task = task_of(world, world.jiangan, "work_plan")
    lookback = task_of(world, world.jiangan, "lookback_summary")
    url = f"/campaigns/{world.campaign.id}/timeline"
    with at(2026, 8, 17, 23, 59, 59):
        coord, _ = user_client(app, world, "coord")
        op, _ = user_client(app, world, "op_jiangan")
        html = coord.get(url).get_data(as_text=True)
        assert matrix_cell(html, world, task) == ("in_progress", "进行中")
        assert matrix_cell(html, world, lookback) == ("not_started", "未开始")
    with at(2026, 8, 18, 0, 0, 0):
        html = coord.get(url).get_data(as_text=True)
        assert matrix_cell(html, world, task) == ("overdue", "已逾期")
        assert matrix_cell(op.get(url).get_data(as_text=True), world, task) == (
            "overdue",
            "已逾期",
        )
        _, rows = tasks.matrix(db.session, world.campaign, None, datetime.now(UTC))
        cells = dict(rows)[db.session.get(type(world.jiangan), world.jiangan.id)]
        assert cells[task.deliverable_id].state == TaskState.OVERDUE
        assert cells[task.deliverable_id].label == "已逾期"
        # Every work plan is overdue; the department's plan too; nothing later is.
        overdue = {
            (u.code, c.task.deliverable.code)
            for u, cs in rows
            for c in cs.values()
            if c.state == TaskState.OVERDUE
        }
        assert overdue == {("jiangan", "work_plan"), ("wuchang", "work_plan"), ("mzj", "dept_plan")}
        # An operator sees only the own unit's row.
        html = op.get(url).get_data(as_text=True)
        assert re.findall(r'<tr><td class="text">([^<]+)</td>', html) == ["江岸区"]
        html = coord.get(url).get_data(as_text=True)
        assert re.findall(r'<tr><td class="text">([^<]+)</td>', html)[:3] == [
            "江岸区",
            "武昌区",
            "市民政局",
        ]


# ---- the ledger review is the ledger deliverable -------------------------------------------


def test_ledger_review_fulfils_the_ledger_task(app, world):
    for unit in (world.jiangan, world.wuchang):
        make_org(world.campaign, unit)
    make_org(world.campaign, world.mzj, kind="social", category="association", level="city")
    ledgers = {
        u.code: unit_ledger(db.session, world.campaign, u)
        for u in (world.jiangan, world.wuchang, world.mzj)
    }
    ja, wc, mz = (task_of(world, u, "ledger") for u in (world.jiangan, world.wuchang, world.mzj))
    db.session.commit()

    with at(2026, 8, 26, 23, 59, 59):
        submit_ledger(db.session, ledgers["jiangan"], world.op_jiangan)
        cell = state_now(world, ja)
        assert cell.task.status == "submitted"
        assert (cell.state, cell.label) == (TaskState.IN_PROGRESS, "进行中·待审核")
        assert cell.task.submissions[0].note == "台账报送审核"
    with at(2026, 8, 27, 0, 0, 0):
        submit_ledger(db.session, ledgers["wuchang"], world.op_wuchang)
    with at(2026, 8, 20, 10, 0):
        submit_ledger(db.session, ledgers["mzj"], world.op_mzj)
    with at(2026, 8, 21, 9, 0):
        return_ledger(db.session, ledgers["mzj"], world.coord, "业务主管单位一栏未填写")
        cell = state_now(world, mz)
        assert (cell.task.status, cell.label) == ("returned", "进行中·已退回")
        assert cell.task.submissions[-1].review_comment == "业务主管单位一栏未填写"
    with at(2026, 8, 22, 9, 0):
        submit_ledger(db.session, ledgers["mzj"], world.op_mzj)
    with at(2026, 8, 28, 9, 0):  # reviewed after the due day: the submission time decides
        for code in ("jiangan", "wuchang", "mzj"):
            approve_ledger(db.session, ledgers[code], world.coord)
        db.session.commit()
        got = {t.unit.code: state_now(world, t) for t in (ja, wc, mz)}
        assert {code: (c.task.status, c.label) for code, c in got.items()} == {
            "jiangan": ("accepted", "按时完成"),
            "wuchang": ("accepted", "逾期完成"),
            "mzj": ("accepted", "按时完成"),
        }
    assert [s.review for s in db.session.get(Task, mz.id).submissions] == ["returned", "accepted"]


def test_ledger_task_cannot_be_delivered_by_upload(app, world):
    task = task_of(world, world.jiangan, "ledger")
    op, token = user_client(app, world, "op_jiangan")
    html = op.get(task_url(world, task)).get_data(as_text=True)
    assert "此项以台账报送审核为准" in html
    response = post_task(
        op, token, world, task, action="submit", file=(io.BytesIO(PDF), "台账.pdf"), follow=True
    )
    assert "台账请在台账页面报送审核" in response.get_data(as_text=True)
    assert submissions(task) == 0


# ---- who may do what, and where files go ----------------------------------------------------


def test_other_units_get_404_and_operators_403_on_what_is_not_theirs_to_do(app, world):
    task = task_of(world, world.jiangan, "work_plan")
    wc, wc_token = user_client(app, world, "op_wuchang")
    assert wc.get(task_url(world, task)).status_code == 404
    response = post_task(
        wc, wc_token, world, task, action="submit", file=(io.BytesIO(PDF), "x.pdf")
    )
    assert response.status_code == 404
    assert submissions(task) == 0

    ja, ja_token = user_client(app, world, "op_jiangan")
    post_task(ja, ja_token, world, task, action="submit", file=(io.BytesIO(PDF), "方案.pdf"))
    sub = db.session.scalars(select(TaskSubmission).where(TaskSubmission.task_id == task.id)).one()
    file_url = f"{task_url(world, task)}/submissions/{sub.id}"
    assert wc.get(file_url).status_code == 404
    assert post_task(ja, ja_token, world, task, action="accept").status_code == 403
    assert (
        post_task(ja, ja_token, world, task, action="change", due_on="2026-12-30").status_code
        == 403
    )
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert (task.status, task.due_on) == ("submitted", date(2026, 8, 17))
    # Coordinators review but do not deliver for a unit.
    coord, token = user_client(app, world, "coord")
    other = task_of(world, world.wuchang, "work_plan")
    response = post_task(coord, token, world, other, action="submit", note="代报")
    assert response.status_code == 403
    assert post_task(coord, token, world, task, action="dance").status_code == 400
    # Operators may not edit deliverables either.
    response = ja.post(
        f"/campaigns/{world.campaign.id}/deliverables/{task.deliverable_id}",
        data={"csrf_token": ja_token, "action": "drop", "reason": "不想报"},
    )
    assert response.status_code == 403
    assert not db.session.get(Deliverable, task.deliverable_id).dropped


def test_evidence_is_stored_under_storage_path_and_exe_is_refused(app, world):
    task = task_of(world, world.jiangan, "work_plan")
    op, token = user_client(app, world, "op_jiangan")
    storage = Path(app.config["STORAGE_PATH"])

    response = post_task(
        op,
        token,
        world,
        task,
        action="submit",
        note="方案",
        file=(io.BytesIO(b"MZ\x90\x00" + b"\x00" * 60), "setup.exe"),
        follow=True,
    )
    html = response.get_data(as_text=True)
    assert "《setup.exe》类型不允许" in html
    assert "可用：" in html and ".pdf" in html
    assert submissions(task) == 0
    assert db.session.get(Task, task.id).status == "open"
    assert not list(storage.rglob("*.exe"))

    post_task(
        op,
        token,
        world,
        task,
        action="submit",
        note="方案",
        file=(io.BytesIO(PDF), "江岸区方案.pdf"),
    )
    sub = db.session.scalars(select(TaskSubmission).where(TaskSubmission.task_id == task.id)).one()
    assert sub.file_path.startswith("tasks/")  # relative to STORAGE_PATH
    stored = resolve(sub.file_path)
    assert stored.is_relative_to(storage)
    assert stored.read_bytes() == PDF
    assert sub.file_name == "江岸区方案.pdf"
    assert sub.sha256 == hashlib.sha256(PDF).hexdigest()
    for static in {Path(app.static_folder), Path(app.root_path) / "static"}:
        assert not stored.is_relative_to(static.resolve())
        assert not list(static.rglob(stored.name))
    # It is served through the permission-checked download, not as a static file.
    with op.get(f"{task_url(world, task)}/submissions/{sub.id}") as download:
        assert download.status_code == 200 and download.data == PDF
    assert op.get(f"/static/{stored.name}").status_code == 404


def test_a_task_of_another_campaign_is_not_found(app, world):
    other = make_campaign(2027)
    db.session.commit()
    task_2027 = db.session.scalar(
        select(Task)
        .join(Deliverable)
        .where(Deliverable.campaign_id == other.id, Task.unit_id == world.jiangan.id)
    )
    coord, _ = user_client(app, world, "coord")
    assert coord.get(f"/campaigns/{world.campaign.id}/tasks/{task_2027.id}").status_code == 404
    assert coord.get(f"/campaigns/{other.id}/tasks/{task_2027.id}").status_code == 200
    assert coord.get(f"/campaigns/{world.campaign.id}/tasks/999999").status_code == 404


# ---- confirmed bugs -------------------------------------------------------------------------


def test_narrowing_the_audience_drops_the_tasks_of_units_no_longer_asked(world):
    d = db.session.scalar(select(Deliverable).where(Deliverable.code == "lookback_summary"))
    tasks.save_deliverable(
        db.session,
        world.campaign,
        d,
        DeliverableInput.from_form(
            {"name": d.name, "audience": "districts", "due_on": "2026-12-30"}
        ),
        world.coord,
    )
    _, rows = tasks.matrix(db.session, world.campaign, [world.mzj.id], datetime.now(UTC))
    ((_, cells),) = rows
    assert d.id not in cells  # 市民政局 no longer owes the districts' summary


def test_drop_without_a_deliverable_is_not_found(app, world):
    client, token = user_client(app, world, "coord")
    response = client.post(
        f"/campaigns/{world.campaign.id}/deliverables",
        data={"csrf_token": token, "action": "drop", "reason": "x"},
    )
    assert response.status_code in (400, 404)


def test_a_phase_id_that_is_not_a_number_is_refused(app, world):
    client, token = user_client(app, world, "coord")
    response = client.post(
        f"/campaigns/{world.campaign.id}/deliverables",
        data={"csrf_token": token, "phase_id": "abc", "name": "材料", "due_on": "2026-10-01"},
        follow_redirects=True,
    )
    assert "请选择所属阶段" in response.get_data(as_text=True)
