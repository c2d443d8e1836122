"""Email over SMTP (SMTP_* settings); without SMTP_HOST, .eml files in MAIL_FOLDER instead."""

import mimetypes
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path

from campaign.core.storage import resolve
from notifications.channels.base import Channel, SendFailed


def _message_id(key: str) -> str:
    # The same delivery always carries the same Message-ID, so a retry that did reach the
    # server once is recognisable as the same mail.
    return f"<{re.sub(r'[^A-Za-z0-9.-]', '.', key)}@gongjian>"


class EmailChannel(Channel):
    name = "email"
    label = "电子邮件"

    def build(self, delivery, message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = formataddr(
            ("攻坚系统", self.config.get("MAIL_FROM") or "gongjian@localhost")
        )
        name = delivery.user.display_name if delivery.user else ""
        mail["To"] = formataddr((name, delivery.address)) if name else delivery.address
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = _message_id(delivery.key)
        # UTF-8 in base64: smtplib does not declare BODY=8BITMIME, so the body must be 7-bit
        # clean (short lines would otherwise go out as raw 8bit); headers RFC 2047-encoded.
        mail.set_content(message.body, cte="base64")
        for path, filename in message.attachments:
            data = resolve(path, self.config.get("STORAGE_PATH")).read_bytes()
            kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            maintype, subtype = kind.split("/", 1)
            mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        return mail

    def send(self, delivery, message, session) -> None:
        if not delivery.address:
            raise SendFailed("收件人没有电子邮件地址")
        try:
            mail = self.build(delivery, message)
        except OSError as e:
            raise SendFailed(f"附件无法读取：{e}") from e
        host = self.config.get("SMTP_HOST")
        if not host:
            self._to_folder(delivery, mail)
            return
        port = int(self.config.get("SMTP_PORT") or 25)
        tls = (self.config.get("SMTP_TLS") or "").lower()  # "" | starttls | ssl
        try:
            server: smtplib.SMTP
            if tls == "ssl":
                server = smtplib.SMTP_SSL(
                    host, port, timeout=20, context=ssl.create_default_context()
                )
            else:
                server = smtplib.SMTP(host, port, timeout=20)
            with server:
                if tls == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if self.config.get("SMTP_USER"):
                    server.login(self.config["SMTP_USER"], self.config.get("SMTP_PASSWORD") or "")
                server.send_message(mail)
        except (OSError, smtplib.SMTPException) as e:
            raise SendFailed(f"邮件服务器 {host}:{port} 发送失败：{e}") from e

    def _to_folder(self, delivery, mail: EmailMessage) -> None:
        folder = Path(self.config["MAIL_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{delivery.id:06d}-{delivery.event.kind}.eml").write_bytes(bytes(mail))
