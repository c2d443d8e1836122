"""The role homes, their 待办 and where each count leads; 协调事项 with their scoping; 催办
recorded and delivered (in-app, and mail through a real SMTP server on loopback); the
leadership view over hand-made bulletin snapshots. The city is tests/home/world.py, with every
count worked out by hand there."""

import hashlib
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign.audit import AuditEntry
from campaign.board.models import BoardItem, CoordinationIssue, IssueStatus
from campaign.core.extensions import db
from campaign.core.models import User
from notifications import dispatch
from notifications.models import Notification
from notifications.urging import Urge
from reports.models import Bulletin
from tests import documents
from tests.conftest import csrf_token, login
from tests.home import world
from tests.notifications.loopback import HOST, free_port, smtp_server
from tests.timeutil import at, shanghai


@pytest.fixture
def w(app, built_once):
    return world.copied(built_once, Path(app.config["STORAGE_PATH"]))


@pytest.fixture
def now():
    with at(2026, 11, 22, 10, 0):
        yield


def as_user(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def todos(html: str) -> dict[str, tuple[int, str]]:
    """Each 待办 tile: key -> (count, link)."""
    found = re.findall(
        r'<a class="todo[^"]*" id="todo-([a-z-]+)" href="([^"]+)">\s*<span class="count">(\d+)</span>',
        html,
    )
    return {key: (int(n), href.replace("&amp;", "&")) for key, href, n in found}


def flashes(html: str) -> list[str]:
    return re.findall(r'<div class="flash [a-z]+">(.*?)</div>', html, re.S)


def listed(html: str) -> list[str]:
    """The titles of a 待办 list, in order."""
    return re.findall(
        r"<li><a href=\"[^\"]+\">(?:<span class=\"unit\">[^<]*</span> )?<strong>([^<]+)</strong>",
        html,
    )


# ---- the district operator -------------------------------------------------------------


def test_operator_lands_on_his_todo_with_counts_worked_out_by_hand(app, w, now):
    client = as_user(app, "jiangan_op")
    home = client.get("/").headers["Location"]
    assert home == f"/campaigns/{w.cid}/home"
    html = page(client, home)
    counts = {k: n for k, (n, _) in todos(html).items()}
    assert counts == {
        "report-late": 1,  # 11-10 not filed
        "report": 1,  # 11-25, 3 days left
        "overdue": 2,  # A, B
        "returned": 1,  # C
        "tasks": 2,  # T2 overdue, T1 due in 3 days
        "decided": 1,  # accepted on 11-20
        "issues": 1,  # on item A
    }
    assert "逾期未报送" in html and "还有3天截止" in html
    assert "批复文件未加盖公章" in html  # the returned closure's reason, on the home itself
    assert 'id="countdown"' in html


def test_each_operator_todo_leads_to_the_work_with_that_many_rows(app, w, now):
    client = as_user(app, "jiangan_op")
    links = {k: href for k, (_, href) in todos(page(client, f"/campaigns/{w.cid}/home")).items()}
    cid = w.cid
    assert links["report-late"] == f"/campaigns/{cid}/units/jiangan/reports/2026-11-10"
    assert links["report"] == f"/campaigns/{cid}/units/jiangan/reports/2026-11-25"
    assert 'id="report-form"' in page(client, links["report"])  # he files it there

    board = page(client, links["overdue"])
    assert links["overdue"] == f"/campaigns/{cid}/units/jiangan/board?overdue=1"
    shown = set(re.findall(r'<div class="org">([^<]+)</div>', board))
    assert shown == {"江岸A", "江岸B"}

    returned = page(client, links["returned"])
    assert re.search(r'id="todo-count">1<', returned)
    assert listed(returned) == ["江岸C"]
    assert "已退回：批复文件未加盖公章" in returned
    assert f'href="/campaigns/{cid}/items/{w.items["C"].id}"' in returned

    due = page(client, links["tasks"])
    assert listed(due) == ["排查摸底报告", "区工作方案"]  # the overdue one first
    assert f'href="/campaigns/{cid}/tasks/{w.tasks["T2"]}"' in due
    assert "11月15日截止（已逾期）" in due and "11月25日截止（还有3天）" in due

    decided = page(client, links["decided"])
    assert listed(decided) == ["新增：江岸新增甲"]
    assert "已采纳" in decided

    issues = page(client, links["issues"])
    assert re.search(r'id="open-count">1<', issues)
    assert "江岸A负责人拒绝组建党组织" in issues and "武昌乙" not in issues


# ---- the unit leader ---------------------------------------------------------------------


def test_leader_sees_closures_to_verify_oldest_first_and_his_rank(app, w, now):
    client = as_user(app, "jiangan_leader")
    html = page(client, client.get("/").headers["Location"])
    tiles = todos(html)
    assert {k: n for k, (n, _) in tiles.items()} == {"awaiting": 2, "overdue": 2, "issues": 1}
    awaiting = page(client, tiles["awaiting"][1])
    assert listed(awaiting) == ["江岸E", "江岸D"]  # claimed 11-20 15:00, then 11-21 09:00
    assert f'href="/campaigns/{w.cid}/items/{w.items["E"].id}"' in awaiting
    rank = re.search(r'id="my-rank">(.*?)</div>\s*</div>', html, re.S).group(1)
    text = re.sub(r"<[^>]+>|\s+", "", rank)
    assert "第3名/3个单位" in text
    assert "覆盖率16.7%" in text and "还需组建2个" in text


# ---- the coordinator ---------------------------------------------------------------------


def test_coordinator_todo_on_his_overview_and_where_each_leads(app, w, now):
    client = as_user(app, "coord")
    assert client.get("/").headers["Location"] == f"/campaigns/{w.cid}"
    html = page(client, f"/campaigns/{w.cid}")
    tiles = todos(html)
    assert {k: n for k, (n, _) in tiles.items()} == {
        "changes": 1,
        "spot": 1,
        "late": 2,
        "review": 3,
        "issues": 2,
    }
    assert 'id="unit-figures"' in html  # the overview itself is still there
    late = re.findall(r'<tr data-unit="([a-z]+)">', html)
    assert late == ["jiangan", "hanyang"]
    assert "11月10日半月报未报送；“排查摸底报告”逾期未完成（11月15日截止）" in html
    assert "11月10日半月报被退回后未重新报送" in html

    changes = page(client, tiles["changes"][1])
    assert "待审核的台账变更申请（1）" in changes and "武昌新增甲" in changes
    spot = page(client, tiles["spot"][1])
    assert len(re.findall(r'name="result_id"', spot)) == 1  # one finding to record
    review = page(client, tiles["review"][1])
    assert re.search(r'id="todo-count">3<', review)
    assert listed(review) == [  # the oldest first
        "阶段任务材料待审核：区工作方案",  # 武昌区, delivered 11-19 11:00
        "阶段任务材料待审核：区工作方案",  # 汉阳区, 11-21 11:00
        "台账（党建基数）待审核",  # 汉阳区, submitted 11-21 17:00
    ]
    assert re.findall(r'<span class="unit">([^<]+)</span>', review) == [
        "武昌区",
        "汉阳区",
        "汉阳区",
    ]
    issues = page(client, tiles["issues"][1])
    assert re.search(r'id="open-count">2<', issues)


def test_a_bulletin_draft_waits_on_the_working_groups_review_list(app, w, now):
    # A draft made 11-25 18:00 (after the three items above, all of 11-19..11-21): 4 to review,
    # the draft last, leading to its page where the wording is reviewed and 签发 asked for.
    add_bulletins(app, w)
    with app.app_context():
        draft = db.session.scalar(select(Bulletin).order_by(Bulletin.number.desc()).limit(1))
        draft.status, draft.created_at = "draft", shanghai(2026, 11, 25, 18, 0)
        number = draft.number
        db.session.commit()
    client = as_user(app, "coord")
    tiles = todos(page(client, f"/campaigns/{w.cid}"))
    assert tiles["review"][0] == 4
    review = page(client, tiles["review"][1])
    assert listed(review)[-1] == f"通报草稿待审核签发：第{number}期"
    assert f'href="/campaigns/{w.cid}/bulletins/{number}/draft"' in review


def test_lists_of_a_unit_are_not_there_for_the_city_nor_the_city_list_for_a_unit(app, w, now):
    assert as_user(app, "coord").get(f"/campaigns/{w.cid}/todo/returned").status_code == 404
    assert as_user(app, "jiangan_op").get(f"/campaigns/{w.cid}/todo/review").status_code == 404
    assert as_user(app, "jiangan_op").get(f"/campaigns/{w.cid}/leadership").status_code == 404


# ---- 催办 ---------------------------------------------------------------------------------


@pytest.fixture
def mail(app):
    app.config.update(
        NOTIFY_AFTER_COMMIT=True,
        JOBS_IN_BACKGROUND=False,
        BASE_URL="https://gongjian.example.cn",
        MAIL_FROM="gongjian@example.cn",
        SMTP_HOST=HOST,
        SMTP_PORT=free_port(),
        SMTP_TLS="",
        SMTP_USER="",
    )
    with smtp_server(app.config["SMTP_PORT"]) as mailbox:
        yield mailbox


def urge(client, cid: int, code: str):
    token = csrf_token(client, f"/campaigns/{cid}")
    return client.post(f"/campaigns/{cid}/units/{code}/urge", data={"csrf_token": token})


def test_urge_is_recorded_delivered_and_not_repeated_within_two_hours(app, w, mail):
    with at(2026, 11, 22, 10, 0):
        coord = as_user(app, "coord")
        response = urge(coord, w.cid, "jiangan")
        assert response.status_code == 302
        assert response.headers["Location"] == f"/campaigns/{w.cid}#late-units"
        html = page(coord, f"/campaigns/{w.cid}")
        assert flashes(html) == ["已向江岸区发出催办（站内通知、邮件、群机器人）。"]
        row = re.search(r'<tr data-unit="jiangan">.*?</tr>', html, re.S).group(0)
        assert "2026-11-22 10:00（刘专班）" in row

    # Recorded: who, when, about what; and in the change record.
    urges = db.session.scalars(select(Urge)).all()
    assert [(u.unit_id, u.urged_by_id) for u in urges] == [(w.jiangan.id, w.users["coord"].id)]
    assert urges[0].reasons == [
        "11月10日半月报未报送",
        "“排查摸底报告”逾期未完成（11月15日截止）",
    ]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "unit.urge")).one()
    assert entry.object_id == str(w.jiangan.id)

    # Delivered to the unit's operator and leader: in-app and by mail.
    notices = db.session.scalars(
        select(Notification).where(Notification.kind == "urged").order_by(Notification.user_id)
    ).all()
    assert [n.user_id for n in notices] == [
        w.users["jiangan_op"].id,
        w.users["jiangan_leader"].id,
    ]
    assert notices[0].title == "【催办】江岸区有逾期未报事项，请尽快办理"
    urged = [m for m in mail.mails if "催办" in m.subject]  # the city's earlier notices aside
    assert sorted(m.rcpt_tos[0] for m in urged) == sorted(world.EMAILS.values())
    text = urged[0].text
    assert "市级专班刘专班催办江岸区" in text
    assert "11月10日半月报未报送" in text and "“排查摸底报告”逾期未完成" in text
    assert "https://gongjian.example.cn/" in text

    # A second click within two hours: refused, saying when and by whom; nothing sent.
    with at(2026, 11, 22, 11, 30):
        urge(coord, w.cid, "jiangan")
        assert flashes(page(coord, f"/campaigns/{w.cid}")) == [
            "江岸区已于2026-11-22 10:00由刘专班催办，2小时内不重复催办；12:00后可再次催办"
        ]
    assert db.session.scalar(select(func.count(Urge.id))) == 1
    assert len([m for m in mail.mails if "催办" in m.subject]) == 2

    # A unit late with nothing is not urged; after two hours the late one may be again.
    with at(2026, 11, 22, 12, 1):
        urge(coord, w.cid, "wuchang")
        assert flashes(page(coord, f"/campaigns/{w.cid}")) == [
            "武昌区目前没有逾期未报的半月报或阶段任务，无需催办"
        ]
        urge(coord, w.cid, "jiangan")
        assert flashes(page(coord, f"/campaigns/{w.cid}")) == [
            "已向江岸区发出催办（站内通知、邮件、群机器人）。"
        ]
    assert db.session.scalar(select(func.count(Urge.id))) == 2


