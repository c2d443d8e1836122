"""Ledger writes: organizations with the rules' verdict stored on each row."""

import io
from collections.abc import Callable
from datetime import date
from types import SimpleNamespace
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import RowMapping, func, or_, select, update
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from campaign import audit, figures, rules, rulesets
from campaign.core import events
from campaign.core.campaigns import RULE_SETTINGS
from campaign.core.clock import now, today
from campaign.core.db import Session, claim, serialize
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Campaign, Unit, User
from campaign.core.paging import page_of
from campaign.core.text import cleaned_for
from campaign.core.vocab import (
    EXCLUDED_STATUSES,
    EXITS,
    OperatingStatus,
    OrgKind,
    canonical_tags,
    primary_tag,
)
from campaign.ledger import excel
from campaign.ledger.fields import label
from campaign.ledger.inputs import NOT_EXCLUDED, exits_text
from campaign.ledger.models import (
    ChangeAction,
    ChangeRequest,
    ChangeStatus,
    ExclusionProposal,
    LedgerConflict,
    LedgerStatus,
    Organization,
    ProposalState,
    UnitLedger,
)

# The columns the change record keeps for an organization: the ledger file's, where it sits,
# and who took it out of the base and why.
LEDGER_FIELDS = [
    *excel.LEDGER_FIELDS,
    "unit_id",
    "area_id",
    "exclusion_note",
    "exclusion_decided_by_id",
]
_RULE_INPUTS = [
    Organization.id,
    Organization.kind,
    Organization.tags,
    Organization.operating_status,
    Organization.registration_level,
    Organization.employees,
    Organization.formal_members,
    Organization.probationary_members,
    Organization.party_org_status,
    Organization.instructor,
    Organization.mass_organizations,
]


def apply_rules(org: Any, rule_set: rules.RuleSet) -> dict:
    """The stored verdict columns (in_base, target, path, rule_codes, coverage_means) for
    ``org`` (row or dict)."""
    req = rules.evaluate(SimpleNamespace(**org) if isinstance(org, dict) else org, rule_set)
    return {
        "in_base": req.in_base,
        "target": req.target.value,
        "path": req.path.value,
        "rule_codes": req.rule_codes,
        "coverage_means": req.means,
    }


def add_organization(
    session: Session, campaign: Campaign, data: dict, user, source: str = "台账填报"
) -> Organization:
    """A new ledger row, judged by the rules and recorded. Its categories are ``tags`` (a
    single ``category`` given is its one tag)."""
    if "tags" not in data and "category" in data:
        data = {**data, "tags": [data["category"]]}
    data = {k: v for k, v in data.items() if k != "category"}  # the tags' first
    org = Organization(campaign_id=campaign.id, kind=data.pop("kind"), **data)
    for key, value in apply_rules(org, rulesets.rule_set_of(campaign)).items():
        setattr(org, key, value)
    if not org.in_base:
        note_exclusion(org, source, user)
    session.add(org)
    session.flush()
    audit.record(
        session,
        user=user,
        action="organization.create",
        obj_type="organization",
        obj_id=org.id,
        after=audit.snapshot(org, LEDGER_FIELDS),
    )
    return org


def reevaluate_campaign(session: Session, campaign: Campaign, batch: int = 5000) -> int:
    """Re-judge every organization after a threshold changed; returns rows whose verdict moved."""
    rule_set = rulesets.rule_set_of(campaign)
    stmt = select(
        *_RULE_INPUTS,
        Organization.in_base,
        Organization.target,
        Organization.path,
        Organization.rule_codes,
        Organization.coverage_means,
    ).where(Organization.campaign_id == campaign.id)
    # Read everything first: a streaming cursor and updates must not share the connection.
    pending = []
    for row in session.execute(stmt).yield_per(batch):
        verdict = apply_rules(row, rule_set)
        if any(getattr(row, k) != v for k, v in verdict.items()):
            pending.append({"id": row.id, **verdict})
    for start in range(0, len(pending), batch):
        session.execute(update(Organization), pending[start : start + batch])
    # The thresholds are in the counts themselves (figures._sums), so recount even if no
    # verdict moved.
    figures.stale(session, campaign)
    return len(pending)


