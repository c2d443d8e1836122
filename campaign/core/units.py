"""The tree of units administered on the web, the API and the CLI: add, rename, move,
reorder, retire and reactivate (DOMAIN.md §2).

The tree: one city unit (市委组织部) at the root; districts (区, 开发区) and city departments
(市直部门) under it; streets, towns and parks under a district. A responsible unit
(``is_responsible``: the districts, and the departments keeping the ledger of city-level
social organizations, 市民政局 and 市直机关工委) keeps a ledger, reports and is ranked.

Codes are stable (never changed); a unit is never deleted: it is retired, which is refused
while it has active users or active units below it, or rows in a running campaign's ledger
(the ledger says so, hearing ``UnitRetiring``). Every change is recorded with before and
after. A unit added (or reactivated, or made responsible) publishes ``UnitAdded``: the
running campaigns give it its tasks at once.
"""

import re
from typing import Any

from sqlalchemy import func, select

from campaign import audit
from campaign.audit import AuditEntry
from campaign.core import events
from campaign.core.db import Session, serialize
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Actor, Unit, User
from campaign.core.text import cleaned_for
from campaign.core.unit_inputs import CODE_PATTERN, CODE_RULE, NewUnit, UnitChanges
from campaign.core.vocab import Remit, Role, UnitKind

# The kinds a unit of each kind may sit under (a city has none above it).
PARENT_KINDS: dict[UnitKind, tuple[UnitKind, ...]] = {
    UnitKind.CITY: (),
    UnitKind.DISTRICT: (UnitKind.CITY,),
    UnitKind.DEPARTMENT: (UnitKind.CITY,),
    UnitKind.STREET: (UnitKind.DISTRICT,),
    UnitKind.TOWN: (UnitKind.DISTRICT,),
    UnitKind.PARK: (UnitKind.DISTRICT,),
}
# Only these keep a ledger of their own (a street's rows are its district's).
RESPONSIBLE_KINDS = (UnitKind.DISTRICT, UnitKind.DEPARTMENT)
RECORDED = ["name", "parent_code", "position", "is_responsible", "active"]
_UNIT_TABLE = Unit.metadata.tables["unit"]


def _label(unit: Unit) -> str:
    return f"“{unit.name}”（{unit.code}）"


def _kind_label(kind: str) -> str:
    return UnitKind(kind).label


def _parent_problems(
    session: Session, kind: UnitKind, code: str
) -> tuple[Unit | None, list[tuple[str, str]]]:
    """The parent ``code`` names for a unit of ``kind``, and what is wrong with it."""
    allowed = PARENT_KINDS[kind]
    if not code:
        if allowed:
            wanted = "或".join(_kind_label(k) for k in allowed)
            return None, [("parent", f"「上级单位」必填：{_kind_label(kind)}须在{wanted}之下")]
        return None, []
    parent = session.scalar(select(Unit).where(Unit.code == code))
    if parent is None:
        return None, [("parent", f"「上级单位」代码“{code}”不存在")]
    if not allowed:
        return parent, [("parent", f"「上级单位」{_kind_label(kind)}是最上级，不能有上级单位")]
    if parent.kind not in allowed:
        wanted = "或".join(_kind_label(k) for k in allowed)
        return parent, [
            (
                "parent",
                f"「上级单位」{_label(parent)}是{_kind_label(parent.kind)}："
                f"{_kind_label(kind)}只能在{wanted}之下",
            )
        ]
    if not parent.active:
        return parent, [("parent", f"「上级单位」{_label(parent)}已撤销")]
    return parent, []


def _responsible_problems(kind: UnitKind, responsible: bool) -> list[tuple[str, str]]:
    if responsible and kind not in RESPONSIBLE_KINDS:
        return [
            (
                "is_responsible",
                f"「责任单位」{_kind_label(kind)}不能是责任单位：只有区和市直部门报送台账",
            )
        ]
    return []


def _name_problems(name: str | None) -> tuple[str, list[tuple[str, str]]]:
    if name is None:
        return "", []
    if not name.strip():
        return "", [("name", "「单位名称」必填")]
    try:
        return cleaned_for(Unit.name, name.strip(), "name"), []
    except ValidationFailed as e:
        return "", e.problems


def _next_position(session: Session, parent: Unit | None) -> int:
    stmt = select(func.max(Unit.position))
    stmt = (
        stmt.where(Unit.parent_id == parent.id) if parent else stmt.where(Unit.parent_id.is_(None))
    )
    return (session.scalar(stmt) or 0) + 1