def test_only_the_working_group_urges(app, w, now):
    op = as_user(app, "jiangan_op")
    token = csrf_token(op, f"/campaigns/{w.cid}/home")
    response = op.post(f"/campaigns/{w.cid}/units/jiangan/urge", data={"csrf_token": token})
    assert response.status_code == 403
    assert "市级专班" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Urge.id))) == 0


# ---- 协调事项 --------------------------------------------------------------------------------


def raise_issue(client, cid: int, **form):
    token = csrf_token(client, f"/campaigns/{cid}/coordination/new")
    return client.post(f"/campaigns/{cid}/coordination/new", data={"csrf_token": token, **form})


def test_a_district_raises_an_issue_and_the_coordinator_answers_it(app, w, now):
    op = as_user(app, "jiangan_op")
    response = raise_issue(
        op, w.cid, kind="affiliation", subject="江岸B与汉阳区争议隶属", detail="两区均已登记"
    )
    assert response.status_code == 302
    issue = db.session.scalars(
        select(CoordinationIssue).where(CoordinationIssue.subject == "江岸B与汉阳区争议隶属")
    ).one()
    assert response.headers["Location"] == f"/campaigns/{w.cid}/coordination/{issue.id}"
    assert issue.unit_id == w.jiangan.id and issue.item_id is None
    url = f"/campaigns/{w.cid}/coordination/{issue.id}"

    # It is on both homes while open.
    assert todos(page(op, f"/campaigns/{w.cid}/home"))["issues"][0] == 2
    coord = as_user(app, "coord")
    assert todos(page(coord, f"/campaigns/{w.cid}"))["issues"][0] == 3

    # Another district does not see it (404), nor may a district answer its own (403).
    other = as_user(app, "wuchang_op")
    assert other.get(url).status_code == 404
    token = csrf_token(other, f"/campaigns/{w.cid}/coordination")
    assert (
        other.post(url, data={"csrf_token": token, "action": "answer", "answer": "x"}).status_code
        == 404
    )
    token = csrf_token(op, url)
    assert (
        op.post(url, data={"csrf_token": token, "action": "answer", "answer": "x"}).status_code
        == 403
    )

    # The coordinator assigns it, then answers: done, recorded, off both homes.
    token = csrf_token(coord, url)
    coord.post(url, data={"csrf_token": token, "action": "assign", "assignee": w.users["coord"].id})
    assert flashes(page(coord, url)) == ["已交办。"]
    db.session.expire_all()
    assert (issue.status, issue.assignee_id) == (IssueStatus.ASSIGNED, w.users["coord"].id)
    coord.post(
        url, data={"csrf_token": token, "action": "answer", "answer": "按属地原则归江岸区管理"}
    )
    assert flashes(page(coord, url)) == ["已答复，该单位首页可见。"]
    db.session.expire_all()
    assert issue.status == IssueStatus.ANSWERED and issue.answer == "按属地原则归江岸区管理"
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(
            AuditEntry.object_type == "coordination_issue", AuditEntry.object_id == str(issue.id)
        )
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["coordination.raise", "coordination.assign", "coordination.answer"]
    assert "按属地原则归江岸区管理" in page(op, url)
    # Told: the working group of the new issue, the assignee of his task, the unit of the answer.
    dispatch.process(db.session, app.config)
    told = db.session.execute(
        select(Notification.kind, User.username, Notification.title)
        .join(User, User.id == Notification.user_id)
        .where(Notification.kind.like("coordination_%"), Notification.title.contains("江岸B"))
        .order_by(Notification.id)
    ).all()
    assert sorted(told) == [
        ("coordination_answered", "jiangan_leader", "【已答复】协调事项：江岸B与汉阳区争议隶属"),
        ("coordination_answered", "jiangan_op", "【已答复】协调事项：江岸B与汉阳区争议隶属"),
        ("coordination_assigned", "coord", "【交办】江岸区的协调事项：江岸B与汉阳区争议隶属"),
        ("coordination_raised", "coord", "【协调事项】江岸区：江岸B与汉阳区争议隶属"),
    ]
    assert todos(page(op, f"/campaigns/{w.cid}/home"))["issues"][0] == 1

    # Answered once: a second answer is refused, the first kept.
    coord.post(url, data={"csrf_token": token, "action": "answer", "answer": "另一答复"})
    assert flashes(page(coord, url)) == ["该协调事项已答复，无需再次处理"]
    db.session.expire_all()
    assert issue.answer == "按属地原则归江岸区管理"