def list_organizations(
    session: Session,
    campaign: Campaign,
    unit_id: int,
    q: str = "",
    page: int = 1,
    per_page: int = 50,
) -> Pagination:
    """One page of a unit's ledger, searched by name or credit code, with the total count."""
    stmt = select(Organization).where(
        Organization.campaign_id == campaign.id, Organization.unit_id == unit_id
    )
    if q:
        stmt = stmt.where(or_(Organization.name.contains(q), Organization.credit_code.contains(q)))
    stmt = stmt.options(joinedload(Organization.area)).order_by(Organization.id)
    return page_of(session, stmt, page, per_page)


# ---- review: draft → submitted → approved (the base) or returned -------------


def unit_ledger(session: Session, campaign: Campaign, unit) -> UnitLedger:
    """The unit's ledger state in the campaign, created as a draft on first use."""
    ledger = session.scalar(
        select(UnitLedger).where(
            UnitLedger.campaign_id == campaign.id, UnitLedger.unit_id == unit.id
        )
    )
    if ledger is None:
        # Two first visits at once: one creates it, the other finds it (no IntegrityError).
        inserts: dict[str, Callable[[type[UnitLedger]], PgInsert | SqliteInsert]]
        inserts = {"postgresql": pg_insert, "sqlite": sqlite_insert}
        insert = inserts[session.get_bind().dialect.name]
        session.execute(
            insert(UnitLedger)
            .values(campaign_id=campaign.id, unit_id=unit.id, status=LedgerStatus.DRAFT)
            .on_conflict_do_nothing(index_elements=["campaign_id", "unit_id"])
        )
        ledger = session.scalar(
            select(UnitLedger).where(
                UnitLedger.campaign_id == campaign.id, UnitLedger.unit_id == unit.id
            )
        )
        assert ledger is not None  # inserted now, or by the other first visit
    return ledger


def _move(
    session,
    ledger: UnitLedger,
    allowed: tuple,
    to: LedgerStatus,
    user,
    message: str,
    comment: str = "",
) -> UnitLedger:
    before = {"status": ledger.status}
    # The first of two submissions (or two reviewers) moves it; the other is told where it is.
    claim(
        session,
        ledger,
        UnitLedger.status.in_(allowed),
        lambda: message.format(status=ledger.status_label),
        status=to,
    )
    stamp = now()
    if to == LedgerStatus.SUBMITTED:
        ledger.submitted_at, ledger.submitted_by_id = stamp, getattr(user, "id", None)
    else:
        ledger.reviewed_at, ledger.reviewed_by_id = stamp, getattr(user, "id", None)
        ledger.review_comment = comment
    audit.record(
        session,
        user=user,
        action=f"ledger.{to.value}",
        obj_type="unit_ledger",
        obj_id=ledger.id,
        before=before,
        after={"status": to.value, "comment": comment},
    )
    session.flush()
    moved = {
        LedgerStatus.SUBMITTED: events.LedgerSubmitted,
        LedgerStatus.APPROVED: events.LedgerApproved,
        LedgerStatus.RETURNED: events.LedgerReturned,
    }[to]
    events.publish(session, moved(ledger, comment, user=user))
    return ledger


def submit_ledger(session: Session, ledger: UnitLedger, user) -> UnitLedger:
    """The unit sends its ledger for review; it is locked until returned."""
    count = session.scalar(
        select(func.count())
        .select_from(Organization)
        .where(
            Organization.campaign_id == ledger.campaign_id, Organization.unit_id == ledger.unit_id
        )
    )
    if not count:
        raise ValidationFailed([("status", "台账为空，请先导入台账再报送审核")])
    return _move(
        session,
        ledger,
        (LedgerStatus.DRAFT, LedgerStatus.RETURNED),
        LedgerStatus.SUBMITTED,
        user,
        "台账当前为“{status}”，不能报送审核",
    )


