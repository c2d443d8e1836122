"""挂图作战 and 销号: items from the rules, plans, closures, verification, spot checks.

"组建一个销号一个": a closure counts in the figures only once verified, when it
writes the Party org into the ledger row (recorded); a failed spot check or the
look-back revokes it, which puts the ledger rows back exactly as they were and
returns the item to the board with the reason. Nothing is deleted.
"""

import random
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from campaign import audit, rules, rulesets, tally
from campaign.audit import AuditEntry
from campaign.board.inputs import CHECKLIST, ClosureClaim, Plan
from campaign.board.models import (
    ANY_OPEN,
    OPEN_STATES,
    BoardCounts,
    BoardItem,
    CheckKind,
    CheckResult,
    Closure,
    ClosureMethod,
    ClosureStatus,
    ItemNote,
    ItemState,
    SizeMode,
    SpotCheck,
    SpotCheckResult,
)
from campaign.core import events
from campaign.core.campaigns import RULE_SETTINGS
from campaign.core.clock import now, today
from campaign.core.db import Session, claim, serialize
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Campaign, Unit
from campaign.core.paging import page_of
from campaign.core.storage import store_upload
from campaign.core.text import cleaned_for
from campaign.core.vocab import JOINT_FORMS, PartyOrgStatus, Target
from campaign.core.vocab import Path as RulePath
from campaign.ledger.models import LedgerStatus, Organization, UnitLedger

PLAN_FIELDS = ["path", "joint_form", "measures", "planned_on", "responsible_person"]
PARTY_FIELDS = [
    "party_org_status",
    "party_org_name",
    "party_org_founded_on",
    "formal_members",
    "instructor",
    "mass_organizations",
]


# ---- items: which organizations are on the wall chart, and what follows them -----------


def sync_items(session: Session, campaign: Campaign, unit_ids: list[int] | None = None) -> int:
    """Put on the board every organization of the base that does not meet its target yet."""
    rule_set = rulesets.rule_set_of(campaign)
    have = select(BoardItem.organization_id).where(BoardItem.campaign_id == campaign.id)
    stmt = select(Organization).where(
        Organization.campaign_id == campaign.id,
        Organization.in_base,
        Organization.id.not_in(have),
    )
    if unit_ids is not None:
        stmt = stmt.where(Organization.unit_id.in_(unit_ids))
    created = 0
    for org in session.scalars(stmt).yield_per(2000):
        requirement = rules.evaluate(org, rule_set)
        if rules.meets(org, requirement):
            continue
        session.add(
            BoardItem(
                campaign_id=campaign.id,
                unit_id=org.unit_id,
                organization_id=org.id,
                kind=org.kind,
                target=requirement.target,
                path=requirement.path,
                measures=org.measures,
                planned_on=planned_by(org.planned_on, requirement.due_on),
                responsible_person=org.responsible_person,
            )
        )
        created += 1
    session.flush()
    return created


def planned_by(planned_on: date | None, due_on: date | None) -> date | None:
    """An item's planned date: the unit's plan, never later than the date by which the rules
    want its target reached (the rule's due date: the item is overdue after it)."""
    dates = [d for d in (planned_on, due_on) if d is not None]
    return min(dates) if dates else None


# What an item keeps of its organization, and so follows when the ledger row changes.
FOLLOWED = ("unit_id", "kind")


def follow_organization(session: Session, org: Organization, user, source: str) -> None:
    """Bring the organization's item in step with its ledger row (recorded): on the board of
    the unit whose ledger now holds it, with its kind."""
    item = session.scalar(
        select(BoardItem).where(
            BoardItem.campaign_id == org.campaign_id, BoardItem.organization_id == org.id
        )
    )
    if item is None:
        return
    with audit.recorded_change(
        session, item, FOLLOWED, user=user, action="item.follow", note={"source": source}
    ):
        for key in FOLLOWED:
            if getattr(item, key) != getattr(org, key):
                setattr(item, key, getattr(org, key))


RULES_CHANGED_MET = "规则修改后已达要求，无需再攻坚"
RULES_CHANGED_SHORT = "规则修改后须“{target}”，尚未达到"


def follow_new_rules(session: Session, event: events.RulesChanged) -> None:
    """The ledger was judged again under a new rule set: every item takes its organization's
    new target; an open item whose organization now meets it is closed,
    a closed one whose organization falls short of its new target is reopened, each recorded;
    the organizations now short without an item get one (in the units whose base is
    approved)."""
    follow_new_targets(session, event.campaign, event.user)


def follow_new_settings(session: Session, event: events.SettingsChanged) -> None:
    """A setting the rules name changed (应有党员的职工人数 and the like): the ledger was judged
    again, and the board follows exactly as after a change of the rule set."""
    if any(f in RULE_SETTINGS or f in rules.DUE_SETTINGS for f in event.changed):
        follow_new_targets(session, event.campaign, event.user)


