"""Data-quality signals (数据质量线索, DOMAIN.md §1 "不得做假账、报假数"): detection, storage
and a coordinator's judgement.

Each detector is a few set-based queries over the ledger, the closures and the change record,
with the campaign's own thresholds (its ``signal_*`` settings). They run when something was
recorded since the last run (``refresh_due``, the scheduler's job) or on demand, never on a
page view: the pages, the overview, the API and the bulletin read the stored signals.

A signal is a lead (线索), not a verdict: it names the rows and says why in plain Chinese. A
coordinator marks it 已核实无误 or 需整改 with a note, recorded; a signal no longer found is
kept, inactive; one whose rows change after it was judged is open again, and recorded so.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, Integer, and_, cast, func, or_, select

from campaign import audit
from campaign.audit import AuditEntry
from campaign.board.models import BoardItem, Closure, ClosureStatus
from campaign.core import campaigns as timeline
from campaign.core.clock import now
from campaign.core.db import Session, claim, one_of
from campaign.core.errors import ValidationFailed
from campaign.core.models import Actor, Campaign, Unit, User
from campaign.core.vocab import OperatingStatus, PartyOrgStatus, Role
from campaign.ledger.models import LedgerCounts, LedgerStatus, Organization, UnitLedger
from campaign.quality.models import (
    MAX_ROWS,
    QualityRun,
    QualitySignal,
    SignalCode,
    SignalStatus,
)

# Closures that claim something: awaiting verification or verified (not returned, not revoked).
CLAIMING = (ClosureStatus.PENDING, ClosureStatus.VERIFIED)
# Edits of a row of an approved base that the frequent-edits signal counts: a closure writing
# its Party org into the row is the campaign's work, not an edit.
EDITS = ("organization.update", "organization.exclude", "organization.restore")
# Rows read at a time from the change record.
CHUNK = 5000


@dataclass
class Finding:
    """What a detector found: a signal before it is stored."""

    code: SignalCode
    unit_id: int
    key: str
    reason: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


def _local_day(moment: datetime, campaign: Campaign) -> date:
    return moment.astimezone(ZoneInfo(campaign.timezone)).date()


def _orgs(session: Session, ids: Iterable[int]) -> dict[int, Any]:
    """id -> (id, unit_id, name, credit_code) of the organizations ``ids``."""
    wanted = sorted(set(ids))
    found: dict[int, Any] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        stmt = select(
            Organization.id, Organization.unit_id, Organization.name, Organization.credit_code
        ).where(one_of(session, Organization.id, part))
        found.update({r.id: r for r in session.execute(stmt)})
    return found


def _row(org: Any, detail: str, closure_id: int | None = None) -> dict[str, Any]:
    row = {
        "organization_id": org.id,
        "name": org.name,
        "credit_code": org.credit_code,
        "detail": detail,
    }
    if closure_id is not None:
        row["closure_id"] = closure_id
    return row


def _finding(
    code: SignalCode,
    unit_id: int,
    key: str,
    reason: str,
    rows: list[dict[str, Any]],
    total: int | None = None,
) -> Finding:
    ordered = sorted(rows, key=lambda r: (r["organization_id"], r.get("closure_id") or 0))
    return Finding(code, unit_id, key, reason, ordered[:MAX_ROWS], total or len(rows))


def _capped(
    session: Session, source: Any, by: Sequence[str], order: str
) -> tuple[dict[tuple[Any, ...], list[Any]], dict[tuple[Any, ...], int]]:
    """The rows of ``source`` (a select) grouped by the columns ``by``, at most MAX_ROWS of
    each group (the first by ``order``), and each group's full count: two statements, however
    many rows the groups hold (a name shared by thousands reads 200 of them)."""
    sub = source.subquery()
    keys = [sub.c[k] for k in by]
    totals = {
        tuple(r[:-1]): r[-1] for r in session.execute(select(*keys, func.count()).group_by(*keys))
    }
    numbered = select(
        sub, func.row_number().over(partition_by=keys, order_by=sub.c[order]).label("place")
    ).subquery()
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for r in session.execute(select(numbered).where(numbered.c.place <= MAX_ROWS)):
        groups[tuple(getattr(r, k) for k in by)].append(r)
    return groups, totals


def _claims(campaign: Campaign) -> list[ColumnElement[bool]]:
    return [BoardItem.campaign_id == campaign.id, Closure.status.in_(CLAIMING)]


# ---- the detectors -------------------------------------------------------------------------


def evidence_reused(session: Session, campaign: Campaign) -> list[Finding]:
    """The same evidence file (same SHA-256) on claiming closures of several organizations:
    one signal per file and unit, naming that unit's closures."""
    limit = max(campaign.signal_evidence_orgs, 2)
    shared = (
        select(Closure.document_sha256)
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .where(*_claims(campaign), Closure.document_sha256 != "")
        .group_by(Closure.document_sha256)
        .having(func.count(func.distinct(BoardItem.organization_id)) >= limit)
    )
    files = list(session.scalars(shared))
    if not files:
        return []
    source = (
        select(
            Closure.document_sha256.label("sha"),
            Closure.document_name,
            Closure.id.label("closure_id"),
            BoardItem.unit_id,
            BoardItem.organization_id,
        )
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .where(*_claims(campaign), Closure.document_sha256.in_(files))
    )
    groups, totals = _capped(session, source, ("sha", "unit_id"), "closure_id")
    everywhere: dict[str, int] = defaultdict(int)
    for (sha, _), n in totals.items():
        everywhere[sha] += n
    orgs = _orgs(session, (r.organization_id for rs in groups.values() for r in rs))
    found = []
    for (sha, unit_id), mine in groups.items():
        own = totals[(sha, unit_id)]
        elsewhere = everywhere[sha] - own
        reason = (
            f"同一份佐证材料（SHA-256 {sha[:12]}…）用于{everywhere[sha]}个组织的销号"
            f"（本单位{own}个" + (f"，其他单位{elsewhere}个" if elsewhere else "") + "），"
            "请核实每个组织是否有各自的批复文件。"
        )
        rows = [
            _row(orgs[r.organization_id], f"佐证材料“{r.document_name}”", r.closure_id)
            for r in mine
        ]
        found.append(_finding(SignalCode.EVIDENCE_REUSED, unit_id, sha, reason, rows, own))
    return found


