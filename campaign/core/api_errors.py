"""The API's error answers: JSON with a Chinese ``message`` for every error, whatever shape
the request was in.

flask-smorest (webargs) reports request-parsing errors as nested ``messages``: per location
(``json``, ``query``, ``form``, ``files``), then per field, a list of English texts, a nested
dict for nested fields, or a bare list when the body itself is wrong (``{"json": ["Invalid
JSON body."]}``). Each is flattened into 「field」text, translated where we know the text;
our schemas' own messages (campaign.core.inputs) name their field already and are said as
they are. ``errors`` then holds the problems by field, as a refusal of the services does.
"""

from collections.abc import Iterator
from typing import Any

from werkzeug.exceptions import HTTPException

# marshmallow's and webargs's texts, as users of the API should read them.
TEXTS = {
    "Unknown field.": "未知字段",
    "Not a valid date.": "日期格式不正确（应为 YYYY-MM-DD）",
    "Not a valid datetime.": "时间格式不正确",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Not a valid string.": "应为文本",
    "Not a valid boolean.": "应为 true 或 false",
    "Not a valid list.": "应为列表",
    "Not a valid mapping type.": "应为 JSON 对象",
    "Field may not be null.": "不能为空（null）",
    "Missing data for required field.": "必填",
    "Invalid input type.": "应为 JSON 对象",
    "Invalid JSON body.": "请求体不是有效的 JSON",  # said of the body: no field named
    "Invalid value.": "取值无效",
    "Not a valid file.": "应为上传的文件",
}
# The locations webargs reads from; the fields under them are what users name.
LOCATIONS = {"json", "query", "form", "files", "multipart", "headers", "cookies", "view_args"}
BODY = "请求体"
FIELDS = {"page": "页码"}

# A message for each status when the code that refused gave none.
STATUS = {
    400: "请求有误",
    401: "缺少或无效的访问令牌（Authorization: Bearer …）",
    403: "无权执行此操作",
    404: "未找到，或无权查看",
    405: "该地址不支持此请求方法",
    409: "与当前状态冲突，未保存；请刷新后再操作",
    413: "上传内容过大",
    415: "不支持的内容类型",
    422: "请求参数有误",
    429: "请求过于频繁，请稍后再试",
}


def _text(message: Any) -> str:
    return TEXTS.get(message, message) if isinstance(message, str) else str(message)


def _problems(
    messages: Any, field: str = "", top: bool = True, names: bool = True
) -> Iterator[tuple[str, str]]:
    """(field, Chinese text) for every leaf of a webargs ``messages`` structure; the field
    named for people (``names``: 页码) or as the request names it."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            key = str(key)
            if top and key in LOCATIONS:
                yield from _problems(value, field, top=False, names=names)
            elif key == "_schema":  # the object itself, not one of its fields
                yield from _problems(value, field or (BODY if names else ""), False, names)
            else:
                name = FIELDS.get(key, key) if names else key
                path = f"{field}.{name}" if field else name
                yield from _problems(value, path, top=False, names=names)
    elif isinstance(messages, (list, tuple)):
        for value in messages:
            yield from _problems(value, field, top=False, names=names)
    else:
        yield field, _text(messages)


def _names_itself(text: str) -> bool:
    """Our fields' messages are sentences that name their field (「成立时间」应为日期…)."""
    return text.startswith("「")


def describe(messages: Any) -> str:
    """One Chinese sentence for a webargs ``messages`` structure."""
    parts = []
    for field, text in _problems(messages):
        if _names_itself(text):
            part = text
        else:
            part = f"「{field}」{text}" if field and field != BODY else f"{field}{text}"
        if part not in parts:
            parts.append(part)
    return "，".join(parts)


def by_field(messages: Any) -> dict[str, str]:
    """A webargs ``messages`` structure as the commit path gives problems: field -> message
    (several joined with "；"), the fields named as the request names them."""
    out: dict[str, list[str]] = {}
    for field, text in _problems(messages, names=False):
        texts = out.setdefault(field or "_schema", [])
        if text not in texts:
            texts.append(text)
    return {field: "；".join(texts) for field, texts in out.items()}


def payload(error: HTTPException, base: dict[str, Any]) -> dict[str, Any]:
    """flask-smorest's error ``base`` payload with a Chinese ``message`` always present; a
    request refused field by field has ``errors`` as a refusal of the services does."""
    data = getattr(error, "data", None) or {}
    if "message" in base:
        return base
    if data.get("messages"):
        described = describe(data["messages"])
        texts = [text for _, text in _problems(data["messages"])]
        if error.code == 400:  # the body could not be read at all: say only that
            base["message"] = described
        elif all(_names_itself(text) for text in texts):
            # Every problem is a sentence of ours: said as the services say theirs.
            base["message"] = "；".join(dict.fromkeys(texts))
            base["errors"] = by_field(data["messages"])
        else:
            base["message"] = f"{STATUS.get(error.code or 422, '请求参数有误')}：{described}"
            base["errors"] = by_field(data["messages"])
    elif error.description and is_ours(error.description):  # said by us, in Chinese
        base["message"] = error.description
    else:
        base["message"] = STATUS.get(error.code or 500, "服务器内部错误")
    return base


def is_ours(text: str) -> bool:
    """Whether a description was written by us (Chinese), not werkzeug's English default."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