def test_an_issue_is_raised_on_an_item_from_its_page(app, w, now):
    op = as_user(app, "jiangan_op")
    item = page(op, f"/campaigns/{w.cid}/items/{w.items['B'].id}")
    link = re.search(r'id="raise-issue"><a href="([^"]+)"', item).group(1).replace("&amp;", "&")
    assert link == f"/campaigns/{w.cid}/coordination/new?item_id={w.items['B'].id}"
    form = page(op, link)
    assert "涉及组织：<strong>江岸B</strong>" in form
    token = csrf_token(op, link)
    data = {
        "csrf_token": token,
        "kind": "refuses",
        "subject": "江岸B拒绝",
        "item_id": w.items["B"].id,
    }
    assert op.post(link, data=data).status_code == 302
    issue = db.session.scalars(
        select(CoordinationIssue).where(CoordinationIssue.subject == "江岸B拒绝")
    ).one()
    assert issue.item_id == w.items["B"].id
    # The coordinator has no such link: the city answers, it does not raise.
    coord_item = page(as_user(app, "coord"), f"/campaigns/{w.cid}/items/{w.items['B'].id}")
    assert 'id="raise-issue"' not in coord_item


def test_raising_an_issue_refuses_bad_input_whole(app, w, now):
    op = as_user(app, "jiangan_op")
    before = db.session.scalar(select(func.count(CoordinationIssue.id)))
    response = raise_issue(op, w.cid, kind="", subject="  ")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert flashes(html) == [
        "请选择「事项类别」；「事项」不能为空：请用一句话说明需要市级协调的问题"
    ]
    # Another unit's item is not there for him.
    other = db.session.scalar(
        select(func.min(BoardItem.id)).where(BoardItem.unit_id == w.wuchang.id)
    )
    assert raise_issue(op, w.cid, kind="refuses", subject="x", item_id=other).status_code == 404
    # The same issue twice (a double click) is kept once.
    raise_issue(
        op, w.cid, kind="refuses", subject="江岸A负责人拒绝组建党组织", item_id=w.items["A"].id
    )
    assert db.session.scalar(select(func.count(CoordinationIssue.id))) == before
    # The city does not raise issues.
    assert as_user(app, "coord").get(f"/campaigns/{w.cid}/coordination/new").status_code == 404


