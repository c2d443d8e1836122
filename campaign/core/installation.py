"""The first start of an installation without the demo (`flask --app app init`): the city
unit, the city's profile (its name and the issuing body new campaigns take) and the first
admin. Running it again with the same arguments changes nothing; with others, or on a
database that already has another admin, it is refused and nothing is written."""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from werkzeug.security import check_password_hash

from campaign import audit
from campaign.core.accounts import create_user
from campaign.core.db import Session
from campaign.core.errors import ValidationFailed
from campaign.core.models import CityProfile, Unit, User
from campaign.core.vocab import Role, UnitKind

CITY_UNIT_CODE = "city"
ADMIN_DISPLAY_NAME = "系统管理员"


@dataclass
class Initialized:
    """What ``initialize`` created (nothing when it had been run with the same arguments)."""

    created: list[str] = field(default_factory=list)


def _refuse(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed([(field_name, f"{message}；未做任何修改")])


def initialize(
    session: Session, city_name: str, issuing_body: str, admin: str, password: str
) -> Initialized:
    """The city unit (code ``city``, named after the issuing body: it is the city's Party
    organization department), the city's profile and the admin ``admin`` with ``password``,
    each made unless it exists as asked; all or nothing."""
    city_name, issuing_body, admin = city_name.strip(), issuing_body.strip(), admin.strip()
    problems = []
    if not city_name:
        problems.append(("city", "「城市」（--city）不能为空"))
    if not issuing_body:
        problems.append(("issuer", "「发文机关」（--issuer）不能为空"))
    if problems:
        raise ValidationFailed(problems)

    others = session.scalars(
        select(User.username).where(User.role == Role.ADMIN, User.username != admin)
    ).all()
    if others:
        raise _refuse(
            "admin",
            f"数据库中已有系统管理员“{'、'.join(others)}”：init 只用于首次启动。"
            "新增管理员请由现有管理员在“用户管理”页面添加",
        )
    profile = session.get(CityProfile, 1)
    if profile is not None and (profile.city_name, profile.issuing_body) != (
        city_name,
        issuing_body,
    ):
        raise _refuse(
            "city",
            f"本系统已初始化为“{profile.city_name}”（发文机关：{profile.issuing_body}），"
            "与本次参数不同。已有行动的发文机关在“行动设置”中修改",
        )
    existing = session.scalar(select(User).where(User.username == admin))
    if existing is not None and existing.role != Role.ADMIN:
        raise _refuse("admin", f"用户名“{admin}”已被使用（{existing.role_label}），不能作为管理员")
    if existing is not None and not check_password_hash(existing.password_hash, password):
        raise _refuse(
            "admin",
            f"管理员“{admin}”已存在，密码与本次输入的不同：init 不修改已有账号，"
            "重置密码请用 users reset-password",
        )

    done = Initialized()
    city = session.scalar(
        select(Unit).where((Unit.code == CITY_UNIT_CODE) | (Unit.kind == UnitKind.CITY))
    )
    if city is None:
        city = Unit(
            code=CITY_UNIT_CODE, name=issuing_body, kind=UnitKind.CITY, position=0, active=True
        )
        session.add(city)
        session.flush()
        done.created.append(f"市级单位“{city.name}”（代码 {city.code}）")
    if profile is None:
        session.add(CityProfile(id=1, city_name=city_name, issuing_body=issuing_body))
        done.created.append(f"城市“{city_name}”，新建行动的发文机关默认为“{issuing_body}”")
    if existing is None:
        create_user(
            session,
            admin,
            Role.ADMIN,
            password,
            city.code,
            ADMIN_DISPLAY_NAME,
            actor="init",
        )
        done.created.append(f"系统管理员“{admin}”")
    if done.created:
        session.flush()
        after: dict[str, Any] = {"city_name": city_name, "issuing_body": issuing_body}
        audit.record(
            session,
            user="init",
            action="system.init",
            obj_type="unit",
            obj_id=city.id,
            after={**after, "admin": admin},
        )
    return done
