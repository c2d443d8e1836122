"""Message text: templates/notifications/<kind>.txt with ``subject`` and ``body`` blocks."""

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment

from campaign import display


@dataclass(frozen=True)
class Message:
    subject: str
    body: str  # with the page's address written out, for mails and robots
    link: str  # absolute URL to the page it is about ("" if none), for mails and robots
    path: str = ""  # the same page as a path, for in-app notices (no BASE_URL involved)
    attachments: tuple[tuple[str, str], ...] = ()  # (file path, name)
    text: str = ""  # the body without the address, for a page that links to it (in-app)


@lru_cache(maxsize=1)
def environment() -> Environment:
    return display.environment(autoescape=False)


def render(kind: str, payload: dict, base_url: str) -> Message:
    """The subject and body of an event, in Chinese."""
    template = environment().get_template(f"notifications/{kind}.txt")
    link = base_url.rstrip("/") + payload["path"] if payload.get("path") else ""

    def block(name: str, link: str) -> str:
        context = template.new_context({"p": payload, "link": link})
        return "".join(template.blocks[name](context)).strip()

    subject = block("subject", link)
    attachments = tuple((a["path"], a["name"]) for a in payload.get("attachments", ()))
    return Message(
        subject,
        block("body", link) + "\n",
        link,
        attachments=attachments,
        path=payload.get("path", ""),
        # The templates leave out the line with the address when there is none to give.
        text=block("body", "") + "\n",
    )
