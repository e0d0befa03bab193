"""Where the service may send a request for someone else (webhooks, the audit anchor): never to its own
network by default.

A webhook's URL comes from a definition (or, in an old one, from an expression), and the worker posts to it
with the service's position in the network: a definition or an employee must not be able to make it reach
loopback, link-local (cloud metadata), private, unique-local, multicast or unspecified addresses. Every
address the name resolves to is checked **when the message is delivered** (DNS changes), and the address the
connection actually reached is checked again before anything is sent (a name that resolves differently the
second time gains nothing). Redirects are not followed. ``BPM_WEBHOOK_ALLOW`` names the internal hosts or
networks a company does want reached.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from bpm.config import Settings


class TargetRefused(RuntimeError):
    """The URL's host is not one the service may call (and is not allowed by ``BPM_WEBHOOK_ALLOW``)."""


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def forbidden(address: Address) -> bool:
    """Whether an address is one of the service's own kind (loopback, private, link-local, unique-local,
    multicast, unspecified or reserved); an IPv4-mapped IPv6 address is judged as its IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_loopback or address.is_private or address.is_link_local or address.is_multicast
            or address.is_unspecified or address.is_reserved or not address.is_global)


def host_of(url: str) -> tuple[str, int]:
    """The host and port a URL names; TargetRefused for a URL that is not plain http(s) to a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise TargetRefused(f"not an http(s) URL to a host: {url[:80]}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused(f"not a port: {url[:80]}") from None
    return parts.hostname.lower().rstrip("."), port


def allowed(settings: Settings, host: str, address: Address | None = None) -> bool:
    """Whether ``BPM_WEBHOOK_ALLOW`` names this host, or a network this address is in."""
    hosts, networks = settings.webhook_allowed
    if host in hosts:
        return True
    return address is not None and any(address in network for network in networks)


def check_url(settings: Settings, url: str) -> list[Address]:
    """Resolve the URL's host now and refuse it if any address it has is forbidden and not allowed."""
    host, port = host_of(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(f"{host} does not resolve") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    check_addresses(settings, host, addresses)
    return addresses


def check_addresses(settings: Settings, host: str, addresses: Iterable[Address]) -> None:
    """TargetRefused if one of ``addresses`` of ``host`` is forbidden and not allowed."""
    for address in addresses:
        if forbidden(address) and not allowed(settings, host, address):
            raise TargetRefused(f"{host} is not an address the service may call (set BPM_WEBHOOK_ALLOW for an "
                                "internal host)")


def literal_problem(settings: Settings, url: str) -> str | None:
    """What is wrong with a target as a definition writes it, before any name is resolved: not an http(s) URL,
    an expression (an employee's form data must not choose where the service sends), or an address or name
    that is the service's own (``localhost``, ``127.0.0.1``, ``169.254.169.254``…) and not allowed."""
    if "{{" in url:
        return ("a webhook's URL is written in the definition, never computed from an expression (the data a "
                "person types must not choose where the service sends)")
    try:
        host, _ = host_of(url)
    except TargetRefused as refused:
        return str(refused)
    if allowed(settings, host):
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is the service's own machine (set BPM_WEBHOOK_ALLOW for an internal host)"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None  # a name: resolved and checked at delivery, when it counts
    if forbidden(address) and not allowed(settings, host, address):
        return f"{host} is not an address the service may call (set BPM_WEBHOOK_ALLOW for an internal host)"
    return None


def check_peer(settings: Settings, host: str, sock: Any) -> None:
    """After connecting: the address actually reached must pass too (a name may resolve otherwise twice)."""
    peer = ipaddress.ip_address(sock.getpeername()[0].split("%", 1)[0])
    check_addresses(settings, host, [peer])
