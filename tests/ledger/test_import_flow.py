"""Importing a unit's ledger: preview, apply, corrections, refusals, conflicts, review,
change requests, exclusions; through the web as the users do it, on every DB backend.

The ledger below is small enough to work every verdict and figure out by hand
(campaign 2026 from the wuhan-2016 template, default thresholds: 50 employees -> must
have a member, 100 -> must have a Party org, 3 formal members -> standalone; large
internet/cultural enterprises from 50 employees must have a Party org):

江岸区 (jiangan), streets 二七街道 and 后湖街道; file V1, 5 rows:
  A 江岸甲制造有限公司   其他, 120 employees, no members, 未建   -> target party_org (100+),
                                                                   path grow_members
  B 江岸乙商贸有限公司   其他, 60 employees, 1 formal, 联合组建 -> target member (50+), path joint
  C 江岸丙文化传媒有限公司 文化创意, 8 employees, 指导员 only     -> target work_coverage
  D 江岸丁实业有限公司   其他, 空壳, 200 employees              -> kept in the base (正常, target
                         party_org) and proposed to 市工商局; once it confirms (``import_and_apply``
                         has it confirm): excluded (not in the base)
  S 江岸区某律师事务所   附表2: 市级 律师事务所, 业务主管单位 市司法局, 15 staff, 3 formal,
                         单独组建 founded 2026-09-01           -> target standalone
  => before 工商 confirms: base 5, excluded 0, must have a Party org 3 (A D S), 50+ enterprises
     3 (A B D); once it confirms:
     base 4 (A B C S), excluded 1, with a Party org 2 (B S), work-covered 3 (B S C),
     must have a Party org 2 (A S), of which met 1 (S); 50+ enterprises 2 (A B), with a member 1 (B)

File V2 corrects V1: B now 45 employees (changed), C gone (removed), E added:
  E 江岸戊网络科技有限公司 互联网, 55 employees, no members   -> target party_org (large internet)
  => preview: add 1, update 1, remove 1, same 3 (A D S)
"""

import copy
import io
import json
import re
from contextlib import contextmanager
from datetime import date
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from conftest import csrf_token, loaded, login, make_campaign, make_unit, make_user, refs
from openpyxl import load_workbook
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from campaign import figures, scheduler
from campaign.audit import AuditEntry
from campaign.core import units
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.extensions import db
from campaign.core.vocab import UnitKind
from campaign.ledger import importing, services
from campaign.ledger.models import (
    ChangeRequest,
    ExclusionProposal,
    ImportBatch,
    LedgerConflict,
    LedgerStatus,
    Organization,
)
from tests.timeutil import at

from .conftest import (
    CODE_A,
    CODE_B,
    CODE_C,
    CODE_D,
    CODE_E,
    CODE_S,
    CODE_T,
    CODE_WRONG_CHECK,
    ENTERPRISE_HEADERS,
    ENTERPRISE_SHEET,
    PHASE_HEADERS,
    SOCIAL_HEADERS,
    SOCIAL_SHEET,
    build_xlsx,
    enterprise,
    ledger_xlsx,
    social,
    soffice,
)

ROW_A = enterprise("江岸甲制造有限公司", CODE_A, 从业人员数=120, 计划完成时间=date(2026, 10, 31))
ROW_B = enterprise(
    "江岸乙商贸有限公司",
    CODE_B,
    **{"街道（乡镇）/园区": "后湖街道"},
    从业人员数=60,
    正式党员数=1,
    党组织状态="联合组建",
    党组织名称="后湖商贸联合党支部",
    未建原因="",
)
ROW_C = enterprise(
    "江岸丙文化传媒有限公司", CODE_C, 企业类别="文化创意", 从业人员数=8, 党建工作指导员="刘指导"
)
ROW_D = enterprise("江岸丁实业有限公司", CODE_D, 经营状态="空壳", 从业人员数=200)
ROW_E = enterprise("江岸戊网络科技有限公司", CODE_E, 企业类别="互联网", 从业人员数=55)
ROW_S = social(
    "江岸区某律师事务所",
    CODE_S,
    登记层级="市级",
    类别="律师事务所",
    业务主管单位="市司法局",
    从业人员数=15,
    正式党员数=3,
    党组织状态="单独组建",
    党组织名称="某律师事务所党支部",
    党组织成立时间=date(2026, 9, 1),
)
V1 = ([ROW_A, ROW_B, ROW_C, ROW_D], [ROW_S])
V2 = ([ROW_A, dict(ROW_B, 从业人员数=45), ROW_D, ROW_E], [ROW_S])


@pytest.fixture
def w(app, tmp_path, built_once):
    """江岸区 with two streets and its operator, 武昌区 and its operator, a coordinator."""
    app.config["JOBS_IN_BACKGROUND"] = False
    built = loaded(built_once("tests.ledger.import_flow.w", _build))
    clients = {}
    for key, user in built.users.items():
        if key == "aic":
            continue
        clients[key] = app.test_client()
        assert login(clients[key], user.username).status_code == 302
    return SimpleNamespace(
        app=app,
        campaign=built.campaign,
        cid=built.campaign.id,
        jiangan=built.jiangan,
        wuchang=built.wuchang,
        storage=tmp_path / "storage",
        **built.users,
        client=clients,
    )


def _build() -> SimpleNamespace:
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    make_unit("houhu", "后湖街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    campaign = make_campaign(2026)
    users = {
        "op": make_user("jiangan_op", "operator", jiangan),
        "wop": make_user("wuchang_op", "operator", wuchang),
        "coord": make_user("coord", "coordinator"),
    }
    # 工商 (the remit of every enterprise) confirms the 空壳/僵尸/影子 a file proposes.
    gsj = make_unit("gsj", "市工商局", kind=UnitKind.DEPARTMENT, responsible=False)
    units.set_remit(db.session, gsj, "aic", "test")
    users["aic"] = make_user("gsj_user", "verifier", gsj)
    db.session.commit()
    return refs(SimpleNamespace(campaign=campaign, jiangan=jiangan, wuchang=wuchang, users=users))


# ---- helpers: the service layer, and the web as a browser uses it ---------------------


def import_file(w, data: bytes, unit=None, user=None, filename="台账.xlsx") -> ImportBatch:
    """Upload and process a file as the CLI/job does (no web)."""
    batch = importing.start_import(
        db.session, w.campaign, unit or w.jiangan, data, filename, user or w.op, w.storage
    )
    db.session.commit()
    return importing.run_import(db.session, batch.id, w.storage)


def import_and_apply(w, data: bytes) -> dict:
    """Apply a file, and have 工商 confirm the exclusions it proposed (D's 空壳)."""
    batch = import_file(w, data)
    assert batch.status == "previewed", batch.problems
    summary = importing.apply_import(db.session, batch, w.op)
    db.session.commit()
    confirm_proposals(w)
    return summary


def confirm_proposals(w) -> None:
    """市工商局 confirms every exclusion waiting for it."""
    waiting = db.session.scalars(
        select(ExclusionProposal).where(ExclusionProposal.state == "pending")
    ).all()
    for proposal in waiting:
        services.confirm_exclusion(db.session, proposal, "", w.aic)
    db.session.commit()


def token(client, w) -> str:
    return csrf_token(client, f"/campaigns/{w.cid}/exclusions")


def upload(client, w, data: bytes, code="jiangan", filename="台账.xlsx"):
    return client.post(
        f"/campaigns/{w.cid}/units/{code}/ledger/imports",
        data={"csrf_token": token(client, w), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def uploaded_batch(response) -> int:
    assert response.status_code == 302, response.status_code
    match = re.search(r"/imports/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def post(client, w, path: str, **form):
    return client.post(path, data={"csrf_token": token(client, w), **form})


def orgs(w, unit=None) -> dict[str, Organization]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(Organization).where(
            Organization.campaign_id == w.cid, Organization.unit_id == (unit or w.jiangan).id
        )
    )
    return {o.credit_code: o for o in rows}


def counts(w, unit=None):
    db.session.expire_all()
    return figures.overall(db.session, w.campaign, [(unit or w.jiangan).id]).counts


SUMMARY_KEYS = ("add", "update", "remove", "same", "untouched", "editable")


def summary_of(batch_id: int) -> dict:
    """The counts the preview shows (the batch also keeps internal bookkeeping)."""
    db.session.expire_all()
    summary = db.session.get(ImportBatch, batch_id).summary
    return {k: summary[k] for k in SUMMARY_KEYS}


def text(response) -> str:
    return response.get_data(as_text=True)


def table_row(response, table_id: str, name: str) -> str:
    """The one body row of a table that names ``name``."""
    html = text(response)
    start = html.index(f'id="{table_id}"')
    body = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    (row,) = [r for r in body.split("<tr>")[1:] if name in r]
    return row


def table(response, table_id: str) -> str:
    html = text(response)
    start = html.index(f'id="{table_id}"')
    return html[start : html.index("</table>", start)]


def audit_actions(obj_type: str, obj_id) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == obj_type, AuditEntry.object_id == str(obj_id))
            .order_by(AuditEntry.id)
        )
    )


