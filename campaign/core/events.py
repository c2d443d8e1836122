"""Domain events: what happened in one area, for the others to act on in the same transaction.

A service that did something another area must follow up on publishes an event instead of
calling that area: ``publish(session, LedgerApproved(...))``. Subscribers run at once, in
the publisher's transaction, so what they write commits or rolls back with the act itself.
Who subscribes to what is one list, ``campaign/subscribers.py``.

Events are plain frozen dataclasses; a subscriber to a base class (``LedgerStatusChanged``)
hears every subclass. blinker (Flask's own signal library) carries them: one signal per
event class.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from blinker import Namespace

from campaign.core.db import Session

_signals = Namespace()


@dataclass(frozen=True)
class Event:
    """Something that happened; ``user`` is who did it (a User, a name, or None)."""

    user: Any = field(default=None, kw_only=True)


E = TypeVar("E", bound=Event)


def _signal(event_type: type) -> Any:
    return _signals.signal(f"{event_type.__module__}.{event_type.__qualname__}")


def subscribe(event_type: type[E], handler: Callable[[Session, E], None]) -> None:
    """Call ``handler(session, event)`` whenever an ``event_type`` (or a subclass) is published.
    Idempotent: connecting the same handler twice keeps one (blinker keys receivers by
    identity, so each handler has one receiver)."""
    receiver = _receivers.setdefault(handler, _Receiver(handler))
    _signal(event_type).connect(receiver, weak=False)


class _Receiver:
    """A handler as blinker calls it: (sender, **kwargs)."""

    def __init__(self, handler: Callable[[Session, Any], None]):
        self.handler = handler

    def __call__(self, event: Event, *, session: Session) -> None:
        self.handler(session, event)


_receivers: dict[Callable[[Session, Any], None], _Receiver] = {}


def publish(session: Session, event: Event) -> None:
    """Run every subscriber of ``event``'s class and of its base classes, in order, now."""
    for cls in type(event).__mro__:
        if isinstance(cls, type) and issubclass(cls, Event):
            # Not Signal.send: blinker calls receivers in the order of a set of ids, and
            # campaign/subscribers.py lists what each area does in the order it must happen
            # (the ledger writes its rows before the forecast reads them). ``receivers`` is a
            # dict, so it keeps the order they were connected in.
            for receiver in list(_signal(cls).receivers.values()):
                receiver(event, session=session)


def subscribers(event_type: type) -> list[Callable[[Session, Any], None]]:
    """The handlers connected to ``event_type`` itself (for the list a newcomer reads)."""
    return [r.handler for r in _signal(event_type).receivers.values()]


# ---- the campaign itself ----------------------------------------------------------------


@dataclass(frozen=True)
class CampaignCreated(Event):
    """A campaign was created from a template (its phases are in place)."""

    campaign: Any
    template: str


@dataclass(frozen=True)
class SettingsChanged(Event):
    """Campaign settings changed; ``changed`` maps each setting to its new value."""

    campaign: Any
    changed: dict[str, Any]


@dataclass(frozen=True)
class RulesChanged(Event):
    """A campaign's rule set (and the settings its rules name) changed: the ledger is judged
    again, then the board follows the new targets."""

    campaign: Any


@dataclass(frozen=True)
class UnitAdded(Event):
    """A responsible unit now owes the running campaigns its work: it was added, reactivated
    or made responsible."""

    unit: Any


@dataclass(frozen=True)
class UnitRetiring(Event):
    """A unit is about to be retired: a subscriber that finds it still in use appends why
    to ``problems`` (field, Chinese message), and the retirement is refused."""

    unit: Any
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PhaseRemoving(Event):
    """A phase is about to be removed from its campaign: a subscriber that finds work
    delivered for it appends why to ``problems`` (field, Chinese message), and the removal
    is refused."""

    phase: Any
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PhaseRemoved(Event):
    """A phase is being removed (nobody refused): what hangs on it goes first."""

    phase: Any


# ---- the ledger ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerStatusChanged(Event):
    """A unit's ledger moved in its review (the base class of the three below)."""

    ledger: Any
    comment: str = ""


@dataclass(frozen=True)
class LedgerSubmitted(LedgerStatusChanged):
    """The unit sent its ledger for review."""


@dataclass(frozen=True)
class LedgerApproved(LedgerStatusChanged):
    """The ledger became the unit's base (党建基数)."""


@dataclass(frozen=True)
class LedgerReturned(LedgerStatusChanged):
    """The ledger was sent back with comments."""


@dataclass(frozen=True)
class ChangeRequestDecided(Event):
    """A change request to an approved base was accepted (and applied) or rejected."""

    request: Any
    accepted: bool


@dataclass(frozen=True)
class OrganizationChanged(Event):
    """Ledger fields of one organization changed; ``changed`` maps field to new value."""

    organization: Any
    changed: dict[str, Any]
    source: str


# ---- the board -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosureSubmitted(Event):
    """A unit claimed 销号 for an item; its leader is to verify it."""

    closure: Any


@dataclass(frozen=True)
class ClosureReturned(Event):
    """The unit's leader sent a closure back."""

    closure: Any


@dataclass(frozen=True)
class ClosureVerified(Event):
    """A closure was verified: ``rows`` maps each organization it covers to the ledger
    fields it now has (its Party org, or its work coverage)."""

    closure: Any
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class ClosureRevoked(Event):
    """A verified closure was reopened (spot check, look-back): ``rows`` maps each
    organization to the ledger fields it had before it."""

    closure: Any
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    source: str = ""


# ---- bulletins ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BulletinPublished(Event):
    """A bulletin (通报) was published; ``headline`` is what messages about it say."""

    bulletin: Any
    headline: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BulletinFailed(Event):
    """An attempt to produce a period's bulletin failed (it is retried later)."""

    run: Any


@dataclass(frozen=True)
class BulletinDrafted(Event):
    """A bulletin waits as a draft for review and 签发 (the campaign's review is on)."""

    bulletin: Any
    headline: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BulletinSignOverdue(Event):
    """A draft bulletin is still not signed past the campaign's set hours after its cut-off."""

    bulletin: Any
    headline: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CoordinationRaised(Event):
    """A unit raised a 协调事项 with the city (board.coordination)."""

    issue: Any


@dataclass(frozen=True)
class CoordinationAssigned(Event):
    """The working group gave a 协调事项 to one of its members to answer."""

    issue: Any


@dataclass(frozen=True)
class CoordinationAnswered(Event):
    """The working group answered a 协调事项."""

    issue: Any