def test_open_issues_is_the_query_a_bulletin_annex_reads(app, w, now):
    from campaign.board import coordination

    issues = coordination.open_issues(db.session, w.campaign)
    assert [
        (i.unit.name, i.subject, i.item.organization.name if i.item else "") for i in issues
    ] == [
        ("江岸区", "江岸A负责人拒绝组建党组织", "江岸A"),
        ("武昌区", "武昌乙隶属关系存在争议", ""),
    ]
    assert [
        i.subject for i in coordination.open_issues(db.session, w.campaign, [w.wuchang.id])
    ] == ["武昌乙隶属关系存在争议"]


def test_the_bulletins_annex_lists_the_issues_open_at_its_cut_off(app, w, now):
    # Both issues of the city were raised before the 11-25 18:00 cut-off and are unanswered:
    # the attachment's 未解决的协调事项 sheet lists them oldest first (江岸 raised first).
    from campaign.board.models import CoordinationIssue
    from reports import snapshot as bulletin

    jiangan_issue = db.session.scalars(
        select(CoordinationIssue).where(CoordinationIssue.unit_id == w.jiangan.id)
    ).one()
    jiangan_issue.raised_at = shanghai(2026, 11, 20, 9, 30)
    db.session.commit()
    cutoff = shanghai(2026, 11, 25, 18, 0)
    rows = list(bulletin._coordination_rows(db.session, w.campaign, cutoff))
    assert [(r[0], r[1], r[2], r[3], r[5], r[6]) for r in rows] == [
        ("江岸区", "组织拒绝组建", "江岸A负责人拒绝组建党组织", "江岸A", "待处理", ""),
        ("武昌区", "隶属关系争议", "武昌乙隶属关系存在争议", "", "待处理", ""),
    ]
    # 提出时间 in Beijing time: the sheet writes the wall clock the row gives (09:30, not 01:30).
    raised = rows[0][4]
    assert (raised.replace(tzinfo=None), raised.utcoffset()) == (
        datetime(2026, 11, 20, 9, 30),
        timedelta(hours=8),
    )
    # Before they were raised the sheet has nothing to list.
    early = list(bulletin._coordination_rows(db.session, w.campaign, shanghai(2026, 9, 1, 18, 0)))
    assert early == []


