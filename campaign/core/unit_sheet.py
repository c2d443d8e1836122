"""The units tree as xlsx: one sheet, one unit a row (代码, 名称, 类型, 上级代码, 排序, and
责任单位 where the file has it), written in tree order and read back row by row.

Reading refuses a file whole: every problem is named by its row and column ("第3行「上级代码」…")
and nothing is kept (``import_units`` runs inside the one commit path). A code already in
the system is that unit: its row renames, moves or reorders it; a new code adds a unit under
its parent, which may be a row above or below it in the same file. No Flask here.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.datavalidation import DataValidation

from campaign.core import units
from campaign.core.db import Session
from campaign.core.errors import ValidationFailed
from campaign.core.models import Actor
from campaign.core.styled_cells import header_cells, safe_value
from campaign.core.text import TextRefused, clean
from campaign.core.unit_inputs import NewUnit, UnitChanges
from campaign.core.vocab import UnitKind

SHEET = "单位"
COLUMNS = {
    "code": "代码",
    "name": "名称",
    "kind": "类型",
    "parent": "上级代码",
    "position": "排序",
    "is_responsible": "责任单位",
}
REQUIRED = ("code", "name", "kind", "parent", "position")
YES, NO = "是", "否"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ROWS = 5000


# ---- writing ---------------------------------------------------------------------------------


def _cell(ws: Any, value: Any, header: bool = False) -> Any:
    return header_cells(ws, [value])[0] if header else safe_value(ws, value)


def export(session: Session) -> bytes:
    """Every unit, in tree order (a parent above its children): the file ``read`` takes."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    for letter, width in zip("ABCDEF", (18, 28, 14, 18, 8, 10), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    for letter, choices in (("C", [k.label for k in UnitKind]), ("F", [YES, NO])):
        dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
        dv.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
        ws.data_validations.append(dv)
    ws.append([_cell(ws, header, header=True) for header in COLUMNS.values()])
    for unit, _depth in units.tree(session):
        ws.append(
            [
                _cell(ws, unit.code),
                _cell(ws, unit.name),
                _cell(ws, UnitKind(unit.kind).label),
                _cell(ws, unit.parent.code if unit.parent else ""),
                _cell(ws, unit.position),
                _cell(ws, YES if unit.is_responsible else NO),
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- reading ---------------------------------------------------------------------------------


@dataclass
class Row:
    """One unit as a row of the file gives it (``line``: its row number in the sheet)."""

    line: int
    code: str
    name: str
    kind: UnitKind | None
    parent: str
    position: int | None
    is_responsible: bool | None
    problems: list[str] = field(default_factory=list)


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed([("file", message)])


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _rows(data: bytes) -> list[tuple[Any, ...]]:
    """The first sheet's rows as values, or the reason the file cannot be read."""
    if len(data) > MAX_FILE_BYTES:
        raise _refused(f"文件超过{MAX_FILE_BYTES // 1024 // 1024}MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except zipfile.BadZipFile:
        raise _refused("文件不是有效的xlsx（Excel 2007及以上）文件") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise _refused("文件解压后过大，不像是单位表")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged package
        raise _refused("文件无法读取：不是有效的xlsx文件或已损坏") from None
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        rows = []
        for values in ws.iter_rows(values_only=True):
            rows.append(tuple(values))
            if len(rows) > MAX_ROWS + 1:
                raise _refused(f"单位表最多{MAX_ROWS}行")
        return rows
    finally:
        wb.close()


def read(data: bytes) -> list[Row]:
    """The units an xlsx file lists, each row checked on its own (its codes, its kind, its
    order number, its text); ValidationFailed naming every row and column at fault."""
    rows = _rows(data)
    if not rows:
        raise _refused("文件是空的：第1行应为表头（代码、名称、类型、上级代码、排序）")
    header = [_text(v) for v in rows[0]]
    where: dict[str, int] = {}
    for key, title in COLUMNS.items():
        if title in header:
            where[key] = header.index(title)
    missing = [COLUMNS[k] for k in REQUIRED if k not in where]
    if missing:
        raise _refused(f"第1行（表头）缺少列「{'」「'.join(missing)}」")
    found: list[Row] = []
    problems: list[tuple[str, str]] = []
    first_line: dict[str, int] = {}
    for line, values in enumerate(rows[1:], start=2):

        def get(key: str, values: tuple[Any, ...] = values) -> Any:
            i = where.get(key)
            return values[i] if i is not None and i < len(values) else None

        if all(_text(v) == "" for v in values):
            continue
        row = Row(line, _text(get("code")), "", None, "", None, None)
        for key in ("code", "name", "parent"):
            raw = get(key)
            try:
                value = clean(_text(raw))
            except TextRefused as e:
                row.problems.append(f"第{line}行「{COLUMNS[key]}」{e}")
                continue
            setattr(row, key, value)
        kind = _text(get("kind"))
        if not kind:
            row.problems.append(f"第{line}行「类型」必填")
        else:
            row.kind = next((k for k in UnitKind if kind in (k.label, k.value)), None)
            if row.kind is None:
                choices = "、".join(k.label for k in UnitKind)
                shown = kind[:20]
                row.problems.append(f"第{line}行「类型」“{shown}”无效，可选：{choices}")
        position = _text(get("position"))
        if position:
            if re.fullmatch(r"[0-9]{1,6}", position):
                row.position = int(position)
            else:
                row.problems.append(f"第{line}行「排序」应为非负整数，而不是“{position[:20]}”")
        responsible = _text(get("is_responsible"))
        if responsible in (YES, NO):
            row.is_responsible = responsible == YES
        elif responsible:
            row.problems.append(f"第{line}行「责任单位」应为“是”或“否”，而不是“{responsible[:20]}”")
        if row.code and row.code in first_line:
            row.problems.append(f"第{line}行「代码」“{row.code}”与第{first_line[row.code]}行重复")
        elif row.code:
            first_line[row.code] = line
        problems += [("file", p) for p in row.problems]
        found.append(row)
    if not found and not problems:
        raise _refused("文件中没有单位：表头下没有数据行")
    if problems:
        raise ValidationFailed(problems)
    return found


# ---- importing -------------------------------------------------------------------------------


def _in_order(rows: list[Row]) -> tuple[list[Row], list[Row]]:
    """The rows with each parent given in the file before its children, and the rows caught
    in a loop of parents within the file."""
    by_code = {r.code: r for r in rows}
    done: set[str] = set()
    ordered: list[Row] = []
    waiting = list(rows)
    while waiting:
        ready = [r for r in waiting if r.parent not in by_code or r.parent in done]
        if not ready:
            return ordered, waiting
        for r in ready:
            ordered.append(r)
            done.add(r.code)
        waiting = [r for r in waiting if r.code not in done]
    return ordered, []


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
    """What an import did (or, in a dry run, would do), a line for each row."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0

    def lines(self) -> list[str]:
        return [*self.added, *self.changed]

    @property
    def summary(self) -> str:
        return f"新增{len(self.added)}个单位，修改{len(self.changed)}个，{self.unchanged}个不变"


_CHANGED = {
    "name": "名称",
    "parent_code": "上级代码",
    "position": "排序",
    "is_responsible": "责任单位",
}


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return YES if value else NO
    return "无" if value is None else str(value)


def import_units(session: Session, data: bytes, actor: Actor) -> Outcome:
    """Add and change the units the file lists, all or nothing (flushed, not committed):
    ValidationFailed with every row's problem."""
    rows = read(data)
    ordered, looped = _in_order(rows)
    problems = [
        _at(r.line, "parent", f"“{r.parent}”与本文件中其他行的上级代码互相引用，形成循环")
        for r in sorted(looped, key=lambda r: r.line)
    ]
    outcome = Outcome()
    failed: set[str] = set()
    for row in ordered:
        if row.parent in failed:
            problems.append(_at(row.line, "parent", f"上级单位“{row.parent}”所在的行有误"))
            failed.add(row.code)
            continue
        existing = units.unit_by_code(session, row.code)
        try:
            if existing is None:
                unit = units.add_unit(
                    session,
                    NewUnit(
                        code=row.code,
                        name=row.name,
                        kind=row.kind,
                        parent=row.parent,
                        position=row.position,
                        is_responsible=row.is_responsible,
                    ),
                    actor,
                )
                kind = UnitKind(unit.kind).label
                outcome.added.append(
                    f"第{row.line}行 新增 {unit.code} {unit.name}（{kind}，上级 {row.parent or '无'}）"
                )
                continue
            if row.kind is not None and existing.kind != row.kind:
                was = UnitKind(existing.kind).label
                problems.append(_at(row.line, "kind", f"“{row.code}”已是{was}，单位类型不能修改"))
                failed.add(row.code)
                continue
            done = units.update_unit(
                session,
                existing,
                UnitChanges(
                    name=row.name,
                    parent=row.parent,
                    position=row.position,
                    is_responsible=row.is_responsible,
                ),
                actor,
            )
        except ValidationFailed as e:
            problems += [_at(row.line, key, message) for key, message in e.problems]
            failed.add(row.code)
            continue
        if done:
            what = "；".join(f"{_CHANGED.get(k, k)}改为{_shown(v)}" for k, v in done.items())
            outcome.changed.append(f"第{row.line}行 修改 {row.code}：{what}")
        else:
            outcome.unchanged += 1
    if problems:
        raise ValidationFailed([("file", p) for p in problems])
    return outcome
