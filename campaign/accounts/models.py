"""Units (责任单位 and the streets/parks below them), users and API tokens."""

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.clock import now
from campaign.db import Base
from campaign.text import text_field
from campaign.vocab import Role, UnitKind


class Unit(Base):
    """An administrative unit: the city, a district, a city department, or a street/town/park."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short, stable code used in the CLI, the API and file names (e.g. "jiangan").
    code: Mapped[str] = mapped_column(String(40), unique=True, info=text_field("单位代码"))
    name: Mapped[str] = mapped_column(String(100), info=text_field("单位名称"))
    kind: Mapped[UnitKind] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # A responsible unit (责任单位) keeps a ledger, reports half-monthly and is ranked.
    is_responsible: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    parent: Mapped["Unit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent", order_by="Unit.position")

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


def new_session_key() -> str:
    """A fresh random key; a session is valid while it carries its user's current key."""
    return secrets.token_urlsafe(24)


class User(Base):
    """A person who logs in; what they may see follows from role and unit."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, info=text_field("用户名"))
    display_name: Mapped[str] = mapped_column(String(80), default="", info=text_field("姓名"))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    email: Mapped[str] = mapped_column(String(200), default="", info=text_field("电子邮件"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    # Part of the id every session cookie carries (get_id); replaced on logout, when the user
    # is disabled, and by anything else that must end his sessions (accounts.end_sessions).
    session_key: Mapped[str] = mapped_column(String(40), default=new_session_key)

    unit: Mapped[Unit | None] = relationship()

    # The attributes Flask-Login reads, written out so models never import Flask.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # Flask-Login's "alternative id": a copied cookie dies with the key it carries.
        return f"{self.id}:{self.session_key}"

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class ApiToken(Base):
    """A bearer token for /api/v1; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