# ---- leadership --------------------------------------------------------------------------


def snapshot(number: int, due: str, units: list[tuple], named_units: int = 2) -> dict:
    """A bulletin snapshot with what the leadership view reads: the units, their coverage,
    rank, whether they reach the target and their bottom streak."""
    return {
        "number": number,
        "title": f"关于全市“两新”组织党组织集中组建工作进展情况的通报（第{number}期）",
        "campaign": {
            "named_units": named_units,
            "target_party_org_coverage": "50.00",
            "issuing_body": "中共武汉市委组织部",
        },
        "period": {"due_on": due},
        "overall": {
            "party_org_coverage": 0.3,
            "previous_coverage": 0.2,
            "new_party_orgs": 2,
            "gap": 3,
            "reaches": False,
            "open_items": 9,
            "overdue_items": 2,
            "awaiting_items": 2,
        },
        "requirements": ["武昌区、汉阳区未达到50%，要倒排工期、挂图推进，确保按期达标。"],
        "units": [
            {
                "code": code,
                "name": name,
                "party_org_coverage": coverage,
                "rank": rank,
                "reaches": coverage >= 0.5,
                "bottom_streak": streak,
                "previous_coverage": None,
                "gap": 1,
            }
            for code, name, coverage, rank, streak in units
        ],
    }


