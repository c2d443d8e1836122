"""What a 协调事项 tells people (board.coordination publishes, campaign/subscribers.py wires):
the coordinators of a new one, the member it is assigned to, the unit of the answer."""

from campaign.core import events as domain
from campaign.core.db import Session
from campaign.core.paths import path_for
from notifications import events


def _issue(issue) -> dict:
    return {
        "campaign_id": issue.campaign_id,
        "unit_id": issue.unit_id,
        "unit": issue.unit.name,
        "subject": issue.subject,
        "organization": issue.item.organization.name if issue.item else "",
        "path": path_for("coordination.issue", campaign_id=issue.campaign_id, issue_id=issue.id),
    }


def raised(session: Session, event: domain.CoordinationRaised) -> None:
    """新的协调事项: the city's working group."""
    events.emit(
        session,
        "coordination_raised",
        **_issue(event.issue),
        actor=events.actor_name(event.user),
        kind_label=event.issue.kind_label,
    )


def assigned(session: Session, event: domain.CoordinationAssigned) -> None:
    """协调事项交办: the member who is to answer it."""
    events.emit(
        session,
        "coordination_assigned",
        **_issue(event.issue),
        actor=events.actor_name(event.user),
        user_id=event.issue.assignee_id,
    )


def answered(session: Session, event: domain.CoordinationAnswered) -> None:
    """协调事项答复: the unit that raised it."""
    events.emit(
        session,
        "coordination_answered",
        **_issue(event.issue),
        actor=events.actor_name(event.user),
        answer=event.issue.answer,
    )