# ---- draft: upload, preview, apply --------------------------------------------------------


def test_operator_uploads_previews_and_applies_a_ledger_through_the_web(w):
    client = w.client["op"]
    batch_id = uploaded_batch(upload(client, w, ledger_xlsx(*V1)))

    page = client.get(f"/campaigns/{w.cid}/imports/{batch_id}")
    assert page.status_code == 200
    assert re.search(r"新增</div><div class=\"value\">5<", text(page))
    assert summary_of(batch_id) == {
        "add": 5,
        "update": 0,
        "remove": 0,
        "same": 0,
        "untouched": 0,
        "editable": True,
    }
    assert orgs(w) == {}  # a preview writes nothing
    told = "1家企业标为空壳/僵尸/影子，导入后将提请市工商局确认，确认前仍计入党建基数"
    assert told in text(page)

    done = post(client, w, f"/campaigns/{w.cid}/imports/{batch_id}/apply")
    assert done.status_code == 302
    assert (
        "导入完成：新增5个，修改0个，删除0个，未变0个。"
        "1家企业标为空壳/僵尸/影子，已提请市工商局确认，确认前仍计入党建基数。"
    ) in text(client.get(done.headers["Location"]))

    rows = orgs(w)
    assert set(rows) == {CODE_A, CODE_B, CODE_C, CODE_D, CODE_S}
    a, b, c, d, s = (rows[k] for k in (CODE_A, CODE_B, CODE_C, CODE_D, CODE_S))
    assert (a.name, a.employees, a.area.name, a.district_name) == (
        "江岸甲制造有限公司",
        120,
        "二七街道",
        "江岸区",
    )
    assert (a.in_base, a.target, a.path, a.rule_codes) == (
        True,
        "party_org",
        "grow_members",
        "employees_party_org",
    )
    assert a.planned_on == date(2026, 10, 31)
    assert (b.target, b.path, b.area.name, b.party_org_status) == (
        "member",
        "joint",
        "后湖街道",
        "joint",
    )
    assert (c.target, c.instructor, c.category) == ("work_coverage", "刘指导", "cultural")
    # 空壳 in the file: kept in the base with its facts (200 staff: must have a Party org), and
    # proposed to 工商 by the operator, as his 剔除 button would.
    assert (d.in_base, d.target, d.operating_status, d.employees) == (
        True,
        "party_org",
        "normal",
        200,
    )
    (proposal,) = db.session.scalars(select(ExclusionProposal)).all()
    assert (proposal.organization_id, proposal.status, proposal.state) == (d.id, "shell", "pending")
    assert (proposal.reason, proposal.proposed_by_id) == (
        f"台账导入（导入记录#{batch_id}）：经营状态为“空壳”",
        w.op.id,
    )
    assert (s.kind, s.registration_level, s.category, s.supervising_unit) == (
        "social",
        "city",
        "law_firm",
        "市司法局",
    )
    assert (s.target, s.party_org_founded_on) == ("standalone", date(2026, 9, 1))
    assert s.rule_codes == "formal_members,professional_firm"  # a law firm is no 社会团体

    got = counts(w)  # D counts until 工商 confirms
    assert (got.base, got.excluded, got.required, got.member_required) == (5, 0, 3, 3)

    # Recorded: one creation per organization, by the operator, and the import itself; D's
    # proposal as the button records it.
    for org in rows.values():
        assert audit_actions("organization", org.id) == ["organization.create"] + (
            ["organization.exclusion_proposed"] if org is d else []
        )
    created = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "organization.create")
    ).all()
    assert {e.actor for e in created} == {"jiangan_op"}
    assert audit_actions("import_batch", batch_id) == ["ledger.import"]

    # 工商 confirms: D leaves the base, the reason saying who proposed and who confirmed.
    confirm_proposals(w)
    d = orgs(w)[CODE_D]
    assert (d.in_base, d.target, d.operating_status) == (False, "excluded", "shell")
    assert d.exclusion_note == (
        f"台账导入（导入记录#{batch_id}）：经营状态为“空壳”（江岸区提请，市工商局确认）"
    )
    assert d.exclusion_decided_by_id == w.aic.id
    # The figures of the module docstring.
    got = counts(w)
    assert (got.base, got.excluded, got.with_party_org, got.work_covered) == (4, 1, 2, 3)
    assert (got.required, got.required_met, got.member_required, got.member_required_met) == (
        2,
        1,
        2,
        1,
    )


def test_a_corrected_file_adds_changes_and_removes_exactly_what_differs(w):
    import_and_apply(w, ledger_xlsx(*V1))
    before = orgs(w)
    ids = {code: org.id for code, org in before.items()}

    batch = import_file(w, ledger_xlsx(*V2))
    summary = batch.summary
    assert {k: summary[k] for k in ("add", "update", "remove", "same")} == {
        "add": 1,
        "update": 1,
        "remove": 1,
        "same": 3,
    }
    diff = {d["credit_code"]: d for d in batch.diff}
    assert diff[CODE_B]["changes"] == {"employees": [60, 45]}
    assert (diff[CODE_C]["action"], diff[CODE_E]["action"]) == ("remove", "add")

    applied = importing.apply_import(db.session, batch, w.op)
    db.session.commit()
    assert (applied["add"], applied["update"], applied["remove"]) == (1, 1, 1)

    rows = orgs(w)
    assert set(rows) == {CODE_A, CODE_B, CODE_D, CODE_E, CODE_S}
    assert rows[CODE_B].employees == 45 and rows[CODE_B].id == ids[CODE_B]
    assert rows[CODE_B].target == "work_coverage"  # 45 < 50: no longer must have a member
    assert (rows[CODE_E].target, rows[CODE_E].rule_codes) == ("party_org", "large_typed_enterprise")
    for code in (CODE_A, CODE_D, CODE_S):  # untouched rows keep their identity
        assert rows[code].id == ids[code]
    assert audit_actions("organization", ids[CODE_B])[-1] == "organization.update"
    update = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_id == str(ids[CODE_B]), AuditEntry.action == "organization.update"
        )
    ).one()
    assert (json.loads(update.before), json.loads(update.after)) == (
        {"employees": 60},
        {"employees": 45},
    )
    assert audit_actions("organization", ids[CODE_C]) == [
        "organization.create",
        "organization.remove",
    ]
    assert audit_actions("organization", rows[CODE_E].id) == ["organization.create"]
    assert audit_actions("organization", ids[CODE_A]) == ["organization.create"]
    got = counts(w)
    assert (got.base, got.required, got.member_required) == (4, 3, 2)  # A B E S; A E S; A E


def test_members_elsewhere_are_imported_recorded_and_kept_by_an_older_file(w):
    # S (3 formal members) keeps 2 of them's Party relationship in their 机关事业单位.
    import_and_apply(w, ledger_xlsx(V1[0], [dict(ROW_S, 组织关系在外党员数=2)]))
    s_id = orgs(w)[CODE_S].id
    assert orgs(w)[CODE_S].members_elsewhere == 2

    # A file made before the column existed changes nothing: the ledger's count stays.
    older = build_xlsx(
        {
            ENTERPRISE_SHEET: (ENTERPRISE_HEADERS, list(V1[0])),
            SOCIAL_SHEET: ([h for h in SOCIAL_HEADERS if h != "组织关系在外党员数"], [ROW_S]),
        }
    )
    batch = import_file(w, older)
    assert batch.status == "previewed", batch.problems
    assert batch.summary["same"] == 5
    importing.apply_import(db.session, batch, w.op)
    db.session.commit()
    assert orgs(w)[CODE_S].members_elsewhere == 2

    # A file that says 0 changes it, recorded before and after.
    assert import_and_apply(w, ledger_xlsx(*V1))["update"] == 1
    assert orgs(w)[CODE_S].members_elsewhere == 0
    update = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_id == str(s_id), AuditEntry.action == "organization.update"
        )
    ).one()
    assert (json.loads(update.before), json.loads(update.after)) == (
        {"members_elsewhere": 2},
        {"members_elsewhere": 0},
    )


