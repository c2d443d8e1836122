"""The change record: who changed what, when, before and after.

Entries are append-only and chained: each carries the SHA-256 of its own content and of the
entry before it, so an edit or a deletion in the middle breaks the chain (``verify_chain``).

The chain's end is anchored: a signed head (how many entries, the last one's id and hash,
with an HMAC whose key is derived from SECRET_KEY) moves on in the transaction of every
write, so deleting the last entries, appending a forged one or recomputing every hash after
an edit shows as well. Copies of the head kept elsewhere (anchors: with each bulletin, in
each backup's manifest, printed by ``audit head``) show an old head put back after the
entries behind it were deleted. ``verify`` checks all of them; README.md, "What `audit
verify` proves", says what this does and does not prove.
"""

import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, mapped_column

from campaign.core.clock import now
from campaign.core.db import Base, Session, insert_rows

log = logging.getLogger("gongjian.audit")


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


class AuditHead(Base):
    """The chain's end as the app last wrote it, signed: one row, moved on by every write."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # always 1
    entries: Mapped[int]
    last_id: Mapped[int]  # 0 while the record is empty
    last_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


class AuditAnchor(Base):
    """A signed copy of the head kept with something that leaves the database (a bulletin),
    so that a head put back to an earlier state shows against it."""

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(80), unique=True)  # what it is kept with: bulletin:12
    label: Mapped[str] = mapped_column(String(200))  # how messages name it: 第6期通报
    entries: Mapped[int]
    last_id: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))  # signed with ref: not movable
    created_at: Mapped[datetime] = mapped_column(default=now)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-ready dict (for before/after)."""
    return {f: _jsonable(getattr(obj, f)) for f in fields}


@dataclass
class Change:
    """What a recorded block changed: the changed fields before and after, as recorded."""

    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@contextmanager
def recorded_change(
    session: Session,
    obj: Any,
    fields: Iterable[str],
    *,
    user: Any,
    action: str,
    note: dict[str, Any] | None = None,
    record_unchanged: bool = False,
) -> Iterator[Change]:
    """Record what the ``with`` block changes in ``fields`` of ``obj`` (a mapped row): when the
    block ends without an error, one entry with the changed fields before and after (``note``
    added to after). A block that changed nothing records nothing (the same form posted again),
    unless ``record_unchanged`` (the act is worth an entry of its own)."""
    fields = list(fields)
    old = {f: getattr(obj, f) for f in fields}
    change = Change()
    yield change
    changed = [f for f in fields if getattr(obj, f) != old[f]]
    change.before = {f: _jsonable(old[f]) for f in changed}
    change.after = snapshot(obj, changed)
    if changed or record_unchanged:
        record(
            session,
            user=user,
            action=action,
            obj_type=obj.__tablename__,
            obj_id=obj.id,
            before=change.before,
            after={**change.after, **(note or {})},
        )


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


def _entry_hash(entry: Any) -> str:
    """The hash of an entry (an AuditEntry or a row with its columns)."""
    return _hash(
        entry.prev_hash,
        _common(entry.at, entry.user_id, entry.actor),
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.before,
        entry.after,
    )


def _dialect(db: "Session | Connection") -> str:
    return db.dialect.name if isinstance(db, Connection) else db.get_bind().dialect.name


def _lock(db: "Session | Connection") -> None:
    """Lock the chain until the transaction ends: writers wait for each other here."""
    dialect = _dialect(db)
    if dialect == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(7411)"))  # 7411: the audit chain
    elif dialect == "sqlite":
        # A write takes SQLite's database lock now, before the read: a second writer waits
        # here instead of reading the same last entry.
        db.execute(
            text("UPDATE audit_entry SET id = id WHERE id = (SELECT max(id) FROM audit_entry)")
        )


def _last_entry_locked(session: Session) -> "AuditEntry | None":
    """The chain's last entry, with the chain locked until commit so two writers cannot fork it."""
    _lock(session)
    return session.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    ).first()


# ---- the signed head -------------------------------------------------------------------------

HEAD_FORMAT = "gongjian-audit-head/1"
HEAD_REF = "head"  # what the live head and its exported copies are signed for
# The signing key is derived from SECRET_KEY with this context, so a signature made here is
# no use anywhere else SECRET_KEY signs (session cookies, CSRF tokens) and the other way round.
_KEY_CONTEXT = b"gongjian audit head signing key"