def approve_ledger(session: Session, ledger: UnitLedger, user, comment: str = "") -> UnitLedger:
    """A coordinator approves: the ledger becomes the unit's base (党建基数), and every
    organization not yet where the rules say goes on the wall chart."""
    return _move(
        session,
        ledger,
        (LedgerStatus.SUBMITTED,),
        LedgerStatus.APPROVED,
        user,
        "台账当前为“{status}”，只有待审核的台账可以审核通过",
        comment,
    )


def return_ledger(session: Session, ledger: UnitLedger, user, comment: str) -> UnitLedger:
    """A coordinator returns the ledger with comments; the unit corrects and resubmits."""
    if not comment.strip():
        raise ValidationFailed([("comment", "退回时必须填写退回意见")])
    return _move(
        session,
        ledger,
        (LedgerStatus.SUBMITTED,),
        LedgerStatus.RETURNED,
        user,
        "台账当前为“{status}”，只有待审核的台账可以退回",
        comment.strip(),
    )


# ---- change requests on an approved base ---------------------------------------

CHANGE_DECIDED = "该变更申请已由他人（或另一次提交）处理，未重复处理"


def decide_change(
    session: Session, request: ChangeRequest, accept: bool, user, comment: str = ""
) -> ChangeRequest:
    """Accept (apply to the base, recorded) or reject a change request."""
    if not accept and not comment.strip():
        raise ValidationFailed([("comment", "驳回时必须填写意见")])
    claim(
        session,
        request,
        ChangeRequest.status == ChangeStatus.PENDING,
        CHANGE_DECIDED,
        status=ChangeStatus.ACCEPTED if accept else ChangeStatus.REJECTED,
        decided_by_id=getattr(user, "id", None),
        decided_at=now(),
        decision_comment=comment.strip(),
    )
    campaign = session.get_one(Campaign, request.campaign_id)
    if accept:
        values = request.payload
        data = ledger_values(values, area_ids(session, request.unit_id))
        # An enterprise the request marks 空壳/僵尸/影子 stays in the base, proposed to 工商
        # by whoever filed the request (as an import into a draft does, ``importing``).
        current = request.organization if request.organization_id else None
        held = _held_exit(data, current)
        if held is not None:
            kept = current.operating_status if current is not None else OperatingStatus.NORMAL
            data = {**data, "operating_status": kept}
        if request.action == ChangeAction.ADD:
            taken = session.scalar(
                select(Organization.id).where(
                    Organization.campaign_id == campaign.id,
                    Organization.credit_code == request.credit_code,
                )
            )
            if taken:
                raise ValidationFailed([("credit_code", f"{request.credit_code} 已在台账中")])
            org = add_organization(
                session,
                campaign,
                {**data, "unit_id": request.unit_id},
                user,
                source=f"采纳变更申请#{request.id}",
            )
            request.organization_id = org.id
        else:
            assert request.organization is not None  # a change to a row of the ledger
            update_organization(
                session,
                campaign,
                request.organization,
                data,
                user,
                source=f"采纳变更申请#{request.id}",
            )
        if held is not None:
            _propose_held(session, request, held)
    audit.record(
        session,
        user=user,
        action=f"change_request.{request.status}",
        obj_type="change_request",
        obj_id=request.id,
        after={"credit_code": request.credit_code, "comment": request.decision_comment},
    )
    session.flush()
    events.publish(session, events.ChangeRequestDecided(request, accept, user=user))
    return request


def _held_exit(data: dict, org: Organization | None) -> str | None:
    """The 空壳/僵尸/影子 status ``data`` gives an enterprise not yet out of the base: held
    back for 工商 to confirm (None: nothing held)."""
    status = data.get("operating_status")
    if data.get("kind") != OrgKind.ENTERPRISE or status not in EXITS[OrgKind.ENTERPRISE]:
        return None
    if org is not None and org.operating_status in EXCLUDED_STATUSES:
        return None
    return status


def _propose_held(session: Session, request: ChangeRequest, status: str) -> None:
    """File the exclusion an accepted change request asked for, in its filer's name, unless
    one is already waiting for 工商."""
    org = session.get_one(Organization, request.organization_id)
    if pending_proposal(session, org) is not None:
        return
    filer = session.get(User, request.requested_by_id) if request.requested_by_id else None
    label = OperatingStatus(status).label
    reason = f"变更申请#{request.id}：经营状态为“{label}”"
    propose_exclusion(session, org, OperatingStatus(status), reason, filer)