def test_affiliation_and_liaison_are_imported_kept_by_an_older_file_and_changed_by_request(w):
    # Seed 004 phases 5 and 6 on S (市级 律师事务所, its own Party org founded 09-01): reports
    # to its 主管部门, put right on 11-02; 第一书记 王五 sent by 市司法局 on 09-20.
    phase = {
        "党组织隶属关系": "主管部门",
        "隶属关系是否理顺": "是",
        "隶属关系理顺时间": date(2026, 11, 2),
        "选派类别": "第一书记",
        "第一书记（指导员）姓名": "王五",
        "第一书记（指导员）所在单位": "市司法局",
        "选派时间": date(2026, 9, 20),
    }

    def file(row_s: dict, headers=PHASE_HEADERS) -> bytes:
        return build_xlsx(
            {
                ENTERPRISE_SHEET: (ENTERPRISE_HEADERS + headers, list(V1[0])),
                SOCIAL_SHEET: (SOCIAL_HEADERS + headers, [row_s]),
            }
        )

    def recorded(org: Organization) -> tuple:
        return (
            org.affiliation,
            org.affiliation_settled,
            org.affiliation_settled_on,
            org.liaison_role,
            org.liaison_name,
            org.liaison_unit,
            org.liaison_assigned_on,
        )

    filed = ("department", True, date(2026, 11, 2), "first_secretary", "王五", "市司法局")
    with at(2026, 11, 15, 9, 0):
        import_and_apply(w, file(dict(ROW_S, **phase)))
        assert recorded(orgs(w)[CODE_S]) == (*filed, date(2026, 9, 20))
        assert recorded(orgs(w)[CODE_A]) == (None, False, None, None, "", "", None)

        # A file made before the columns existed changes nothing.
        batch = import_file(w, file(ROW_S, headers=[]))
        assert batch.status == "previewed", batch.problems
        assert batch.summary["same"] == 5

        # On the approved base, a file that corrects the day the 第一书记 was sent is a
        # change request; accepted, the ledger has it, recorded before and after.
        ledger = services.unit_ledger(db.session, w.campaign, w.jiangan)
        services.submit_ledger(db.session, ledger, w.op)
        services.approve_ledger(db.session, ledger, w.coord)
        db.session.commit()
        import_and_apply(w, file(ROW_S | phase | {"选派时间": date(2026, 9, 21)}))
        request = db.session.scalars(select(ChangeRequest)).one()
        assert services.proposed_changes(request) == {
            "liaison_assigned_on": ["2026-09-20", "2026-09-21"]
        }
        services.decide_change(db.session, request, True, w.coord)
        db.session.commit()
    s = orgs(w)[CODE_S]
    assert recorded(s) == (*filed, date(2026, 9, 21))
    update = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_id == str(s.id), AuditEntry.action == "organization.update"
        )
    ).one()
    assert (json.loads(update.before), json.loads(update.after)) == (
        {"liaison_assigned_on": "2026-09-20"},
        {"liaison_assigned_on": "2026-09-21"},
    )


def test_a_refused_file_changes_nothing(w):
    import_and_apply(w, ledger_xlsx(*V1))
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))

    bad = ledger_xlsx(
        V2[0] + [enterprise("江岸己公司", "914201020005543373", 从业人员数=-3)], V2[1]
    )
    batch = import_file(w, bad)
    assert batch.status == "refused"
    assert batch.problems == [f"「{ENTERPRISE_SHEET}」第7行G列「从业人员数」：不能为负数（-3）"]
    with pytest.raises(ValidationFailed):
        importing.apply_import(db.session, batch, w.op)
    db.session.rollback()

    # Through the web too: a CSV saved as .xlsx is refused and the page says why.
    client = w.client["op"]
    csv = "企业名称,统一社会信用代码\r\n江岸乙商贸有限公司,91420102000158385L\r\n".encode("gbk")
    batch_id = uploaded_batch(upload(client, w, csv, filename="台账（修改）.xlsx"))
    page = text(client.get(f"/campaigns/{w.cid}/imports/{batch_id}"))
    assert "文件未通过校验，台账未作任何修改" in page
    assert "文件《台账（修改）.xlsx》：这不是 xlsx 文件（内容是 CSV 文本）" in page
    applied = post(client, w, f"/campaigns/{w.cid}/imports/{batch_id}/apply")
    assert "该文件未通过校验或已处理，不能再次导入" in text(client.get(applied.headers["Location"]))

    rows = orgs(w)
    assert set(rows) == {CODE_A, CODE_B, CODE_C, CODE_D, CODE_S}
    assert rows[CODE_B].employees == 60
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries


def test_a_file_without_the_credit_code_column_is_refused_with_the_column_named(w):
    # (This crashed with KeyError at importing.py:150 before rows of a sheet missing a
    # required column were dropped in read_workbook.)
    import_and_apply(w, ledger_xlsx(*V1))
    headers = [h for h in ENTERPRISE_HEADERS if h != "统一社会信用代码"]
    batch = import_file(w, build_xlsx({ENTERPRISE_SHEET: (headers, [ROW_A, ROW_E])}))
    assert batch.status == "refused"
    assert batch.problems == [
        f"「{ENTERPRISE_SHEET}」第2行「统一社会信用代码」：缺少必需的列（请使用下载的模板，不要修改表头）"
    ]
    assert set(orgs(w)) == {CODE_A, CODE_B, CODE_C, CODE_D, CODE_S}


def test_only_a_fresh_preview_can_be_applied(w):
    import_and_apply(w, ledger_xlsx(*V1))
    # A newer upload replaces an older preview of the same unit.
    older = import_file(w, ledger_xlsx(V2[0][:2], V2[1]))
    newer = import_file(w, ledger_xlsx(*V2))
    db.session.expire_all()
    assert (older.status, newer.status) == ("discarded", "previewed")
    with pytest.raises(Conflict, match="该导入已由他人（或另一次提交）处理，未重复导入"):
        importing.apply_import(db.session, older, w.op)
    db.session.rollback()

    # The coordinator changes the ledger between preview and apply: the preview is stale.
    a = orgs(w)[CODE_A]
    services.exclude_organization(db.session, a, "shell", "区市场监管局核实", w.coord)
    db.session.commit()
    with pytest.raises(ValidationFailed, match="预览之后台账已有变化，请重新上传文件预览差异"):
        importing.apply_import(db.session, db.session.get(ImportBatch, newer.id), w.op)
    db.session.rollback()
    rows = orgs(w)
    assert set(rows) == {CODE_A, CODE_B, CODE_C, CODE_D, CODE_S}
    assert rows[CODE_B].employees == 60


def test_a_code_another_unit_took_after_the_preview_is_refused_at_apply(w):
    preview = import_file(w, ledger_xlsx(*V1))
    assert preview.status == "previewed"
    other = import_file(
        w,
        ledger_xlsx(
            [enterprise("江岸甲制造", CODE_A, 所在区="武昌区", **{"街道（乡镇）/园区": None})]
        ),
        unit=w.wuchang,
        user=w.wop,
    )
    importing.apply_import(db.session, other, w.wop)
    db.session.commit()
    with pytest.raises(ValidationFailed, match=f"{CODE_A} 已进入武昌区的台账"):
        importing.apply_import(db.session, preview, w.op)
    db.session.rollback()
    assert orgs(w) == {}
    assert set(orgs(w, w.wuchang)) == {CODE_A}


# ---- a code in two units' ledgers ----------------------------------------------------------


