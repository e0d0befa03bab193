"""X-Forwarded-For and friends are believed only from the reverse proxies the operator names.

Behind a proxy every request comes from the proxy's address, so the client's is read from X-Forwarded-For —
but anyone can send that header: taken from any address, it lets a client choose the address the sign-in
throttle and the logs see. So it counts only when the request came from one of ``BPM_PROXY_ADDRESSES``
(addresses or CIDRs; loopback by default); from anyone else the X-Forwarded-* headers are removed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT",
             "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")


class TrustedProxies:
    """WSGI middleware: ProxyFix (one hop) for requests from a trusted proxy; no forwarded headers otherwise."""

    def __init__(self, app: Callable[..., Any], networks: Iterable[Any]) -> None:
        self._plain, self._networks = app, tuple(networks)
        self._fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self._trusted(environ.get("REMOTE_ADDR", "")):
            return self._fixed(environ, start_response)
        for name in FORWARDED:
            environ.pop(name, None)
        return self._plain(environ, start_response)

    def _trusted(self, address: str) -> bool:
        try:
            found = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(found in network for network in self._networks)