def _report_days(campaign: Campaign, today: date) -> list[date]:
    return [d for d in timeline.report_due_days(campaign) if d <= today]


def founding_burst(session: Session, campaign: Campaign, today: date) -> list[Finding]:
    """Party orgs founded in the last days before a report day far above the unit's own pace
    (its founding dates over the campaign outside that window): one signal per unit and day."""
    days = max(campaign.signal_burst_days, 1)
    start, end = campaign.starts_on, min(today, campaign.ends_on)
    if end < start:
        return []
    # One row per unit and founding day: read from ix_organization_founded.
    stmt = (
        select(Organization.unit_id, Organization.party_org_founded_on, func.count())
        .where(
            Organization.campaign_id == campaign.id,
            Organization.party_org_founded_on.between(start, end),
            Organization.party_org_status != PartyOrgStatus.NONE,
            Organization.in_base,
        )
        .group_by(Organization.unit_id, Organization.party_org_founded_on)
    )
    per_unit: dict[int, dict[date, int]] = defaultdict(dict)
    for unit_id, day, n in session.execute(stmt):
        per_unit[unit_id][day] = n
    span = (end - start).days + 1
    found = []
    bursts: list[tuple[int, date, date, date, int, float]] = []
    for unit_id, by_day in per_unit.items():
        total = sum(by_day.values())
        for due in _report_days(campaign, end):
            first = max(due - timedelta(days=days - 1), start)
            window = sum(n for d, n in by_day.items() if first <= d <= due)
            width = (due - first).days + 1
            rest_days = span - width
            if rest_days <= 0:
                continue
            pace = (total - window) / rest_days  # a day, outside the window
            expected = pace * width
            if window >= max(campaign.signal_burst_min, 1) and window >= (
                campaign.signal_burst_factor * expected
            ):
                bursts.append((unit_id, due, first, due, window, expected))
    for unit_id, due, first, last, window, expected in bursts:
        stmt = (
            select(Organization.id, Organization.name, Organization.credit_code)
            .add_columns(Organization.party_org_founded_on)
            .where(
                Organization.campaign_id == campaign.id,
                Organization.unit_id == unit_id,
                Organization.party_org_founded_on.between(first, last),
                Organization.party_org_status != PartyOrgStatus.NONE,
                Organization.in_base,
            )
        )
        rows = [
            _row(r, f"党组织成立于{r.party_org_founded_on.isoformat()}")
            for r in session.execute(stmt)
        ]
        reason = (
            f"{due.month}月{due.day}日报送截止前{(last - first).days + 1}天内成立党组织{window}个，"
            f"按本单位其余时间的平均进度同期约{expected:.1f}个，"
            f"超过{campaign.signal_burst_factor}倍，请核实成立日期是否属实。"
        )
        found.append(_finding(SignalCode.FOUNDING_BURST, unit_id, due.isoformat(), reason, rows))
    return found


