"""The one commit path: a service call run and committed, or rolled back with the reason.

Pages (``webforms.perform``, and forms that re-render with every problem), the API
(``api.views.commit``) and the CLI all end a write here, so the same refusal reads the same
everywhere: refused input is 422 with each problem by field; an act already done, a record
changed meanwhile or a database busy with another writer is 409; nothing is kept.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from campaign.core.db import is_busy
from campaign.core.errors import BUSY, STALE, Conflict, ValidationFailed
from campaign.core.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """Why nothing was kept: the HTTP status it answers, and the problems by field."""

    status: int
    problems: list[tuple[str, str]]

    @property
    def message(self) -> str:
        return "；".join(message for _, message in self.problems)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What ``commit`` did: the action's result, or the refusal."""

    result: T | None = None
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def commit(action: Callable[[], T], *, rehearsal: bool = False) -> Outcome[T]:
    """Run ``action`` and commit; on a refusal roll back and say why (other errors raise).
    A ``rehearsal`` is rolled back whatever it did: a preview of an act's effect, refused as
    the act itself would be."""
    try:
        result = action()
        if rehearsal:
            db.session.rollback()
        else:
            db.session.commit()
    except ValidationFailed as e:
        db.session.rollback()
        return Outcome(refusal=Refusal(422, e.problems))
    except Conflict as e:  # the act was already done (a double submission): its message says so
        db.session.rollback()
        return Outcome(refusal=Refusal(409, [("", e.message)]))
    except (StaleDataError, IntegrityError):
        # Someone else changed the same record (optimistic lock, or a unique key) meanwhile.
        db.session.rollback()
        return Outcome(refusal=Refusal(409, [("", STALE)]))
    except OperationalError as e:
        # Waited too long for another writer's lock (SQLite's busy timeout, a deadlock).
        db.session.rollback()
        if not is_busy(e):
            raise
        return Outcome(refusal=Refusal(409, [("", BUSY)]))
    return Outcome(result=result)


def preview(action: Callable[[], T]) -> Outcome[T]:
    """Run ``action`` as a dry run: what it would do, or why it is refused; nothing is kept
    either way (an import's preview before the user confirms it)."""
    try:
        return Outcome(result=action())
    except ValidationFailed as e:
        return Outcome(refusal=Refusal(422, e.problems))
    except Conflict as e:
        return Outcome(refusal=Refusal(409, [("", e.message)]))
    finally:
        db.session.rollback()
