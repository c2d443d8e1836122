"""Request data read once, at the edge, into typed values: the marshmallow fields the areas'
schemas are made of, each with what it accepts (so the OpenAPI document says it) and the
Chinese message for what it refuses, naming the field.

The API's schemas refuse a request whose values are not of their fields' kinds before any
service runs (422, every field named, campaign.core.api_errors). A page's form is read with
the same schema: ``load`` refuses it likewise (ValidationFailed, answered by the one commit
path), and ``parse`` keeps what each field could not be read as (``Input.invalid``) for a
service that reports it among its own problems, all at once, in the form's order.

No Flask here.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Self

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from campaign.core.errors import ValidationFailed
from campaign.core.text import field_of


def documented(enum: type[StrEnum]) -> dict[str, Any]:
    """What the OpenAPI document says of a field holding one of ``enum``'s values: the
    values, and each one's label where the enum has labels."""
    labels = "；".join(f"{m.value}：{m.label}" for m in enum if hasattr(m, "label"))
    return {"enum": [m.value for m in enum], **({"description": labels} if labels else {})}


class Choice(fields.String):
    """One of ``enum``'s values, read as its member. ``message`` is what a user reads for any
    other value ("{input}" is the value given); with ``optional`` an empty value is None."""

    def __init__(
        self,
        enum: type[StrEnum],
        message: str = "取值无效：{input}",
        *,
        optional: bool = False,
        **kwargs: Any,
    ):
        self.enum = enum
        self.optional = optional
        if optional:
            kwargs.setdefault("allow_none", True)
        super().__init__(metadata={**documented(enum), **kwargs.pop("metadata", {})}, **kwargs)
        self.error_messages["choice"] = message

    # marshmallow types ``_deserialize`` as returning the base field's type; these fields stay
    # String, Date and Integer (what the OpenAPI document says of them) but read an empty
    # value as None.
    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> StrEnum | None:
        text = value.strip() if isinstance(value, str) else value
        if self.optional and text in ("", None):
            return None
        try:
            return self.enum(text)
        except ValueError:
            raise self.make_error("choice", input=text) from None


class Day(fields.Date):
    """A date as YYYY-MM-DD, named ``label`` in the message for anything else (or
    ``message``); with ``optional`` an empty value is no date (None)."""

    def __init__(
        self, label: str, *, optional: bool = False, message: str | None = None, **kwargs: Any
    ):
        self.optional = optional
        if optional:
            kwargs.setdefault("allow_none", True)
        metadata = {"description": f"{label}（YYYY-MM-DD）", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)
        self.error_messages["invalid"] = message or f"「{label}」应为日期，而不是“{{input}}”"
        self.error_messages["empty"] = f"「{label}」不能为空"

    def _deserialize(  # type: ignore[override]  # None for an empty value, as Choice
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> date | None:
        text = value.strip() if isinstance(value, str) else value
        if self.optional and text in ("", None):
            return None
        if text == "":  # left empty: missing, not a wrong date
            raise self.make_error("empty")
        try:
            return date.fromisoformat(text)
        except (TypeError, ValueError):
            raise self.make_error("invalid", input="" if text is None else text) from None


class Count(fields.Integer):
    """A whole number, 0 or more (digits only); an empty value is ``blank`` (0, or None)."""

    def __init__(self, label: str, *, blank: int | None = 0, **kwargs: Any):
        self.blank = blank
        if blank is None:
            kwargs.setdefault("allow_none", True)
        metadata = {"minimum": 0, "description": label, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)
        self.error_messages["invalid"] = f"「{label}」应为非负整数，而不是“{{input}}”"

    def _deserialize(  # type: ignore[override]  # ``blank`` for an empty value, as Choice
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> int | None:
        text = "-" if isinstance(value, bool) else str(value).strip()
        if text == "":
            return self.blank
        if not text.isdigit():
            raise self.make_error("invalid", input=text)
        return int(text)


def messages_text(label: str) -> dict[str, Any]:
    """The error messages of a text field named ``label`` that is not text."""
    return {"invalid": f"「{label}」应为文本"}


def messages_required(label: str) -> dict[str, Any]:
    """The error messages of a required text field named ``label``."""
    return {**messages_text(label), "required": f"「{label}」必填", "null": f"「{label}」必填"}


def text(column: Any, **kwargs: Any) -> fields.String:
    """A text field for ``column`` (a mapped attribute labelled with ``text_field``): the
    document gives its name and its most characters. The length and the characters are
    checked as the text will be stored (campaign.core.text, at flush), not here."""
    spec = field_of(getattr(column, "expression", column))
    metadata = dict(kwargs.pop("metadata", {}))
    if spec is not None:
        metadata.setdefault("description", spec.label)
        if spec.max_length:
            metadata.setdefault("maxLength", spec.max_length)
    return fields.String(metadata=metadata, **kwargs)


# ---- reading a page's form -------------------------------------------------------------


def _flat(messages: Any) -> str:
    if isinstance(messages, dict):
        return "；".join(_flat(m) for m in messages.values())
    if isinstance(messages, (list, tuple)):
        return "；".join(_flat(m) for m in messages)
    return str(messages)


def parse(schema: Schema, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """``data`` (a form) read by ``schema``: the values it could read, and for each field it
    could not a message, in the schema's order. Fields the schema does not know are ignored
    (the CSRF token, the button pressed)."""
    try:
        return schema.load(data, unknown=EXCLUDE), {}
    except ValidationError as e:
        order = list(schema.fields)
        problems = e.normalized_messages()
        invalid = {
            name: _flat(problems[name])
            for name in sorted(problems, key=lambda n: order.index(n) if n in order else 0)
        }
        return dict(e.valid_data or {}), invalid


def load(schema: Schema, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` read by ``schema``, or ValidationFailed with every field it could not read."""
    values, invalid = parse(schema, data)
    if invalid:
        raise ValidationFailed(list(invalid.items()))
    return values


@dataclass(frozen=True, kw_only=True)
class Input:
    """Typed values a service takes. ``invalid``: the fields a form held no value of their
    kind in (left at their defaults), each with its message, for the service to report among
    its own problems."""

    invalid: Mapping[str, str] = field(default_factory=dict)

    def problems_of(self, *names: str) -> list[tuple[str, str]]:
        """(field, message) for each of ``names`` the form held no value in."""
        return [(name, self.invalid[name]) for name in names if name in self.invalid]

    @classmethod
    def read(cls, schema: Schema, data: Mapping[str, Any]) -> Self:
        """The input from ``data`` (a form), what could not be read kept in ``invalid``."""
        values, invalid = parse(schema, data)
        return cls(**values, invalid=invalid)