def test_a_code_already_in_another_units_ledger_is_refused_and_both_units_see_it(w):
    import_and_apply(w, ledger_xlsx(*V1))
    claim = ledger_xlsx(
        [
            enterprise("武昌某商贸公司", CODE_E, 所在区="武昌区", **{"街道（乡镇）/园区": None}),
            enterprise("江岸甲制造", CODE_A, 所在区="武昌区", **{"街道（乡镇）/园区": None}),
        ]
    )
    wop = w.client["wop"]
    batch_id = uploaded_batch(upload(wop, w, claim, code="wuchang"))
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.status == "refused"
    assert batch.problems == [
        # Whose ledger holds it, so the two units can settle it; not what that ledger calls it.
        f"「{ENTERPRISE_SHEET}」第4行「统一社会信用代码」：{CODE_A} 已在江岸区的台账中，"
        "同一组织不能由两个单位填报，请与该单位核实"
    ]
    assert orgs(w, w.wuchang) == {}
    assert orgs(w)[CODE_A].name == "江岸甲制造有限公司"

    conflict = db.session.scalars(select(LedgerConflict)).one()
    assert (conflict.credit_code, conflict.name) == (CODE_A, "江岸甲制造")
    assert (conflict.holder_unit_id, conflict.claimant_unit_id) == (w.jiangan.id, w.wuchang.id)

    for client, code in ((w.client["op"], "jiangan"), (wop, "wuchang")):
        page = client.get(f"/campaigns/{w.cid}/units/{code}/ledger")
        assert page.status_code == 200
        html = text(page)
        table = html[html.index("重复填报") :]
        assert CODE_A in table and "江岸区" in table and "武昌区" in table


# ---- export and import: a round trip, also through LibreOffice -------------------------------


def test_export_then_import_changes_nothing_also_after_libreoffice_saves_it(w, tmp_path):
    import_and_apply(w, ledger_xlsx(*V1))
    client = w.client["op"]
    exported = client.get(f"/campaigns/{w.cid}/units/jiangan/ledger.xlsx")
    assert exported.status_code == 200
    assert exported.mimetype.endswith("spreadsheetml.sheet")
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "export.xlsx"
    source.write_bytes(exported.data)
    (resaved,) = soffice([source], "xlsx", tmp_path)
    assert resaved.read_bytes() != exported.data  # LibreOffice's own file, not a copy

    for data in (exported.data, resaved.read_bytes()):
        batch_id = uploaded_batch(upload(client, w, data, filename="导出.xlsx"))
        assert summary_of(batch_id) == {
            "add": 0,
            "update": 0,
            "remove": 0,
            "same": 5,
            "untouched": 0,
            "editable": True,
        }
        batch = db.session.get(ImportBatch, batch_id)
        assert batch.notices == []
        post(client, w, f"/campaigns/{w.cid}/imports/{batch_id}/discard")

    rows = orgs(w)
    s = rows[CODE_S]
    assert (s.registration_level, s.supervising_unit, s.party_org_founded_on) == (
        "city",
        "市司法局",
        date(2026, 9, 1),
    )
    assert rows[CODE_A].planned_on == date(2026, 10, 31)


def test_a_libreoffice_formula_imports_its_value_with_a_notice(w, lo_files):
    client = w.client["op"]
    batch_id = uploaded_batch(upload(client, w, lo_files.formula_lo))
    page = text(client.get(f"/campaigns/{w.cid}/imports/{batch_id}"))
    assert "是公式，已使用其计算结果“15”" in page
    post(client, w, f"/campaigns/{w.cid}/imports/{batch_id}/apply")
    assert orgs(w)[CODE_C].employees == 15

    # The same formula written by openpyxl has no computed value: refused.
    batch_id = uploaded_batch(upload(client, w, lo_files.formula))
    assert "是公式但没有计算结果" in text(client.get(f"/campaigns/{w.cid}/imports/{batch_id}"))


# ---- review: submit, approve or return; then change requests --------------------------------


