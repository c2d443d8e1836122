"""A hand-made city for the role homes, on Sunday 2026-11-22 at 10:00 Beijing time.

The campaign is 2026 from the wuhan-2016 template (report days ... 11-10, 11-25; 集中组建 ends
11-20), with the 党组织覆盖率 target set to 50 %. Three districts:

  江岸区 (jiangan)  甲 120 staff, 3 formal, 单独组建; A B C D E 10 staff each, nothing:
                    base 6, Party orgs 1 = 16.7 %; ceil(6 × 50 %) = 3, so 2 to set up.
                    Items A-E (实现工作覆盖):
                      A planned 11-15, untouched        -> overdue
                      B planned 11-20, a progress note  -> overdue (推进中)
                      C closure claimed, returned by the leader "批复文件未加盖公章" -> 退回 1
                      D closure claimed 11-21 09:00     -> 待核验
                      E closure claimed 11-20 15:00     -> 待核验, the oldest: E before D
  武昌区 (wuchang)  甲 120 staff, 3 formal, 单独组建; 乙 60 staff, 1 formal, 联合组建;
                    丙 丁 10 staff, nothing: base 4, Party orgs 2 = 50.0 % (reaches 50 %).
                    丙 丁 closed by work coverage (verified); a spot check draws 1 of them.
  汉阳区 (hanyang)  甲 单独组建; 乙 联合组建; 丙 丁 戊 nothing: base 5, Party orgs 2 = 40.0 %
                    (10 points below 50 %: amber); ceil(5 × 50 %) = 3, so 1 to set up.
  The city: base 15, Party orgs 5 = 33.3 %; ceil(15 × 50 %) = 8, so 3 to set up; 集中组建
  ended 11-20 (-2 days). Ranking now: 武昌区 1, 汉阳区 2, 江岸区 3.

Half-monthly reports for 11-10: 武昌区 filed on 11-09; 汉阳区 filed on 11-09 and was returned;
江岸区 filed nothing. The 11-25 period is open (3 days left); nobody has filed it.

Phase tasks: every template task is dropped except
  江岸区 T1 "区工作方案" due 11-25, open (3 days left); T2 "排查摸底报告" due 11-15, open
  (overdue); 武昌区 T3 due 11-20, delivered 11-19 (on time), waiting for review; 汉阳区 T4 due
  11-30, delivered 11-21, waiting for review.
汉阳区's ledger is submitted for approval (待审核).

Change requests: 江岸区 one accepted on 11-20 (in the last 7 days) and one rejected on 11-10
(not); 武昌区 one pending.
协调事项: 江岸区 raised one on item A (组织拒绝组建); 武昌区 one on the unit.

So, by hand:
  江岸区's operator: 11月10日半月报 1 (逾期未报送), 本期半月报 1 (还有3天截止), 逾期攻坚事项 2,
    被退回的销号 1, 待报送的阶段任务 2 (T2 overdue, T1 due in 3 days), 已处理的变更申请 1,
    待答复的协调事项 1.
  江岸区's leader: 待核验的销号 2 (E then D), 逾期攻坚事项 2, 协调事项 1; 第3名 / 3, 16.7 %, 还需组建 2.
  The coordinator: 待审核的变更申请 1, 待记录的抽查结论 1, 逾期未报的单位 2 (江岸区: 11-10 report
    and T2; 汉阳区: its returned report), 待审核的台账和材料 3 (汉阳区's ledger, T3, T4),
    待答复的协调事项 2.
"""

from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select

from campaign.board import coordination
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem, SizeMode
from campaign.core.extensions import db
from campaign.core.vocab import UnitKind
from campaign.half_monthly.models import ReportStatus, UnitReport
from campaign.ledger.models import (
    ChangeAction,
    ChangeRequest,
    ChangeStatus,
    LedgerStatus,
    Organization,
    UnitLedger,
)
from campaign.timeline.models import (
    Deliverable,
    Fulfilment,
    Review,
    Task,
    TaskStatus,
    TaskSubmission,
)
from tests import documents
from tests.conftest import loaded, make_campaign, make_org, make_unit, make_user, refs
from tests.timeutil import at, shanghai