def follow_new_targets(session: Session, campaign: Campaign, user) -> None:
    """Every item takes its organization's stored target (see ``follow_new_rules``); an open
    one planned later than the date its rules now want it done by (or not planned) is planned
    for that date."""
    rule_set = rulesets.rule_set_of(campaign)
    dated = any(r.due_on is not None for r in rule_set.active)
    stmt = (
        select(BoardItem, Organization)
        .join(Organization, Organization.id == BoardItem.organization_id)
        .where(BoardItem.campaign_id == campaign.id)
    )
    for item, org in session.execute(stmt).all():
        if not org.in_base:  # no rule takes an organization out of the base: exits do
            continue
        target = Target(org.target)
        met = rules.met(org, target)
        state = item.state
        if item.state in OPEN_STATES and met:
            state = ItemState.CLOSED
        elif item.state == ItemState.CLOSED and not met:
            state = ItemState.REOPENED
        planned_on = item.planned_on
        if dated and state in OPEN_STATES:
            planned_on = planned_by(planned_on, rules.evaluate(org, rule_set).due_on)
        if (item.target, item.state, item.planned_on) == (target, state, planned_on):
            continue
        with audit.recorded_change(
            session,
            item,
            ["target", "state", "last_reason", "planned_on"],
            user=user,
            action="item.rules",
        ):
            item.target = target
            item.planned_on = planned_on
            if state != item.state:
                item.state = state
                item.last_reason = (
                    RULES_CHANGED_MET if met else RULES_CHANGED_SHORT.format(target=target.label)
                )
    approved = select(UnitLedger.unit_id).where(
        UnitLedger.campaign_id == campaign.id, UnitLedger.status == LedgerStatus.APPROVED
    )
    sync_items(session, campaign, list(session.scalars(approved)))


def sync_on_approval(session: Session, event: events.LedgerApproved) -> None:
    """A unit's approved base: every organization not yet where the rules say is an item."""
    ledger = event.ledger
    sync_items(session, session.get_one(Campaign, ledger.campaign_id), [ledger.unit_id])


def sync_on_accepted_change(session: Session, event: events.ChangeRequestDecided) -> None:
    """An accepted change request can add an organization, or change what one must reach."""
    if event.accepted:
        request = event.request
        sync_items(session, session.get_one(Campaign, request.campaign_id), [request.unit_id])


def follow_changed_organization(session: Session, event: events.OrganizationChanged) -> None:
    """An organization moved to another unit's ledger or changed kind: its item follows."""
    if FOLLOWED & event.changed.keys():
        follow_organization(session, event.organization, event.user, event.source)


