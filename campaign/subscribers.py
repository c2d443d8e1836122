"""What happens when: every domain event (campaign.core.events) and, in order, what each area
does about it, in the publisher's transaction.

This is the one place the areas are wired to each other's acts; no area imports another
area's services to make something happen there. Read it as a list:

- a campaign is created   -> the timeline adds its deliverables and a task per unit
- a unit is added (or reactivated, or made responsible) -> the timeline gives it its tasks
                              in every campaign not yet ended
- a unit is to be retired -> the ledger refuses while a running campaign holds its rows
- a phase is to be removed -> the timeline refuses while a unit has delivered work for it;
                              else its deliverables and their tasks go with it
- settings change         -> the ledger judges every organization again (rule thresholds);
                              the board's items follow, as after a change of the rule set
- the rule set changes    -> the ledger judges every organization again; the board's items
                              follow the new targets (opened, closed, reopened)
- a ledger moves in review -> the timeline records the survey deliverable; once approved the
                              board puts every organization short of its target on the wall
                              chart; the unit is told of approval or return
- a change request is decided -> the board adds or updates items (if accepted); the unit is told
- an organization changes -> its board item follows it (another unit, another kind)
- a closure is submitted / returned -> the unit's leaders / the submitter are told; once
                              returned, the leaders' 待核验 notices are done
- a closure is verified   -> the ledger writes its Party org into the rows it covers; the
                              submitter is told; the leaders' 待核验 notices are done
- a closure is revoked    -> the ledger puts those rows back; the unit is told
- a bulletin is published / fails -> every 主送 unit, coordinators, leadership and the
                              distribution list / coordinators are told
- a bulletin is drafted / left unsigned -> coordinators and signers / signers are told
- a 协调事项 is raised / assigned / answered -> the coordinators / the assignee / the unit are told
- a closure is verified or revoked, a ledger approved -> the kept forecast of that unit is
                              computed again (after the ledger has its rows); settings change
                              -> every unit's
"""

from campaign.board import services as board
from campaign.core import events
from campaign.forecast import services as forecast
from campaign.ledger import services as ledger
from campaign.ledger import units as ledger_units
from campaign.timeline import tasks
from notifications import coordination as notify_coordination
from notifications import subscribers as notify

SUBSCRIBERS: list[tuple[type[events.Event], list]] = [
    (events.CampaignCreated, [tasks.create_for_new_campaign]),
    (events.UnitAdded, [tasks.create_for_new_unit]),
    (events.UnitRetiring, [ledger_units.refuse_retiring_a_unit_with_rows]),
    (events.PhaseRemoving, [tasks.refuse_removing_a_phase_with_work]),
    (events.PhaseRemoved, [tasks.remove_with_phase]),
    (
        events.SettingsChanged,
        [ledger.rejudge_on_new_thresholds, board.follow_new_settings, forecast.refresh_on_settings],
    ),
    (
        events.RulesChanged,
        [ledger.rejudge_on_new_rules, board.follow_new_rules, forecast.refresh_on_settings],
    ),
    (
        events.LedgerStatusChanged,
        [tasks.record_ledger_review],
    ),
    (events.LedgerApproved, [board.sync_on_approval]),
    (events.LedgerStatusChanged, [notify.ledger_reviewed]),
    (
        events.ChangeRequestDecided,
        [board.sync_on_accepted_change, notify.change_request_decided],
    ),
    (events.OrganizationChanged, [board.follow_changed_organization]),
    (events.ClosureSubmitted, [notify.closure_submitted]),
    (events.ClosureReturned, [notify.closure_returned, notify.closure_decided]),
    (
        events.ClosureVerified,
        [
            ledger.write_closure_rows,
            forecast.refresh_on_closure,
            notify.closure_verified,
            notify.closure_decided,
        ],
    ),
    (
        events.ClosureRevoked,
        [ledger.write_closure_rows, forecast.refresh_on_closure, notify.closure_revoked],
    ),
    (events.BulletinPublished, [notify.bulletin_published]),
    (events.BulletinFailed, [notify.bulletin_failed]),
    (events.BulletinDrafted, [notify.bulletin_drafted]),
    (events.BulletinSignOverdue, [notify.bulletin_sign_overdue]),
    (events.CoordinationRaised, [notify_coordination.raised]),
    (events.CoordinationAssigned, [notify_coordination.assigned]),
    (events.CoordinationAnswered, [notify_coordination.answered]),
    (events.LedgerApproved, [forecast.refresh_on_approval]),
]


def connect() -> None:
    """Subscribe every handler above (idempotent: every app a process creates shares them)."""
    for event_type, handlers in SUBSCRIBERS:
        for handler in handlers:
            events.subscribe(event_type, handler)