NOW = shanghai(2026, 11, 22, 10, 0)
PDF = ("批复文件.pdf", documents.pdf("role homes"))
EMAILS = {"jiangan_op": "op@jiangan.example.cn", "jiangan_leader": "leader@jiangan.example.cn"}


def _work_coverage() -> ClosureClaim:
    return ClosureClaim.from_form(
        {"method": "work_coverage", "instructor": "张伟", "mass_organizations": "工会"}
    )


def build(storage: Path) -> SimpleNamespace:
    """The city above, committed; call at NOW (under time travel)."""
    session = db.session
    make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    hanyang = make_unit("hanyang", "汉阳区")
    wuchang.position, hanyang.position = 2, 3
    campaign = make_campaign(2026, target_party_org_coverage=Decimal("50"))
    users = {
        "jiangan_op": make_user("jiangan_op", "operator", jiangan),
        "jiangan_leader": make_user("jiangan_leader", "leader", jiangan),
        "wuchang_op": make_user("wuchang_op", "operator", wuchang),
        "wuchang_leader": make_user("wuchang_leader", "leader", wuchang),
        "hanyang_op": make_user("hanyang_op", "operator", hanyang),
        "coord": make_user("coord", "coordinator"),
        "boss": make_user("boss", "leadership"),
    }
    for name, address in EMAILS.items():
        users[name].email = address
    users["coord"].display_name = "刘专班"

    founded = date(2026, 6, 1)
    for unit, label in ((jiangan, "江岸"), (wuchang, "武昌"), (hanyang, "汉阳")):
        make_org(
            campaign,
            unit,
            name=f"{label}甲",
            employees=120,
            formal=3,
            party_org="standalone",
            founded_on=founded,
        )
    for unit, label in ((wuchang, "武昌"), (hanyang, "汉阳")):
        make_org(
            campaign,
            unit,
            name=f"{label}乙",
            employees=60,
            formal=1,
            party_org="joint",
            founded_on=founded,
        )
    for name in "ABCDE":
        make_org(campaign, jiangan, name=f"江岸{name}")
    for name in "丙丁":
        make_org(campaign, wuchang, name=f"武昌{name}")
    for name in "丙丁戊":
        make_org(campaign, hanyang, name=f"汉阳{name}")
    board.sync_items(session, campaign)
    session.commit()

    def item(name: str) -> BoardItem:
        return session.scalars(
            select(BoardItem).join(Organization).where(Organization.name == name)
        ).one()

    op, leader = users["jiangan_op"], users["jiangan_leader"]
    items = {n: item(f"江岸{n}") for n in "ABCDE"}
    items["A"].planned_on = date(2026, 11, 15)
    items["B"].planned_on = date(2026, 11, 20)
    board.add_note(session, items["B"], "已约谈企业负责人", op)
    for n in "CDE":
        board.submit_closure(session, items[n], _work_coverage(), PDF, op, storage)
    session.commit()
    board.return_closure(session, items["C"], "批复文件未加盖公章", leader)
    pending = {n: board.pending_closure(items[n]) for n in "DE"}
    pending["D"].submitted_at = shanghai(2026, 11, 21, 9, 0)
    pending["E"].submitted_at = shanghai(2026, 11, 20, 15, 0)
    session.commit()

    wuchang_items = [item("武昌丙"), item("武昌丁")]
    for it in wuchang_items:
        board.submit_closure(session, it, _work_coverage(), PDF, users["wuchang_op"], storage)
        board.verify_closure(session, it, users["wuchang_leader"])
    session.commit()
    board.draw(session, campaign, [wuchang.id], SizeMode.COUNT, 1, users["coord"], seed=7)
    session.commit()

    # Half-monthly reports for 11-10.
    for unit, status in ((wuchang, ReportStatus.SUBMITTED), (hanyang, ReportStatus.RETURNED)):
        session.add(
            UnitReport(
                campaign_id=campaign.id,
                unit_id=unit.id,
                due_on=date(2026, 11, 10),
                submitted_at=shanghai(2026, 11, 9, 16, 0),
                figures={},
                progress="按计划推进",
                status=status,
                return_comment="缺少下步打算" if status == ReportStatus.RETURNED else "",
            )
        )

    # Phase tasks: all dropped but four.
    tasks = session.scalars(
        select(Task).join(Deliverable).where(Deliverable.campaign_id == campaign.id)
    ).all()
    for t in tasks:
        t.dropped = True
    uploads = session.scalars(
        select(Deliverable)
        .where(
            Deliverable.campaign_id == campaign.id, Deliverable.fulfilled_by == Fulfilment.UPLOAD
        )
        .order_by(Deliverable.due_on, Deliverable.id)
    ).all()

    def task(unit, deliverable: Deliverable, due: date) -> Task:
        found = session.scalars(
            select(Task).where(Task.deliverable_id == deliverable.id, Task.unit_id == unit.id)
        ).first()
        if found is None:
            found = Task(deliverable_id=deliverable.id, unit_id=unit.id, due_on=due)
            session.add(found)
        found.dropped, found.due_on, found.due_overridden = False, due, True
        deliverable.name = {0: "区工作方案", 1: "排查摸底报告"}.get(
            uploads.index(deliverable), deliverable.name
        )
        return found

    t1 = task(jiangan, uploads[0], date(2026, 11, 25))
    t2 = task(jiangan, uploads[1], date(2026, 11, 15))
    t3 = task(wuchang, uploads[0], date(2026, 11, 20))
    t4 = task(hanyang, uploads[0], date(2026, 11, 30))
    session.flush()
    for t, when, who in (
        (t3, shanghai(2026, 11, 19, 11, 0), users["wuchang_op"]),
        (t4, shanghai(2026, 11, 21, 11, 0), users["hanyang_op"]),
    ):
        t.status = TaskStatus.SUBMITTED
        session.add(
            TaskSubmission(
                task_id=t.id,
                note="已报送",
                file_name="方案.pdf",
                submitted_at=when,
                submitted_by_id=who.id,
                review=Review.PENDING,
            )
        )

    ledger = session.scalar(
        select(UnitLedger).where(
            UnitLedger.campaign_id == campaign.id, UnitLedger.unit_id == hanyang.id
        )
    )
    if ledger is None:
        ledger = UnitLedger(campaign_id=campaign.id, unit_id=hanyang.id)
        session.add(ledger)
    ledger.status, ledger.submitted_at = LedgerStatus.SUBMITTED, shanghai(2026, 11, 21, 17, 0)

    for unit, status, decided, name in (
        (jiangan, ChangeStatus.ACCEPTED, shanghai(2026, 11, 20, 9, 0), "江岸新增甲"),
        (jiangan, ChangeStatus.REJECTED, shanghai(2026, 11, 10, 9, 0), "江岸新增乙"),
        (wuchang, ChangeStatus.PENDING, None, "武昌新增甲"),
    ):
        session.add(
            ChangeRequest(
                campaign_id=campaign.id,
                unit_id=unit.id,
                action=ChangeAction.ADD,
                credit_code="91420100MA4K000000",
                payload={"name": name},
                reason="新发现",
                status=status,
                decided_at=decided,
                decided_by_id=users["coord"].id if decided else None,
            )
        )
    session.commit()

    coordination.raise_issue(
        session,
        campaign,
        jiangan,
        coordination.Raised(
            "refuses", "江岸A负责人拒绝组建党组织", "多次上门，负责人拒绝", items["A"].id
        ),
        op,
    )
    coordination.raise_issue(
        session,
        campaign,
        wuchang,
        coordination.Raised("affiliation", "武昌乙隶属关系存在争议", "与汉阳区均认为属本区"),
        users["wuchang_op"],
    )
    session.commit()
    return SimpleNamespace(
        campaign=campaign,
        cid=campaign.id,
        jiangan=jiangan,
        wuchang=wuchang,
        hanyang=hanyang,
        users=users,
        items=items,
        tasks={"T1": t1.id, "T2": t2.id, "T3": t3.id, "T4": t4.id},
    )


def built_at_now(storage: Path) -> SimpleNamespace:
    """``build`` with the clock at NOW."""
    with at(2026, 11, 22, 10, 0):
        return build(storage)


def copied(built_once, storage: Path) -> SimpleNamespace:
    """``built_at_now``, built once per process and copied back for each later test (the
    ``built_once`` fixture of tests/conftest.py)."""
    return loaded(built_once("tests.home.world", lambda: refs(built_at_now(storage))))
