"""Per-request facts that the audit log records, carried in context variables.

Set by ``RequestContextMiddleware`` for web and API requests and by the command line for
commands, so services need not pass the request down just to be audited.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


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


def client_ip(meta: dict[str, str], proxy_count: int) -> str | None:
    """The client's address: the socket peer, or with ``proxy_count`` trusted proxies in front,
    the address the outermost of them saw (counted from the right of X-Forwarded-For)."""
    if proxy_count <= 0:
        return meta.get("REMOTE_ADDR") or None
    hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) >= proxy_count:
        return hops[-proxy_count]
    return meta.get("REMOTE_ADDR") or None