def test_after_approval_an_import_makes_change_requests_and_figures_wait_for_a_coordinator(w):
    import_and_apply(w, ledger_xlsx(*V1))
    op, coord = w.client["op"], w.client["coord"]
    ledger_url = f"/campaigns/{w.cid}/units/jiangan/ledger"

    post(op, w, f"{ledger_url}/submit")
    refused = post(op, w, f"{ledger_url}/approve")  # not the operator's call
    assert refused.status_code == 403
    assert "只有市级专班可以审核台账" in text(refused)
    assert "待审核" in text(op.get(ledger_url))
    post(coord, w, f"{ledger_url}/approve", comment="同意作为党建基数")
    ledger = services.unit_ledger(db.session, w.campaign, w.jiangan)
    db.session.refresh(ledger)
    assert ledger.status == LedgerStatus.APPROVED
    base = counts(w)

    batch_id = uploaded_batch(upload(op, w, ledger_xlsx(*V2)))
    assert summary_of(batch_id) == {
        "add": 1,
        "update": 1,
        "remove": 0,  # an approved base loses nothing by a file
        "same": 3,
        "untouched": 1,  # C, absent from the file, stays
        "editable": False,
    }
    done = post(op, w, f"/campaigns/{w.cid}/imports/{batch_id}/apply")
    assert "本次导入生成变更申请：新增1个、修改1个" in text(op.get(done.headers["Location"]))

    requests = {
        r.credit_code: r
        for r in db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id))
    }
    assert {c: (r.action, r.status) for c, r in requests.items()} == {
        CODE_B: ("update", "pending"),
        CODE_E: ("add", "pending"),
    }
    rows = orgs(w)
    assert set(rows) == {CODE_A, CODE_B, CODE_C, CODE_D, CODE_S}
    assert rows[CODE_B].employees == 60
    assert counts(w) == base

    # Rejecting needs a comment; without one nothing happens.
    cr_url = f"/campaigns/{w.cid}/change-requests"
    assert post(op, w, f"{cr_url}/{requests[CODE_E].id}/reject", comment="x").status_code == 403
    answer = post(coord, w, f"{cr_url}/{requests[CODE_E].id}/reject", comment="  ")
    assert "驳回时必须填写意见" in text(coord.get(answer.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(ChangeRequest, requests[CODE_E].id).status == "pending"
    assert counts(w) == base

    post(
        coord,
        w,
        f"{cr_url}/{requests[CODE_E].id}/reject",
        comment="工商核实为分支机构，已在他处填报",
    )
    post(coord, w, f"{cr_url}/{requests[CODE_B].id}/accept")
    db.session.expire_all()
    assert db.session.get(ChangeRequest, requests[CODE_E].id).status == "rejected"
    assert db.session.get(ChangeRequest, requests[CODE_B].id).status == "accepted"
    rows = orgs(w)
    assert CODE_E not in rows
    assert (rows[CODE_B].employees, rows[CODE_B].target) == (45, "work_coverage")
    moved = counts(w)
    assert (moved.base, moved.member_required, moved.member_required_met) == (4, 1, 0)
    assert (base.member_required, base.member_required_met) == (2, 1)
    assert "没有待审核的变更申请" in text(coord.get(cr_url))


def test_returning_a_ledger_needs_a_comment_and_reopens_it(w):
    import_and_apply(w, ledger_xlsx(*V1))
    op, coord = w.client["op"], w.client["coord"]
    ledger_url = f"/campaigns/{w.cid}/units/jiangan/ledger"
    post(op, w, f"{ledger_url}/submit")

    answer = post(coord, w, f"{ledger_url}/return", comment="")
    assert "退回时必须填写退回意见" in text(coord.get(answer.headers["Location"]))
    assert "待审核" in text(op.get(ledger_url))

    post(coord, w, f"{ledger_url}/return", comment="请核实江岸丙的从业人员数")
    page = text(op.get(ledger_url))
    assert "已退回" in page and "请核实江岸丙的从业人员数" in page
    # A returned ledger is a draft again: a file replaces it directly.
    assert import_and_apply(w, ledger_xlsx(*V2))["remove"] == 1
    assert set(orgs(w)) == {CODE_A, CODE_B, CODE_D, CODE_E, CODE_S}


def test_a_ledger_under_review_takes_no_file(w):
    # A POST used to file change requests against a submitted ledger; once returned, a draft
    # import removing such an organization then hit the change_request FK on PostgreSQL.
    import_and_apply(w, ledger_xlsx(*V1))
    op = w.client["op"]
    ledger_url = f"/campaigns/{w.cid}/units/jiangan/ledger"
    previewed = uploaded_batch(upload(op, w, ledger_xlsx(*V2)))  # previewed while a draft
    post(op, w, f"{ledger_url}/submit")
    assert "上传并校验" not in text(op.get(ledger_url))  # the page offers no upload

    batch_id = uploaded_batch(upload(op, w, ledger_xlsx(*V2)))  # a POST all the same
    page = text(op.get(f"/campaigns/{w.cid}/imports/{batch_id}"))
    assert "台账已报送审核，审核期间不能导入" in page
    answer = post(op, w, f"/campaigns/{w.cid}/imports/{previewed}/apply")
    assert "台账已报送审核，审核期间不能导入" in text(op.get(answer.headers["Location"]))
    answer = post(op, w, f"/campaigns/{w.cid}/imports/{batch_id}/apply")
    assert "该文件未通过校验或已处理" in text(op.get(answer.headers["Location"]))
    assert db.session.scalar(select(func.count()).select_from(ChangeRequest)) == 0
    rows = orgs(w)
    assert set(rows) == {CODE_A, CODE_B, CODE_C, CODE_D, CODE_S}
    assert rows[CODE_B].employees == 60
    assert db.session.get(ImportBatch, previewed).status == "previewed"


# ---- exclusions -------------------------------------------------------------------------------


def test_excluding_a_shell_enterprise_leaves_the_base_with_a_reason_and_restoring_brings_it_back(w):
    import_and_apply(w, ledger_xlsx(*V1))
    coord, op = w.client["coord"], w.client["op"]
    a = orgs(w)[CODE_A]
    url = f"/campaigns/{w.cid}/organizations/{a.id}"
    assert counts(w).base == 4

    answer = post(coord, w, f"{url}/exclude", status="shell", reason=" ")
    assert "剔除时必须填写理由" in text(coord.get(answer.headers["Location"]))
    assert orgs(w)[CODE_A].in_base is True

    # A district proposes and 工商 confirms (tests/ledger/test_exclusion_proposals.py); the
    # confirmed exclusion is this act.
    services.exclude_organization(
        db.session, orgs(w)[CODE_A], "shell", "区市场监管局核实：无经营场所、无员工", w.coord
    )
    db.session.commit()
    a = orgs(w)[CODE_A]
    assert (a.in_base, a.operating_status, a.target) == (False, "shell", "excluded")
    assert a.exclusion_note == "区市场监管局核实：无经营场所、无员工"
    got = counts(w)
    assert (got.base, got.excluded, got.required) == (3, 2, 1)
    listing = coord.get(f"/campaigns/{w.cid}/exclusions")
    assert "不纳入党建基数的组织（2）" in text(listing)  # A, and D (空壳 in the file)
    assert "江岸甲制造有限公司" in table(listing, "exclusions")
    assert "区市场监管局核实：无经营场所、无员工" in table(listing, "exclusions")
    assert "江岸甲制造有限公司" in table(op.get(f"/campaigns/{w.cid}/exclusions"), "exclusions")
    other = w.client["wop"].get(f"/campaigns/{w.cid}/exclusions")
    assert "江岸甲制造有限公司" not in table(other, "exclusions")

    post(coord, w, f"{url}/restore", reason="复核：仍在经营")
    a = orgs(w)[CODE_A]
    assert (a.in_base, a.operating_status, a.target) == (True, "normal", "party_org")
    assert counts(w).base == 4
    listing = coord.get(f"/campaigns/{w.cid}/exclusions")
    assert "不纳入党建基数的组织（1）" in text(listing)
    assert "江岸甲制造有限公司" not in table(listing, "exclusions")
    assert audit_actions("organization", a.id) == [
        "organization.create",
        "organization.exclude",
        "organization.restore",
    ]


def test_a_social_organization_deregistered_leaves_the_base_and_comes_back_like_an_enterprise(w):
    # V1's base: A B C S (D is 空壳). With a Party org: B (联合), S (单独); must have one:
    # A (120 employees), S (3 formal members). S 注销 leaves: base A B C, excluded D S,
    # with a Party org B, must have one A.
    import_and_apply(w, ledger_xlsx(*V1))
    coord, op = w.client["coord"], w.client["op"]
    got = counts(w)
    assert (got.base, got.excluded, got.with_party_org, got.required) == (4, 1, 2, 2)
    # The unit page offers each organization the exits of its kind.
    page = coord.get(f"/campaigns/{w.cid}/units/jiangan")
    social_row = table_row(page, "ledger", "江岸区某律师事务所")
    enterprise_row = table_row(page, "ledger", "江岸甲制造有限公司")
    assert '<option value="deregistered">注销</option>' in social_row
    assert '<option value="revoked">撤销登记</option>' in social_row
    assert '<option value="inactive">长期停止活动</option>' in social_row
    assert "空壳" not in social_row
    assert '<option value="shell">空壳企业</option>' in enterprise_row
    assert "注销" not in enterprise_row

    s = orgs(w)[CODE_S]
    url = f"/campaigns/{w.cid}/organizations/{s.id}"
    assert post(op, w, f"{url}/exclude", status="deregistered", reason="x").status_code == 403
    post(coord, w, f"{url}/exclude", status="deregistered", reason="市民政局：已办理注销登记")
    s = orgs(w)[CODE_S]
    assert (s.in_base, s.operating_status, s.target) == (False, "deregistered", "excluded")
    assert (s.exclusion_note, s.exclusion_decided_by_id) == ("市民政局：已办理注销登记", w.coord.id)
    got = counts(w)
    assert (got.base, got.excluded, got.with_party_org, got.required) == (3, 2, 1, 1)
    listing = coord.get(f"/campaigns/{w.cid}/exclusions")
    assert "不纳入党建基数的组织（2）" in text(listing)  # D (空壳 in the file) and S
    row = table_row(listing, "exclusions", "江岸区某律师事务所")
    for shown in ("社会组织", "注销", "市民政局：已办理注销登记", "coord"):
        assert f">{shown}</td>" in row, shown

    # Twice is once: the second is told it is done.
    with pytest.raises(Conflict, match="该组织已作为“注销”的社会组织剔除出党建基数"):
        services.exclude_organization(db.session, s, "deregistered", "再次", w.coord)
    db.session.rollback()

    post(coord, w, f"{url}/restore", reason="复核：注销登记有误，仍在活动")
    s = orgs(w)[CODE_S]
    assert (s.in_base, s.operating_status, s.target) == (True, "normal", "standalone")
    got = counts(w)
    assert (got.base, got.excluded, got.with_party_org, got.required) == (4, 1, 2, 2)
    assert audit_actions("organization", s.id) == [
        "organization.create",
        "organization.exclude",
        "organization.restore",
    ]


def test_each_kind_leaves_only_with_its_own_statuses(w):
    import_and_apply(w, ledger_xlsx(*V1))
    a, s = orgs(w)[CODE_A], orgs(w)[CODE_S]
    refused = {
        (a, "revoked"): "「剔除类型」：非公企业不能按“撤销登记”剔除（可选：空壳、僵尸、影子）",
        (
            s,
            "shell",
        ): "「剔除类型」：社会组织不能按“空壳”剔除（可选：注销、撤销登记、长期停止活动）",
        # 停业 is no exit: a suspended enterprise stays in the base.
        (
            a,
            "suspended",
        ): "剔除类型应为：非公企业空壳、僵尸、影子；社会组织注销、撤销登记、长期停止活动",
    }
    for (org, status), message in refused.items():
        with pytest.raises(ValidationFailed) as refusal:
            services.exclude_organization(db.session, org, status, "核实", w.coord)
        assert refusal.value.problems == [("status", message)]
        db.session.rollback()
    # The page says why, and nothing changed.
    coord = w.client["coord"]
    answer = post(
        coord,
        w,
        f"/campaigns/{w.cid}/organizations/{a.id}/exclude",
        status="revoked",
        reason="核实",
    )
    assert refused[(a, "revoked")] in text(coord.get(answer.headers["Location"]))
    rows = orgs(w)
    assert [(rows[c].in_base, rows[c].operating_status) for c in (CODE_A, CODE_S)] == [
        (True, "normal"),
        (True, "normal"),
    ]
    assert counts(w).base == 4


def test_a_suspended_enterprise_stays_in_the_base_with_its_target(w):
    # 停业: business stopped for a time, still registered. A (120 employees, no member) must
    # still have a Party org: base 4, required A S, as when it is 正常.
    import_and_apply(w, ledger_xlsx([dict(ROW_A, 经营状态="停业"), *V1[0][1:]], V1[1]))
    a = orgs(w)[CODE_A]
    assert (a.operating_status, a.in_base, a.target, a.exclusion_note) == (
        "suspended",
        True,
        "party_org",
        "",
    )
    got = counts(w)
    assert (got.base, got.excluded, got.required) == (4, 1, 2)


def test_the_social_status_column_round_trips_and_an_older_file_without_it_still_imports(w):
    # S 撤销登记 in the file: out of the base through the import, which says so.
    import_and_apply(w, ledger_xlsx(V1[0], [dict(ROW_S, 经营状态="撤销登记")]))
    s = orgs(w)[CODE_S]
    assert (s.in_base, s.operating_status, s.target) == (False, "revoked", "excluded")
    assert s.exclusion_note.endswith("：经营状态为“撤销登记”")
    assert counts(w).base == 3  # A B C

    # Exported, 附表2 says 撤销登记 in its 经营状态 column (G); imported again, nothing changes.
    client = w.client["op"]
    exported = client.get(f"/campaigns/{w.cid}/units/jiangan/ledger.xlsx").data
    sheet = load_workbook(io.BytesIO(exported))[SOCIAL_SHEET]
    assert (sheet["G2"].value.rstrip("*"), sheet["B3"].value, sheet["G3"].value) == (
        "经营状态",
        CODE_S,
        "撤销登记",
    )
    batch = import_file(w, exported)
    assert batch.status == "previewed", batch.problems
    assert (batch.summary["same"], batch.summary["update"]) == (5, 0)

    # A 附表2 made before the column (and an organization it adds): S keeps 撤销登记, T is 正常.
    row_t = social("江岸区某协会", CODE_T)
    older = build_xlsx(
        {
            ENTERPRISE_SHEET: (ENTERPRISE_HEADERS, list(V1[0])),
            SOCIAL_SHEET: ([h for h in SOCIAL_HEADERS if h != "经营状态"], [ROW_S, row_t]),
        }
    )
    summary = import_and_apply(w, older)
    assert (summary["same"], summary["add"], summary["update"]) == (5, 1, 0)
    rows = orgs(w)
    assert (rows[CODE_S].in_base, rows[CODE_S].operating_status) == (False, "revoked")
    assert (rows[CODE_T].in_base, rows[CODE_T].operating_status) == (True, "normal")
    assert counts(w).base == 4  # A B C T


def test_a_sheet_refuses_the_other_kinds_status_naming_the_cell(w):
    bad = ledger_xlsx([dict(ROW_A, 经营状态="注销")], [dict(ROW_S, 经营状态="停业")])
    batch = import_file(w, bad)
    assert batch.status == "refused"
    assert batch.problems == [
        f"「{ENTERPRISE_SHEET}」第3行F列「经营状态」：不能填“注销”："
        "这是社会组织的状态（非公企业可填：正常、空壳、僵尸、影子、停业）",
        f"「{SOCIAL_SHEET}」第3行G列「经营状态」：不能填“停业”："
        "这是非公企业的状态（社会组织可填：正常、注销、撤销登记、长期停止活动）",
    ]
    assert orgs(w) == {}


# ---- who may do what ----------------------------------------------------------------------------


def test_another_districts_operator_gets_404_and_the_coordinator_403_on_the_import(w):
    op, wop = w.client["op"], w.client["wop"]
    batch_id = uploaded_batch(upload(op, w, ledger_xlsx(*V1)))
    assert op.get(f"/campaigns/{w.cid}/imports/{batch_id}").status_code == 200

    assert wop.get(f"/campaigns/{w.cid}/imports/{batch_id}").status_code == 404
    assert wop.get(f"/campaigns/{w.cid}/imports/{batch_id}/status").status_code == 404
    assert upload(wop, w, ledger_xlsx(*V1), code="jiangan").status_code == 404
    assert post(wop, w, f"/campaigns/{w.cid}/imports/{batch_id}/apply").status_code == 404
    assert wop.get(f"/campaigns/{w.cid}/units/jiangan/ledger").status_code == 404
    # The coordinator reads it but does not import for a unit: told so, not "not found".
    coord = w.client["coord"]
    assert coord.get(f"/campaigns/{w.cid}/imports/{batch_id}").status_code == 200
    for refused in (
        post(coord, w, f"/campaigns/{w.cid}/imports/{batch_id}/apply"),
        upload(coord, w, ledger_xlsx(*V1), code="jiangan"),
    ):
        assert refused.status_code == 403
        assert "只有本单位的台账填报员可以导入、修改和报送本单位台账" in text(refused)
    assert orgs(w) == {}
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 1

    post(op, w, f"/campaigns/{w.cid}/imports/{batch_id}/apply")
    assert len(orgs(w)) == 5


# ---- the stored preview ------------------------------------------------------------------


def as_stored_before_lists(batch: ImportBatch) -> None:
    """Rewrite a preview as it was stored before rows were lists: each row a dict by field."""
    diff = copy.deepcopy(batch.diff)
    for item in diff:
        if "values" in item:
            item["row"] = dict(zip(importing.COMPARED, item.pop("values"), strict=True))
    batch.diff = diff
    db.session.commit()


def ledger_of(campaign) -> dict[str, tuple]:
    """Every stored column of a campaign's organizations by code, minus identity and time."""
    db.session.expire_all()
    skip = {"id", "campaign_id", "created_at", "updated_at", "exclusion_decided_at"}
    columns = [c for c in Organization.__table__.c if c.name not in skip]
    rows = db.session.execute(select(*columns).where(Organization.campaign_id == campaign.id)).all()
    # The exclusion note names the import record, which differs between the two campaigns.
    return {
        r.credit_code: tuple(re.sub(r"#\d+", "#N", v) if isinstance(v, str) else v for v in r)
        for r in rows
    }


def test_a_preview_keeps_each_row_once_as_its_values_in_field_order(w):
    batch = import_file(w, ledger_xlsx(*V1))
    diff = {d["credit_code"]: d for d in batch.diff}
    assert all(
        "row" not in d and len(d["values"]) == len(importing.COMPARED) for d in diff.values()
    )
    s = dict(zip(importing.COMPARED, diff[CODE_S]["values"], strict=True))
    assert (s["kind"], s["registration_level"], s["tags"], s["employees"]) == (
        "social",
        "city",
        ["law_firm"],
        15,
    )
    assert (s["party_org_founded_on"], s["area_name"], s["operating_status"]) == (
        "2026-09-01",
        "",
        "normal",
    )
    assert diff[CODE_S]["where"] == ["附表2 社会组织", 3]


def test_a_preview_stored_before_rows_were_lists_still_applies_alike(w):
    # The same files into a second campaign of the same unit, their previews in the old form:
    # the ledgers and change records come out the same as with the new form.
    other = make_campaign(2027)
    db.session.commit()
    for version in (V1, V2):
        new = import_file(w, ledger_xlsx(*version))
        old = importing.start_import(
            db.session, other, w.jiangan, ledger_xlsx(*version), "台账.xlsx", w.op, w.storage
        )
        db.session.commit()
        old = importing.run_import(db.session, old.id, w.storage)
        as_stored_before_lists(old)
        applied = [importing.apply_import(db.session, b, w.op) for b in (new, old)]
        assert [{k: a[k] for k in SUMMARY_KEYS} for a in applied] == [summary_of(new.id)] * 2
        db.session.commit()
    assert ledger_of(w.campaign) == ledger_of(other)
    assert set(ledger_of(other)) == {CODE_A, CODE_B, CODE_D, CODE_E, CODE_S}
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "organization").order_by(AuditEntry.id)
    ).all()
    by_campaign = {}
    for e in entries:
        after = re.sub(r'"import_batch": \d+|导入记录#\d+', "", e.after)
        by_campaign.setdefault(e.object_id, []).append((e.action, e.before, after))
    first, second = (
        [by_campaign[str(o.id)] for o in sorted(orgs_of(c).values(), key=lambda o: o.credit_code)]
        for c in (w.campaign, other)
    )
    assert first == second