def _as_filed(org: Organization, field: str) -> Any:
    """An organization's ``field`` as a ledger file (and so a change request) carries it."""
    if field == "area_name":
        return org.area.name if org.area else ""
    value = getattr(org, field)
    return value.isoformat() if isinstance(value, date) else value


def proposed_changes(request: ChangeRequest) -> dict[str, list[Any]]:
    """What accepting ``request`` changes, field by field ({field: [as the ledger has it now,
    as proposed]}): the difference the operator saw in his import's preview, while the row
    has not changed since. An addition: every field it fills, from nothing."""
    values = request.payload
    org = request.organization
    if request.action == ChangeAction.ADD or org is None:
        return {f: [None, v] for f, v in values.items() if v not in (None, "")}
    now = {f: _as_filed(org, f) for f in values}
    return {f: [now[f], v] for f, v in values.items() if now[f] != v}


def note_exclusion(org, source: str, user) -> None:
    """Record on ``org`` that it left the base because of its 经营状态, and through what."""
    label = OperatingStatus(org.operating_status).label
    org.exclusion_note = f"{source}：经营状态为“{label}”"
    org.exclusion_decided_by_id = getattr(user, "id", None)
    org.exclusion_decided_at = now()


def update_organization(
    session: Session,
    campaign: Campaign,
    org: Organization,
    data: dict,
    user,
    action: str = "organization.update",
    source: str = "台账变更",
) -> dict:
    """Change ledger fields of one organization, re-judge it, record before and after."""
    # Recorded even when nothing changed: an exclusion, a closure, an accepted change request
    # is an act on the row of its own.
    with audit.recorded_change(
        session, org, LEDGER_FIELDS, user=user, action=action, record_unchanged=True
    ) as change:
        was_in_base = org.in_base
        for key, value in data.items():
            setattr(org, key, value)
        for key, value in apply_rules(org, rulesets.rule_set_of(campaign)).items():
            setattr(org, key, value)
        if was_in_base and not org.in_base and "exclusion_note" not in data:
            # Never out of the base silently: say why and who (DOMAIN.md §5).
            note_exclusion(org, source, user)
    session.flush()
    if change.after:
        events.publish(session, events.OrganizationChanged(org, change.after, source, user=user))
    return change.after


# ---- seed 004 phases 5 and 6 on one organization (its page's form) ----------------------

PHASES_LOCKED = "台账已报送审核，审核期间不能修改；如需修改，请市级专班退回后再修改"
PHASES_UNCHANGED = "没有修改任何内容"


def record_phases(
    session: Session, campaign: Campaign, org: Organization, values: dict, user
) -> ChangeAction | ChangeRequest:
    """Record an organization's 隶属关系, 理顺 and 第一书记/指导员 (``excel.PHASE_FIELDS``) as its
    ledger is edited: on a draft or returned ledger the row changes (recorded); on the
    approved base a change request is filed, as an import of the row would file it; while
    the ledger awaits review nothing changes. Checked as the 附表's columns are."""
    values = {f: values[f] for f in excel.PHASE_FIELDS}
    for key in ("liaison_name", "liaison_unit"):
        # As the 附表 reads a cell, and as it will be stored (a change request is written now).
        typed = cleaned_for(getattr(Organization, key), str(values[key] or ""))
        values[key] = " ".join(typed.split())
    row = {**values, "party_org_status": org.party_org_status}
    problems = excel.phase_problems(row, today(campaign.timezone))
    if problems:
        raise ValidationFailed([(f, f"「{label(f)}」{message}") for f, message in problems])
    now_filed = {f: _as_filed(org, f) for f in excel.PHASE_FIELDS}
    filed = {f: v.isoformat() if isinstance(v, date) else v for f, v in values.items()}
    if all(now_filed[f] == filed[f] for f in filed):
        raise ValidationFailed([("affiliation", PHASES_UNCHANGED)])
    ledger = unit_ledger(session, campaign, org.unit)
    if ledger.status == LedgerStatus.SUBMITTED:
        raise ValidationFailed([("affiliation", PHASES_LOCKED)])
    if ledger.is_editable:
        update_organization(session, campaign, org, values, user, source="组织页面修改")
        return ChangeAction.UPDATE
    payload = {f: _as_filed(org, f) for f in (*excel.LEDGER_FIELDS, "area_name")}
    request = ChangeRequest(
        campaign_id=campaign.id,
        unit_id=org.unit_id,
        organization_id=org.id,
        action=ChangeAction.UPDATE,
        credit_code=org.credit_code,
        payload={**payload, **filed},
        reason="组织页面修改隶属关系、选派情况",
        requested_by_id=getattr(user, "id", None),
    )
    session.add(request)
    session.flush()
    return request


