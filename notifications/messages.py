"""Message text: templates/notifications/<kind>.txt with ``subject`` and ``body`` blocks."""

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment

from campaign import display


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    link: str  # absolute URL to the page it is about ("" if none), for mails and robots
    path: str = ""  # the same page as a path, for in-app notices (no BASE_URL involved)
    attachments: tuple[tuple[str, str], ...] = ()  # (file path, name)


@lru_cache(maxsize=1)
def environment() -> Environment:
    return display.environment(autoescape=False)


def render(kind: str, payload: dict, base_url: str) -> Message:
    """The subject and body of an event, in Chinese."""
    template = environment().get_template(f"notifications/{kind}.txt")
    link = base_url.rstrip("/") + payload["path"] if payload.get("path") else ""
    context = template.new_context({"p": payload, "link": link})
    subject = "".join(template.blocks["subject"](context)).strip()
    body = "".join(template.blocks["body"](context)).strip() + "\n"
    attachments = tuple((a["path"], a["name"]) for a in payload.get("attachments", ()))
    return Message(subject, body, link, attachments=attachments, path=payload.get("path", ""))
