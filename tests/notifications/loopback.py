"""Real servers on 127.0.0.1 for the notification tests: an SMTP server (aiosmtpd) that keeps
every mail it accepts, and an HTTP server standing in for a 企业微信 / 钉钉 group robot."""

import email
import email.policy
import json
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on (now): the SMTP server of a test starts there, or never."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes  # exactly what the server received

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        # A text body sent as it is (not base64) arrives with SMTP's CRLF line ends.
        body = self.message.get_body(preferencelist=("plain",)).get_content()
        return body.replace("\r\n", "\n")


@dataclass
class Mailbox:
    """What an SMTP server on loopback accepted, in order."""

    mails: list[Mail] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.rcpt_tos]


@contextmanager
def smtp_server(port: int | None = None):
    """An SMTP server on 127.0.0.1:``port`` for the duration of the block; yields its Mailbox."""
    mailbox = Mailbox()
    mailbox.port = port or free_port()
    controller = Controller(mailbox, hostname=HOST, port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Robot:
    """A group robot's webhook: records each POST (path and JSON) and answers ``answer``."""

    answer: dict
    posts: list[tuple[str, dict]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"


@contextmanager
def robot_server(answer: dict):
    """An HTTP server on 127.0.0.1 (a free port) answering every POST with ``answer``."""
    robot = Robot(answer)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            robot.posts.append((self.path, json.loads(self.rfile.read(length))))
            body = json.dumps(robot.answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    robot.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield robot
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