def add_bulletins(app, w) -> None:
    """第5期 (10-25) and 第6期 (11-10), hand-made; 第6期's PDF is a real file."""
    storage = Path(app.config["STORAGE_PATH"])
    (storage / "bulletins").mkdir(parents=True, exist_ok=True)
    (storage / "bulletins" / "6.pdf").write_bytes(documents.pdf("第6期"))
    shots = {
        5: snapshot(
            5,
            "2026-10-25",
            [
                ("hanyang", "汉阳区", 0.30, 1, 0),
                ("wuchang", "武昌区", 0.25, 2, 1),
                ("jiangan", "江岸区", 0.10, 3, 1),
            ],
        ),
        6: snapshot(
            6,
            "2026-11-10",
            [
                ("jiangan", "江岸区", 0.40, 1, 0),
                ("hanyang", "汉阳区", 1 / 3, 2, 0),
                ("wuchang", "武昌区", 0.25, 3, 2),
            ],
        ),
    }
    for number, data in shots.items():
        text = json.dumps(data, ensure_ascii=False)
        due = date.fromisoformat(data["period"]["due_on"])
        db.session.add(
            Bulletin(
                campaign_id=w.cid,
                number=number,
                due_on=due,
                cutoff_at=shanghai(due.year, due.month, due.day, 18, 0),
                title=f"通报（第{number}期）",
                snapshot=text,
                snapshot_sha256=hashlib.sha256(text.encode()).hexdigest(),
                pdf_path=f"bulletins/{number}.pdf",
                pdf_sha256="a" * 64,
                pdf_pages=1,
                xlsx_path=f"bulletins/{number}.xlsx",
                xlsx_sha256="b" * 64,
                trigger="schedule",
            )
        )
    db.session.commit()


