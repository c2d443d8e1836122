"""What the areas' domain events tell people: each handler turns an event into a message in
the outbox (``events.emit``), in the transaction of the act, so a rolled-back act tells
nobody. The payloads are what the message templates (templates/notifications/*.txt) read.
"""

from sqlalchemy import update

from campaign.board.models import ClosureMethod
from campaign.core import events as domain
from campaign.core.clock import now
from campaign.core.db import Session
from campaign.core.models import Unit
from campaign.core.paths import path_for
from notifications import events
from notifications.models import Notification


def _item(closure) -> dict:
    item = closure.item
    return {
        "campaign_id": item.campaign_id,
        "unit_id": item.unit_id,
        "item_id": item.id,
        "organization": item.organization.name,
        "path": path_for("board.item", campaign_id=item.campaign_id, item_id=item.id),
    }


def closure_submitted(session: Session, event: domain.ClosureSubmitted) -> None:
    """销号待核验: the unit's leaders."""
    events.emit(
        session,
        "closure_submitted",
        **_item(event.closure),
        actor=events.actor_name(event.user),
        method=ClosureMethod(event.closure.method).label,
    )


def closure_returned(session: Session, event: domain.ClosureReturned) -> None:
    """销号被退回: the one who submitted it."""
    closure = event.closure
    events.emit(
        session,
        "closure_returned",
        **_item(closure),
        actor=events.actor_name(event.user),
        reason=closure.decision_reason,
        user_id=closure.submitted_by_id,
    )


def closure_verified(session: Session, event: domain.ClosureVerified) -> None:
    """销号已核验: the one who submitted it."""
    closure = event.closure
    events.emit(
        session,
        "closure_verified",
        **_item(closure),
        actor=events.actor_name(event.user),
        method=ClosureMethod(closure.method).label,
        user_id=closure.submitted_by_id,
    )


def closure_decided(
    session: Session, event: domain.ClosureReturned | domain.ClosureVerified
) -> None:
    """The leaders' 销号待核验 notices of the item are done once one of them has decided: they
    leave the unread ones (marked read)."""
    item = event.closure.item
    path = path_for("board.item", campaign_id=item.campaign_id, item_id=item.id)
    session.execute(
        update(Notification)
        .where(
            Notification.kind == "closure_submitted",
            Notification.link == path,
            Notification.read_at.is_(None),
        )
        .values(read_at=now())
    )


def closure_revoked(session: Session, event: domain.ClosureRevoked) -> None:
    """销号被撤销 by a spot check or the look-back: the unit."""
    reason = event.closure.decision_reason
    events.emit(
        session,
        "closure_revoked",
        **_item(event.closure),
        actor=events.actor_name(event.user),
        reason=reason,
        source="随机抽查" if reason.startswith("抽查") else "核查",
    )


_REVIEW_OUTCOMES = {
    domain.LedgerApproved: "审核通过",
    domain.LedgerReturned: "已退回，请修改后重新报送",
}


def ledger_reviewed(session: Session, event: domain.LedgerStatusChanged) -> None:
    """台账审核结果 (approved or returned): the unit."""
    outcome = _REVIEW_OUTCOMES.get(type(event))
    if outcome is None:  # a submission for review is nobody's news yet
        return
    ledger = event.ledger
    unit = session.get_one(Unit, ledger.unit_id)
    events.emit(
        session,
        "ledger_reviewed",
        campaign_id=ledger.campaign_id,
        unit_id=unit.id,
        unit=unit.name,
        outcome=outcome,
        comment=event.comment,
        actor=events.actor_name(event.user),
        path=path_for("ledger.unit", campaign_id=ledger.campaign_id, code=unit.code),
    )


def change_request_decided(session: Session, event: domain.ChangeRequestDecided) -> None:
    """台账变更申请处理结果: the unit, and the one who asked."""
    request = event.request
    events.emit(
        session,
        "change_request_decided",
        campaign_id=request.campaign_id,
        unit_id=request.unit_id,
        unit=request.unit.name,
        organization=request.payload.get("name") or request.credit_code,
        outcome="已采纳" if event.accepted else "未采纳",
        comment=request.decision_comment,
        actor=events.actor_name(event.user),
        user_id=request.requested_by_id,
        path=path_for("ledger.unit", campaign_id=request.campaign_id, code=request.unit.code),
    )


def bulletin_published(session: Session, event: domain.BulletinPublished) -> None:
    """通报发布: leadership, the distribution list, the city's robot."""
    events.emit(session, events.BULLETIN_PUBLISHED, **event.headline)


def bulletin_failed(session: Session, event: domain.BulletinFailed) -> None:
    """通报生成失败: coordinators, once a day per period."""
    run = event.run
    events.emit(
        session,
        "bulletin_failed",
        dedupe_key=f"bulletin_failed:{run.campaign_id}:{run.due_on}:{now().date()}",
        campaign_id=run.campaign_id,
        due_on=run.due_on.isoformat(),
        error=run.error,
        path=path_for("bulletins.archive", campaign_id=run.campaign_id),
    )


def bulletin_drafted(session: Session, event: domain.BulletinDrafted) -> None:
    """通报草稿待审核签发: the coordinators and the signers."""
    events.emit(session, "bulletin_draft", **event.headline)


def bulletin_sign_overdue(session: Session, event: domain.BulletinSignOverdue) -> None:
    """通报草稿逾时未签发: the signers, once a day per draft."""
    headline = event.headline
    events.emit(
        session,
        "bulletin_unsigned",
        dedupe_key=f"bulletin_unsigned:{headline['bulletin_id']}:{headline['day']}",
        **headline,
    )