# ---- exclusions (空壳/僵尸/影子 enterprises; 注销/撤销登记/长期停止活动 social orgs) -------


def _exit_problems(org: Organization, status: OperatingStatus | None, reason: str) -> None:
    """Refuse an exit that is none, or not one of the organization's kind, or has no reason."""
    if status not in EXCLUDED_STATUSES:
        raise ValidationFailed([("status", NOT_EXCLUDED)])
    exits = EXITS[org.kind]
    if status not in exits:
        kind = OrgKind(org.kind).label
        raise ValidationFailed(
            [
                (
                    "status",
                    f"「剔除类型」：{kind}不能按“{OperatingStatus(status).label}”剔除"
                    f"（可选：{exits_text(org.kind)}）",
                )
            ]
        )
    if not reason.strip():
        raise ValidationFailed([("reason", "剔除时必须填写理由（如工商、民政部门核实情况）")])


def exclude_organization(
    session: Session, org: Organization, status: OperatingStatus | None, reason: str, user
) -> Organization:
    """Take an organization out of the base with a status of its kind (vocab.EXITS: 空壳/
    僵尸/影子 enterprises, 注销/撤销登记/长期停止活动 social organizations), with the reason
    and who decided. For an enterprise this is 工商's confirmation (``confirm_exclusion``)."""
    _exit_problems(org, status, reason)
    assert status is not None  # refused above
    label = OperatingStatus(status).label
    what = f"{label}企业" if org.kind == OrgKind.ENTERPRISE else f"“{label}”的社会组织"
    # Of two submissions the first excludes; the second finds it done.
    claim(
        session,
        org,
        Organization.operating_status != status,
        f"该组织已作为{what}剔除出党建基数，未重复剔除",
    )
    return _set_exclusion(session, org, status, reason, user, "organization.exclude")


# A district proposes, 工商 confirms (seed 004: 工商部门负责……剔除有名无实的“空壳”企业、久不
# 运转的“僵尸”企业、多重注册的“影子”企业): the enterprise stays in the base until then.


def propose_exclusion(
    session: Session, org: Organization, status: OperatingStatus | None, reason: str, user
) -> ExclusionProposal:
    """A proposal to take the enterprise ``org`` out of the base as 空壳, 僵尸 or 影子; it stays
    in the base until 工商 confirms. One proposal waits at a time for an enterprise."""
    _exit_problems(org, status, reason)
    assert status is not None  # refused above
    serialize(session, ExclusionProposal.__table__, org.id)
    session.refresh(org)
    if not org.in_base:
        raise Conflict(f"“{org.name}”已不在党建基数内，无需再提请剔除")
    if pending_proposal(session, org) is not None:
        raise Conflict(f"“{org.name}”的剔除申请正等待工商部门确认，未重复提请")
    proposal = ExclusionProposal(
        campaign_id=org.campaign_id,
        organization_id=org.id,
        unit_id=org.unit_id,
        status=status,
        reason=cleaned_for(ExclusionProposal.__table__.c.reason, reason.strip(), "reason"),
        proposed_by_id=getattr(user, "id", None),
        proposed_at=now(),
    )
    session.add(proposal)
    session.flush()
    audit.record(
        session,
        user=user,
        action="organization.exclusion_proposed",
        obj_type="organization",
        obj_id=org.id,
        after={"proposed_status": str(status), "reason": proposal.reason},
    )
    return proposal