def update_plan(session: Session, item: BoardItem, plan: Plan, user) -> dict:
    """Change the item's plan (一企一策): path, joint form, measures, date, person responsible."""
    problems = plan.problems_of("path")
    path = plan.path if plan.path is not None or problems else item.path
    joint_form = plan.joint_form.strip()
    if path == RulePath.JOINT and joint_form and joint_form not in JOINT_FORMS:
        problems.append(("joint_form", f"「联合组建方式」应为：{'、'.join(JOINT_FORMS)}"))
    problems += plan.problems_of("planned_on")
    if plan.planned_on is not None:
        campaign = session.get_one(Campaign, item.campaign_id)
        rule_set = rulesets.rule_set_of(campaign)
        due_on = rules.evaluate(item.organization, rule_set).due_on
        if due_on is not None and plan.planned_on > due_on:
            problems.append(
                (
                    "planned_on",
                    f"「计划完成时间」（{plan.planned_on}）不能晚于规则要求的完成日期"
                    f"（{rules.due_words(due_on)}）",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    values = {
        "path": path,
        "joint_form": joint_form if path == RulePath.JOINT else "",
        "measures": plan.measures.strip(),
        "planned_on": plan.planned_on,
        "responsible_person": plan.responsible_person.strip(),
    }
    # The same plan saved again changes nothing and records nothing.
    with audit.recorded_change(session, item, PLAN_FIELDS, user=user, action="item.plan") as change:
        for key, value in values.items():
            setattr(item, key, value)
        if item.state == ItemState.TODO:
            item.state = ItemState.IN_PROGRESS
    session.flush()
    return change.after


def add_note(
    session: Session, item: BoardItem, text: str, user, on: date | None = None
) -> ItemNote:
    """A dated progress note."""
    text = cleaned_for(ItemNote.__table__.c.text, text.strip())
    if not text:
        raise ValidationFailed([("text", "进展情况不能为空")])
    noted_on = on or today()
    # Notes of an item one at a time: the same note posted twice (a double click) is kept once.
    serialize(session, ItemNote.__table__, item.id)
    if session.scalar(
        select(ItemNote.id).where(
            ItemNote.item_id == item.id,
            ItemNote.noted_on == noted_on,
            ItemNote.text == text,
        )
    ):
        raise Conflict(f"{noted_on}的这条进展已记录，未重复记录")
    note = ItemNote(
        item_id=item.id,
        noted_on=noted_on,
        text=text,
        user_id=getattr(user, "id", None),
    )
    session.add(note)
    if item.state == ItemState.TODO:
        item.state = ItemState.IN_PROGRESS
    session.flush()
    audit.record(
        session,
        user=user,
        action="item.note",
        obj_type="board_item",
        obj_id=item.id,
        after={"noted_on": note.noted_on, "text": note.text},
    )
    return note


# ---- closures -------------------------------------------------------------------------


def submit_closure(
    session: Session,
    item: BoardItem,
    claimed: ClosureClaim,
    document: tuple[str, bytes] | None,
    user,
    storage: Path,
) -> Closure:
    """A unit claims 销号 with its evidence; checked against the rules before it is filed."""
    campaign = session.get_one(Campaign, item.campaign_id)
    # The first of two submissions takes the item out of the open states; the other is told.
    claim(
        session,
        item,
        BoardItem.state.in_(OPEN_STATES),
        lambda: f"该组织当前为“{item.state_label}”，不能提交销号",
        state=ItemState.AWAITING,
    )
    method = claimed.method
    if method is None:
        raise ValidationFailed(claimed.problems_of("method") or [("method", "请选择组建方式")])
    problems = []
    # Not attached to the item until it is filed: a refused claim leaves nothing behind.
    closure = Closure(item_id=item.id, method=method, submitted_by_id=getattr(user, "id", None))
    if method == ClosureMethod.WORK_COVERAGE:
        closure.instructor = claimed.instructor.strip()
        closure.mass_organizations = claimed.mass_organizations.strip()
        if not closure.instructor and not closure.mass_organizations:
            problems.append(("instructor", "工作覆盖须填写党建工作指导员或群团组织"))
        if item.target in (Target.STANDALONE, Target.PARTY_ORG):
            problems.append(("method", "该组织按规则应建立党组织，工作覆盖不能销号"))
        org = item.organization
        if item.target == Target.MEMBER and org.formal_members + org.probationary_members == 0:
            problems.append(("method", "该组织按规则应有党员，尚无党员时工作覆盖不能销号"))
    else:
        closure.party_org_name = claimed.party_org_name.strip()
        closure.secretary = claimed.secretary.strip()
        if not closure.party_org_name:
            problems.append(("party_org_name", "「党组织名称」不能为空"))
        if not closure.secretary:
            problems.append(("secretary", "「书记（负责人）」不能为空"))
        members_given = "formal_members" not in claimed.invalid
        closure.formal_members = claimed.formal_members
        problems += claimed.problems_of("formal_members")
        established = closure.established_on = claimed.established_on
        if established is None:
            problems += claimed.problems_of("established_on") or [
                ("established_on", "「成立时间」不能为空")
            ]
        else:
            if established < campaign.starts_on:
                problems.append(
                    (
                        "established_on",
                        f"成立时间（{established}）早于本次行动开始（{campaign.starts_on}），不属于本次集中组建",
                    )
                )
            if established > today(campaign.timezone):
                problems.append(("established_on", f"成立时间（{established}）不能晚于今天"))
        needed = campaign.standalone_formal_members
        if method == ClosureMethod.STANDALONE and members_given and closure.formal_members < needed:
            problems.append(
                (
                    "formal_members",
                    f"单独组建须有{needed}名以上正式党员（填报{closure.formal_members}名）",
                )
            )
        if method == ClosureMethod.FUNCTIONAL:
            # Judged on the row as this closure would leave it (its formal members as stated).
            refusal = rules.functional_refusal(_as_written(closure, item.organization, True))
            if refusal:
                problems.append(("method", refusal))
        elif item.target == Target.STANDALONE and method != ClosureMethod.STANDALONE:
            problems.append(("method", f"该组织有{needed}名以上正式党员，按规定须单独组建"))
        elif method == ClosureMethod.JOINT and closure.formal_members >= needed:
            problems.append(
                ("method", f"正式党员达到{needed}名（{closure.formal_members}名）的，须单独组建")
            )
        if method == ClosureMethod.JOINT:
            closure.joint_form = claimed.joint_form.strip()
            if closure.joint_form not in JOINT_FORMS:
                problems.append(("joint_form", f"「联合组建方式」应为：{'、'.join(JOINT_FORMS)}"))
            covered = _covered(session, item, claimed.covered_codes, problems)
            closure.covered_org_ids = covered
    if not problems:
        # Whatever the method, the row as this closure leaves it meets what the board asks:
        # the figures then count the organization as met (rules.MET), never short.
        shortfall = _shortfall(closure, item)
        if shortfall:
            problems.append(("method", shortfall))
    if document is None:
        problems.append(("document", "请上传批复文件（PDF或图片）"))
    if problems:
        raise ValidationFailed(problems)
    assert document is not None  # its absence is a problem refused above
    stored = store_upload(
        session,
        storage,
        "closures",
        str(item.id),
        *document,
        field="document",
        label="批复文件",
        allowed={".pdf", ".jpg", ".jpeg", ".png"},
    )
    closure.document = stored
    closure.item = item
    session.add(closure)
    session.flush()
    audit.record(
        session,
        user=user,
        action="closure.submit",
        obj_type="board_item",
        obj_id=item.id,
        after={"closure": closure.id, **entered(closure), "document_sha256": stored.sha256},
    )
    events.publish(session, events.ClosureSubmitted(closure, user=user))
    return closure


# What a closure of each method states (and the change record keeps of it): only the fields
# that method asks for.
ENTERED_FIELDS: dict[ClosureMethod, tuple[str, ...]] = {
    ClosureMethod.WORK_COVERAGE: ("instructor", "mass_organizations"),
    ClosureMethod.STANDALONE: ("party_org_name", "established_on", "formal_members", "secretary"),
    ClosureMethod.JOINT: (
        "joint_form",
        "party_org_name",
        "established_on",
        "formal_members",
        "secretary",
        "covered_org_ids",
    ),
    ClosureMethod.FUNCTIONAL: (
        "party_org_name",
        "established_on",
        "formal_members",
        "secretary",
    ),
}


def closure_methods(
    item: BoardItem, campaign: Campaign
) -> tuple[list[ClosureMethod], ClosureMethod]:
    """The methods the rules leave ``item``'s closure, and the one they ask for (a closure
    form's default): only a standalone Party org (or a fitting 功能型 one) where there are
    enough formal members; no work coverage where a Party org is due; a joint Party org
    below the standalone threshold."""
    org = item.organization
    target = Target(item.target)
    coverage = target in (Target.MEMBER, Target.WORK_COVERAGE)
    allowed = [
        m
        for m in ClosureMethod
        if m == ClosureMethod.STANDALONE
        or (m == ClosureMethod.JOINT and target != Target.STANDALONE)
        or (m == ClosureMethod.FUNCTIONAL and rules.functional_refusal(org) is None)
        or (m == ClosureMethod.WORK_COVERAGE and coverage)
    ]
    if coverage:
        default = ClosureMethod.WORK_COVERAGE
    elif target == Target.STANDALONE or org.formal_members >= campaign.standalone_formal_members:
        default = ClosureMethod.STANDALONE
    else:
        default = ClosureMethod.JOINT
    return allowed, default


def entered(closure: Closure) -> dict[str, Any]:
    """What the unit stated in ``closure``: its method, the fields of that method, the file."""
    return {
        "method": closure.method,
        **audit.snapshot(closure, list(ENTERED_FIELDS[ClosureMethod(closure.method)])),
        "document_name": closure.document_name,
    }


def _covered(
    session: Session, item: BoardItem, codes: tuple[str, ...], problems: list
) -> list[int]:
    """The other organizations (of the same unit) a joint Party org covers, by credit code.

    Not one that has a Party org already, nor one with enough formal members to need its own.
    """
    if not codes:
        return []
    with session.no_autoflush:
        found = {
            o.credit_code: o
            for o in session.scalars(
                select(Organization).where(
                    Organization.campaign_id == item.campaign_id,
                    Organization.unit_id == item.unit_id,
                    Organization.credit_code.in_(codes),
                    Organization.id != item.organization_id,
                )
            )
        }
    missing = [c for c in codes if c not in found]
    if missing:
        problems.append(("covered_codes", f"本单位台账中没有：{'、'.join(missing)}"))
    has_org = [o.name for o in found.values() if rules.has_party_org(o)]
    if has_org:
        problems.append(
            ("covered_codes", f"已建有党组织，不能再纳入联合组建：{'、'.join(has_org)}")
        )
    standalone = [o.name for o in found.values() if o.target == Target.STANDALONE]
    if standalone:
        problems.append(
            ("covered_codes", f"正式党员达到3名以上、须单独组建：{'、'.join(standalone)}")
        )
    return [found[c].id for c in codes if c in found]


def _written(closure: Closure, org: Organization, own: bool) -> dict[str, Any]:
    """What a verified closure writes into an organization's ledger row: the item's own
    (``own``) gets the Party org its closure names, a covered one the joint Party org."""
    if closure.method == ClosureMethod.WORK_COVERAGE:
        return {
            "instructor": closure.instructor or org.instructor,
            "mass_organizations": closure.mass_organizations or org.mass_organizations,
        }
    data: dict[str, Any] = {
        # The covered organizations are in the joint Party org; the item's own organization
        # has the Party org its closure names (the same codes).
        "party_org_status": PartyOrgStatus(closure.method) if own else PartyOrgStatus.JOINT,
        "party_org_name": closure.party_org_name,
        "party_org_founded_on": closure.established_on,
    }
    if own:
        data["formal_members"] = max(org.formal_members, closure.formal_members)
    return data


def _as_written(closure: Closure, org: Organization, own: bool) -> Any:
    return rules.as_if(org, **_written(closure, org, own))


def _shortfall(closure: Closure, item: BoardItem) -> str | None:
    """Why the item's organization, its row written by ``closure``, would still fall short of
    the item's target (None when it meets it)."""
    after = _as_written(closure, item.organization, True)
    if rules.met(after, item.target):
        return None
    if closure.method == ClosureMethod.FUNCTIONAL:
        refusal = rules.functional_refusal(after)
        if refusal:
            return refusal
    if item.target == Target.MEMBER and not rules.HAS_MEMBER.holds(after):
        return "该组织按规则应有党员，尚无党员，不能销号"
    means = getattr(after, "coverage_means", rules.ANY_MEANS)
    if means != rules.ANY_MEANS and not rules.covered_by(means).holds(after):
        asked = "党建指导员和群团组织" if means == rules.BOTH else rules.MEANS[means]
        return f"该组织按规则须有{asked}实现工作覆盖，按此方式销号后仍未达到"
    return f"按此方式销号后，该组织仍未达到“{Target(item.target).label}”的要求"


def pending_closure(item: BoardItem) -> Closure | None:
    return next((c for c in item.closures if c.status == ClosureStatus.PENDING), None)


NOTHING_AWAITING = "没有待核验的销号"


def _decide(session: Session, item: BoardItem, status: ClosureStatus, user, **values) -> Closure:
    """Claim the item's pending closure for one decision before any work: of two leaders (or
    two clicks) the first decides, the other finds nothing awaiting."""
    closure = pending_closure(item)
    if closure is None:
        raise Conflict(NOTHING_AWAITING)
    claim(
        session,
        closure,
        Closure.status == ClosureStatus.PENDING,
        NOTHING_AWAITING,
        status=status,
        decided_at=now(),
        decided_by_id=getattr(user, "id", None),
        **values,
    )
    return closure


def verify_closure(session: Session, item: BoardItem, user) -> Closure:
    """A unit leader verifies: the Party org is written into the ledger row(s) and counts."""
    closure = _decide(session, item, ClosureStatus.VERIFIED, user)
    orgs = [item.organization] + [session.get_one(Organization, i) for i in closure.covered_org_ids]
    taken = [o.name for o in orgs[1:] if rules.has_party_org(o)]
    if taken:
        raise ValidationFailed(
            [("closure", f"联合组建覆盖的组织已另建党组织：{'、'.join(taken)}，请退回后重新提交")]
        )
    # The ledger as it is now, not as it was when the closure was filed.
    shortfall = _shortfall(closure, item)
    if shortfall:
        raise ValidationFailed([("closure", f"{shortfall}（按核验时的台账），请退回后重新提交")])
    before = {str(o.id): audit.snapshot(o, PARTY_FIELDS) for o in orgs}
    rows = {org.id: _written(closure, org, org is item.organization) for org in orgs}
    # The ledger writes the rows (and records them); they are read back below.
    events.publish(session, events.ClosureVerified(closure, rows, f"销号#{closure.id}", user=user))
    # What each row was before and what this closure made it: a revocation restores a row
    # only while it still is what this closure made it.
    closure.ledger_before = {
        str(o.id): {"before": before[str(o.id)], "after": audit.snapshot(o, PARTY_FIELDS)}
        for o in orgs
    }
    item.state, item.work_coverage_only, item.last_reason = (
        ItemState.CLOSED,
        closure.method == ClosureMethod.WORK_COVERAGE,
        "",
    )
    # Organizations covered by the joint Party org leave the board with it, where it meets
    # what the board asks of them (one without a member still owes 应有党员).
    for org in orgs[1:]:
        covered_item = session.scalar(
            select(BoardItem).where(
                BoardItem.campaign_id == item.campaign_id, BoardItem.organization_id == org.id
            )
        )
        if (
            covered_item is not None
            and covered_item.state in OPEN_STATES
            and rules.met(org, covered_item.target)
        ):
            covered_item.state = ItemState.CLOSED
    audit.record(
        session,
        user=user,
        action="closure.verify",
        obj_type="board_item",
        obj_id=item.id,
        after={"closure": closure.id, "organizations": [o.id for o in orgs]},
    )
    session.flush()
    return closure


def return_closure(session: Session, item: BoardItem, reason: str, user) -> Closure:
    """A unit leader sends the claim back with a reason: the item is back in progress."""
    if not reason.strip():
        raise ValidationFailed([("reason", "退回时必须填写理由")])
    closure = _decide(session, item, ClosureStatus.RETURNED, user, decision_reason=reason.strip())
    item.state, item.last_reason = ItemState.IN_PROGRESS, reason.strip()
    audit.record(
        session,
        user=user,
        action="closure.return",
        obj_type="board_item",
        obj_id=item.id,
        after={"closure": closure.id, "reason": closure.decision_reason},
    )
    session.flush()
    events.publish(session, events.ClosureReturned(closure, user=user))
    return closure


def revoke_closure(session: Session, closure: Closure, reason: str, user) -> Closure:
    """Reopen a verified closure (spot check or look-back): ledger rows back as they were."""
    if not reason.strip():
        raise ValidationFailed([("reason", "撤销销号时必须填写理由")])
    claim(
        session,
        closure,
        Closure.status == ClosureStatus.VERIFIED,
        "只能撤销已核验的销号",
        status=ClosureStatus.REVOKED,
        decision_reason=reason.strip(),
        decided_at=now(),
        decided_by_id=getattr(user, "id", None),
    )
    item = closure.item
    kept, restored = [], {}
    for org_id, rows in closure.ledger_before.items():
        org = session.get_one(Organization, int(org_id))
        if audit.snapshot(org, PARTY_FIELDS) != rows["after"]:
            # Changed since (e.g. its own closure verified later): that later act stands.
            kept.append(org.id)
            continue
        restored[org.id] = {
            k: (date.fromisoformat(v) if k == "party_org_founded_on" and v else v)
            for k, v in rows["before"].items()
        }
    # The ledger puts the rows back (and records it).
    events.publish(
        session, events.ClosureRevoked(closure, restored, f"撤销销号#{closure.id}", user=user)
    )
    for restored_id in restored:
        org = session.get_one(Organization, restored_id)
        covered_item = session.scalar(
            select(BoardItem).where(
                BoardItem.campaign_id == item.campaign_id, BoardItem.organization_id == org.id
            )
        )
        if covered_item is not None and covered_item is not item:
            covered_item.state, covered_item.last_reason = ItemState.REOPENED, reason.strip()
            covered_item.work_coverage_only = False
    item.state, item.last_reason, item.work_coverage_only = (
        ItemState.REOPENED,
        reason.strip(),
        False,
    )
    audit.record(
        session,
        user=user,
        action="closure.revoke",
        obj_type="board_item",
        obj_id=item.id,
        after={"closure": closure.id, "reason": closure.decision_reason, "kept": kept},
    )
    session.flush()
    return closure


# ---- spot checks and the look-back ---------------------------------------------------


def draw(
    session: Session,
    campaign: Campaign,
    unit_ids: list[int] | None,
    mode: SizeMode,
    value: int,
    user,
    seed: int | None = None,
    kind: CheckKind = CheckKind.SPOT_CHECK,
    note: str = "",
    team_unit_ids: list[int] | None = None,
) -> SpotCheck:
    """Draw verified closures at random (a count or a percentage), with the seed recorded;
    ``team_unit_ids``: the verifying departments named as members of its team (统战, 工商 …),
    who read it and record its findings."""
    team = _team(session, team_unit_ids or [])
    if mode not in set(SizeMode) or value <= 0 or (mode == SizeMode.PERCENT and value > 100):
        raise ValidationFailed([("size", "抽查数量应为正整数，或1至100之间的百分比")])
    stmt = (
        select(Closure.id)
        .join(BoardItem, BoardItem.id == Closure.item_id)
        .where(BoardItem.campaign_id == campaign.id, Closure.status == ClosureStatus.VERIFIED)
        .order_by(Closure.id)
    )
    if unit_ids:
        stmt = stmt.where(BoardItem.unit_id.in_(unit_ids))
    population = list(session.scalars(stmt))
    if not population:
        raise ValidationFailed([("scope", "所选范围内没有已核验的销号")])
    _not_drawn_already(session, campaign, kind, unit_ids, mode, value, seed, note, population)
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    drawn = _sample(population, mode, value, seed)
    check = SpotCheck(
        campaign_id=campaign.id,
        kind=kind,
        seed=seed,
        unit_ids=unit_ids or [],
        size_mode=mode,
        size_value=value,
        population_ids=population,
        drawn_ids=drawn,
        note=note,
        team_unit_ids=team,
        created_by_id=getattr(user, "id", None),
    )
    session.add(check)
    session.flush()
    session.add_all(SpotCheckResult(spot_check_id=check.id, closure_id=c) for c in drawn)
    after: dict[str, Any] = {"seed": seed, "population": len(population), "drawn": drawn}
    if team:
        after["team_unit_ids"] = team
    audit.record(
        session,
        user=user,
        action=f"{kind}.draw",
        obj_type="spot_check",
        obj_id=check.id,
        after=after,
    )
    session.flush()
    return check


def _team(session: Session, unit_ids: list[int]) -> list[int]:
    """The team's departments as asked, each an active verifying department (a remit)."""
    wanted = list(dict.fromkeys(unit_ids))
    found = (
        {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(wanted)))}
        if wanted
        else {}
    )
    wrong = [i for i in wanted if i not in found or not found[i].remit or not found[i].active]
    if wrong:
        names = "、".join(found[i].name if i in found else f"#{i}" for i in wrong)
        raise ValidationFailed(
            [("team", f"「检查组成员」{names}不是在用的核查部门：只能选择有核查职责的市直部门")]
        )
    return wanted