@dataclass(frozen=True)
class Point:
    """A place in the chain: after ``entries`` entries the last is ``last_id`` with ``last_hash``
    (0 and "" for an empty record)."""

    entries: int
    last_id: int
    last_hash: str


def _keys() -> list[bytes]:
    """The signing keys: from SECRET_KEY first, then from each of SECRET_KEY_FALLBACKS."""
    config = current_app.config
    return _derived((config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or [])))


@functools.lru_cache(maxsize=8)
def _derived(secrets: tuple) -> list[bytes]:
    """Each secret's signing key (derived once per set of secrets, not at every write)."""
    return [
        hmac.new(s.encode() if isinstance(s, str) else s, _KEY_CONTEXT, hashlib.sha256).digest()
        for s in secrets
        if s
    ]


def _sign(key: bytes, ref: str, point: Point) -> str:
    message = f"{HEAD_FORMAT}|{ref}|{point.entries}|{point.last_id}|{point.last_hash}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _signed(ref: str, point: Point, signature: str) -> bool:
    """Whether ``signature`` is ours (SECRET_KEY or one of its fallbacks) for ``point``."""
    return any(hmac.compare_digest(_sign(key, ref, point), signature) for key in _keys())


def _point(row: Any) -> Point:
    return Point(row.entries, row.last_id, row.last_hash)


_HEAD = AuditHead.__table__
_ANCHOR = AuditAnchor.__table__


def _head_row(session: Any) -> Any:
    return session.execute(
        select(_HEAD.c.entries, _HEAD.c.last_id, _HEAD.c.last_hash, _HEAD.c.signature).where(
            _HEAD.c.id == 1
        )
    ).first()


def _move_head(
    session: Session, found: "AuditEntry | None", added: int, last_id: int, last_hash: str
) -> None:
    """Sign the chain's new end (``added`` entries after ``found``, the last ``last_id`` with
    ``last_hash``), provided the head still vouches for ``found``: the end this write found
    under the chain lock.

    A head that does not (deleted, not signed by us, or at another entry: the chain was
    changed behind the app's back) is left as it is for ``verify`` to report: signing the new
    end would sign the change. The write itself goes on; the change is still recorded.
    """
    head = _head_row(session)
    if head is None:
        if found is not None:
            log.error("audit head missing while the record has entries: left missing")
            return
        new = Point(added, last_id, last_hash)
        session.execute(insert(_HEAD).values(id=1, **vars(new), signature=_sign_now(new)))
        return
    vouched = (found.id, found.hash) if found is not None else (0, "")
    if (head.last_id, head.last_hash) != vouched or not _signed(
        HEAD_REF, _point(head), head.signature
    ):
        log.error("audit head does not vouch for the chain's end: left as it is")
        return
    new = Point(head.entries + added, last_id, last_hash)
    session.execute(
        update(_HEAD).where(_HEAD.c.id == 1).values(**vars(new), signature=_sign_now(new))
    )


def _sign_now(point: Point, ref: str = HEAD_REF) -> str:
    """The signature of ``point`` for ``ref`` with the current SECRET_KEY."""
    return _sign(_keys()[0], ref, point)


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
    """Append one change to the record and move its signed head on (flushed, not committed)."""
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
    _move_head(session, last, 1, entry.id, entry.hash)
    return entry


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
    added = insert_rows(
        session,
        AuditEntry.__table__,
        ("action", "object_type", "object_id", "before", "after", "prev_hash", "hash"),
        rows,
        shared={"at": at, "user_id": user_id, "actor": actor},
    )
    # The chain is locked: the highest id is the last row just inserted.
    last_id = session.scalar(select(func.max(AuditEntry.id)))
    assert last_id is not None  # rows were just inserted
    _move_head(session, last, added, last_id, prev)
    return added


# ---- checking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    problem: str


@dataclass
class _Scan:
    """One pass over the chain: its length and ends, its first break, and where the entries
    some signature names stand (id -> position, hash; and the id of the entry after each)."""

    entries: int = 0
    first_id: int = 0
    last_id: int = 0
    last_hash: str = ""
    first_break: ChainBreak | None = None
    at: dict[int, tuple[int, str]] = field(default_factory=dict)
    next_id: dict[int, int] = field(default_factory=dict)


