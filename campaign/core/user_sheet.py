"""Accounts as xlsx, the same way as the units tree (campaign.core.unit_sheet): one sheet, one
user a row (用户名, 姓名, 角色, 所属单位代码, 手机号码, 电子邮件), written from the accounts and
read back row by row.

Reading refuses a file whole: every problem is named by its row and column ("第3行「角色」…")
and nothing is kept (``import_users`` runs inside the one commit path). A username already in
the system is that user: its row changes his name, role, unit, phone or email; a new one
opens an account with a one-time password, returned to be shown once (he chooses his own at
his first login). Never a password in the file. No Flask here.
"""

import io
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select

from campaign.core import accounts
from campaign.core.account_inputs import NewUser, UserChanges
from campaign.core.db import Session
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Actor, User
from campaign.core.text import TextRefused, clean
from campaign.core.unit_sheet import MAX_ROWS, _cell, _refused, _rows, _text
from campaign.core.vocab import Role

SHEET = "用户"
COLUMNS = {
    "username": "用户名",
    "display_name": "姓名",
    "role": "角色",
    "unit": "所属单位代码",
    "phone": "手机号码",
    "email": "电子邮件",
}
REQUIRED = ("username", "display_name", "role")


def export(session: Session) -> bytes:
    """Every user (no password), by username: the file ``import_users`` reads."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    for letter, width in zip("ABCDEF", (20, 16, 14, 18, 16, 26), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    dv = DataValidation(
        type="list", formula1='"' + ",".join(r.label for r in Role) + '"', allow_blank=True
    )
    dv.add(f"C2:C{MAX_ROWS + 1}")
    ws.data_validations.append(dv)
    ws.append([_cell(ws, header, header=True) for header in COLUMNS.values()])
    for user in session.scalars(select(User).order_by(User.username)):
        ws.append(
            [
                _cell(ws, user.username),
                _cell(ws, user.display_name),
                _cell(ws, Role(user.role).label),
                _cell(ws, user.unit.code if user.unit else ""),
                _cell(ws, user.phone),
                _cell(ws, user.email),
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass
class Row:
    """One user as a row of the file gives him (``line``: its row number in the sheet)."""

    line: int
    username: str = ""
    display_name: str = ""
    role: Role | None = None
    unit: str = ""
    phone: str = ""
    email: str = ""


def read(data: bytes) -> list[Row]:
    """The users an xlsx file lists, each row checked on its own (its text, its role, a
    username once); ValidationFailed naming every row and column at fault."""
    rows = _rows(data)
    if not rows:
        raise _refused(
            "文件是空的：第1行应为表头（用户名、姓名、角色、所属单位代码、手机号码、电子邮件）"
        )
    header = [_text(v) for v in rows[0]]
    where = {key: header.index(title) for key, title in COLUMNS.items() if title in header}
    missing = [COLUMNS[k] for k in REQUIRED if k not in where]
    if missing:
        raise _refused(f"第1行（表头）缺少列「{'」「'.join(missing)}」")
    found: list[Row] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for line, values in enumerate(rows[1:], start=2):
        if all(_text(v) == "" for v in values):
            continue
        row = Row(line)
        for key in ("username", "display_name", "unit", "phone", "email"):
            i = where.get(key)
            raw = values[i] if i is not None and i < len(values) else None
            try:
                setattr(row, key, clean(_text(raw)))
            except TextRefused as e:
                problems.append(f"第{line}行「{COLUMNS[key]}」{e}")
        i = where["role"]
        role = _text(values[i] if i < len(values) else None)
        if not role:
            problems.append(f"第{line}行「角色」必填")
        else:
            row.role = next((r for r in Role if role in (r.label, r.value)), None)
            if row.role is None:
                choices = "、".join(r.label for r in Role)
                problems.append(f"第{line}行「角色」“{role[:20]}”无效，可选：{choices}")
        if row.username and row.username in first_line:
            was = first_line[row.username]
            problems.append(f"第{line}行「用户名」“{row.username}”与第{was}行重复")
        elif row.username:
            first_line[row.username] = line
        found.append(row)
    if not found and not problems:
        raise _refused("文件中没有用户：表头下没有数据行")
    if problems:
        raise ValidationFailed([("file", p) for p in problems])
    return found


def _at(line: int, key: str, message: str) -> str:
    """A service's problem as the file's row and column say it."""
    column = COLUMNS.get(key)
    if column is None:
        return f"第{line}行：{message}"
    if message.startswith("「"):
        return f"第{line}行「{column}」" + message[message.index("」") + 1 :]
    return f"第{line}行「{column}」{message}"


@dataclass
class Outcome:
    """What an import did (or, in a dry run, would do): a line for each row it changes, and
    the one-time passwords of the accounts it opened (username, name, password)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    issued: list[tuple[str, str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [*self.added, *self.changed]

    @property
    def summary(self) -> str:
        return f"新增{len(self.added)}个用户，修改{len(self.changed)}个，{self.unchanged}个不变"


_CHANGED = {
    "display_name": "姓名",
    "role": "角色",
    "unit": "所属单位",
    "phone": "手机号码",
    "email": "电子邮件",
}


def _shown(key: str, value: Any) -> str:
    if key == "role" and value:
        return Role(value).label
    return "无" if value in (None, "") else str(value)


def import_users(session: Session, data: bytes, actor: Actor) -> Outcome:
    """Open and change the accounts the file lists, all or nothing (flushed, not committed):
    ValidationFailed with every row's problem."""
    rows = read(data)
    outcome = Outcome()
    problems: list[str] = []
    for row in rows:
        existing = session.scalar(select(User).where(User.username == row.username))
        try:
            if existing is None:
                issued = accounts.open_account(
                    session,
                    NewUser(
                        username=row.username,
                        display_name=row.display_name,
                        role=row.role,
                        unit=row.unit,
                        phone=row.phone,
                        email=row.email,
                    ),
                    actor,
                )
                role = Role(issued.user.role).label
                unit = f"，{row.unit}" if row.unit else ""
                outcome.added.append(
                    f"第{row.line}行 新增 {row.username} {row.display_name}（{role}{unit}）"
                )
                outcome.issued.append((row.username, row.display_name, issued.password))
                continue
            done = accounts.update_user(
                session,
                existing,
                UserChanges(
                    display_name=row.display_name,
                    role=row.role,
                    unit=row.unit,
                    phone=row.phone,
                    email=row.email,
                ),
                actor,
            )
        except ValidationFailed as e:
            problems += [_at(row.line, key, message) for key, message in e.problems]
            continue
        except Conflict as e:
            problems.append(f"第{row.line}行：{e.message}")
            continue
        if done:
            what = "；".join(
                f"{_CHANGED.get(k, k)}改为{_shown(k, v)}" for k, v in done.items() if k in _CHANGED
            )
            outcome.changed.append(f"第{row.line}行 修改 {row.username}：{what}")
        else:
            outcome.unchanged += 1
    if problems:
        raise ValidationFailed([("file", p) for p in problems])
    return outcome
