"""Senders: each takes a :class:`Message` and delivers it, or raises :class:`DeliveryFailed`.

``SmtpSender`` sends a plain-text e-mail to ``message.to`` (skipped when it is empty: a rep without an
address); ``SlackSender`` posts ``{"text": …}`` to one incoming-webhook URL (Slack, Mattermost, Rocket.Chat
and Teams' Slack-compatible hooks accept it), with the recipient named in the text.
"""

from __future__ import annotations

import json
import os
import smtplib
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from dynbooks.domain.errors import DynbooksError
from dynbooks.domain.rules import NotificationsConfig

__all__ = ["DeliveryFailed", "Message", "Sender", "SlackSender", "SmtpSender", "senders_for"]

TIMEOUT = 10.0


class DeliveryFailed(DynbooksError):
    """A message could not be delivered (the SMTP server or the webhook said no, or did not answer)."""


@dataclass(frozen=True)
class Message:
    to: str | None  # an e-mail address, or None
    name: str  # who it is for, as people say it
    subject: str
    text: str


class Sender(Protocol):
    channel: str

    def send(self, message: Message) -> bool:
        """Deliver; False when this channel cannot reach the recipient (no address)."""
        ...


class SmtpSender:
    channel = "email"

    def __init__(self, host: str, port: int, sender: str, *, starttls: bool = False, username: str | None = None,
                 password: str | None = None) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password = starttls, username, password

    def send(self, message: Message) -> bool:
        if not message.to:
            return False
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, message.to, message.subject
        mail.set_content(message.text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"e-mail to {message.to} via {self.host}:{self.port} failed: {exc}") from None
        return True


class SlackSender:
    channel = "slack"

    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, message: Message) -> bool:
        body = json.dumps({"text": f"*{message.subject}*\n{message.text}"}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                answer.read()
        except OSError as exc:
            raise DeliveryFailed(f"the Slack webhook failed: {exc}") from None
        return True


def senders_for(config: NotificationsConfig) -> list[Sender]:
    """The configured channels that have what they need (an SMTP host, a webhook URL)."""
    out: list[Sender] = []
    if "email" in config.channels and config.smtp_host:
        out.append(SmtpSender(config.smtp_host, config.smtp_port, config.smtp_from, starttls=config.smtp_starttls,
                              username=config.smtp_username, password=os.environ.get("DYNBOOKS_SMTP_PASSWORD")))
    if "slack" in config.channels and config.slack_webhook_url:
        out.append(SlackSender(config.slack_webhook_url))
    return out