def pending_proposal(session: Session, org: Organization) -> ExclusionProposal | None:
    return session.scalar(
        select(ExclusionProposal).where(
            ExclusionProposal.organization_id == org.id,
            ExclusionProposal.state == ProposalState.PENDING,
        )
    )


def _decide_proposal(
    session: Session, proposal: ExclusionProposal, state: ProposalState, note: str, user
) -> None:
    claim(
        session,
        proposal,
        ExclusionProposal.state == ProposalState.PENDING,
        lambda: (
            f"该剔除申请已{'确认' if proposal.state == ProposalState.CONFIRMED else '退回'}，"
            "未重复处理"
        ),
    )
    proposal.state = state
    proposal.decided_by_id = getattr(user, "id", None)
    proposal.decided_at = now()
    proposal.decision_note = note
    session.flush()


def confirm_exclusion(
    session: Session, proposal: ExclusionProposal, note: str, user
) -> ExclusionProposal:
    """工商 confirms: the enterprise leaves the base, the reason saying who proposed it and
    who confirmed it."""
    note = cleaned_for(ExclusionProposal.__table__.c.decision_note, note.strip(), "note")
    _decide_proposal(session, proposal, ProposalState.CONFIRMED, note, user)
    org = proposal.organization
    unit = getattr(getattr(user, "unit", None), "name", "工商部门")
    reason = (
        f"{proposal.reason}（{proposal.unit.name}提请，{unit}确认{'：' + note if note else ''}）"
    )
    exclude_organization(session, org, proposal.status, reason[:1000], user)
    audit.record(
        session,
        user=user,
        action="organization.exclusion_confirmed",
        obj_type="organization",
        obj_id=org.id,
        after={"proposed_status": str(proposal.status), "decision_note": note},
    )
    return proposal


def reject_exclusion(
    session: Session, proposal: ExclusionProposal, note: str, user
) -> ExclusionProposal:
    """工商 does not confirm (its reason required): the enterprise stays in the base."""
    note = cleaned_for(ExclusionProposal.__table__.c.decision_note, note.strip(), "note")
    if not note:
        raise ValidationFailed([("note", "「意见」不能为空：请写明不予确认的理由")])
    _decide_proposal(session, proposal, ProposalState.REJECTED, note, user)
    audit.record(
        session,
        user=user,
        action="organization.exclusion_rejected",
        obj_type="organization",
        obj_id=proposal.organization_id,
        after={"proposed_status": str(proposal.status), "decision_note": note},
    )
    return proposal


def pending_ids(session: Session, campaign: Campaign, unit_ids: list[int]) -> set[int]:
    """The organizations of these units with a proposal waiting for 工商."""
    return set(
        session.scalars(
            select(ExclusionProposal.organization_id).where(
                ExclusionProposal.campaign_id == campaign.id,
                ExclusionProposal.unit_id.in_(unit_ids),
                ExclusionProposal.state == ProposalState.PENDING,
            )
        )
    )


def exclusion_proposals(
    session: Session, campaign: Campaign, unit_ids: list[int] | None, limit: int = 200
) -> list[ExclusionProposal]:
    """The proposals waiting for 工商, then the latest decided, of the units given (None: all)."""
    stmt = (
        select(ExclusionProposal)
        .where(ExclusionProposal.campaign_id == campaign.id)
        .options(
            joinedload(ExclusionProposal.organization),
            joinedload(ExclusionProposal.unit),
            joinedload(ExclusionProposal.proposed_by),
            joinedload(ExclusionProposal.decided_by),
        )
        .order_by(ExclusionProposal.state != ProposalState.PENDING, ExclusionProposal.id.desc())
        .limit(limit)
    )
    if unit_ids is not None:
        stmt = stmt.where(ExclusionProposal.unit_id.in_(unit_ids))
    return list(session.scalars(stmt))


