"""Users, passwords and API tokens: accounts created, changed, disabled and enabled by admins
(pages, API, CLI), one-time passwords, each user's own password change, logins.

Passwords: at least MIN_PASSWORD characters and hard to guess as zxcvbn (Dropbox's estimator)
judges them, counting the user's own name, username, phone and email as known words; see
``password_problems``. A one-time password an admin is given (a new account, a reset) lets
its user in once, to choose his own: nothing else opens until he has (User.must_change_password).
"""

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Select, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from campaign import audit
from campaign.audit import AuditEntry
from campaign.core.account_inputs import (
    EMAIL_PATTERN,
    PHONE_PATTERN,
    PHONE_RULE,
    USERNAME_PATTERN,
    USERNAME_RULE,
    NewUser,
    PasswordChange,
    UserChanges,
)
from campaign.core.clock import now
from campaign.core.db import Session, serialize
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Actor, ApiToken, Unit, User, new_session_key
from campaign.core.text import TextRefused, clean, cleaned_for
from campaign.core.vocab import Role

UNIT_ROLES = (Role.OPERATOR, Role.LEADER)
# Werkzeug's method string; create_app sets it from PASSWORD_HASH_METHOD (tests use a fast one).
HASH_METHOD = "scrypt"
MIN_PASSWORD = 10
MAX_PASSWORD = 128
# zxcvbn's score: 3 is "safely unguessable" (about 10^8 guesses or more).
MIN_STRENGTH = 3
# Words anyone guessing a Gongjian password tries first.
KNOWN_WORDS = ("gongjian", "bairi", "dangjian", "zuzhibu", "mima")
# Letters and digits no one confuses when a one-time password is read out (no 0/o, 1/l/i).
_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_USER_TABLE = User.metadata.tables["user"]


@functools.cache
def _dummy_hash(method: str) -> str:
    """Compared against when the username is unknown, so both cases take the same time: a
    hash made the way real ones are."""
    return generate_password_hash("not-a-real-password", method=method)


# ---- passwords ------------------------------------------------------------------------------


def _personal_words(values: Iterable[str]) -> list[str]:
    """What zxcvbn is told the user is known by: each value, and its parts (``jiangan_op``
    is guessed as ``jiangan`` and ``op`` too)."""
    words: list[str] = []
    for value in values:
        value = value.strip().lower()
        if value:
            words.append(value)
            words.extend(part for part in re.split(r"[\s_.@\-]+", value) if len(part) >= 3)
    return words


_HINTS = {
    "user_inputs": "不要使用用户名、姓名、手机号码或电子邮件",
    "dictionary": "避免常见密码和单词",
    "sequence": "避免 abc、123 这类连续字符",
    "repeat": "避免重复的字符或片段",
    "spatial": "避免键盘上相邻的按键（如 qwerty、1qaz）",
    "date": "避免日期",
    "regex": "避免年份",
}


def password_problems(
    password: str, personal: Sequence[str], field: str = "password", label: str = "密码"
) -> list[tuple[str, str]]:
    """Why ``password`` may not be used (field, Chinese message), or nothing: shorter than
    MIN_PASSWORD or longer than MAX_PASSWORD, a control character, the username in it, or a
    zxcvbn score below MIN_STRENGTH with ``personal`` (username, name, phone, email) as known
    words."""
    if len(password) < MIN_PASSWORD:
        return [(field, f"「{label}」至少{MIN_PASSWORD}个字符（现有{len(password)}个）")]
    if len(password) > MAX_PASSWORD:
        return [(field, f"「{label}」最多{MAX_PASSWORD}个字符（现有{len(password)}个）")]
    try:
        clean(password)
    except TextRefused as e:
        return [(field, f"「{label}」{e}")]
    lowered = password.lower()
    username = personal[0].strip().lower() if personal else ""
    if len(username) >= 3 and username in lowered:
        return [(field, f"「{label}」不能包含用户名")]
    result = zxcvbn(
        password, user_inputs=[*_personal_words(personal), *KNOWN_WORDS], max_length=MAX_PASSWORD
    )
    if result["score"] >= MIN_STRENGTH:
        return []
    hints = []
    for match in result["sequence"]:
        kind: str = match["pattern"]
        if kind == "dictionary" and match.get("dictionary_name") == "user_inputs":
            kind = "user_inputs"
        hint = _HINTS.get(kind)
        if hint and hint not in hints:
            hints.append(hint)
    advice = "；".join([*hints, "可用几个不相关的词加数字或符号组成"])
    return [
        (
            field,
            f"「{label}」太容易被猜到（强度{result['score']}/4，至少需要{MIN_STRENGTH}）：{advice}",
        )
    ]