def orgs_of(campaign) -> dict[str, Organization]:
    return {
        o.credit_code: o
        for o in db.session.scalars(
            select(Organization).where(Organization.campaign_id == campaign.id)
        )
    }


def test_a_change_request_from_a_preview_of_either_form_proposes_the_same_values(w):
    import_and_apply(w, ledger_xlsx(*V1))
    services.unit_ledger(db.session, w.campaign, w.jiangan).status = LedgerStatus.APPROVED
    db.session.commit()
    payloads = []
    for rewrite in (False, True):
        batch = import_file(w, ledger_xlsx(*V2))
        if rewrite:
            as_stored_before_lists(batch)
        importing.apply_import(db.session, batch, w.op)
        db.session.commit()
        requests = db.session.scalars(
            select(ChangeRequest).where(ChangeRequest.import_batch_id == batch.id)
        ).all()
        payloads.append({r.credit_code: r.payload for r in requests})
        for request in requests:  # decided, so the same file may propose them again
            services.decide_change(db.session, request, False, w.coord, "重新导入")
        db.session.commit()
    assert payloads[0] == payloads[1]
    assert payloads[0][CODE_B]["employees"] == 45
    assert payloads[0][CODE_E]["tags"] == ["internet"]
    assert list(payloads[0][CODE_E]) == importing.COMPARED


