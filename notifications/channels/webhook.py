"""企业微信 / 钉钉 group robots: a markdown message with the headline and a link."""

import re
from urllib.parse import urlsplit

import requests

from notifications.channels.base import Channel, SendFailed

# Where each robot lives: a unit leader cannot point the server at any other address.
ROBOT_HOSTS = {"wecom": "qyapi.weixin.qq.com", "dingtalk": "oapi.dingtalk.com"}
_SECRET = re.compile(r"((?:key|access_token)=)([^&\s'\"]{4})[^&\s'\"]*")


def masked(text: str) -> str:
    """A robot URL (or a message holding one) with its key cut to 4 characters."""
    return _SECRET.sub(r"\1\2…", text)


def check_url(flavour: str, url: str) -> str | None:
    """Why ``url`` is not a robot address of ``flavour`` (None if it is)."""
    parts = urlsplit(url)
    if flavour not in ROBOT_HOSTS:
        return "请选择企业微信或钉钉"
    if parts.scheme != "https" or parts.hostname != ROBOT_HOSTS[flavour]:
        return f"Webhook 地址应为 https://{ROBOT_HOSTS[flavour]}/… （从群机器人设置中复制）"
    return None


def payload(flavour: str, subject: str, body: str, link: str) -> dict:
    """The JSON each robot API expects."""
    text = f"**{subject}**\n\n{body.strip()}"
    if link and link not in text:
        text += f"\n\n[查看详情]({link})"
    if flavour == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    if flavour == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": subject, "text": text}}
    raise ValueError(f"unknown webhook flavour {flavour!r}")


class WebhookChannel(Channel):
    name = "webhook"
    label = "群机器人"

    def send(self, delivery, message, session) -> None:
        flavour, _, url = delivery.address.partition("|")
        body = payload(flavour, message.subject, message.body, message.link)
        try:
            response = requests.post(url, json=body, timeout=10)
            response.raise_for_status()
            answer = response.json()
        except (requests.RequestException, ValueError) as e:
            raise SendFailed(masked(f"群机器人 {url} 发送失败：{e}")) from e
        # Both APIs answer HTTP 200 with {"errcode": 0} on success and a non-zero code otherwise.
        if answer.get("errcode", 0) != 0:
            raise SendFailed(f"群机器人拒收：{answer.get('errmsg') or answer}")