def one_time_password() -> str:
    """A password for one login, easy to read out: three groups of four (about 59 bits)."""
    groups = ("".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


def _hash(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


# ---- what an account record says ------------------------------------------------------------


def unit_label(unit: Unit | None) -> str | None:
    """A unit as the change record names it: its name and code at the time."""
    return f"{unit.name}（{unit.code}）" if unit is not None else None


def _profile(user: User) -> dict[str, Any]:
    """A user's recorded fields, as the change record keeps them (no password, ever)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": str(user.role),
        "unit": unit_label(user.unit),
        "phone": user.phone,
        "email": user.email,
    }


def _unit_problems(
    session: Session, role: Role | None, code: str
) -> tuple[Unit | None, list[tuple[str, str]]]:
    """The unit ``code`` names for a user of ``role``, and what is wrong with it."""
    if not code:
        if role in UNIT_ROLES:
            return None, [("unit", "单位填报员和单位负责人必须指定所属单位")]
        if role == Role.VERIFIER:
            return None, [("unit", "核查部门用户必须指定所属核查部门")]
        return None, []
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        return None, [("unit", f"单位代码“{code}”不存在")]
    if not unit.active:
        return unit, [("unit", f"单位“{unit.name}”（{code}）已撤销，不能再有用户")]
    if role == Role.VERIFIER and not unit.remit:
        return unit, [
            (
                "unit",
                f"单位“{unit.name}”没有核查职责：核查部门用户须属于工商、商务等核查部门"
                "（flask units remit 设置）",
            )
        ]
    if role in UNIT_ROLES and not unit.is_responsible:
        return unit, [
            (
                "unit",
                f"单位“{unit.name}”不是责任单位：单位填报员和单位负责人须属于区或市直部门等责任单位",
            )
        ]
    return unit, []


def _text_problems(invalid: dict[str, str], **values: str | None) -> list[tuple[str, str]]:
    """What the flush guard would refuse in each of ``values`` (a User column's text: a
    control character, too long), said now, with the other problems."""
    problems = []
    for key, value in values.items():
        if value is None or key in invalid:
            continue
        try:
            cleaned_for(getattr(User, key), value, key)
        except ValidationFailed as e:
            problems += e.problems
            invalid[key] = ""
    return problems


def _format_problems(phone: str | None, email: str | None) -> list[tuple[str, str]]:
    problems = []
    if phone and not re.fullmatch(PHONE_PATTERN, phone.strip()):
        problems.append(("phone", f"「手机号码」格式不正确：应为{PHONE_RULE}"))
    if email and not re.fullmatch(EMAIL_PATTERN, email.strip()):
        problems.append(("email", f"「电子邮件」格式不正确：“{email[:50]}”"))
    return problems


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
        )
        or 0
    )


# ---- creating accounts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A user and the one-time password just given to him: shown once, only its hash kept."""

    user: User
    password: str


def _create(
    session: Session,
    new: NewUser,
    password: str,
    actor: Any,
    *,
    one_time: bool,
    checked: bool = True,
) -> User:
    """The user ``new`` describes, with ``password`` (his own, checked; or ``one_time``, which
    he must change at his first login), all or nothing; the same submission twice creates
    him once (Conflict)."""
    username = new.username.strip()
    problems = new.problems_of("username", "display_name", "role", "unit", "phone", "email")
    invalid = dict(problems)
    if "username" not in invalid and not re.fullmatch(USERNAME_PATTERN, username):
        try:
            clean(username)
            shown = username if len(username) <= 40 else username[:40] + "…"
            problems.append(("username", f"「用户名」“{shown}”不可用：应为{USERNAME_RULE}"))
        except TextRefused as e:
            problems.append(("username", f"「用户名」{e}"))
        invalid["username"] = ""
    if "role" not in invalid and new.role is None:
        problems.append(("role", "「角色」必填"))
    if "display_name" not in invalid and not new.display_name.strip():
        problems.append(("display_name", "「姓名」必填"))
    problems += _text_problems(
        invalid, display_name=new.display_name, phone=new.phone, email=new.email
    )
    unit, unit_problems = _unit_problems(session, new.role, new.unit.strip())
    if "unit" not in invalid:
        problems += unit_problems
    problems += [p for p in _format_problems(new.phone, new.email) if p[0] not in invalid]
    if checked and not one_time:
        personal = [username, new.display_name, new.phone, new.email]
        problems += password_problems(password, personal)
    if "username" not in invalid:
        # Two submissions of one form: the second waits for the first, then finds the user.
        serialize(session, _USER_TABLE, username)
        existing = session.scalar(select(User).where(User.username == username))
        if existing is not None:
            if not problems and _same(existing, new, unit):
                raise Conflict(
                    f"用户“{username}”已创建（同一表单重复提交），未重复创建；"
                    "如未记下一次性密码，请在该用户页面重置密码"
                )
            problems.insert(0, ("username", f"「用户名」“{username}”已被使用"))
    if problems:
        raise ValidationFailed(problems)
    assert new.role is not None
    user = User(
        username=username,
        role=new.role,
        unit=unit,
        display_name=new.display_name.strip(),
        phone=new.phone.strip(),
        email=new.email.strip(),
        password_hash=_hash(password),
        must_change_password=one_time,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        user=actor,
        action="user.create",
        obj_type="user",
        obj_id=user.id,
        after={**_profile(user), "must_change_password": user.must_change_password},
    )
    return user


def _same(user: User, new: NewUser, unit: Unit | None) -> bool:
    """Whether ``user`` is what ``new`` asks for (a repeated submission, not a clash)."""
    return (
        user.role == new.role
        and user.unit_id == (unit.id if unit else None)
        and user.display_name == new.display_name.strip()
        and user.phone == new.phone.strip()
        and user.email == new.email.strip()
    )


def open_account(session: Session, new: NewUser, actor: Any) -> Issued:
    """Create the user ``new`` describes with a one-time password (returned, to be shown
    once): he chooses his own at his first login."""
    password = one_time_password()
    return Issued(_create(session, new, password, actor, one_time=True), password)


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    unit_code: str | None = None,
    display_name: str = "",
    email: str = "",
    actor: Actor = None,
    *,
    phone: str = "",
    published_password: bool = False,
) -> User:
    """A new user with the password given (the CLI, the demo): unit roles need an active
    responsible unit; the password must pass ``password_problems``, unless it is
    ``published_password``: the demo's accounts share one printed in the
    README (``gongjian-demo``, which names the system); nothing else skips the check."""
    chosen = next((r for r in Role if r == role), None)
    new = NewUser(
        username=username,
        display_name=display_name or username,
        role=chosen,
        unit=unit_code or "",
        phone=phone,
        email=email,
        invalid={} if chosen else {"role": f"「角色」“{role}”无效，可选：{'、'.join(Role)}"},
    )
    return _create(session, new, password, actor, one_time=False, checked=not published_password)


# ---- changing accounts ----------------------------------------------------------------------


def _refuse_losing_the_last_admin(
    session: Session, user: User, actor: Actor, field: str = "active"
) -> None:
    """Refuse to disable (or demote) the actor himself, or the last active admin."""
    if getattr(actor, "id", None) == user.id:
        what = "停用自己的账号" if field == "active" else "取消自己的系统管理员角色"
        raise ValidationFailed([(field, f"不能{what}（请由另一名系统管理员操作）")])
    if user.role == Role.ADMIN and user.active and _active_admins(session) <= 1:
        raise ValidationFailed([(field, "至少须保留一名启用的系统管理员")])


def update_user(session: Session, user: User, changes: UserChanges, actor: Actor) -> dict[str, Any]:
    """Change a user's name, role, unit, phone, email and whether he is active, all or
    nothing; returns what changed (as recorded). Disabling ends his sessions and tokens."""
    serialize(session, _USER_TABLE, user.username)
    session.refresh(user)
    problems = changes.problems_of("display_name", "role", "unit", "phone", "email", "active")
    invalid = dict(problems)
    role = changes.role if changes.role is not None else user.role
    unit = user.unit
    if changes.unit is not None and changes.unit.strip() != (user.unit.code if user.unit else ""):
        unit, unit_problems = _unit_problems(session, role, changes.unit.strip())
        problems += [p for p in unit_problems if "unit" not in invalid]
    elif role in UNIT_ROLES and (unit is None or not unit.is_responsible):
        problems += _unit_problems(session, role, unit.code if unit else "")[1]
    if changes.display_name is not None and not changes.display_name.strip():
        problems.append(("display_name", "「姓名」必填"))
    problems += _text_problems(
        invalid, display_name=changes.display_name, phone=changes.phone, email=changes.email
    )
    problems += [p for p in _format_problems(changes.phone, changes.email) if p[0] not in invalid]
    demoted = user.role == Role.ADMIN and role != Role.ADMIN
    if (demoted or changes.active is False) and not problems and user.active:
        _refuse_losing_the_last_admin(session, user, actor, "role" if demoted else "active")
    if changes.active is True and not user.active and unit is not None and not unit.active:
        problems.append(("active", f"单位“{unit.name}”已撤销：请先把该用户改到在用的单位，再启用"))
    if problems:
        raise ValidationFailed(problems)

    before = _profile(user)
    if changes.display_name is not None:
        user.display_name = changes.display_name.strip()
    user.role = role
    user.unit = unit
    if changes.phone is not None:
        user.phone = changes.phone.strip()
    if changes.email is not None:
        user.email = changes.email.strip()
    session.flush()
    after = _profile(user)
    changed = [key for key in after if after[key] != before[key]]
    if changed:
        audit.record(
            session,
            user=actor,
            action="user.update",
            obj_type="user",
            obj_id=user.id,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
    done = {key: after[key] for key in changed}
    if changes.active is False and user.active:
        done["active"] = False
        disable_user(session, user, actor)
    elif changes.active is True and not user.active:
        done["active"] = True
        enable_user(session, user, actor)
    return done


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (without saying which part was wrong)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or len(password) > MAX_PASSWORD:
        check_password_hash(_dummy_hash(HASH_METHOD), password[:MAX_PASSWORD])
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def record_login(session: Session, user: User) -> None:
    """Note the moment ``user`` logged in (shown to admins as his last login)."""
    user.last_login_at = now()
    session.flush()


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

    Logout, a password change and a reset call it. API tokens are not touched.
    """
    user.session_key = new_session_key()
    session.flush()


def disable_user(session: Session, user: User, actor: Actor = None) -> None:
    """Stop ``user`` logging in: his sessions end and his API tokens are revoked for good.
    Refused for the actor himself and for the last active admin."""
    if not user.active:
        return
    _refuse_losing_the_last_admin(session, user, actor)
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
    """Let ``user`` log in again; he starts afresh (old sessions and tokens stay ended).
    Refused while his unit is retired."""
    if user.active:
        return
    if user.unit is not None and not user.unit.active:
        raise ValidationFailed(
            [("active", f"单位“{user.unit.name}”已撤销：请先把该用户改到在用的单位，再启用")]
        )
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


def reset_password(session: Session, user: User, actor: Any) -> str:
    """Give ``user`` a one-time password (returned, to be shown once) and end his sessions:
    he logs in with it and must choose his own before anything else. His API tokens stay
    (disable him to revoke those)."""
    password = one_time_password()
    user.password_hash = _hash(password)
    user.must_change_password = True
    end_sessions(session, user)
    audit.record(
        session,
        user=actor,
        action="user.reset_password",
        obj_type="user",
        obj_id=user.id,
        after={"must_change_password": True},
    )
    return password


def change_password(session: Session, user: User, change: PasswordChange) -> None:
    """``user`` replaces his password: the old one proves it is him; the new one is typed
    twice and must pass ``password_problems``. Every other session of his ends (the caller
    logs the current one in again)."""
    problems: list[tuple[str, str]] = []
    if not change.old_password:
        problems.append(("old_password", "「原密码」必填"))
    elif len(change.old_password) > MAX_PASSWORD or not check_password_hash(
        user.password_hash, change.old_password
    ):
        problems.append(("old_password", "「原密码」不正确"))
    personal = [user.username, user.display_name, user.phone, user.email]
    problems += password_problems(change.new_password, personal, "new_password", "新密码")
    if change.new_password != change.new_password_again:
        problems.append(("new_password_again", "两次输入的新密码不一致"))
    elif change.new_password and change.new_password == change.old_password:
        problems.append(("new_password", "「新密码」不能与原密码相同"))
    if problems:
        raise ValidationFailed(problems)
    forced = user.must_change_password
    user.password_hash = _hash(change.new_password)
    user.must_change_password = False
    end_sessions(session, user)
    audit.record(
        session,
        user=user,
        action="user.password",
        obj_type="user",
        obj_id=user.id,
        after={"after_reset": forced} if forced else None,
    )


def history(session: Session, user: User) -> list[AuditEntry]:
    """The change record of ``user``'s account, newest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "user", AuditEntry.object_id == str(user.id))
            .order_by(AuditEntry.id.desc())
        )
    )


# ---- API tokens -----------------------------------------------------------------------------


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


# ---- lists for the pages and the API ----------------------------------------------------------

USER_STATUSES = {"active": "启用", "disabled": "停用"}


def users_query(
    search: str = "", role: Role | None = None, status: str = ""
) -> Select[tuple[User]]:
    """Users whose username or name contains ``search``, of ``role``, ``active`` or
    ``disabled`` (any for ""), by username."""
    stmt = select(User).order_by(User.username)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            User.username.ilike(pattern, escape="\\")
            | User.display_name.ilike(pattern, escape="\\")
        )
    if role is not None:
        stmt = stmt.where(User.role == role)
    if status in USER_STATUSES:
        stmt = stmt.where(User.active.is_(status == "active"))
    return stmt


def assignable_units(session: Session) -> list[Unit]:
    """The units a user may be given: every active one, in display order."""
    return list(session.scalars(select(Unit).where(Unit.active).order_by(Unit.position, Unit.id)))