def add_unit(session: Session, new: NewUnit, actor: Actor) -> Unit:
    """Add the unit ``new`` describes under its parent, all or nothing; every problem is
    reported at once, each naming its field. The same submission twice adds it once
    (Conflict)."""
    code = new.code.strip()
    problems = new.problems_of("code", "name", "kind", "parent", "position", "is_responsible")
    invalid = dict(problems)
    if "code" not in invalid and not re.fullmatch(CODE_PATTERN, code):
        shown = code if len(code) <= 40 else code[:40] + "…"
        shown = "".join(c if c.isprintable() else "�" for c in shown)
        problems.append(("code", f"「单位代码」“{shown}”不可用：应为{CODE_RULE}"))
        invalid["code"] = ""
    if "kind" not in invalid and new.kind is None:
        problems.append(("kind", "「类型」必填"))
    name, name_problems = _name_problems(new.name) if "name" not in invalid else ("", [])
    problems += name_problems
    parent: Unit | None = None
    if new.kind is not None and "parent" not in invalid:
        parent, parent_problems = _parent_problems(session, new.kind, new.parent.strip())
        problems += parent_problems
        if new.kind == UnitKind.CITY and session.scalar(
            select(Unit.id).where(Unit.kind == UnitKind.CITY, Unit.code != code)
        ):
            problems.append(("kind", "「类型」已有市级单位：一个系统只有一个市级单位"))
    responsible = (
        new.is_responsible if new.is_responsible is not None else new.kind == UnitKind.DISTRICT
    )
    if new.kind is not None:
        problems += _responsible_problems(new.kind, responsible)
    if "code" not in invalid:
        serialize(session, _UNIT_TABLE, code)
        existing = session.scalar(select(Unit).where(Unit.code == code))
        if existing is not None:
            if (
                not problems
                and existing.name == name
                and existing.kind == new.kind
                and existing.parent is parent
            ):
                raise Conflict(f"单位{_label(existing)}已添加（同一表单重复提交），未重复添加")
            problems.insert(0, ("code", f"「单位代码」“{code}”已被{_label(existing)}使用"))
    if problems:
        raise ValidationFailed(problems)
    assert new.kind is not None
    unit = Unit(
        code=code,
        name=name,
        kind=new.kind,
        parent=parent,
        is_responsible=responsible,
        position=new.position if new.position is not None else _next_position(session, parent),
    )
    session.add(unit)
    session.flush()
    audit.record(
        session,
        user=actor,
        action="unit.create",
        obj_type="unit",
        obj_id=unit.id,
        after={"code": unit.code, "kind": str(unit.kind), **audit.snapshot(unit, RECORDED)},
    )
    if unit.is_responsible:
        events.publish(session, events.UnitAdded(unit, user=actor))
    return unit


def _descendant_ids(session: Session, unit: Unit) -> set[int]:
    """Every unit below ``unit``, however deep."""
    found: set[int] = set()
    frontier = [unit.id]
    while frontier:
        below = list(session.scalars(select(Unit.id).where(Unit.parent_id.in_(frontier))))
        below = [i for i in below if i not in found]
        found.update(below)
        frontier = below
    return found


def _retire_problems(session: Session, unit: Unit, actor: Actor) -> list[tuple[str, str]]:
    """Why ``unit`` may not be retired: active users, active units below it, and whatever
    the areas say (the ledger: rows in a running campaign)."""
    problems = []
    users = session.scalar(
        select(func.count()).select_from(User).where(User.unit_id == unit.id, User.active)
    )
    if users:
        problems.append(
            (
                "active",
                f"单位{_label(unit)}还有{users}个启用的用户，不能撤销："
                "请先停用这些用户或把他们改到其他单位",
            )
        )
    children = session.scalar(
        select(func.count()).select_from(Unit).where(Unit.parent_id == unit.id, Unit.active)
    )
    if children:
        problems.append(
            (
                "active",
                f"单位{_label(unit)}下还有{children}个在用的下级单位，不能撤销：请先撤销或移走它们",
            )
        )
    veto = events.UnitRetiring(unit, user=actor)
    events.publish(session, veto)
    return problems + veto.problems