def quick_verification(session: Session, campaign: Campaign) -> list[Finding]:
    """Closures a leader verified within minutes of their submission, many by one verifier:
    one signal per unit and verifier."""
    minutes = campaign.signal_quick_minutes
    limit = max(campaign.signal_quick_count, 1)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        quick = Closure.decided_at - Closure.submitted_at <= timedelta(minutes=minutes)
    else:
        seconds = (
            func.julianday(Closure.decided_at) - func.julianday(Closure.submitted_at)
        ) * 86400
        quick = seconds <= minutes * 60
    conditions = [
        BoardItem.campaign_id == campaign.id,
        Closure.status == ClosureStatus.VERIFIED,
        Closure.decided_at.is_not(None),
        quick,
    ]
    many = (
        select(BoardItem.unit_id, Closure.decided_by_id)
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .where(*conditions)
        .group_by(BoardItem.unit_id, Closure.decided_by_id)
        .having(func.count() >= limit)
    ).subquery()
    stmt = (
        select(
            BoardItem.unit_id,
            Closure.decided_by_id,
            Closure.id,
            Closure.submitted_at,
            Closure.decided_at,
            BoardItem.organization_id,
        )
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .join(
            many,
            and_(
                many.c.unit_id == BoardItem.unit_id,
                or_(
                    many.c.decided_by_id == Closure.decided_by_id,
                    and_(many.c.decided_by_id.is_(None), Closure.decided_by_id.is_(None)),
                ),
            ),
        )
        .where(*conditions)
    )
    groups: dict[tuple[int, int | None], list[Any]] = defaultdict(list)
    for r in session.execute(stmt):
        groups[(r.unit_id, r.decided_by_id)].append(r)
    orgs = _orgs(session, (r.organization_id for rs in groups.values() for r in rs))
    names = _user_names(session, {k[1] for k in groups if k[1] is not None})
    found = []
    for (unit_id, verifier), rs in groups.items():
        who = names.get(verifier, "系统") if verifier is not None else "系统"
        rows = []
        for r in rs:
            gap = max(int((r.decided_at - r.submitted_at).total_seconds() // 60), 0)
            rows.append(_row(orgs[r.organization_id], f"提交后{gap}分钟核验", r.id))
        reason = (
            f"{who}有{len(rs)}个销号在提交后{minutes}分钟内即核验通过，"
            "请核实是否逐一审看了佐证材料。"
        )
        key = f"verifier:{verifier or 0}"
        found.append(_finding(SignalCode.QUICK_VERIFICATION, unit_id, key, reason, rows))
    return found


def _user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(User.id, User.display_name, User.username).where(User.id.in_(ids))
    return {r.id: r.display_name or r.username for r in session.execute(stmt)}


def _changes(
    session: Session, org_ids: Sequence[int], field_name: str
) -> dict[int, list[tuple[datetime, Any, Any]]]:
    """Every recorded change of ``field_name`` of the organizations ``org_ids``: id -> [(when,
    before, after)], oldest first (the change record, read through its object index)."""
    out: dict[int, list[tuple[datetime, Any, Any]]] = defaultdict(list)
    keys = [str(i) for i in sorted(set(org_ids))]
    for start in range(0, len(keys), CHUNK):
        part = keys[start : start + CHUNK]
        stmt = (
            select(AuditEntry.object_id, AuditEntry.at, AuditEntry.before, AuditEntry.after)
            .where(
                AuditEntry.object_type == "organization",
                one_of(session, AuditEntry.object_id, part),
                AuditEntry.after.contains(f'"{field_name}"'),
            )
            .order_by(AuditEntry.id)
        )
        for object_id, at, before, after in session.execute(stmt):
            old, new = json.loads(before or "{}"), json.loads(after or "{}")
            if field_name in new:
                out[int(object_id)].append((at, old.get(field_name), new[field_name]))
    return out


def members_to_threshold(session: Session, campaign: Campaign) -> list[Finding]:
    """Organizations with a claiming closure whose formal members rose to exactly the
    standalone threshold in the days before (or with) the closure: one signal each."""
    threshold = campaign.standalone_formal_members
    days = timedelta(days=campaign.signal_threshold_days)
    stmt = (
        select(
            BoardItem.unit_id,
            BoardItem.organization_id,
            Closure.id,
            Closure.submitted_at,
            Closure.decided_at,
        )
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .join(Organization, Organization.id == BoardItem.organization_id)
        .where(
            *_claims(campaign),
            or_(
                Organization.formal_members == threshold,
                Closure.formal_members == threshold,
            ),
        )
    )
    candidates = list(session.execute(stmt))
    if not candidates or threshold <= 0:
        return []
    changes = _changes(session, [c.organization_id for c in candidates], "formal_members")
    orgs = _orgs(session, (c.organization_id for c in candidates))
    found, seen = [], set()
    for c in candidates:
        until = c.decided_at or c.submitted_at
        for at, old, new in changes.get(c.organization_id, []):
            rose = isinstance(old, int) and isinstance(new, int) and old < threshold == new
            if rose and c.submitted_at - days <= at <= until and c.organization_id not in seen:
                seen.add(c.organization_id)
                day = _local_day(at, campaign)
                reason = (
                    f"正式党员数于{day.month}月{day.day}日由{old}名改为{new}名，恰好达到单独组建"
                    f"所需的{threshold}名，随后申请销号，请核实新增党员的组织关系。"
                )
                detail = f"正式党员{old}→{new}（{day.isoformat()}）"
                rows = [_row(orgs[c.organization_id], detail, c.id)]
                key = f"org:{c.organization_id}"
                found.append(
                    _finding(SignalCode.MEMBERS_TO_THRESHOLD, c.unit_id, key, reason, rows)
                )
    return found


def _employee_thresholds(campaign: Campaign) -> dict[int, str]:
    return {
        campaign.member_required_employees: "应有党员",
        campaign.party_org_required_employees: "应建党组织",
        campaign.large_enterprise_employees: "规模较大互联网、文化创意企业应建党组织",
        campaign.social_staff_threshold: "民办学校、医院应建党组织",
    }


def employees_below_threshold(session: Session, campaign: Campaign) -> list[Finding]:
    """Organizations of an approved base whose employee count fell from at or above a rule's
    threshold to below it after the base was approved: one signal each."""
    thresholds = {t: what for t, what in _employee_thresholds(campaign).items() if t > 0}
    if not thresholds:
        return []
    below_some = or_(
        *(and_(Organization.employees < t, Organization.employees >= t // 2) for t in thresholds)
    )
    # One statement: the change record's edits of the employee count, each joined to its
    # organization (by primary key, from the few edits) and that unit's approved ledger.
    stmt = (
        select(
            Organization.id,
            Organization.unit_id,
            Organization.name,
            Organization.credit_code,
            AuditEntry.at,
            AuditEntry.before,
            AuditEntry.after,
        )
        .select_from(AuditEntry)
        .join(Organization, Organization.id == cast(AuditEntry.object_id, Integer))
        .join(
            UnitLedger,
            and_(
                UnitLedger.campaign_id == Organization.campaign_id,
                UnitLedger.unit_id == Organization.unit_id,
            ),
        )
        .where(
            AuditEntry.object_type == "organization",
            AuditEntry.after.contains('"employees"'),
            AuditEntry.at > UnitLedger.reviewed_at,
            Organization.campaign_id == campaign.id,
            UnitLedger.status == LedgerStatus.APPROVED,
            below_some,
        )
        .order_by(AuditEntry.id)
    )
    found, seen = [], set()
    for r in session.execute(stmt):
        old = json.loads(r.before or "{}").get("employees")
        new = json.loads(r.after or "{}").get("employees")
        if r.id in seen or not (isinstance(old, int) and isinstance(new, int)):
            continue
        crossed = sorted(t for t in thresholds if new < t <= old)
        if not crossed:
            continue
        seen.add(r.id)
        t = crossed[-1]
        day = _local_day(r.at, campaign)
        reason = (
            f"党建基数确定后，从业人员数于{day.month}月{day.day}日由{old}人改为{new}人，"
            f"降到“{thresholds[t]}”的{t}人以下，请核实人数变化的依据。"
        )
        rows = [_row(r, f"从业人员{old}→{new}（{day.isoformat()}）")]
        found.append(
            _finding(SignalCode.EMPLOYEES_BELOW_THRESHOLD, r.unit_id, f"org:{r.id}", reason, rows)
        )
    return found


def _normalized(column: Any) -> Any:
    return func.replace(func.replace(func.trim(column), " ", ""), "　", "")


def same_person(session: Session, campaign: Campaign) -> list[Finding]:
    """The same secretary (of claiming closures) or instructor (党建工作指导员 in the ledger)
    in more of one unit's organizations than is plausible: one signal per name, role and
    unit.

    One statement per role, however many names: each (name, unit)'s organizations counted
    and numbered in one pass (window functions over one sort), the groups over the limit
    kept with their first MAX_ROWS organizations, named by a join (no second lookup)."""
    limit = campaign.signal_person_orgs
    found = []
    secretary = _normalized(Closure.secretary)
    instructor = _normalized(Organization.instructor)
    sources = [
        (
            "书记",
            "secretary",
            # An organization counts once, whatever its claiming closures.
            select(
                secretary.label("person"),
                BoardItem.organization_id.label("org_id"),
                BoardItem.unit_id,
                Organization.name,
                Organization.credit_code,
            )
            .join(BoardItem, BoardItem.id == Closure.item_id)
            .join(Organization, Organization.id == BoardItem.organization_id)
            .where(*_claims(campaign), secretary != "")
            .distinct(),
        ),
        (
            "党建工作指导员",
            "instructor",
            select(
                instructor.label("person"),
                Organization.id.label("org_id"),
                Organization.unit_id,
                Organization.name,
                Organization.credit_code,
            ).where(
                Organization.campaign_id == campaign.id, Organization.in_base, instructor != ""
            ),
        ),
    ]
    for role, tag, source in sources:
        posts = source.subquery()
        # Within one unit: the same name in two districts is most often two people.
        group = [posts.c.person, posts.c.unit_id]
        ranked = select(
            posts,
            func.count().over(partition_by=group).label("total"),
            func.row_number().over(partition_by=group, order_by=posts.c.org_id).label("place"),
        ).subquery()
        stmt = select(
            ranked.c.person,
            ranked.c.unit_id,
            ranked.c.total,
            ranked.c.org_id,
            ranked.c.name,
            ranked.c.credit_code,
        ).where(ranked.c.total > limit, ranked.c.place <= MAX_ROWS)
        groups: dict[tuple[str, int], list[Any]] = defaultdict(list)
        for r in session.execute(stmt).tuples():
            groups[(r[0], r[1])].append(r)
        for (person, unit_id), rs in groups.items():
            own = rs[0][2]
            reason = (
                f"“{person}”在本单位{own}个组织任{role}，超过{limit}个的合理数量，"
                "请核实是否为同一人、是否实际到岗履职。"
            )
            detail = f"{role}：{person}"
            rows = [
                {"organization_id": r[3], "name": r[4], "credit_code": r[5], "detail": detail}
                for r in rs
            ]
            key = f"{tag}:{person}"[:120]
            found.append(_finding(SignalCode.SAME_PERSON, unit_id, key, reason, rows, own))
    return found


def frequent_edits(session: Session, campaign: Campaign) -> list[Finding]:
    """Rows of an approved base changed often after its approval (edits, exclusions,
    restorations; not closures): one signal per unit listing them."""
    limit = max(campaign.signal_edits_per_org, 1)
    approved = (
        select(UnitLedger.unit_id, UnitLedger.reviewed_at)
        .where(
            UnitLedger.campaign_id == campaign.id,
            UnitLedger.status == LedgerStatus.APPROVED,
            UnitLedger.reviewed_at.is_not(None),
        )
        .subquery()
    )
    org_key = cast(Organization.id, AuditEntry.object_id.type)
    stmt = (
        select(Organization.id, Organization.unit_id, func.count().label("edits"))
        .select_from(AuditEntry)
        .join(Organization, org_key == AuditEntry.object_id)
        .join(approved, approved.c.unit_id == Organization.unit_id)
        .where(
            AuditEntry.object_type == "organization",
            AuditEntry.action.in_(EDITS),
            AuditEntry.at > approved.c.reviewed_at,
            Organization.campaign_id == campaign.id,
        )
        .group_by(Organization.id, Organization.unit_id)
        .having(func.count() >= limit)
    )
    per_unit: dict[int, list[Any]] = defaultdict(list)
    for r in session.execute(stmt):
        per_unit[r.unit_id].append(r)
    orgs = _orgs(session, (r.id for rs in per_unit.values() for r in rs))
    found = []
    for unit_id, rs in per_unit.items():
        reason = (
            f"党建基数审核确定后，{len(rs)}个组织的台账各被修改{limit}次以上，"
            "请核实修改依据，防止基数随意变动。"
        )
        rows = [_row(orgs[r.id], f"基数确定后修改{r.edits}次") for r in rs]
        found.append(_finding(SignalCode.FREQUENT_EDITS, unit_id, "", reason, rows))
    return found


def high_exclusion(session: Session, campaign: Campaign) -> list[Finding]:
    """Units that took organizations out of the base (空壳/僵尸/影子, 注销…) at a rate far
    above the city's (from the kept counts): one signal per unit listing the excluded rows."""
    stmt = (
        select(
            LedgerCounts.unit_id,
            func.sum(LedgerCounts.base).label("base"),
            func.sum(LedgerCounts.excluded).label("excluded"),
        )
        .where(LedgerCounts.campaign_id == campaign.id)
        .group_by(LedgerCounts.unit_id)
    )
    units = list(session.execute(stmt))
    base = sum(u.base or 0 for u in units)
    excluded = sum(u.excluded or 0 for u in units)
    if not excluded:
        return []
    found = []
    for u in units:
        mine, rows_in = u.excluded or 0, (u.base or 0) + (u.excluded or 0)
        others_base = base - (u.base or 0)
        others_excluded = excluded - mine
        others_total = others_base + others_excluded
        city = others_excluded / others_total if others_total else 0.0
        rate = mine / rows_in if rows_in else 0.0
        if mine < max(campaign.signal_exclusion_min, 1):
            continue
        if city and rate < campaign.signal_exclusion_factor * city:
            continue
        listed = (
            select(
                Organization.id,
                Organization.name,
                Organization.credit_code,
                Organization.operating_status,
                Organization.exclusion_note,
            )
            .where(
                Organization.campaign_id == campaign.id,
                Organization.unit_id == u.unit_id,
                Organization.in_base.is_(False),
            )
            .order_by(Organization.id)
            .limit(MAX_ROWS)
        )
        rows = [
            _row(r, f"{OperatingStatus(r.operating_status).label}：{r.exclusion_note}"[:200])
            for r in session.execute(listed)
        ]
        reason = (
            f"剔除出党建基数{mine}个组织，剔除率{rate:.1%}，其他单位合计为{city:.1%}，"
            f"超过{campaign.signal_exclusion_factor}倍，请核实剔除依据（工商、民政部门意见）。"
        )
        finding = _finding(SignalCode.HIGH_EXCLUSION, u.unit_id, "", reason, rows)
        finding.total = mine
        found.append(finding)
    return found


def _grouped(
    session: Session,
    campaign: Campaign,
    code: SignalCode,
    condition: ColumnElement[bool],
    detail: Any,
    reason: str,
) -> list[Finding]:
    """One signal per unit for the rows of its ledger (in the base) that meet ``condition``."""
    source = select(
        Organization.id,
        Organization.unit_id,
        Organization.name,
        Organization.credit_code,
        Organization.employees,
        Organization.formal_members,
        Organization.probationary_members,
        Organization.party_org_status,
        Organization.party_org_founded_on,
    ).where(Organization.campaign_id == campaign.id, Organization.in_base, condition)
    groups, totals = _capped(session, source, ("unit_id",), "id")
    return [
        _finding(
            code,
            unit_id,
            "",
            reason.format(n=totals[(unit_id,)]),
            [_row(r, detail(r)) for r in rs],
            totals[(unit_id,)],
        )
        for (unit_id,), rs in groups.items()
    ]


def inconsistent_rows(session: Session, campaign: Campaign) -> list[Finding]:
    """Rows that contradict themselves: more members than employees; a standalone or
    functional Party org without a formal member (a joint one may cover an organization
    without members: 区域联建)."""
    members = Organization.formal_members + Organization.probationary_members
    return [
        *_grouped(
            session,
            campaign,
            SignalCode.MEMBERS_EXCEED_EMPLOYEES,
            and_(members > Organization.employees, Organization.employees > 0),
            lambda r: f"党员{r.formal_members + r.probationary_members}名，从业人员{r.employees}人",
            "{n}个组织填报的党员数（正式加预备）多于从业人员数，请核实。",
        ),
        *_grouped(
            session,
            campaign,
            SignalCode.PARTY_ORG_WITHOUT_MEMBERS,
            and_(
                Organization.party_org_status.in_(
                    [PartyOrgStatus.STANDALONE, PartyOrgStatus.FUNCTIONAL]
                ),
                Organization.formal_members == 0,
            ),
            lambda r: f"{PartyOrgStatus(r.party_org_status).label}，正式党员0名",
            "{n}个组织填报单独组建或功能型党组织，但正式党员数为0，请核实。",
        ),
    ]


def _day_of(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return cast(column, Date)
    return func.date(column)


def founded_after_counted(session: Session, campaign: Campaign, today: date) -> list[Finding]:
    """Party orgs counted by a verified closure (and so in the figures and reports since)
    whose founding date in the ledger is after that verification, or after today."""
    stmt = (
        select(
            BoardItem.unit_id,
            Organization.id,
            Organization.name,
            Organization.credit_code,
            Organization.party_org_founded_on,
            Closure.id.label("closure_id"),
            Closure.decided_at,
        )
        .select_from(Closure)
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .join(Organization, Organization.id == BoardItem.organization_id)
        .where(
            BoardItem.campaign_id == campaign.id,
            Closure.status == ClosureStatus.VERIFIED,
            Organization.party_org_status != PartyOrgStatus.NONE,
            # A superset in SQL (the verification's day in the database's zone is at most
            # one day off the campaign's); the exact day is compared below.
            Organization.party_org_founded_on >= _day_of(session, Closure.decided_at),
        )
    )
    per_unit: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in session.execute(stmt):
        verified = _local_day(r.decided_at, campaign)
        if r.party_org_founded_on > verified:
            detail = (
                f"成立日期{r.party_org_founded_on.isoformat()}，销号核验于{verified.isoformat()}"
            )
            per_unit[r.unit_id].append(_row(r, detail, r.closure_id))
    future = select(
        Organization.id,
        Organization.unit_id,
        Organization.name,
        Organization.credit_code,
        Organization.party_org_founded_on,
    ).where(
        Organization.campaign_id == campaign.id,
        Organization.party_org_status != PartyOrgStatus.NONE,
        Organization.party_org_founded_on > today,
    )
    for ahead in session.execute(future):
        if not any(x["organization_id"] == ahead.id for x in per_unit[ahead.unit_id]):
            detail = f"成立日期{ahead.party_org_founded_on}，晚于今天"
            per_unit[ahead.unit_id].append(_row(ahead, detail))
    return [
        _finding(
            SignalCode.FOUNDED_AFTER_COUNTED,
            unit_id,
            "",
            f"{len(rows)}个组织的党组织成立日期晚于其销号核验日期（或晚于今天），"
            "却已计入覆盖率，请核实成立日期。",
            rows,
        )
        for unit_id, rows in per_unit.items()
        if rows
    ]


def detect(session: Session, campaign: Campaign, today: date | None = None) -> list[Finding]:
    """Every signal the campaign's data gives on ``today`` (default: today), not stored."""
    today = today or now(campaign.timezone).date()
    return [
        *evidence_reused(session, campaign),
        *founding_burst(session, campaign, today),
        *quick_verification(session, campaign),
        *members_to_threshold(session, campaign),
        *employees_below_threshold(session, campaign),
        *same_person(session, campaign),
        *frequent_edits(session, campaign),
        *high_exclusion(session, campaign),
        *inconsistent_rows(session, campaign),
        *founded_after_counted(session, campaign, today),
    ]


# ---- storing what was found ------------------------------------------------------------------


@dataclass(frozen=True)
class Refreshed:
    """What a detection changed: signals new, open again, no longer found, and found now."""

    new: int
    reopened: int
    gone: int
    active: int


def _ids(rows: list[dict[str, Any]]) -> set[tuple[int, int]]:
    return {(r["organization_id"], r.get("closure_id") or 0) for r in rows}


def refresh(session: Session, campaign: Campaign, user: Actor = "scheduler") -> Refreshed:
    """Detect, and store what was found: new signals open; a judged one whose rows grew open
    again (recorded); one no longer found kept, inactive. Flushed, not committed."""
    moment = now(campaign.timezone)
    findings = detect(session, campaign, moment.date())
    stored = {
        (s.code, s.unit_id, s.key): s
        for s in session.scalars(
            select(QualitySignal).where(QualitySignal.campaign_id == campaign.id)
        )
    }
    new = reopened = 0
    found_keys = set()
    for f in findings:
        k = (f.code, f.unit_id, f.key)
        found_keys.add(k)
        signal = stored.get(k)
        if signal is None:
            session.add(
                QualitySignal(
                    campaign_id=campaign.id,
                    unit_id=f.unit_id,
                    code=f.code,
                    key=f.key,
                    reason=f.reason,
                    rows=f.rows,
                    total=f.total,
                    detected_at=moment,
                    seen_at=moment,
                )
            )
            new += 1
            continue
        grew = not _ids(f.rows) <= _ids(signal.rows) or f.total > signal.total
        if signal.status != SignalStatus.OPEN and (grew or not signal.active):
            audit.record(
                session,
                user=user,
                action="quality_signal.reopen",
                obj_type="quality_signal",
                obj_id=signal.id,
                before={"status": signal.status.value, "total": signal.total},
                after={"status": SignalStatus.OPEN.value, "total": f.total},
            )
            signal.status = SignalStatus.OPEN
            reopened += 1
        if signal.reason != f.reason or signal.rows != f.rows or signal.total != f.total:
            signal.reason, signal.rows, signal.total = f.reason, f.rows, f.total
        signal.active = True
        signal.seen_at = moment
    gone = 0
    for k, signal in stored.items():
        if k not in found_keys and signal.active:
            signal.active = False
            gone += 1
    run = session.get(QualityRun, campaign.id)
    if run is None:
        run = QualityRun(campaign_id=campaign.id)
        session.add(run)
    run.computed_at = moment
    run.found = len(findings)
    run.audit_seen = session.scalar(select(func.max(AuditEntry.id))) or 0
    session.flush()
    return Refreshed(new, reopened, gone, len(findings))


def is_stale(session: Session, campaign: Campaign) -> bool:
    """Whether something was recorded since the campaign's signals were last computed."""
    run = session.get(QualityRun, campaign.id)
    last = session.scalar(select(func.max(AuditEntry.id))) or 0
    return run is None or last > run.audit_seen


def last_run(session: Session, campaign: Campaign) -> QualityRun | None:
    return session.get(QualityRun, campaign.id)


# ---- a coordinator's judgement -------------------------------------------------------------


def may_see_signals(user: User) -> bool:
    """The city's working group (coordinators) and admins read and judge the signals; no one
    else sees them (a lead about a unit's rows is the working group's to check first)."""
    return user.role in (Role.COORDINATOR, Role.ADMIN)


JUDGEMENTS = (SignalStatus.CHECKED_OK, SignalStatus.NEEDS_FIX, SignalStatus.OPEN)


def judgement(text: str) -> SignalStatus:
    """A judgement as a form or the API gives it; ValidationFailed naming the choices."""
    try:
        return SignalStatus(text)
    except ValueError:
        choices = "、".join(f"{s.value}（{s.label}）" for s in JUDGEMENTS)
        raise ValidationFailed([("status", f"「核实结果」应为{choices}之一")]) from None


def review(
    session: Session, signal: QualitySignal, status: SignalStatus, note: str, user: Actor
) -> QualitySignal:
    """Mark a signal 已核实无误 or 需整改 (or open again) with a note, recorded with who, when,
    before and after. A judgement needs a note saying what was checked."""
    note = (note or "").strip()
    if status != SignalStatus.OPEN and not note:
        raise ValidationFailed([("note", "请填写核实说明（核实了什么、结论依据）")])
    before = {"status": signal.status.value, "note": signal.note}
    claim(
        session,
        signal,
        or_(QualitySignal.status != status, QualitySignal.note != note),
        "该线索已是这一核实结果，未重复记录",
    )
    signal.status = status
    signal.note = note
    signal.reviewed_by_id = getattr(user, "id", None)
    signal.reviewed_at = now()
    session.flush()
    audit.record(
        session,
        user=user,
        action="quality_signal.review",
        obj_type="quality_signal",
        obj_id=signal.id,
        before=before,
        after={"status": status.value, "note": note},
    )
    return signal


# ---- what the pages, the API and the bulletin read ------------------------------------------


def _scoped(stmt: Any, unit_ids: list[int] | None) -> Any:
    return stmt if unit_ids is None else stmt.where(QualitySignal.unit_id.in_(unit_ids))


def open_counts(
    session: Session, campaign: Campaign, unit_ids: list[int] | None = None
) -> dict[int, int]:
    """unit id -> its open (待核实) signals found by the last detection (index only)."""
    stmt = (
        select(QualitySignal.unit_id, func.count())
        .where(
            QualitySignal.campaign_id == campaign.id,
            QualitySignal.active,
            QualitySignal.status == SignalStatus.OPEN,
        )
        .group_by(QualitySignal.unit_id)
    )
    return dict(session.execute(_scoped(stmt, unit_ids)).tuples().all())


def counts(
    session: Session, campaign: Campaign, unit_ids: list[int] | None = None
) -> dict[tuple[int, str, str], int]:
    """(unit id, code, status) -> active signals."""
    stmt = (
        select(QualitySignal.unit_id, QualitySignal.code, QualitySignal.status, func.count())
        .where(QualitySignal.campaign_id == campaign.id, QualitySignal.active)
        .group_by(QualitySignal.unit_id, QualitySignal.code, QualitySignal.status)
    )
    return {(u, c, s): n for u, c, s, n in session.execute(_scoped(stmt, unit_ids))}


@dataclass(frozen=True)
class Tallies:
    """Active signals by unit and by kind, each by status: unit id / code -> status -> n."""

    by_unit: dict[int, dict[str, int]]
    by_code: dict[str, dict[str, int]]


def tallies(session: Session, campaign: Campaign, unit_ids: list[int] | None = None) -> Tallies:
    """The 数据质量 page's counts: by unit and by kind, open and judged."""
    by_unit: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_code: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (unit_id, code, status), n in counts(session, campaign, unit_ids).items():
        by_unit[unit_id][str(status)] += n
        by_code[str(code)][str(status)] += n
    return Tallies(dict(by_unit), dict(by_code))


def list_signals(
    session: Session,
    campaign: Campaign,
    unit_ids: list[int] | None = None,
    *,
    code: SignalCode | None = None,
    status: SignalStatus | None = None,
    active: bool = True,
    limit: int | None = None,
) -> list[QualitySignal]:
    """Stored signals, by unit order then kind."""
    stmt = (
        select(QualitySignal)
        .join(Unit, Unit.id == QualitySignal.unit_id)
        .where(QualitySignal.campaign_id == campaign.id, QualitySignal.active.is_(active))
        .order_by(Unit.position, Unit.id, QualitySignal.code, QualitySignal.id)
    )
    if code is not None:
        stmt = stmt.where(QualitySignal.code == code)
    if status is not None:
        stmt = stmt.where(QualitySignal.status == status)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(_scoped(stmt, unit_ids)))


def bulletin_section(session: Session, campaign: Campaign) -> dict[str, Any]:
    """The bulletin's 数据质量提示: per unit, its active signals open and to be fixed, by kind
    (counts, never names of rows), and when they were computed."""
    run = last_run(session, campaign)
    per_unit: dict[int, dict[str, Any]] = {}
    for (unit_id, code, status), n in counts(session, campaign).items():
        entry = per_unit.setdefault(unit_id, {"open": 0, "needs_fix": 0, "kinds": {}})
        if status == SignalStatus.OPEN:
            entry["open"] += n
        elif status == SignalStatus.NEEDS_FIX:
            entry["needs_fix"] += n
        else:
            continue
        entry["kinds"][code] = entry["kinds"].get(code, 0) + n
    units = session.execute(
        select(Unit.id, Unit.code, Unit.name)
        .where(Unit.id.in_(per_unit))
        .order_by(Unit.position, Unit.id)
    ).all()
    rows = [
        {
            "code": u.code,
            "name": u.name,
            "open": per_unit[u.id]["open"],
            "needs_fix": per_unit[u.id]["needs_fix"],
            "kinds": "、".join(
                f"{SignalCode(c).label}{n}条" for c, n in sorted(per_unit[u.id]["kinds"].items())
            ),
        }
        for u in units
        if per_unit[u.id]["open"] or per_unit[u.id]["needs_fix"]
    ]
    return {
        "computed_at": run.computed_at.astimezone(ZoneInfo(campaign.timezone)).isoformat(
            timespec="minutes"
        )
        if run
        else None,
        "units": rows,
        "open": sum(r["open"] for r in rows),
        "needs_fix": sum(r["needs_fix"] for r in rows),
    }


def detail_rows(session: Session, campaign: Campaign) -> Iterator[tuple[Any, ...]]:
    """The attachment's 数据质量线索 sheet: one row per row named by an active signal not
    judged 已核实无误: 单位, 线索代码, 线索, 状态, 组织名称, 统一社会信用代码, 情况, 说明."""
    signals = [s for s in list_signals(session, campaign) if s.status != SignalStatus.CHECKED_OK]
    for s in signals:
        for r in s.rows:
            yield (
                s.unit.name,
                s.code.value if hasattr(s.code, "value") else str(s.code),
                s.reason,
                s.status_label,
                r["name"],
                r["credit_code"],
                r["detail"],
            )