def _scan(db: "Session | Connection", wanted: Iterable[int] = ()) -> _Scan:
    wanted = set(wanted)
    scan, prev, waiting = _Scan(), "", None
    c = AuditEntry.__table__.c
    columns = (c.id, c.at, c.user_id, c.actor, c.action, c.object_type, c.object_id)
    rows = db.execute(
        select(*columns, c.before, c.after, c.prev_hash, c.hash)
        .order_by(c.id)
        .execution_options(yield_per=2000)
    )
    for row in rows:
        scan.entries += 1
        scan.first_id = scan.first_id or row.id
        if scan.first_break is None:
            if row.prev_hash != prev:
                scan.first_break = ChainBreak(row.id, "与上一条记录的链接不符")
            elif _entry_hash(row) != row.hash:
                scan.first_break = ChainBreak(row.id, "记录内容与哈希不符")
        prev = row.hash
        if waiting is not None:
            scan.next_id[waiting], waiting = row.id, None
        if row.id in wanted:
            scan.at[row.id], waiting = (scan.entries, row.hash), row.id
        scan.last_id, scan.last_hash = row.id, row.hash
    return scan


def verify_chain(session: Session) -> ChainBreak | None:
    """The first entry whose hash or link does not match, or None if the chain links whole
    (the chain alone: ``verify`` also checks its end against the signed head and anchors)."""
    return _scan(session).first_break


def _mismatch(subject: str, point: Point, scan: _Scan) -> str | None:
    """What is wrong between ``point`` (vouched for by ``subject``) and the chain, if anything."""
    if point.last_id == 0:
        return None  # an empty record: nothing to have lost
    n, i, m, last = point.entries, point.last_id, scan.entries, scan.last_id
    said = f"{subject}为第{i}条（共{n}条）"
    if i not in scan.at:
        if m == 0:
            return f"变更记录末尾被删除：{said}，现已没有任何记录"
        if last < i:
            return f"变更记录末尾被删除：{said}，现存最后一条为第{last}条（共{m}条）"
        return f"{subject}所指的第{i}条已不存在（现存{m}条，最后一条为第{last}条）：记录被删除"
    position, digest = scan.at[i]
    if digest != point.last_hash:
        return (
            f"变更记录第{i}条与{subject}不符：签名时哈希为{point.last_hash[:12]}…，"
            f"现为{digest[:12]}…；该条或其之前的记录被改动后重新计算了哈希"
        )
    if position != n:
        return f"{said}，现存至第{i}条共{position}条：其间有记录被删除或插入"
    return None


def _beyond(head: Point, scan: _Scan) -> str | None:
    """Entries after the head: every write moves the head on, so none were written by the app."""
    position = scan.at[head.last_id][0] if head.last_id else 0
    extra = scan.entries - position
    if extra <= 0:
        return None
    first = scan.next_id.get(head.last_id) if head.last_id else scan.first_id
    which = f"第{first}条" if extra == 1 else f"第{first}条至第{scan.last_id}条"
    said = f"止于第{head.last_id}条（共{head.entries}条）" if head.last_id else "为空（0条）"
    return (
        f"签名的记录头{said}，其后{extra}条记录（{which}）不在签名之内："
        "有人绕过系统追加了记录，或记录头被换成了旧的"
    )


def _unverifiable(name: str) -> str:
    return f"{name}的签名无法验证：SECRET_KEY 可能已更换（若未更换，则{name}不是本系统写的）"


KEY_HINT = (
    "若确已更换 SECRET_KEY，可在 SECRET_KEY_FALLBACKS 中保留旧密钥，"
    "或核实后运行 flask --app app audit seal 以新密钥重新签名"
)


@dataclass
class Verdict:
    """What ``verify`` found: the record's length, every problem (Chinese, one line each),
    and how many signatures it was checked against."""

    entries: int
    problems: list[str]
    head: bool  # a signed head was there to check
    anchors: int  # anchors checked: those in the database and those given

    def summary(self) -> str:
        """The line `audit verify` prints when nothing is wrong."""
        if not self.head:
            return f"变更记录完整：{self.entries}条。"
        also = f"及{self.anchors}个锚点" if self.anchors else ""
        return f"变更记录完整：{self.entries}条，哈希链接无误，与签名的记录头{also}一致。"


