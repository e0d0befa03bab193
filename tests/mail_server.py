"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the notification tests."""

from __future__ import annotations

import email
import socket
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailServer:
    """``start()``, read ``messages``, ``stop()``; refuses logins other than ``user``/``password`` if given."""

    def __init__(self, user: str | None = None, password: str | None = None, tls: object = None,
                 raw: bool = False) -> None:
        self.port = free_port()
        self.tls = tls  # an ssl.SSLContext: STARTTLS offered and required
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.user, self.password = user, password
        self.drop_every = 0  # hang up on the n-th message of each connection, before accepting it (0: never)
        self.received = self.dropped = 0
        self.raw: list[bytes] | None = [] if raw else None  # kept unparsed
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.received += 1
        session.messages = getattr(session, "messages", 0) + 1  # on this connection
        if self.drop_every and session.messages % self.drop_every == 0:
            self.dropped += 1
            server.transport.close()  # hang up before accepting it: the client must send it again
            return "421 closing"
        if self.raw is not None:  # (a benchmark: parsed afterwards, not on the clock it measures)
            self.raw.append(envelope.original_content)
            return "250 OK"
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user \
            and auth_data.password.decode() == self.password
        return AuthResult(success=ok)

    def start(self) -> MailServer:
        options = {}
        if self.user is not None:
            options = {"authenticator": self._authenticate, "auth_required": True,
                       "auth_require_tls": self.tls is not None}
        if self.tls is not None:
            options.update(tls_context=self.tls, require_starttls=True)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]


def self_signed(folder) -> tuple[object, str]:
    """A server TLS context for 127.0.0.1 and the PEM file a client trusts it with (a private CA of one)."""
    import datetime as dt
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "mail.pem", folder / "mail.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, str(cert_file)