def teams_of(session: Session, campaign: Campaign, unit_id: int) -> list[SpotCheck]:
    """The spot checks whose team names the department ``unit_id``, newest first."""
    checks = session.scalars(
        select(SpotCheck).where(SpotCheck.campaign_id == campaign.id).order_by(SpotCheck.id.desc())
    )
    return [c for c in checks if unit_id in (c.team_unit_ids or [])]


def _not_drawn_already(
    session: Session,
    campaign: Campaign,
    kind: CheckKind,
    unit_ids: list[int] | None,
    mode: SizeMode,
    value: int,
    seed: int | None,
    note: str,
    population: list[int],
) -> None:
    """Draws of a campaign one at a time; a draw asked again while the last one, with the
    same terms over the same closures, has no finding yet is the same draw posted twice."""
    serialize(session, SpotCheck.__table__, campaign.id)
    last = session.scalar(
        select(SpotCheck).where(SpotCheck.campaign_id == campaign.id).order_by(SpotCheck.id.desc())
    )
    if last is None or any(r.result != CheckResult.PENDING for r in last.results):
        return
    same = (
        (last.kind, last.size_mode, last.size_value, last.note) == (kind, mode, value, note)
        and last.unit_ids == (unit_ids or [])
        and last.population_ids == population
        and (seed is None or seed == last.seed)
    )
    if same:
        raise Conflict(f"已按相同条件抽取（第{last.id}号），尚未检查，未重复抽取")


