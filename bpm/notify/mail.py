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
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from functools import cache
from types import TracebackType
from typing import Any, TypeVar

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bpm.config import Settings
from bpm.resources import shipped

logger = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


@cache
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(str(shipped("templates") / "email")),
                       autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


def render(name: str, **values: Any) -> tuple[str, str]:
    """The text and HTML bodies of template ``name`` (``templates/email/NAME.txt`` and ``.html``)."""
    env = _templates()
    return env.get_template(f"{name}.txt").render(**values), env.get_template(f"{name}.html").render(**values)


def compose(settings: Settings, to: str, display_name: str | None, subject: str, text: str, html: str,
            key: str) -> Message:
    """One message to one person (nobody sees who else got it); ``key`` makes its Message-ID stable.

    Built with the classic MIME classes, whose headers are strings written as
    given (non-ASCII ones encoded here, RFC 2047): ``EmailMessage`` parses every
    header it is given into objects, which cost 4 ms of the worker's 17 ms per
    mail (issue 25).
    """
    message = MIMEMultipart("alternative")
    name, address = parseaddr(single_line(settings.mail_from))  # (every value one line: no header injected)
    message["From"] = formataddr((name, address), charset="utf-8") if name else address or settings.mail_from
    message["To"] = formataddr((single_line(display_name or ""), single_line(to)), charset="utf-8")
    title = single_line(f"[{settings.company_name}] {subject}")
    message["Subject"] = title if title.isascii() else Header(title, "utf-8")
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(settings, key)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies should not answer
    message.attach(MIMEText(text, "plain", "utf-8"))
    message.attach(MIMEText(html, "html", "utf-8"))
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


@cache
def tls_context(ca_file: str) -> ssl.SSLContext:
    """How the mail server's certificate is checked — always: against the system's CAs, or the company's own CA.
    Made once: loading the system's CAs took 48 ms, paid at every connection (issue 25)."""
    return ssl.create_default_context(cafile=ca_file or None)


class Mailer:
    """An SMTP connection reused for the messages of a round (``with Mailer(settings) as mail: mail.send(m)``).

    A connection the server closed (idle too long, restarted, or dropped mid-round) is opened again and the
    message tried once more on it: the server had not accepted it (it answers 250 to the whole message only),
    so nobody gets it twice — but for a server that closes after storing a message and before saying so,
    which SMTP cannot tell from the other case (its Message-ID is stable, so a mailbox can fold the two).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._close()

    def _close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):  # sent already: a broken goodbye changes nothing
                self._smtp.quit()
            self._smtp = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            s = self.settings
            if s.smtp_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                                                      context=tls_context(s.smtp_ca_file))
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
                if s.smtp_starttls:
                    smtp.starttls(context=tls_context(s.smtp_ca_file))
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
            self._smtp = smtp
        return self._smtp

    def send(self, message: Message) -> str:
        """Send (or, without a server configured, log) one message; "sent" or "logged"."""
        if not self.settings.smtp_host:
            logger.info("e-mail (BPM_SMTP_HOST is not set, so only logged) to %s: %s", message["To"],
                        message["Subject"])
            return "logged"
        try:
            self._send_once(message)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            self._send_once(message)  # once more, on a new connection (a second failure is the caller's)
        return "sent"

    def _send_once(self, message: Message) -> None:
        try:
            self._connection().send_message(message)
        except BaseException:
            self._drop()  # whatever went wrong, the next message starts on a clean connection
            raise

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.close()


class Senders:
    """The threads and SMTP connections mail goes out over, in parallel: a worker keeps one from round to round
    (each thread's connection stays open; one the server closed meanwhile is opened again by its Mailer)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        connections = settings.smtp_connections
        self._pool = ThreadPoolExecutor(max_workers=connections, thread_name_prefix="bpm-mail") \
            if connections > 1 else None
        self._local = threading.local()
        self._opened: list[Mailer] = []
        self._lock = threading.Lock()

    def mailer(self) -> Mailer:
        """The calling thread's connection."""
        mailer: Mailer | None = getattr(self._local, "mailer", None)
        if mailer is None:
            mailer = self._local.mailer = Mailer(self.settings)
            with self._lock:
                self._opened.append(mailer)
        return mailer

    def each(self, work: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        """``work(item)`` for every item, over the threads; the results as they finish."""
        if self._pool is None or len(items) < 2:
            yield from (work(item) for item in items)
            return
        for future in as_completed([self._pool.submit(work, item) for item in items]):
            yield future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        with self._lock:
            opened, self._opened = self._opened, []
        for mailer in opened:
            mailer.__exit__(None, None, None)