def restore_organization(session: Session, org: Organization, reason: str, user) -> Organization:
    """Put an excluded organization back into the base (经营状态 back to 正常)."""
    if not reason.strip():
        raise ValidationFailed([("reason", "恢复时必须填写理由")])
    claim(session, org, Organization.in_base.is_(False), "该组织未被剔除")
    return _set_exclusion(
        session, org, OperatingStatus.NORMAL, reason, user, "organization.restore"
    )


def _set_exclusion(session, org, status, reason, user, action) -> Organization:
    campaign = session.get_one(Campaign, org.campaign_id)
    data = {
        "operating_status": status,
        "exclusion_note": reason.strip(),
        "exclusion_decided_by_id": getattr(user, "id", None),
        "exclusion_decided_at": now(),
    }
    update_organization(session, campaign, org, data, user, action)
    return org


def exclusions(
    session: Session,
    campaign: Campaign,
    unit_ids: list[int] | None,
    page: int = 1,
    per_page: int = 50,
) -> Pagination:
    """One page of the organizations out of the base, with why, who decided and when, and
    how many there are in all."""
    stmt = (
        select(Organization)
        .where(Organization.campaign_id == campaign.id, Organization.in_base.is_(False))
        .options(joinedload(Organization.unit), joinedload(Organization.exclusion_decided_by))
        .order_by(Organization.unit_id, Organization.name, Organization.id)
    )
    if unit_ids is not None:
        stmt = stmt.where(Organization.unit_id.in_(unit_ids))
    return page_of(session, stmt, page, per_page)


# ---- ledger rows as files carry them ------------------------------------------------


def conflicts(session: Session, campaign: Campaign, unit: Unit, limit: int = 50) -> list:
    """The unit's credit-code conflicts, newest first, each with the name this unit's own
    records give it: the holder's ledger row, or the name in the claimant's refused file.
    Neither unit reads the other's text (an import must not put words on another's page)."""
    rows = session.scalars(
        select(LedgerConflict)
        .options(joinedload(LedgerConflict.holder_unit), joinedload(LedgerConflict.claimant_unit))
        .where(
            LedgerConflict.campaign_id == campaign.id,
            or_(
                LedgerConflict.holder_unit_id == unit.id, LedgerConflict.claimant_unit_id == unit.id
            ),
        )
        .order_by(LedgerConflict.id.desc())
        .limit(limit)
    ).all()
    held = [c.credit_code for c in rows if c.holder_unit_id == unit.id]
    names: dict[str, str] = (
        dict(
            session.execute(
                select(Organization.credit_code, Organization.name).where(
                    Organization.campaign_id == campaign.id,
                    Organization.unit_id == unit.id,
                    Organization.credit_code.in_(held),
                )
            )
            .tuples()
            .all()
        )
        if held
        else {}
    )
    return [
        SimpleNamespace(
            conflict=c,
            name=c.name if c.claimant_unit_id == unit.id else names.get(c.credit_code, ""),
        )
        for c in rows
    ]


def area_ids(session: Session, unit_id: int) -> dict[str, int]:
    """The unit's streets/towns/parks: name -> id (files name them, rows keep the id)."""
    return dict(
        session.execute(select(Unit.name, Unit.id).where(Unit.parent_id == unit_id)).tuples().all()
    )


def area_names(session: Session, unit_ids: list[int] | None) -> list[str]:
    """Street/park names below ``unit_ids`` (every responsible unit's when None), for dropdowns."""
    parents = unit_ids if unit_ids is not None else select(Unit.id).where(Unit.is_responsible)
    return list(session.scalars(select(Unit.name).where(Unit.parent_id.in_(parents))))


def ledger_values(values: dict, areas: dict[str, int]) -> dict:
    """A checked file row (as stored in a preview or change request) as Organization fields."""
    data = {k: v for k, v in values.items() if k != "area_name"}
    for key in excel.DATE_FIELDS:
        if isinstance(data.get(key), str):
            data[key] = date.fromisoformat(data[key])
    data["area_id"] = areas.get(values.get("area_name") or "")
    if not data.get("tags") and data.get("category"):
        # Stored before categories were tags (a change request filed then): its one category.
        data["tags"] = [data["category"]]
    if "tags" in data:
        data["tags"] = canonical_tags(data["kind"], data["tags"])
        data["category"] = primary_tag(data["tags"])
    return data