def test_a_preview_whose_rows_have_another_length_is_refused_and_changes_nothing(w):
    batch = import_file(w, ledger_xlsx(*V1))
    diff = copy.deepcopy(batch.diff)
    for item in diff:
        item["values"].append("")  # as if made by a version with one more column
    batch.diff = diff
    db.session.commit()
    with pytest.raises(ValidationFailed, match="预览之后台账已有变化，请重新上传文件预览差异"):
        importing.apply_import(db.session, batch, w.op)
    db.session.rollback()
    assert orgs(w) == {}


# ---- a batch whose worker died ------------------------------------------------------------

INTERRUPTED = "处理被中断（服务重启等），台账未作任何修改，请重新上传"


def uploaded_and_left(w, *moment) -> int:
    """An upload recorded at ``moment`` whose worker thread never reports (a restart)."""
    with at(*moment):
        batch = importing.start_import(
            db.session, w.campaign, w.jiangan, ledger_xlsx(*V1), "台账.xlsx", w.op, w.storage
        )
        db.session.commit()
    return batch.id


@contextmanager
def no_writes():
    """Fail if a statement other than a read reaches the database meanwhile."""
    writes = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SELECT", "PRAGMA", "SAVEPOINT")):
            writes.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", seen)
    try:
        yield writes
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", seen)
    assert not [s for s in writes if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def stored(batch_id: int) -> tuple[str, list[str]]:
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch_id)
    return batch.status, batch.problems


def test_an_import_whose_worker_died_shows_as_interrupted_without_a_write_and_is_settled(w):
    batch_id = uploaded_and_left(w, 2026, 11, 2, 10, 0)
    op = w.app.test_client()
    page = f"/campaigns/{w.cid}/imports/{batch_id}"
    ledger = f"/campaigns/{w.cid}/units/jiangan/ledger"
    with at(2026, 11, 2, 10, 0):  # signed in then: a session cookie from later is refused
        assert login(op, "jiangan_op").status_code == 302
        op.get(ledger)  # its first visit creates the ledger's draft row (a write of its own)

    # Half an hour without a sign of life is still alive ...
    with at(2026, 11, 2, 10, 30), no_writes():
        assert op.get(f"{page}/status").json == {"status": "processing", "progress": 0, "total": 0}
        assert "正在逐行校验" in text(op.get(page))
        assert "处理中" in table(op.get(ledger), "imports")
    # ... a minute more and it is shown as interrupted: its page, the page's poll and the
    # ledger's list of imports say so, and none of them writes.
    with at(2026, 11, 2, 10, 31), no_writes():
        assert op.get(f"{page}/status").json == {"status": "refused", "progress": 0, "total": 0}
        shown = text(op.get(page))
        assert "文件未通过校验，台账未作任何修改。" in shown and INTERRUPTED in shown
        assert "未通过校验" in table(op.get(ledger), "imports")
    assert stored(batch_id) == ("processing", [])

    # The scheduler's job settles it.
    with at(2026, 11, 2, 10, 35):
        assert scheduler.settle_abandoned_work(w.app) == 1
    assert stored(batch_id) == ("refused", [INTERRUPTED])
    # A worker still alive after all stops at its first report and leaves the batch so.
    with at(2026, 11, 2, 10, 36):
        assert importing.run_import(db.session, batch_id, w.storage).status == "refused"
    assert stored(batch_id) == ("refused", [INTERRUPTED])
    assert orgs(w) == {}
    with at(2026, 11, 2, 10, 40):
        assert scheduler.settle_abandoned_work(w.app) == 0


def test_a_late_worker_renews_the_lease_and_the_next_upload_settles_a_dead_one(w):
    # Taken up 40 minutes after the upload (the workers were busy), before anything settled
    # it: the worker's first report renews the lease, and the file is processed.
    late = uploaded_and_left(w, 2026, 11, 2, 10, 0)
    with at(2026, 11, 2, 10, 40):
        assert importing.run_import(db.session, late, w.storage).status == "previewed"

    dead = uploaded_and_left(w, 2026, 11, 2, 11, 0)
    # The unit's next upload settles the one whose worker died, once past its lease.
    uploaded_and_left(w, 2026, 11, 2, 11, 30)
    assert stored(dead) == ("processing", [])
    newest = uploaded_and_left(w, 2026, 11, 2, 11, 31)
    assert stored(dead) == ("refused", [INTERRUPTED])
    assert stored(late)[0] == "previewed"
    assert stored(newest) == ("processing", [])


def test_a_batch_settled_while_its_preview_is_computed_keeps_its_settled_outcome(w, monkeypatch):
    # The worker read the whole file, then stalled past the lease; the scheduler's job (its
    # own session, as in another process) settled the batch before the preview was written.
    batch_id = uploaded_and_left(w, 2026, 11, 2, 10, 0)
    real_stored_rows = importing._stored_rows

    def stalled(*args):
        with at(2026, 11, 2, 10, 31):
            assert scheduler.settle_abandoned_work(w.app) == 1
        return real_stored_rows(*args)

    monkeypatch.setattr(importing, "_stored_rows", stalled)
    with at(2026, 11, 2, 10, 0, 30):
        assert importing.run_import(db.session, batch_id, w.storage).status == "refused"
    assert stored(batch_id) == ("refused", [INTERRUPTED])
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch_id).diff == []


def test_the_reviewer_sees_the_difference_the_operator_saw_in_his_preview(w):
    """An approved base, then a file with 江岸乙's 从业人员数 60 → 45 and 正式党员数 1 → 2, and a
    new 江岸戊: the preview and the change request read the same, field by field, in the
    ledger's words (no codes), so the coordinator never accepts blind."""
    import_and_apply(w, ledger_xlsx(*V1))
    op, coord = w.client["op"], w.client["coord"]
    ledger_url = f"/campaigns/{w.cid}/units/jiangan/ledger"
    post(op, w, f"{ledger_url}/submit")
    post(coord, w, f"{ledger_url}/approve", comment="同意")
    changed = dict(ROW_B, 从业人员数=45, 正式党员数=2)
    batch_id = uploaded_batch(upload(op, w, ledger_xlsx([ROW_A, changed, ROW_D, ROW_E], [ROW_S])))
    difference = "从业人员数：60 → 45；正式党员数：1 → 2"
    preview = op.get(f"/campaigns/{w.cid}/imports/{batch_id}")
    assert difference in table_row(preview, "changes", "江岸乙商贸有限公司")
    post(op, w, f"/campaigns/{w.cid}/imports/{batch_id}/apply")

    page = coord.get(f"/campaigns/{w.cid}/change-requests")
    update = re.sub(r"<[^>]+>", " ", table_row(page, "change-requests", "江岸乙商贸有限公司"))
    assert difference in update and "修改" in update
    added = re.sub(r"<[^>]+>", " ", table_row(page, "change-requests", "江岸戊网络科技有限公司"))
    assert "组织名称：江岸戊网络科技有限公司" in added and "类别：互联网" in added
    assert "类型：非公企业" in added and "从业人员数：55" in added
    assert "enterprise" not in added and "internet" not in added


