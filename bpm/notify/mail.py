"""E-mail: messages composed from Jinja templates (text and HTML), sent over SMTP with STARTTLS or TLS and login.

One connection serves a whole delivery round. Without ``BPM_SMTP_HOST``
(the development default) a message is written to the log instead of sent,
so ``bpm run`` needs no mail server and loses nothing it would have said.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from functools import cache
from types import TracebackType
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bpm.config import Settings
from bpm.resources import shipped

logger = logging.getLogger(__name__)


@cache
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(str(shipped("templates") / "email")),
                       autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


def render(name: str, **values: Any) -> tuple[str, str]:
    """The text and HTML bodies of template ``name`` (``templates/email/NAME.txt`` and ``.html``)."""
    env = _templates()
    return env.get_template(f"{name}.txt").render(**values), env.get_template(f"{name}.html").render(**values)


def compose(settings: Settings, to: str, display_name: str | None, subject: str, text: str, html: str,
            key: str) -> EmailMessage:
    """One message to one person (nobody sees who else got it); ``key`` makes its Message-ID stable."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = formataddr((single_line(display_name or ""), to))
    message["Subject"] = single_line(f"[{settings.company_name}] {subject}")
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(settings, key)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies should not answer
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")


def single_line(value: str) -> str:
    """A header value made one line: control characters (a typed "\\r\\nBcc: …") become spaces. A title an
    employee typed must neither inject a header nor make every delivery of the mail fail."""
    return " ".join(_CONTROL.sub(" ", value).split())


def message_id(settings: Settings, key: str) -> str:
    """The same Message-ID for every attempt at one message to one recipient (``key``), so a receiver folds a
    message delivered twice (an SMTP server that took it but did not say so in time) into one."""
    domain = _NOT_ATEXT.sub("", settings.mail_from.rsplit("@", 1)[-1].strip("> ")) or "localhost"
    return f"<{_NOT_ATEXT.sub('.', key).strip('.')}@{domain}>"


class Mailer:
    """An SMTP connection for one round of deliveries (``with Mailer(settings) as mail: mail.send(m)``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):  # sent already: a broken goodbye changes nothing
                self._smtp.quit()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            s = self.settings
            # The server's certificate is always checked: against the system's CAs, or the company's own CA.
            context = ssl.create_default_context(cafile=s.smtp_ca_file or None)
            if s.smtp_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                                                      context=context)
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
                if s.smtp_starttls:
                    smtp.starttls(context=context)
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
            self._smtp = smtp
        return self._smtp

    def send(self, message: EmailMessage) -> str:
        """Send (or, without a server configured, log) one message; "sent" or "logged"."""
        if not self.settings.smtp_host:
            logger.info("e-mail (BPM_SMTP_HOST is not set, so only logged) to %s: %s", message["To"],
                        message["Subject"])
            return "logged"
        self._connection().send_message(message)
        return "sent"