@contextmanager
def _one_view(session: Session) -> Iterator[Connection]:
    """A connection of its own that sees one state of the record, whatever commits meanwhile:
    PostgreSQL's REPEATABLE READ; on SQLite (tests, the demo) the chain lock, so writers wait
    the seconds a check takes. Reads what is committed; rolled back at the end."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)  # the application's sessions are bound to its engine
    postgresql = engine.dialect.name == "postgresql"
    options = {"isolation_level": "REPEATABLE READ"} if postgresql else {}
    with engine.connect().execution_options(**options) as conn:
        try:
            if not postgresql:
                _lock(conn)
            yield conn
        finally:
            conn.rollback()


def verify(session: Session, anchors: Iterable[tuple[str, dict]] = ()) -> Verdict:
    """Check the chain, its signed head, the anchors kept in the database and ``anchors``
    (name, signed head) given from elsewhere (a backup's manifest, a printed head)."""
    given = [(name, parse_anchor(anchor, name)) for name, anchor in anchors]
    with _one_view(session) as conn:
        head = _head_row(conn)
        kept = conn.execute(select(_ANCHOR).order_by(_ANCHOR.c.id)).all()
        wanted = [point.last_id for _, (point, _) in given] + [a.last_id for a in kept]
        scan = _scan(conn, wanted + ([head.last_id] if head else []))

    problems = []
    if scan.first_break:
        b = scan.first_break
        problems.append(f"变更记录第{b.entry_id}条：{b.problem}（共{scan.entries}条）")
    # A signature that fails while another kept in the database passes was not made with this
    # key; when none passes, the key has most likely been changed.
    signed = {a.id: _signed(a.ref, _point(a), a.signature) for a in kept}
    head_signed = head is not None and _signed(HEAD_REF, _point(head), head.signature)
    key_works = head_signed or any(signed.values())
    unverifiable = False
    if head is None:
        if scan.entries:
            problems.append(
                f"签名的记录头缺失：变更记录有{scan.entries}条（最后一条为第{scan.last_id}条），"
                "记录头被删除"
            )
    else:
        point = _point(head)
        if not head_signed:
            if key_works:
                problems.append("记录头的签名无效（锚点的签名有效，密钥未换）：记录头被改动")
            else:
                problems.append(_unverifiable("记录头"))
                unverifiable = True
        # Entries beyond a head that vouches for its own entry were not written by the app (it
        # moves the head on with every write) unless the head stopped moving: see _move_head.
        problem = _mismatch("签名的记录头", point, scan)
        if problem is None and head_signed:
            problem = _beyond(point, scan)
        if problem is not None:
            problems.append(problem)
    for a in kept:
        name = f"锚点「{a.label}」"
        if not signed[a.id]:
            if key_works:
                problems.append(f"{name}的签名无效（其他签名有效，密钥未换）：{name}被改动或移用")
            else:
                problems.append(_unverifiable(name))
                unverifiable = True
        if (problem := _mismatch(name, _point(a), scan)) is not None:
            problems.append(problem)
    for name, (point, signature) in given:
        if not _signed(HEAD_REF, point, signature):
            problems.append(_unverifiable(name))
            unverifiable = True
        if (problem := _mismatch(name, point, scan)) is not None:
            problems.append(problem)
    if unverifiable:
        problems.append(KEY_HINT)
    return Verdict(scan.entries, problems, head is not None, len(kept) + len(given))


# ---- anchors ---------------------------------------------------------------------------------


class NotAnAnchor(ValueError):
    """A dict (read from a file) that is not a signed head written by ``signed_head``."""


def parse_anchor(anchor: Any, name: str = "锚点") -> tuple[Point, str]:
    """The point and signature of a signed head (``signed_head``'s dict), or NotAnAnchor."""
    try:
        entries, last_id = anchor["entries"], anchor["last_id"]
        last_hash, signature = anchor["last_hash"], anchor["signature"]
        ok = anchor["format"] == HEAD_FORMAT and all(
            type(n) is int and n >= 0 for n in (entries, last_id)
        )
        ok = ok and isinstance(last_hash, str) and isinstance(signature, str)
    except (KeyError, TypeError):
        ok = False
    if not ok:
        raise NotAnAnchor(f"{name}不是变更记录头（应为 flask --app app audit head 的输出）")
    return Point(entries, last_id, last_hash), signature


def signed_head(session: Session) -> dict | None:
    """The record's current head, signed with the current SECRET_KEY, to keep outside the
    database (a backup's manifest, a file): ``check_anchor`` checks the record against it
    later. None when the head is missing or not signed by us (``verify`` says why)."""
    head = _head_row(session)
    if head is None:
        if session.scalar(select(func.count()).select_from(AuditEntry)):
            return None
        point = Point(0, 0, "")
    elif _signed(HEAD_REF, _point(head), head.signature):
        point = _point(head)
    else:
        return None
    return {
        "format": HEAD_FORMAT,
        **vars(point),
        "signature": _sign_now(point),
        "taken_at": now().isoformat(timespec="seconds"),
    }


def check_anchor(session: Session, anchor: dict, name: str = "备份中的记录头") -> str | None:
    """What is wrong between the record and a head taken earlier by ``signed_head`` (its
    signature, and whether the entry it names is still there with the same hash and number),
    or None. Checks that point only: ``verify`` checks the chain up to it."""
    try:
        point, signature = parse_anchor(anchor, name)
    except NotAnAnchor as e:
        return str(e)
    scan = _Scan(
        entries=session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        last_id=session.scalar(select(func.max(AuditEntry.id))) or 0,
    )
    if point.last_id:
        digest = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == point.last_id))
        if digest is not None:
            position = (
                session.scalar(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.id <= point.last_id)
                )
                or 0
            )
            scan.at[point.last_id] = (position, digest)
    problems = [] if _signed(HEAD_REF, point, signature) else [_unverifiable(name)]
    if (problem := _mismatch(name, point, scan)) is not None:
        problems.append(problem)
    return "；".join(problems) or None


