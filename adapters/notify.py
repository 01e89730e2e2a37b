"""Sending notifications: a port and two senders (a log, and SMTP)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from application.ports import Notification, Sender, SendFailed

logger = logging.getLogger("tandem.notify")


@dataclass
class LoggingSender(Sender):
    """The default: writes each notification to the log (and keeps it, for inspection)."""

    channel: str = "log"
    sent: list[Notification] = field(default_factory=list)
    # With encryption at rest on, the log names no recipient and no subject (a log is a
    # file too): only that a notification went out.
    private: bool = False

    def send(self, notification: Notification) -> None:
        if self.private:
            logger.info("notify: one notification (recipient and subject withheld)")
        else:
            logger.info("notify %s: %s", notification.to, notification.subject)
        self.sent.append(notification)


@dataclass
class SmtpSender(Sender):
    host: str
    port: int
    from_address: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    channel: str = "email"

    def send(self, notification: Notification) -> None:
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = notification.to
        message["Subject"] = notification.subject
        message.set_content(notification.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"SMTP {self.host}:{self.port}: {exc}") from exc