# ---- Excel as units use it: exports named and ready to print, a refused file marked --------

RED = "FF8080"


def filename(response) -> str:
    disposition = response.headers["Content-Disposition"]
    match = re.search(r"filename\*=UTF-8''([^;]+)", disposition)
    assert match, disposition
    return unquote(match.group(1))


def test_an_export_is_named_by_unit_and_campaign_and_prints_on_landscape_a4(w):
    import_and_apply(w, ledger_xlsx(*V1))
    with at(2026, 11, 22, 10, 0):
        client = w.app.test_client()
        login(client, "jiangan_op")
        answer = client.get(f"/campaigns/{w.cid}/units/jiangan/ledger.xlsx")
    assert answer.status_code == 200
    assert filename(answer) == "台账-江岸区-2026.xlsx"
    book = load_workbook(io.BytesIO(answer.data))
    sheet = book[ENTERPRISE_SHEET]
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize) == ("landscape", 9)  # 9: A4
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$2:$2"  # the header row on every page
    heading = sheet.oddHeader.left.text
    assert "填报单位：江岸区" in heading and "填报人：jiangan_op" in heading
    assert "日期：2026年11月22日" in heading
    # V1's four enterprises (rows 3-6, columns A-AA) are bordered when shown and printed.
    ranges = [str(r.sqref) for r in sheet.conditional_formatting]
    assert ranges == ["A3:AA6"]
    [rule] = [rule for cf in sheet.conditional_formatting for rule in cf.rules]
    assert rule.dxf.border.left.style == "thin"

    template = w.client["op"].get(f"/campaigns/{w.cid}/units/jiangan/ledger/template.xlsx")
    assert filename(template) == "台账模板-江岸区.xlsx"
    blank = load_workbook(io.BytesIO(template.data))[ENTERPRISE_SHEET]
    assert "填报单位：江岸区" in blank.oddHeader.left.text
    assert blank.page_setup.orientation == "landscape"

    city = w.client["coord"].get(f"/campaigns/{w.cid}/ledger.xlsx")
    assert filename(city) == "台账-全市-2026.xlsx"


def test_a_refused_file_comes_back_with_each_bad_cell_red_and_commented(w):
    bad = [
        ROW_A,
        # G: 从业人员数 not a number; B of the next row: a credit code with a wrong check digit.
        dict(ROW_B, 从业人员数="很多"),
        enterprise("江岸错码有限公司", CODE_WRONG_CHECK),
    ]
    batch_id = uploaded_batch(
        upload(w.client["op"], w, ledger_xlsx(bad, []), filename="我的台账.xlsx")
    )
    page = w.client["op"].get(f"/campaigns/{w.cid}/imports/{batch_id}")
    assert "文件未通过校验" in text(page)
    assert 'id="marked-file"' in text(page)

    answer = w.client["op"].get(f"/campaigns/{w.cid}/imports/{batch_id}/marked.xlsx")
    assert answer.status_code == 200
    assert filename(answer) == "我的台账-问题已标注.xlsx"
    book = load_workbook(io.BytesIO(answer.data))
    assert book.sheetnames[0] == "校验问题"
    assert "共2处问题" in book["校验问题"]["A1"].value
    sheet = book[ENTERPRISE_SHEET]
    # The operator's own rows, as he sent them.
    assert [sheet[f"B{r}"].value for r in (3, 4, 5)] == [CODE_A, CODE_B, CODE_WRONG_CHECK]
    employees, code = sheet["G4"], sheet["B5"]
    for cell in (employees, code):
        assert cell.fill.fgColor.rgb.endswith(RED), cell.coordinate
        assert cell.comment is not None, cell.coordinate
    assert "从业人员数" in employees.comment.text and "很多" in employees.comment.text
    assert "校验位错误" in code.comment.text
    # Nothing else is marked.
    marked = {
        c.coordinate
        for row in sheet.iter_rows()
        for c in row
        if c.comment is not None or (c.fill.fgColor.rgb or "").endswith(RED)
    }
    assert marked == {"G4", "B5"}

    # Only the unit's own people see it.
    assert (
        w.client["wop"].get(f"/campaigns/{w.cid}/imports/{batch_id}/marked.xlsx").status_code == 404
    )


def test_a_file_refused_as_a_whole_has_nothing_to_mark(w):
    batch_id = uploaded_batch(
        upload(w.client["op"], w, b"not a workbook at all", filename="x.xlsx")
    )
    page = text(w.client["op"].get(f"/campaigns/{w.cid}/imports/{batch_id}"))
    assert "文件未通过校验" in page and 'id="marked-file"' not in page
    assert (
        w.client["op"].get(f"/campaigns/{w.cid}/imports/{batch_id}/marked.xlsx").status_code == 404
    )


def test_a_file_proposes_its_shell_enterprise_once_and_keeps_it_out_once_confirmed(w):
    def apply(data: bytes) -> ImportBatch:
        batch = import_file(w, data)
        importing.apply_import(db.session, batch, w.op)
        db.session.commit()
        return batch

    def proposals() -> list[tuple]:
        db.session.expire_all()
        return [
            (p.organization_id, p.status, p.state)
            for p in db.session.scalars(select(ExclusionProposal).order_by(ExclusionProposal.id))
        ]

    first = apply(ledger_xlsx(*V1))
    d_id = orgs(w)[CODE_D].id
    assert proposals() == [(d_id, "shell", "pending")]
    # The same file again while 工商 has not decided: D unchanged, not proposed twice.
    again = apply(ledger_xlsx(*V1))
    assert summary_of(again.id)["same"] == 5
    assert proposals() == [(d_id, "shell", "pending")]
    assert counts(w).base == 5
    assert "1家企业标为空壳/僵尸/影子，已提请市工商局确认，确认前仍计入党建基数" in again.notices
    assert audit_actions("organization", d_id) == [
        "organization.create",
        "organization.exclusion_proposed",
    ]
    # Confirmed, then the file once more: D stays out, nothing proposed.
    confirm_proposals(w)
    last = apply(ledger_xlsx(*V1))
    assert summary_of(last.id)["same"] == 5 and last.summary["exits"] == {}
    assert proposals() == [(d_id, "shell", "confirmed")]
    d = orgs(w)[CODE_D]
    assert (d.in_base, d.operating_status) == (False, "shell")
    assert (counts(w).base, counts(w).excluded) == (4, 1)
    assert first.id < again.id < last.id


def test_on_the_approved_base_an_accepted_shell_request_is_proposed_to_aic_not_applied(w):
    import_and_apply(w, ledger_xlsx(*V1))
    ledger = services.unit_ledger(db.session, w.campaign, w.jiangan)
    services.submit_ledger(db.session, ledger, w.op)
    services.approve_ledger(db.session, ledger, w.coord)
    db.session.commit()
    batch = import_file(w, ledger_xlsx([dict(ROW_A, 经营状态="僵尸"), *V1[0][1:]], V1[1]))
    assert (
        "1家企业标为空壳/僵尸/影子，导入并经变更申请通过后将提请市工商局确认，确认前仍计入党建基数"
        in (batch.notices)
    )
    importing.apply_import(db.session, batch, w.op)
    db.session.commit()
    (request,) = db.session.scalars(select(ChangeRequest)).all()
    services.decide_change(db.session, request, True, w.coord)
    db.session.commit()
    a = orgs(w)[CODE_A]
    assert (a.in_base, a.operating_status, a.target) == (True, "normal", "party_org")
    (proposal,) = db.session.scalars(
        select(ExclusionProposal).where(ExclusionProposal.state == "pending")
    ).all()
    assert (proposal.organization_id, proposal.status, proposal.proposed_by_id) == (
        a.id,
        "zombie",
        w.op.id,
    )
    assert proposal.reason == f"变更申请#{request.id}：经营状态为“僵尸”"
    confirm_proposals(w)
    assert (orgs(w)[CODE_A].in_base, orgs(w)[CODE_A].operating_status) == (False, "zombie")