def update_unit(session: Session, unit: Unit, changes: UnitChanges, actor: Actor) -> dict[str, Any]:
    """Rename, move (a new parent), reorder, make responsible or not, retire or reactivate
    ``unit``, all or nothing; returns what changed (as recorded)."""
    serialize(session, _UNIT_TABLE, unit.code)
    session.refresh(unit)
    problems = changes.problems_of("name", "parent", "position", "is_responsible", "active")
    invalid = dict(problems)
    name, name_problems = ("", []) if "name" in invalid else _name_problems(changes.name)
    problems += name_problems
    kind = UnitKind(unit.kind)
    parent = unit.parent
    if changes.parent is not None and "parent" not in invalid:
        code = changes.parent.strip()
        if code != (unit.parent.code if unit.parent else ""):
            target = session.scalar(select(Unit).where(Unit.code == code)) if code else None
            if target is not None and (
                target.id == unit.id or target.id in _descendant_ids(session, unit)
            ):
                problems.append(
                    (
                        "parent",
                        f"「上级单位」{_label(target)}是{_label(unit)}本身或其下级单位："
                        "不能把单位移到自己之下",
                    )
                )
            else:
                parent, parent_problems = _parent_problems(session, kind, code)
                problems += parent_problems
    responsible = unit.is_responsible if changes.is_responsible is None else changes.is_responsible
    if responsible != unit.is_responsible:
        problems += _responsible_problems(kind, responsible)
    retiring = changes.active is False and unit.active
    reactivating = changes.active is True and not unit.active
    if retiring and not problems:
        problems += _retire_problems(session, unit, actor)
    if reactivating and parent is not None and not parent.active:
        problems.append(
            (
                "active",
                f"上级单位{_label(parent)}已撤销：请先恢复上级单位，或把本单位移到在用的单位下",
            )
        )
    if problems:
        raise ValidationFailed(problems)

    gains_work = (reactivating and responsible) or (
        responsible and not unit.is_responsible and unit.active
    )
    with audit.recorded_change(session, unit, RECORDED, user=actor, action="unit.update") as change:
        if changes.name is not None:
            unit.name = name
        if parent is not unit.parent:
            unit.parent = parent
            if changes.position is None:
                unit.position = _next_position(session, parent)
        if changes.position is not None:
            unit.position = changes.position
        unit.is_responsible = responsible
        if changes.active is not None:
            unit.active = changes.active
        session.flush()
    if gains_work:
        events.publish(session, events.UnitAdded(unit, user=actor))
    return dict(change.after)


def retire_unit(session: Session, unit: Unit, actor: Actor) -> dict[str, Any]:
    return update_unit(session, unit, UnitChanges(active=False), actor)


def reactivate_unit(session: Session, unit: Unit, actor: Actor) -> dict[str, Any]:
    return update_unit(session, unit, UnitChanges(active=True), actor)


# ---- reading --------------------------------------------------------------------------------


def tree(session: Session) -> list[tuple[Unit, int]]:
    """Every unit in tree order (each under its parent, siblings by position), with its depth."""
    units = list(session.scalars(select(Unit).order_by(Unit.position, Unit.id)))
    below: dict[int | None, list[Unit]] = {}
    for u in units:
        below.setdefault(u.parent_id, []).append(u)
    out: list[tuple[Unit, int]] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> None:
        for u in below.get(parent_id, []):
            if u.id not in seen:
                seen.add(u.id)
                out.append((u, depth))
                walk(u.id, depth + 1)

    walk(None, 0)
    out += [(u, 0) for u in units if u.id not in seen]  # never: the tree has no cycles
    return out


def user_counts(session: Session) -> dict[int, int]:
    """How many active users each unit has."""
    rows = session.execute(
        select(User.unit_id, func.count()).where(User.active).group_by(User.unit_id)
    )
    return {unit_id: count for unit_id, count in rows if unit_id is not None}


def unit_by_code(session: Session, code: str) -> Unit | None:
    return session.scalar(select(Unit).where(Unit.code == code))


def history(session: Session, unit: Unit) -> list[AuditEntry]:
    """The change record of ``unit``, newest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "unit", AuditEntry.object_id == str(unit.id))
            .order_by(AuditEntry.id.desc())
        )
    )


def set_remit(session: Session, unit: Unit, remit: str, actor: Actor) -> dict[str, Any]:
    """Make ``unit`` (a city department) a verifying department with ``remit`` (vocab.Remit;
    "" for none), recorded; it then owes the departments' deliverables in the running
    campaigns at once. Returns what changed."""
    serialize(session, _UNIT_TABLE, unit.code)
    session.refresh(unit)
    if remit and remit not in {r.value for r in Remit}:
        known = "、".join(f"{r.value}（{r.label}）" for r in Remit)
        raise ValidationFailed([("remit", f"核查职责“{remit}”无效（可选：{known}）")])
    if remit and unit.kind != UnitKind.DEPARTMENT:
        raise ValidationFailed([("remit", f"单位{_label(unit)}不是市直部门，不能承担核查职责")])
    if not remit and unit.remit:
        verifiers = session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.unit_id == unit.id, User.active, User.role == Role.VERIFIER)
        )
        if verifiers:
            raise ValidationFailed(
                [
                    (
                        "remit",
                        f"单位{_label(unit)}还有{verifiers}个启用的核查部门用户，不能取消核查职责："
                        "请先停用这些用户或改为其他角色",
                    )
                ]
            )
    with audit.recorded_change(
        session, unit, ["remit"], user=actor, action="unit.update"
    ) as change:
        unit.remit = remit
    session.flush()
    if change.after and remit:
        events.publish(session, events.UnitAdded(unit, user=actor))
    return change.after
