"""Text from outside, normalised once: composed (NFC), free of control characters, within its
column's length.

Every text a user gives (an xlsx cell, a form field, an API value) passes ``clean`` before it
is stored: the xlsx reader calls it per cell, so a problem is named by sheet, row and column;
for forms and the API, the flush guard (``guard``) calls it on every changed column labelled
with ``text_field``, so no service can store text that skipped it. What is refused:

- C0 control characters except tab, line feed and carriage return; DEL; C1 controls
  (U+0080-U+009F); U+FFFE and U+FFFF; lone surrogates. XML 1.0 (an xlsx) cannot hold most
  of them, PostgreSQL cannot hold U+0000, and none is ever typed on purpose.
- OOXML's escape of such a character (``_x0001_``), which Excel and calamine turn back
  into the character on reading.
- Text longer than its column allows.

What is normalised rather than refused, being unambiguous: NFC (a decomposed "é" is stored
composed), CR LF and CR to LF in multi-line fields, and in one-line fields each run of line
breaks and tabs folded into one space (as Excel shows a cell on one line).

Writers of files (``campaign.core.cells.for_cell`` and ``cell_text``) never fail on text
stored before these checks: they drop what XML cannot hold. No Flask here.
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Mapper, Session, UOWTransaction

from campaign.core.cells import CONTROL, ESCAPE
from campaign.core.errors import ValidationFailed

if TYPE_CHECKING:  # campaign.core.db imports this module
    from campaign.core import db

_FOLDED = re.compile("[\t\r\n]+")


class TextRefused(ValueError):
    """Why a text is refused, in Chinese, without the field's name (the caller adds it)."""


def clean(value: str, max_length: int | None = None, *, multiline: bool = False) -> str:
    """``value`` composed (NFC), its line breaks kept (``multiline``) or folded into spaces;
    TextRefused for a control character, an escaped one, or more than ``max_length``
    characters."""
    found = CONTROL.search(value)
    if found:
        code = ord(found.group())
        raise TextRefused(
            f"含有不可见的控制字符（U+{code:04X}，第{found.start() + 1}个字），请删除后重新填写"
        )
    if "_x" in value:
        for escape in ESCAPE.finditer(value):
            code = int(escape.group(1), 16)
            if CONTROL.match(chr(code)):
                raise TextRefused(
                    f"含有控制字符的转义“{escape.group()}”（U+{code:04X}，"
                    f"第{escape.start() + 1}个字），请删除后重新填写"
                )
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    if multiline:
        if "\r" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
    elif "\n" in value or "\r" in value or "\t" in value:
        value = _FOLDED.sub(" ", value)
    return within(value, max_length)


def within(value: str, max_length: int | None) -> str:
    """``value`` if it has at most ``max_length`` characters, else TextRefused."""
    if max_length is not None and len(value) > max_length:
        raise TextRefused(f"超过{max_length}个字（现有{len(value)}个字）")
    return value


# ---- the columns users type into, and the flush guard -------------------------------------


@dataclass(frozen=True)
class TextField:
    """What ``clean`` needs to know about a column: its Chinese name and its limits."""

    label: str
    max_length: int | None
    multiline: bool


def text_field(
    label: str, max_length: int | None = None, *, multiline: bool = False
) -> dict[str, Any]:
    """``info`` for a ``mapped_column`` holding text users type: its Chinese name (for the
    messages), its maximum length (a String's own length applies anyway; a Text column needs
    one) and whether it keeps line breaks."""
    return {"label": label, "max_length": max_length, "multiline": multiline}


def field_of(column: Any) -> TextField | None:
    """The limits of a labelled column (a Table column), or None for the system's own."""
    info = column.info
    if "label" not in info:
        return None
    limits = [n for n in (info.get("max_length"), getattr(column.type, "length", None)) if n]
    return TextField(info["label"], min(limits) if limits else None, info.get("multiline", False))


def cleaned_for(column: Any, value: str, key: str | None = None) -> str:
    """``value`` cleaned as the labelled ``column`` (a Table column or mapped attribute) will
    store it, or ValidationFailed naming the field. For services that compare what a user
    typed with what is stored (a double submission), or write without a flush (a claim):
    the comparison must see the text as it will be kept (a browser's CR LF as LF)."""
    column = getattr(column, "expression", column)
    spec = field_of(column)
    if spec is None:
        return value
    try:
        return clean(value, spec.max_length, multiline=spec.multiline)
    except TextRefused as e:
        raise ValidationFailed([(key or column.key, f"「{spec.label}」{e}")]) from None


_fields_by_mapper: dict[Mapper[Any], list[tuple[str, TextField]]] = {}


def _fields(mapper: Mapper[Any]) -> list[tuple[str, TextField]]:
    if mapper not in _fields_by_mapper:
        found = []
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            spec = field_of(column) if isinstance(column.type, String) else None
            if spec is not None:
                found.append((prop.key, spec))
        _fields_by_mapper[mapper] = found
    return _fields_by_mapper[mapper]


def _check_flush(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    """Clean every labelled text column of new objects and every changed one of others;
    refuse the flush (ValidationFailed, every problem named) if any is refused."""
    problems = []
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for key, spec in _fields(state.mapper):
            value = state.dict.get(key)
            if not isinstance(value, str):
                continue
            if state.key is not None and not state.attrs[key].history.added:
                continue  # unchanged: text stored before these checks may stay until edited
            try:
                cleaned = clean(value, spec.max_length, multiline=spec.multiline)
            except TextRefused as e:
                problems.append((key, f"「{spec.label}」{e}"))
                continue
            if cleaned != value:
                setattr(obj, key, cleaned)
    if problems:
        raise ValidationFailed(problems)


def guard(target: "db.Session") -> None:
    """Check text at every flush of ``target`` (a Session, sessionmaker or scoped_session).

    Idempotent: every app a process creates shares ``db.session``.
    """
    if not event.contains(target, "before_flush", _check_flush):
        event.listen(target, "before_flush", _check_flush)
