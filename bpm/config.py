"""Every BPM_* setting, declared once with its type and default; nothing else reads or writes the environment."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bpm.engine.limits import DEFAULT_MAX_OUTPUT_BYTES
from bpm.resources import shipped

SHIPPED_FORMS, SHIPPED_PROCESSES, SHIPPED_CALENDARS = (shipped(n) for n in ("forms", "processes", "calendars"))

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
class Role(StrEnum):
    """What a person may be: roles grant powers (``bpm.runtime.policy``), never a relation to anyone."""

    EMPLOYEE = "employee"
    DESIGNER = "designer"
    AUDITOR = "auditor"
    ADMIN = "admin"  # holds every role


ROLES = tuple(Role)


def _flag(value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected a yes/no flag, got {value!r}")


@dataclass(frozen=True)
class Settings:
    """The service's configuration. ``Settings.from_env()`` reads ``BPM_<FIELD>`` variables."""

    database_url: str = "sqlite:///bpm.db"
    dev_identity: bool = False  # accept the X-BPM-User header (development only)
    forms_dir: Path = SHIPPED_FORMS
    processes_dir: Path = SHIPPED_PROCESSES
    calendars_dir: Path = SHIPPED_CALENDARS  # business calendars (bpm/calendars.py), checked at start-up
    max_body_bytes: int = 1024 * 1024
    max_attachment_bytes: int = 10 * 1024 * 1024  # one file added to a request (its upload may be this large)
    max_json_depth: int = 64  # nesting of objects and lists in a request body
    # What one definition may cost (bpm.runtime.advance.run_engine): bounded so that no definition slows others.
    steps_per_transaction: int = 200
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES  # one node's output, as JSON
    # One instance's whole snapshot, as JSON. Every step rewrites it (one UPDATE of the whole document), so its
    # size is paid at each step: 4 MB is some 40 ms of writing per step here, while a real request measures in
    # kilobytes (a hundred decisions with their form data stay under 200 KB). 16 MB let a loop grow it for
    # hundreds of steps, each slower than the last.
    max_snapshot_bytes: int = 4_000_000
    transaction_cpu_ms: int = 5_000  # CPU time one transaction may spend running steps; past it the instance fails
    engine_slice_ms: int = 50  # engine CPU a request (or a job) spends before the worker takes the rest (bench.hostile)
    max_steps_per_instance: int = 20_000  # steps over an instance's whole life: a loop without a wait ends here
    max_template_bytes: int = 65_536  # one text with expressions in a definition (a title, a body), at save
    worker_nice: int = 10  # `bpm worker` yields the CPU to the web server (os.nice); 0 leaves it as it is
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = field(default_factory=lambda: os.cpu_count() or 2)  # `bpm serve` worker processes
    threads: int = 2  # request threads per worker
    db_pool_size: int = 10
    db_idle_ping_seconds: int = 10  # check pooled connections idle this long before use
    # "transaction": a pooler in transaction mode (PgBouncer) stands between the service and PostgreSQL, so no
    # statement is PREPAREd (a prepared statement lives in one server connection, which the next transaction may
    # not get); "" (none): the hot statements are prepared once per connection (bpm.store.direct)
    database_pooler: str = ""
    # Where `bpm worker` LISTENs for wake-ups (bpm.scheduler.wakeup): the database itself, not a transaction pooler
    # (a LISTEN lives in one server connection). Empty: BPM_DATABASE_URL, unless a transaction pooler is in front,
    # in which case the worker polls every --interval.
    database_listen_url: str = ""
    # A streaming replica of the database for the heavy reads (inbox lists, My requests, audit search and exports,
    # the admin lists); a person reads there only once it has replayed their own last write (bpm.store.replica)
    database_replica_url: str = ""
    log_level: str = "INFO"
    # Sign-in (bpm/auth, bpm/runtime/accounts.py)
    public_url: str = ""  # e.g. https://bpm.example.com: links, SSO redirects; https makes cookies Secure
    trust_proxy: bool = False  # honour X-Forwarded-For/-Proto/-Host from one reverse proxy in front...
    proxy_addresses: str = "127.0.0.1/32, ::1/128"  # ...but only when the request came from one of these
    group_roles: str = ""  # roles granted by group membership: "bpm-designers=designer,bpm-admins=admin"
    absence_managers_group: str = "hr"  # its members record and read anyone's absences (admins do anyway)
    time_zone: str = "UTC"  # the company's: where a day of absence, or a form's "today", begins and ends
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_max_failures: int = 5  # failed sign-ins per account or address before it waits
    login_window_minutes: int = 15
    password_min_length: int = 8
    # Company SSO (OpenID Connect, bpm/auth/oidc.py): off unless an issuer is set
    oidc_issuer: str = ""  # e.g. https://login.example.com/realms/company (discovery at /.well-known/...)
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid profile email"
    oidc_groups_claim: str = "groups"  # the claim listing a person's groups (refreshed at each sign-in)
    oidc_username_claim: str = "preferred_username"
    oidc_audience: str = ""  # of JWT access tokens accepted as bearers (default: the client id)
    oidc_label: str = "company SSO"  # the sign-in button says "Sign in with <label>"
    access_log: bool = False  # one line per request from `bpm serve` (usually the proxy's job)
    # Notifications (bpm/notify): e-mail over SMTP, signed webhooks, the bell
    smtp_host: str = ""  # empty: e-mails are written to the log, not sent (development)
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True  # upgrade the connection with STARTTLS (port 587)
    smtp_ssl: bool = False  # TLS from the first byte (port 465); excludes STARTTLS
    smtp_timeout_seconds: int = 10
    smtp_connections: int = 4  # per worker: messages of a round go out in parallel, each connection reused
    smtp_ca_file: str = ""  # PEM of a private CA that signed the mail server's certificate (default: the system's)
    mail_from: str = "Refluxo BPM <bpm@localhost>"
    company_name: str = "Refluxo BPM"  # in every e-mail's subject line and signature
    webhook_secret: str = ""  # the HMAC-SHA256 key webhook receivers check (X-BPM-Signature); needed to send any
    webhook_timeout_seconds: int = 5
    # Internal hosts outgoing calls may reach, by name or CIDR ("hooks.intra.example, 10.20.0.0/16"); every other
    # loopback, private, link-local, unique-local, multicast or unspecified address is refused (bpm.notify.targets).
    webhook_allow: str = ""
    digest_hour: int = 7  # UTC hour at which daily digests go out
    notify_max_attempts: int = 8  # deliveries tried before a message becomes a dead letter
    # Audit (bpm/runtime/anchors.py): the key the database never holds, and where anchors go besides it
    audit_signing_key: str = ""  # an Ed25519 private key, PEM (bpm audit keygen); empty: no anchors
    audit_anchor_file: str = ""  # a file each anchor is appended to as a JSON line (keep it off the database host)
    audit_anchor_minutes: int = 60  # how often the worker anchors the chains' heads
    audit_anchor_webhook: str = ""  # a URL each anchor is POSTed to as well, signed with BPM_WEBHOOK_SECRET
    # Retention (bpm/runtime/retention.py): a process's historyTimeToLive wins; this applies to the others
    history_ttl_days: int = 0  # days a finished instance's data is kept when its process says nothing; 0: for good
    retention_minutes: int = 60  # how often the worker purges what retention says may go; 0: never (cron runs it)

    def __post_init__(self) -> None:
        if not self.secret_key:
            object.__setattr__(self, "secret_key", secrets.token_urlsafe(32))
        if self.max_body_bytes < 1024:
            raise ValueError("BPM_MAX_BODY_BYTES must be at least 1024")
        if self.max_attachment_bytes < 1:
            raise ValueError("BPM_MAX_ATTACHMENT_BYTES must be at least 1")
        if not 2 <= self.max_json_depth <= 1000:
            raise ValueError("BPM_MAX_JSON_DEPTH must be between 2 and 1000")
        self._check_costs()
        if self.workers < 1 or self.threads < 1:
            raise ValueError("BPM_WORKERS and BPM_THREADS must be at least 1")
        if self.session_idle_minutes < 1 or self.session_max_hours < 1:
            raise ValueError("BPM_SESSION_IDLE_MINUTES and BPM_SESSION_MAX_HOURS must be at least 1")
        if self.login_max_failures < 1 or self.login_window_minutes < 1:
            raise ValueError("BPM_LOGIN_MAX_FAILURES and BPM_LOGIN_WINDOW_MINUTES must be at least 1")
        self._check_notifications()
        self.roles_of_groups  # noqa: B018  (fails here, at start-up, if malformed)
        self.webhook_allowed  # noqa: B018
        self.proxy_networks  # noqa: B018
        self._check_sso()
        self.zone  # noqa: B018
        if self.log_level.upper() not in LOG_LEVELS:
            raise ValueError(f"BPM_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        if self.database_pooler not in ("", "transaction"):
            raise ValueError("BPM_DATABASE_POOLER must be empty (none, or a pooler in session mode) or "
                             "'transaction' (PgBouncer in transaction mode)")

    def _check_costs(self) -> None:
        if self.max_output_bytes < 1024 or self.max_snapshot_bytes < self.max_output_bytes:
            raise ValueError("BPM_MAX_OUTPUT_BYTES must be at least 1024 and BPM_MAX_SNAPSHOT_BYTES at least that")
        if self.engine_slice_ms < 1 or self.max_steps_per_instance < 1 or self.max_template_bytes < 1024:
            raise ValueError("BPM_ENGINE_SLICE_MS and BPM_MAX_STEPS_PER_INSTANCE must be at least 1, "
                             "BPM_MAX_TEMPLATE_BYTES at least 1024")
        if self.transaction_cpu_ms < 1 or self.steps_per_transaction < 1:
            raise ValueError("BPM_TRANSACTION_CPU_MS and BPM_STEPS_PER_TRANSACTION must be at least 1")

    def _check_notifications(self) -> None:
        if self.smtp_connections < 1:
            raise ValueError("BPM_SMTP_CONNECTIONS must be at least 1")
        if self.smtp_ssl and self.smtp_starttls and self.smtp_host:
            raise ValueError("BPM_SMTP_SSL and BPM_SMTP_STARTTLS exclude each other: set BPM_SMTP_STARTTLS=0")
        if self.history_ttl_days < 0 or self.retention_minutes < 0 or self.audit_anchor_minutes < 1:
            raise ValueError("BPM_HISTORY_TTL_DAYS and BPM_RETENTION_MINUTES must be 0 or more (0: keep; never), "
                             "BPM_AUDIT_ANCHOR_MINUTES at least 1")
        if not 0 <= self.digest_hour <= 23 or self.notify_max_attempts < 1:
            raise ValueError("BPM_DIGEST_HOUR must be 0-23 and BPM_NOTIFY_MAX_ATTEMPTS at least 1")

    def _check_sso(self) -> None:
        if not self.oidc_issuer:
            return
        if not (self.oidc_client_id and self.oidc_client_secret):
            raise ValueError("BPM_OIDC_ISSUER needs BPM_OIDC_CLIENT_ID and BPM_OIDC_CLIENT_SECRET")
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("BPM_OIDC_SCOPES must include openid")

    @property
    def roles_of_groups(self) -> dict[str, frozenset[str]]:
        """``group_roles`` parsed: group name -> the roles membership grants."""
        mapping: dict[str, set[str]] = {}
        for pair in filter(None, (part.strip() for part in self.group_roles.split(","))):
            group, sep, role = pair.partition("=")
            if not sep or not group.strip() or role.strip() not in ROLES:
                raise ValueError(f"BPM_GROUP_ROLES: expected group=role with a role among {', '.join(ROLES)}, "
                                 f"got {pair!r}")
            mapping.setdefault(group.strip(), set()).add(role.strip())
        return {group: frozenset(roles) for group, roles in mapping.items()}

    @property
    def zone(self) -> ZoneInfo:
        """``time_zone`` as a zone."""
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"BPM_TIME_ZONE: {self.time_zone!r} is not a time zone (e.g. Europe/Berlin)") from None

    @property
    def proxy_networks(self) -> tuple[Any, ...]:
        """``proxy_addresses`` parsed: the networks whose X-Forwarded-* headers are believed."""
        try:
            return tuple(ipaddress.ip_network(p.strip(), strict=False)
                         for p in self.proxy_addresses.split(",") if p.strip())
        except ValueError as exc:
            raise ValueError(f"BPM_PROXY_ADDRESSES: addresses or CIDRs, separated by commas ({exc})") from None

    @property
    def webhook_allowed(self) -> tuple[frozenset[str], tuple[Any, ...]]:
        """``webhook_allow`` parsed: the host names (lower case) and the networks outgoing calls may reach."""
        hosts, networks = set(), []
        for part in filter(None, (p.strip() for p in self.webhook_allow.split(","))):
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                if not all(c.isalnum() or c in "-._" for c in part):
                    raise ValueError(f"BPM_WEBHOOK_ALLOW: expected host names or CIDRs, got {part!r}") from None
                hosts.add(part.lower().rstrip("."))
        return frozenset(hosts), tuple(networks)

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS when the service is reached over HTTPS."""
        return self.public_url.lower().startswith("https://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``BPM_*`` variables, then apply ``overrides``."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in fields(cls):
            raw = environ.get(f"BPM_{setting.name.upper()}")
            if raw is not None:
                values[setting.name] = _convert(setting.type, raw, setting.name)
        values.update(overrides)
        return cls(**values)

    @staticmethod
    def chosen(name: str, environ: Mapping[str, str] | None = None) -> bool:
        """True if the environment sets ``BPM_<NAME>`` at all (so a command's own default must not override it)."""
        return f"BPM_{name.upper()}" in (os.environ if environ is None else environ)

    def hand_down(self, *names: str) -> None:
        """Put these settings into the environment, for processes started from this one (the server's workers
        build their settings from it and must agree, e.g. on the signing key)."""
        for name in names:
            os.environ[f"BPM_{name.upper()}"] = str(getattr(self, name))

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with some settings changed."""
        return replace(self, **overrides)


def _convert(kind: Any, raw: str, name: str) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind == "bool":
            return _flag(raw)
        if kind == "int":
            return int(raw)
        if kind == "Path":
            return Path(raw)
    except ValueError as exc:
        raise ValueError(f"BPM_{name.upper()}: {exc}") from None
    return raw
