"""Sending the web's e-mail (invitations, password resets) through the SMTP server
``ENTITLE_SMTP_URL`` names: ``smtp://host:port`` (STARTTLS when the server offers it),
``smtps://host:port`` (TLS from the start), with ``user:password@`` when it wants a login and
``?from=entitle@example.com`` for the sender (default ``entitle@`` the host's name). Without a
URL nothing is sent, and the pages show the admin the invitation link to pass on."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT = 10.0


class MailFailed(Exception):
    """The SMTP server could not be reached or refused the message."""


@dataclass(frozen=True, slots=True)
class Mailer:
    host: str
    port: int
    sender: str
    tls: bool = False  # smtps: TLS from the first byte
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str | None) -> Mailer | None:
        """The mailer an ``smtp://`` or ``smtps://`` URL names; ``None`` for none; ValueError
        for a URL of another kind."""
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"ENTITLE_SMTP_URL must look like smtp://host:port, not {url!r}")
        tls = parts.scheme == "smtps"
        sender = parse_qs(parts.query).get("from", [f"entitle@{parts.hostname}"])[0]
        return cls(
            parts.hostname,
            parts.port or (465 if tls else 25),
            sender,
            tls,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        try:
            if self.tls:
                context = ssl.create_default_context()
                with smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT, context=context) as s:
                    self._deliver(s, message)
            else:
                with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT) as s:
                    s.ehlo()
                    if s.has_extn("starttls"):
                        s.starttls(context=ssl.create_default_context())
                        s.ehlo()
                    self._deliver(s, message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailFailed(f"{type(error).__name__}: {error}") from error

    def _deliver(self, s: smtplib.SMTP, message: EmailMessage) -> None:
        if self.user:
            s.login(self.user, self.password or "")
        s.send_message(message)
