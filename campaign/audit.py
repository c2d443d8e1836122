"""The change record: who changed what, when, before and after.

Entries are append-only and chained: each carries the SHA-256 of its own
content and of the entry before it, so an edit behind the app's back breaks
the chain (``verify_chain``).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from campaign.clock import now
from campaign.db import Base, insert_rows


class AuditEntry(Base):
    """One recorded change."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=now)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40))
    before: Mapped[str] = mapped_column(Text, default="{}")
    after: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_entry_object", "object_type", "object_id"),)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-ready dict (for before/after)."""
    return {f: _jsonable(getattr(obj, f)) for f in fields}


# One encoder for every entry: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=_jsonable)


def _dumps(data: dict[str, Any] | None) -> str:
    return _ENCODER.encode(data) if data else "{}"


def _who(user: Any) -> tuple[int | None, str]:
    """The user id and actor name an entry records for ``user`` (a User, a name, or None)."""
    actor = getattr(user, "username", None) or (user if isinstance(user, str) else "system")
    return getattr(user, "id", None), actor


def _common(at: datetime, user_id: int | None, actor: str) -> str:
    """The part of an entry's hashed content that every entry of one act shares."""
    return f"|{at.astimezone(UTC).isoformat()}|{user_id or ''}|{actor}|"


def _hash(
    prev_hash: str, common: str, action: str, obj_type: str, obj_id: str, before: str, after: str
) -> str:
    content = f"{prev_hash}{common}{action}|{obj_type}|{obj_id}|{before}|{after}"
    return hashlib.sha256(content.encode()).hexdigest()


def _entry_hash(entry: AuditEntry) -> str:
    return _hash(
        entry.prev_hash,
        _common(entry.at, entry.user_id, entry.actor),
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.before,
        entry.after,
    )


def _last_entry_locked(session: Session) -> "AuditEntry | None":
    """The chain's last entry, with the chain locked until commit so two writers cannot fork it."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7411)"))  # 7411: the audit chain
    elif dialect == "sqlite":
        # A write takes SQLite's database lock now, before the read: a second writer waits
        # here instead of reading the same last entry.
        session.execute(
            text("UPDATE audit_entry SET id = id WHERE id = (SELECT max(id) FROM audit_entry)")
        )
    return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).first()


def record(
    session: Session,
    *,
    user: Any,
    action: str,
    obj_type: str,
    obj_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one change to the record (flushed, not committed)."""
    last = _last_entry_locked(session)
    user_id, actor = _who(user)
    entry = AuditEntry(
        at=now().replace(microsecond=0),
        user_id=user_id,
        actor=actor,
        action=action,
        object_type=obj_type,
        object_id=str(obj_id),
        before=_dumps(before),
        after=_dumps(after),
        prev_hash=last.hash if last else "",
    )
    entry.hash = _entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    problem: str


def verify_chain(session: Session) -> ChainBreak | None:
    """The first entry whose hash or link does not match, or None if the chain is whole."""
    prev = ""
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        if entry.prev_hash != prev:
            return ChainBreak(entry.id, "与上一条记录的链接不符")
        if _entry_hash(entry) != entry.hash:
            return ChainBreak(entry.id, "记录内容与哈希不符")
        prev = entry.hash
    return None


def record_many(session: Session, *, user: Any, entries: list[dict[str, Any]]) -> int:
    """Append many changes of one act (an import) at once: chained in Python, one INSERT.

    Each entry has ``action``, ``obj_type``, ``obj_id`` and optional ``before``/``after``; all
    share the user and the moment. Rows go in as tuples (``db.insert_rows``): at 50,000 entries
    a parameter dict per row cost more than hashing and encoding them.
    """
    if not entries:
        return 0
    last = _last_entry_locked(session)
    prev = last.hash if last else ""
    at = now().replace(microsecond=0)
    user_id, actor = _who(user)
    common = _common(at, user_id, actor)
    rows = []
    for e in entries:
        action, obj_type, obj_id = e["action"], e["obj_type"], str(e["obj_id"])
        before, after = _dumps(e.get("before")), _dumps(e.get("after"))
        entry_hash = _hash(prev, common, action, obj_type, obj_id, before, after)
        rows.append((action, obj_type, obj_id, before, after, prev, entry_hash))
        prev = entry_hash
    return insert_rows(
        session,
        AuditEntry.__table__,
        ("action", "object_type", "object_id", "before", "after", "prev_hash", "hash"),
        rows,
        shared={"at": at, "user_id": user_id, "actor": actor},
    )
