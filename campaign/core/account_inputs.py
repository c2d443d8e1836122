"""What the account pages and the users API accept: the schemas (the OpenAPI document is made
from them) and the typed values campaign.core.accounts takes (campaign.core.inputs). No Flask.

A user's text (name, phone, email) is checked as it will be stored (control characters,
length) by the flush guard; its form (a username's characters, a phone number, an email
address) by the service, which reports every problem at once.
"""

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields

from campaign.core.inputs import Choice, Input, messages_required, messages_text, text
from campaign.core.models import User
from campaign.core.vocab import Role

USERNAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]{1,39}"
USERNAME_RULE = "2至40个字符：字母、数字、下划线、点或连字符，以字母或数字开头"
PHONE_PATTERN = r"\+?[0-9][0-9 \-]{3,17}[0-9]"
PHONE_RULE = "数字，可含开头的+号和区号后的连字符，如 13800000000 或 027-85000000"
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
ROLE_REFUSED = "「角色」无效：{input}"


class NewUserSchema(Schema):
    """A user an admin creates; his first password is a one-time one the system gives."""

    username = fields.String(
        required=True,
        error_messages=messages_required("用户名"),
        metadata={
            "description": f"用户名（{USERNAME_RULE}）",
            "pattern": f"^{USERNAME_PATTERN}$",
            "minLength": 2,
            "maxLength": 40,
        },
    )
    display_name = text(User.display_name, required=True, error_messages=messages_required("姓名"))
    role = Choice(Role, ROLE_REFUSED, required=True, error_messages=messages_required("角色"))
    unit = fields.String(
        load_default="",
        error_messages=messages_text("所属单位"),
        metadata={"description": "所属单位代码（单位填报员、单位负责人必填；须为在用的责任单位）"},
    )
    phone = text(
        User.phone,
        load_default="",
        error_messages=messages_text("手机号码"),
        metadata={"pattern": f"^({PHONE_PATTERN})?$"},
    )
    email = text(User.email, load_default="", error_messages=messages_text("电子邮件"))


class UserChangesSchema(Schema):
    """What an admin changes of a user; a field left out stays as it is (PATCH)."""

    display_name = text(User.display_name, error_messages=messages_text("姓名"))
    role = Choice(Role, ROLE_REFUSED)
    unit = fields.String(
        error_messages=messages_text("所属单位"),
        metadata={"description": "所属单位代码；空文本为不属于任何单位（仅市级角色）"},
    )
    phone = text(
        User.phone,
        error_messages=messages_text("手机号码"),
        metadata={"pattern": f"^({PHONE_PATTERN})?$"},
    )
    email = text(User.email, error_messages=messages_text("电子邮件"))
    active = fields.Boolean(
        error_messages={"invalid": "「状态」（active）应为 true 或 false"},
        metadata={"description": "false：停用（立即退出全部登录、作废API令牌）；true：重新启用"},
    )


class PasswordChangeSchema(Schema):
    """A user changing his own password."""

    old_password = fields.String(load_default="")
    new_password = fields.String(load_default="")
    new_password_again = fields.String(load_default="")


@dataclass(frozen=True, kw_only=True)
class NewUser(Input):
    """A user to create. ``unit`` is a unit's code ("" for none)."""

    username: str = ""
    display_name: str = ""
    role: Role | None = None
    unit: str = ""
    phone: str = ""
    email: str = ""

    @classmethod
    def from_form(cls, form: Any) -> "NewUser":
        return cls.read(NewUserSchema(), form)


@dataclass(frozen=True, kw_only=True)
class UserChanges(Input):
    """Changes to a user; None keeps what he has. ``unit`` "" takes him out of any unit."""

    display_name: str | None = None
    role: Role | None = None
    unit: str | None = None
    phone: str | None = None
    email: str | None = None
    active: bool | None = None

    @classmethod
    def from_form(cls, form: Any) -> "UserChanges":
        return cls.read(UserChangesSchema(), form)


@dataclass(frozen=True, kw_only=True)
class PasswordChange(Input):
    old_password: str = ""
    new_password: str = ""
    new_password_again: str = ""

    @classmethod
    def from_form(cls, form: Any) -> "PasswordChange":
        return cls.read(PasswordChangeSchema(), form)