def keep_anchor(session: Session, ref: str, label: str) -> AuditAnchor | None:
    """Keep a signed copy of the head with ``ref`` (e.g. "bulletin:12", named ``label`` in
    messages), in the transaction that just recorded the act it goes with, after that entry.
    Not kept (None, logged) when the head is missing or not signed by us: a copy would vouch
    for it."""
    head = _head_row(session)
    if head is None or not _signed(HEAD_REF, _point(head), head.signature):
        log.error("audit head missing or not signed by us: no anchor kept for %s", ref)
        return None
    point = _point(head)
    anchor = AuditAnchor(ref=ref, label=label, **vars(point), signature=_sign_now(point, ref))
    session.add(anchor)
    session.flush()
    return anchor


def seal(session: Session, user: Any) -> AuditEntry:
    """Sign the record as it stands with the current SECRET_KEY: its head, and every anchor
    that still matches the chain (after a change of key, or once a reported problem has been
    looked into). Refused (ValueError) if the chain does not link; the head it replaces is
    recorded as the ``before`` of an ``audit.seal`` entry (flushed, not committed)."""
    _lock(session)
    head = _head_row(session)
    kept = session.execute(select(_ANCHOR)).all()
    scan = _scan(session, [a.last_id for a in kept])
    if scan.first_break:
        b = scan.first_break
        raise ValueError(
            f"变更记录第{b.entry_id}条：{b.problem}（共{scan.entries}条）；哈希链断裂时不能重新签名"
        )
    before: dict[str, Any] = {}
    if head is not None:
        before = {**vars(_point(head)), "signed": _signed(HEAD_REF, _point(head), head.signature)}
    now_point = Point(scan.entries, scan.last_id, scan.last_hash)
    session.execute(_HEAD.delete())
    session.execute(insert(_HEAD).values(id=1, **vars(now_point), signature=_sign_now(now_point)))
    resigned = []
    for a in kept:
        if _mismatch("", _point(a), scan) is None and not _signed(a.ref, _point(a), a.signature):
            session.execute(
                update(_ANCHOR)
                .where(_ANCHOR.c.id == a.id)
                .values(signature=_sign_now(_point(a), a.ref))
            )
            resigned.append(a.label)
    return record(
        session,
        user=user,
        action="audit.seal",
        obj_type="audit_head",
        obj_id=1,
        before=before,
        after={**vars(now_point), "anchors_resigned": resigned},
    )
