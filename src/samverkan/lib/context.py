"""Per-request facts that the audit log records, carried in context variables.

Set by ``RequestContextMiddleware`` for web and API requests and by the command line for
commands, so services need not pass the request down just to be audited.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    source: str  # "web", "api", "cli" or "system"
    ip: str | None = None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "samverkan_request_context", default=None
)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current() -> RequestContext:
    ctx = _current.get()
    return ctx if ctx is not None else RequestContext(request_id="", source="system")


@contextmanager
def bound(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def client_ip(
    meta: dict[str, str],
    proxy_count: int,
    trusted: Sequence[IPv4Network | IPv6Network] = (),
) -> str | None:
    """The client's address, as far as the proxies in front can be trusted to say it.

    With a ``trusted`` list of proxy networks, ``X-Forwarded-For`` is read only when the socket
    peer is one of them, from the right, skipping every trusted hop: the first untrusted
    address is the client. A municipality that trusts its own outbound proxy this way sees each
    workstation, not the one NAT address of a whole office. Without a list, ``proxy_count``
    trusted proxies stand in front and the client is the entry that many places from the right.
    """
    peer = meta.get("REMOTE_ADDR") or None
    hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if trusted:
        if peer is None or not _in(peer, trusted):
            return peer
        for hop in reversed(hops):
            if not _in(hop, trusted):
                return hop if _address(hop) is not None else peer
        return hops[0] if hops else peer
    if proxy_count <= 0:
        return peer
    if len(hops) >= proxy_count:
        return hops[-proxy_count]
    return peer


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text)
    except ValueError:
        return None


def _in(text: str, networks: Sequence[IPv4Network | IPv6Network]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in networks)


def parse_networks(name: str, items: Sequence[str]) -> tuple[IPv4Network | IPv6Network, ...]:
    """``SAMVERKAN_TRUSTED_PROXIES``: addresses or networks (``10.0.0.5``, ``10.1.0.0/16``)."""
    try:
        return tuple(ip_network(item, strict=False) for item in items)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