def _sample(population: list[int], mode: SizeMode, value: int, seed: int) -> list[int]:
    """The closures a draw of ``value`` (a count, or a percentage rounded up, at least one)
    takes from ``population`` with ``seed``, in id order."""
    size = value if mode == SizeMode.COUNT else max(1, -(-len(population) * value // 100))
    return sorted(random.Random(seed).sample(population, min(size, len(population))))


def reproduce(check: SpotCheck) -> list[int]:
    """The same draw again from the recorded seed and population (for an audit of the draw)."""
    return _sample(check.population_ids, check.size_mode, check.size_value, check.seed)


def record_result(
    session: Session, result: SpotCheckResult, passed: bool, checklist: Mapping, notes: str, user
) -> SpotCheckResult:
    """A checker's finding; a failure reopens the item and its unit sees why."""
    if not passed and not notes.strip():
        raise ValidationFailed([("notes", "不合格时必须填写问题说明")])
    # One finding per drawn closure: of two checkers (or two clicks) the first records it.
    claim(
        session,
        result,
        SpotCheckResult.result == CheckResult.PENDING,
        "该项已有检查结论",
        result=CheckResult.PASS if passed else CheckResult.FAIL,
        checklist={k: bool(checklist.get(k)) for k in CHECKLIST},
        notes=notes.strip(),
        checked_at=now(),
        checked_by_id=getattr(user, "id", None),
    )
    if result.closure.status != ClosureStatus.VERIFIED:
        raise ValidationFailed([("result", "该销号已不是已核验状态（已被撤销），无需再检查")])
    audit.record(
        session,
        user=user,
        action="spot_check.result",
        obj_type="board_item",
        obj_id=result.closure.item_id,
        after={"spot_check": result.spot_check_id, "result": result.result, "notes": result.notes},
    )
    if not passed:
        revoke_closure(session, result.closure, f"抽查不合格：{result.notes}", user)
    session.flush()
    return result


# ---- reading --------------------------------------------------------------------------


def overdue(on: date, *, counted: bool = False) -> ColumnElement[bool]:
    """The SQL condition for an item past its planned date and still open on ``on``; over the
    board's tally when ``counted`` (where no planned date is NO_PLANNED_DATE, never before)."""
    rows = BoardCounts if counted else BoardItem
    planned = BoardCounts.planned_key if counted else BoardItem.planned_on
    return and_(rows.state.in_(OPEN_STATES), planned < on)


def unit_counts(
    session: Session, campaign: Campaign, unit_ids: list[int] | None = None, on: date | None = None
) -> dict:
    """Items per unit and state, and overdue items (past their planned date, not closed, on
    ``on``, default today)."""
    on = on or today(campaign.timezone)
    tally.settle(session)  # the tally as this transaction's items are
    # One pass over the tally: the overdue ones are summed in the same GROUP BY.
    stmt = (
        select(
            BoardCounts.unit_id,
            BoardCounts.state,
            func.sum(BoardCounts.items),
            func.sum(case((overdue(on, counted=True), BoardCounts.items), else_=0)),
        )
        .where(BoardCounts.campaign_id == campaign.id)
        .group_by(BoardCounts.unit_id, BoardCounts.state)
    )
    if unit_ids is not None:
        stmt = stmt.where(BoardCounts.unit_id.in_(unit_ids))
    counts: dict[int, dict[str, int]] = {}
    late: dict[int, int] = {}
    for unit_id, state, n, n_late in session.execute(stmt):
        counts.setdefault(unit_id, {})[state] = int(n)
        if n_late:
            late[unit_id] = late.get(unit_id, 0) + int(n_late)
    for unit_id, n in late.items():
        counts[unit_id]["overdue"] = n
    return counts


def _filtered(campaign: Campaign, unit_id: int, filters: Mapping, stmt: Select) -> Select:
    """``stmt`` over the unit's items restricted by the board's filters; organization is
    joined only when a filter needs its columns."""
    stmt = stmt.where(BoardItem.campaign_id == campaign.id, BoardItem.unit_id == unit_id)
    if filters.get("area") or filters.get("q"):
        stmt = stmt.join(Organization, Organization.id == BoardItem.organization_id)
    if filters.get("kind"):
        stmt = stmt.where(BoardItem.kind == filters["kind"])
    if filters.get("area"):
        stmt = stmt.where(Organization.area_id == int(filters["area"]))
    if filters.get("path"):
        stmt = stmt.where(BoardItem.path == filters["path"])
    if filters.get("person"):
        stmt = stmt.where(BoardItem.responsible_person.contains(filters["person"]))
    if filters.get("overdue"):
        stmt = stmt.where(overdue(today(campaign.timezone)))
    if filters.get("q"):
        q = filters["q"].strip()
        stmt = stmt.where(
            or_(Organization.name.contains(q), Organization.credit_code.contains(q.upper()))
        )
    return stmt


# Filters that need the items themselves (their organization, path or person); the others
# (none, or only overdue) are answered by the board's tally.
_ITEM_FILTERS = ("kind", "area", "path", "person", "q")


def column_counts(
    session: Session, campaign: Campaign, unit_id: int, filters: Mapping
) -> dict[str, int]:
    """Items per state on a unit's board matching the filters (states with none left out)."""
    if any(filters.get(f) for f in _ITEM_FILTERS):
        stmt = _filtered(campaign, unit_id, filters, select(BoardItem.state, func.count()))
        return {state: n for state, n in session.execute(stmt.group_by(BoardItem.state))}
    tally.settle(session)
    stmt = select(BoardCounts.state, func.sum(BoardCounts.items)).where(
        BoardCounts.campaign_id == campaign.id, BoardCounts.unit_id == unit_id
    )
    if filters.get("overdue"):
        stmt = stmt.where(overdue(today(campaign.timezone), counted=True))
    return {state: int(n) for state, n in session.execute(stmt.group_by(BoardCounts.state))}


def list_items(
    session: Session,
    campaign: Campaign,
    unit_id: int,
    filters: Mapping,
    state: ItemState | Literal["open"],
    page: int = 1,
    per_page: int = 30,
) -> list[BoardItem]:
    """One page of a column of a unit's board: items in ``state`` (ANY_OPEN: any open state)
    matching the filters, by planned date (none last), then id."""
    stmt = _filtered(campaign, unit_id, filters, select(BoardItem)).where(
        BoardItem.state.in_(OPEN_STATES) if state == ANY_OPEN else BoardItem.state == state
    )
    # NULLS LAST rather than (planned_on IS NULL): for one state, ix_board_item_column serves
    # this order on both backends (PostgreSQL sorts NULLs last ascending; SQLite reads the
    # index's NULLs after the dates).
    stmt = stmt.options(joinedload(BoardItem.organization).joinedload(Organization.area)).order_by(
        BoardItem.planned_on.asc().nulls_last(), BoardItem.id
    )
    # The columns' counts come from the board's tally (column_counts), not from a COUNT here.
    return page_of(session, stmt, page, per_page, count=False).items


def history(session: Session, item: BoardItem) -> list:
    """The change record of an item and of its organization, newest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                or_(
                    and_(
                        AuditEntry.object_type == "board_item", AuditEntry.object_id == str(item.id)
                    ),
                    and_(
                        AuditEntry.object_type == "organization",
                        AuditEntry.object_id == str(item.organization_id),
                    ),
                )
            )
            .order_by(AuditEntry.id.desc())
            .limit(200)
        )
    )


def totals(
    session: Session, campaign: Campaign, unit_ids: list[int] | None = None
) -> dict[str, int]:
    """Items per state over the units (and "overdue"), e.g. how many closures wait for checking."""
    out: dict[str, int] = {}
    for counts in unit_counts(session, campaign, unit_ids).values():
        for state, n in counts.items():
            out[state] = out.get(state, 0) + n
    return out