def test_leadership_lands_on_its_view(app, w, now):
    add_bulletins(app, w)
    boss = as_user(app, "boss")
    url = boss.get("/").headers["Location"]
    assert url == f"/campaigns/{w.cid}/home"
    html = page(boss, url)
    latest = re.search(
        r'<a class="bulletin-open" id="latest-bulletin" href="([^"]+)">(.*?)</a>', html, re.S
    )
    assert latest.group(1) == f"/campaigns/{w.cid}/bulletins/6.pdf"
    assert "第6期 · 11月10日" in latest.group(2)
    pdf = boss.get(latest.group(1))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline")
    pdf.close()

    coverage = re.sub(
        r"<[^>]+>|\s+",
        "",
        re.search(r'id="city-coverage">(.*?)</div>\s*</div>', html, re.S).group(1),
    )
    assert coverage == "全市党组织覆盖率33.3%目标≥50%·还需组建3个"
    assert re.search(r'id="countdown">.*?已截止', html, re.S)  # 集中组建 ended on 11-20

    rows = re.findall(
        r'<li class="signal-([a-z]+)" data-unit="([a-z]+)">\s*<span class="rank">([^<]+)</span>.*?<span class="rate">([^<]+)</span>(.*?)<span class="move">(.*?)</span>\s*</li>',
        html,
        re.S,
    )
    assert [
        (s, code, rank, rate, re.sub(r"<[^>]+>", "", move)) for s, code, rank, rate, _, move in rows
    ] == [
        ("green", "wuchang", "1", "50.0%", "↑2"),  # 3rd in 第6期
        ("amber", "hanyang", "2", "40.0%", "—"),
        ("red", "jiangan", "3", "16.7%", "↓2"),  # 1st in 第6期
    ]
    assert all("<svg" in spark for *_, spark, _ in rows)  # 第5期, 第6期 and now: a trend each

    named = re.findall(
        r"<li><strong>([^<]+)</strong><span class=\"small muted\">([^<]+)</span></li>", html
    )
    assert named == [  # the worst first, 2 named (the snapshot's setting), 武昌区 once
        ("武昌区", "党组织覆盖率25.0%，未达到50%；连续2期排名后三位"),
        ("汉阳区", "党组织覆盖率33.3%，未达到50%"),
    ]


def test_leadership_sees_neither_working_links_nor_hashes(app, w, now):
    add_bulletins(app, w)
    boss, coord = as_user(app, "boss"), as_user(app, "coord")
    overview = page(boss, f"/campaigns/{w.cid}")
    assert "台账变更申请" not in overview and "导出全市台账" not in overview
    assert "台账变更申请" in page(coord, f"/campaigns/{w.cid}")
    archive = page(boss, f"/campaigns/{w.cid}/bulletins")
    row = re.search(r"<tr>\s*<td class=\"text\">第6期</td>.*?</tr>", archive, re.S).group(0)
    assert "6.pdf" in row and "aaaaaaaa" not in row and "snapshot.json" not in row
    assert "附件清单" not in row
    kept = page(coord, f"/campaigns/{w.cid}/bulletins")
    assert "aaaaaaaaaaaaaaaa…" in kept and "snapshot.json" in kept


def test_the_latest_bulletin_reads_on_a_phone_page_too(app, w, now):
    add_bulletins(app, w)
    op = as_user(app, "jiangan_op")  # every user reads the bulletins, as their PDF
    html = page(op, f"/campaigns/{w.cid}/bulletins/6/reading")
    assert "工作进展情况的通报（第6期）" in html
    assert "数据截至 2026-11-10 18:00" in html
    assert f'href="/campaigns/{w.cid}/bulletins/6.pdf"' in html
    rows = re.findall(r"<tr><td class=\"text\"><strong>([^<]+)</strong>", html)
    assert rows == ["1. 江岸区", "2. 汉阳区", "3. 武昌区"]
    assert "武昌区、汉阳区未达到50%" in html
    assert op.get(f"/campaigns/{w.cid}/bulletins/7/reading").status_code == 404
    boss = page(as_user(app, "boss"), f"/campaigns/{w.cid}/home")
    assert f'id="latest-reading" href="/campaigns/{w.cid}/bulletins/6/reading"' in boss
