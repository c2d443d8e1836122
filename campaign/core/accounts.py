"""Users, passwords and API tokens."""

import functools
import hashlib
import hmac
import re
import secrets
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from werkzeug.security import check_password_hash, generate_password_hash

from campaign import audit
from campaign.core.clock import now
from campaign.core.db import Session
from campaign.core.errors import ValidationFailed
from campaign.core.models import Actor, ApiToken, Unit, User, new_session_key
from campaign.core.vocab import Role

UNIT_ROLES = (Role.OPERATOR, Role.LEADER)
# Werkzeug's method string; create_app sets it from PASSWORD_HASH_METHOD (tests use a fast one).
HASH_METHOD = "scrypt"
MIN_PASSWORD = 8


@functools.cache
def _dummy_hash(method: str) -> str:
    """Compared against when the username is unknown, so both cases take the same time: a
    hash made the way real ones are."""
    return generate_password_hash("not-a-real-password", method=method)


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    unit_code: str | None = None,
    display_name: str = "",
    email: str = "",
    actor: Actor = None,
) -> User:
    """A new user; unit roles need a responsible unit, passwords at least 8 characters."""
    problems = []
    member: Role | None
    try:
        member = Role(role)
    except ValueError:
        member = None
        problems.append(("role", f"角色“{role}”无效，可选：{'、'.join(r.value for r in Role)}"))
    unit = None
    if unit_code:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            problems.append(("unit", f"单位代码“{unit_code}”不存在"))
    elif member in UNIT_ROLES:
        problems.append(("unit", "单位填报员和单位负责人必须指定所属单位（--unit）"))
    if not username or session.scalar(select(User).where(User.username == username)):
        problems.append(("username", f"用户名“{username}”为空或已被使用"))
    if len(password) < MIN_PASSWORD:
        problems.append(("password", f"密码至少{MIN_PASSWORD}位"))
    if problems or member is None:  # no role is a problem named above
        raise ValidationFailed(problems)
    user = User(
        username=username,
        role=member,
        unit=unit,
        display_name=display_name or username,
        email=email,
        password_hash=generate_password_hash(password, method=HASH_METHOD),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        user=actor,
        action="user.create",
        obj_type="user",
        obj_id=user.id,
        after={"username": username, "role": member.value, "unit": unit_code},
    )
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (without saying which part was wrong)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_dummy_hash(HASH_METHOD), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def user_for_session(session: Session, session_id: str) -> User | None:
    """The active user whose current session id ("<user id>:<key>", see User.get_id) this
    is, or None: an ended session, a disabled user, a cookie from before session keys."""
    user_id, _, key = session_id.partition(":")
    if not re.fullmatch(r"[0-9]{1,9}", user_id) or not key:  # 9 digits: within an INTEGER
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    return user if hmac.compare_digest(user.session_key.encode(), key.encode()) else None


def end_sessions(session: Session, user: User) -> None:
    """End every session ``user`` has (every browser, every copy of the cookie) at once.

    Logout calls it; so will a password change or reset. API tokens are not touched.
    """
    user.session_key = new_session_key()
    session.flush()


def disable_user(session: Session, user: User, actor: Actor = None) -> None:
    """Stop ``user`` logging in: his sessions end and his API tokens are revoked for good."""
    if not user.active:
        return
    user.active = False
    end_sessions(session, user)
    revoked = cast(
        CursorResult[Any],  # a DML statement's result (Session.execute is typed for any)
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now())
        ),
    ).rowcount
    audit.record(
        session,
        user=actor,
        action="user.disable",
        obj_type="user",
        obj_id=user.id,
        before={"active": True},
        after={"active": False, "tokens_revoked": revoked},
    )


def enable_user(session: Session, user: User, actor: Actor = None) -> None:
    """Let ``user`` log in again; he starts afresh (old sessions and tokens stay ended)."""
    if user.active:
        return
    user.active = True
    audit.record(
        session,
        user=actor,
        action="user.enable",
        obj_type="user",
        obj_id=user.id,
        before={"active": False},
        after={"active": True},
    )
    session.flush()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User) -> str:
    """A new API bearer token for ``user``; shown once, only its hash is kept."""
    token = "gj_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=_token_hash(token)))
    audit.record(session, user=user, action="token.issue", obj_type="user", obj_id=user.id)
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    return row.user if row and row.user.active else None