# ---- export -------------------------------------------------------------------


def export_rows(
    session: Session, campaign: Campaign, unit_ids: list[int] | None
) -> dict[OrgKind, list[RowMapping]]:
    """Ledger rows by kind, as the Excel columns want them (streams, for large exports)."""
    area = Unit.__table__.alias("area")
    columns = [getattr(Organization, f) for f in excel.LEDGER_FIELDS]
    stmt = (
        select(area.c.name.label("area_name"), *columns)
        .outerjoin(area, area.c.id == Organization.area_id)
        .where(Organization.campaign_id == campaign.id)
        .order_by(Organization.unit_id, Organization.id)
    )
    if unit_ids is not None:
        stmt = stmt.where(Organization.unit_id.in_(unit_ids))
    rows: dict[OrgKind, list[RowMapping]] = {OrgKind.ENTERPRISE: [], OrgKind.SOCIAL: []}
    for row in session.execute(stmt):
        rows[OrgKind(row.kind)].append(row._mapping)
    return rows


def export_workbook(
    session: Session,
    campaign: Campaign,
    unit_ids: list[int] | None,
    *,
    blank: bool = False,
    heading: str = "",
) -> tuple[bytes, int]:
    """The ledger of ``unit_ids`` (the city's when None) as 附表1/附表2 xlsx bytes, and its row
    count; ``blank`` gives the unit's empty template with the same dropdowns. ``heading`` is
    printed atop every page (填报单位/填报人/日期: ``filing_line``)."""
    rows = {} if blank else export_rows(session, campaign, unit_ids)
    buffer = io.BytesIO()
    count = excel.write_workbook(rows, area_names(session, unit_ids), buffer, heading)
    return buffer.getvalue(), count


def filing_line(unit_name: str, person: str = "", on: date | None = None) -> str:
    """The line a printed ledger carries: 填报单位：江岸区　填报人：张三　日期：2026年11月22日
    (blanks to fill in by hand where not known, as on a blank template)."""
    day = f"{on.year}年{on.month}月{on.day}日" if on else "______年____月____日"
    return f"填报单位：{unit_name}　　填报人：{person or '__________'}　　日期：{day}"


def export_name(campaign: Campaign, unit_name: str, *, blank: bool = False) -> str:
    """What an exported ledger is called, as units name their files: 台账-江岸区-2026.xlsx."""
    return f"台账模板-{unit_name}.xlsx" if blank else f"台账-{unit_name}-{campaign.year}.xlsx"


# ---- what the ledger does when other areas act ----------------------------------------


def rejudge_on_new_thresholds(session: Session, event: events.SettingsChanged) -> None:
    """A rule threshold changed: every organization is judged again."""
    if any(f in RULE_SETTINGS for f in event.changed):
        reevaluate_campaign(session, event.campaign)
    elif "starts_on" in event.changed:
        # The tally counts the Party orgs founded since the campaign began (理顺率's and
        # 新建党组织选派率's new Party orgs, figures.PhaseCounts).
        figures.stale(session, event.campaign)


def rejudge_on_new_rules(session: Session, event: events.RulesChanged) -> None:
    """The campaign's rule set changed: every organization is judged again."""
    reevaluate_campaign(session, event.campaign)


def write_closure_rows(
    session: Session, event: events.ClosureVerified | events.ClosureRevoked
) -> None:
    """A verified closure writes its Party org (or work coverage) into the ledger rows it
    covers; a revoked one puts them back. Each change is recorded as the closure's."""
    closure = event.closure
    campaign = session.get_one(Campaign, closure.item.campaign_id)
    action = (
        "organization.closure"
        if isinstance(event, events.ClosureVerified)
        else "organization.closure_revoked"
    )
    for org_id, data in event.rows.items():
        org = session.get_one(Organization, org_id)
        update_organization(
            session, campaign, org, data, event.user, action=action, source=event.source
        )
