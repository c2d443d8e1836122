"""Users, passwords and API tokens."""

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from campaign import audit
from campaign.accounts.models import ApiToken, Unit, User
from campaign.errors import ValidationFailed
from campaign.vocab import Role

UNIT_ROLES = (Role.OPERATOR, Role.LEADER)
# Werkzeug's method string; create_app sets it from PASSWORD_HASH_METHOD (tests use a fast one).
HASH_METHOD = "scrypt"
MIN_PASSWORD = 8
# Compared against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    unit_code: str | None = None,
    display_name: str = "",
    email: str = "",
    actor=None,
) -> User:
    """A new user; unit roles need a responsible unit, passwords at least 8 characters."""
    problems = []
    try:
        role = Role(role)
    except ValueError:
        problems.append(("role", f"角色“{role}”无效，可选：{'、'.join(r.value for r in Role)}"))
    unit = None
    if unit_code:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            problems.append(("unit", f"单位代码“{unit_code}”不存在"))
    elif role in UNIT_ROLES:
        problems.append(("unit", "单位填报员和单位负责人必须指定所属单位（--unit）"))
    if not username or session.scalar(select(User).where(User.username == username)):
        problems.append(("username", f"用户名“{username}”为空或已被使用"))
    if len(password) < MIN_PASSWORD:
        problems.append(("password", f"密码至少{MIN_PASSWORD}位"))
    if problems:
        raise ValidationFailed(problems)
    user = User(
        username=username,
        role=role,
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
        after={"username": username, "role": role.value, "unit": unit_code},
    )
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (without saying which part was wrong)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


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
