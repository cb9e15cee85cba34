"""DNS and TCP probes: resolve the gateway and proxy hosts with the system resolver, connect
directly."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from typing import Any, Callable

from gwdoctor.engine import Facts, ProbeContext, ProbeSkipped, hookimpl, probe

from ._gwhttp import target
from ._io import read_file
from ._outcome import reporting
from ._tunnel import connect_tcp, socket_error_status

__all__ = ["connect_gateway", "resolve", "resolve_gateway", "resolve_proxy"]

# The system resolver, as the client uses it (getaddrinfo). Tests swap in a slow one.
GETADDRINFO: Callable[..., Any] = socket.getaddrinfo

_NXDOMAIN = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
_CODES = {socket.EAI_NONAME: "ENOTFOUND", socket.EAI_AGAIN: "EAI_AGAIN",
          socket.EAI_FAIL: "EAI_FAIL"}


def resolve(host: str, timeout: float) -> dict[str, Any]:
    """The ``dns.*`` shape for ``host``: getaddrinfo in a daemon thread, so a hung
    resolver costs ``timeout`` seconds and no more."""
    out: dict[str, Any] = {"host": host, "status": "ok", "addresses": [], "error": None,
                           "code": None, "duration_ms": 0}
    try:
        ipaddress.ip_address(host.strip("[]"))
        out.update(status="literal", addresses=[host.strip("[]")])
        return out
    except ValueError:
        pass
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["infos"] = GETADDRINFO(host, None, type=socket.SOCK_STREAM)
        except Exception as exc:  # any resolver failure is a fact, not a crash
            box["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=work, name=f"gwdoctor-dns-{host}", daemon=True)
    thread.start()
    thread.join(timeout)
    out["duration_ms"] = int((time.monotonic() - started) * 1000)
    if thread.is_alive():
        out.update(status="timeout",
                   error=f"no answer from the system resolver within {timeout:g} s")
        return out
    exc = box.get("error")
    if exc is None:
        seen: list[str] = []
        for info in box.get("infos") or []:
            addr = str(info[4][0])
            if addr not in seen:
                seen.append(addr)
        out["addresses"] = seen
        return out
    if ((isinstance(exc, socket.gaierror) and exc.errno in _NXDOMAIN)
            or isinstance(exc, UnicodeError)):
        # A name the IDNA codec refuses (empty or over-long label: "llm..corp") never resolves;
        # the client reports ENOTFOUND for it (measured on 2.1.332), not a resolver failure.
        out.update(status="nxdomain", code="ENOTFOUND")
    else:
        out["status"] = "failure"
        errno = getattr(exc, "errno", None)
        out["code"] = (_CODES.get(errno) if isinstance(errno, int) else None) or type(exc).__name__
    out["error"] = str(exc)[:200]
    return out


def _nameservers(ctx: ProbeContext) -> list[str]:
    # Bounded (_io): a FIFO or a device planted at resolv.conf is not read.
    read = read_file(ctx.root / "etc/resolv.conf", "text")
    if not read.ok:
        return []
    text = (read.data or b"").decode("utf-8", "replace")
    return [line.split()[1] for line in text.splitlines()
            if line.strip().startswith("nameserver") and len(line.split()) > 1]


@probe(name="dns.gateway", provides=("dns.gateway",),
       needs=("gateway.host", "route.target", "proxy.route"), network=True)
def resolve_gateway(ctx: ProbeContext) -> Facts:
    """Resolve the host the client sends to with the system resolver (getaddrinfo): the
    gateway, or in Bedrock/Vertex mode the provider endpoint or its override (``route.target``).

    ``proxy_resolves`` is true when a proxy applies: the proxy, not this machine,
    then resolves the gateway host, so a local failure proves nothing.
    """
    host = target(ctx)["host"]
    if not host:
        raise ProbeSkipped("the gateway URL has no host")
    result = resolve(str(host), ctx.timeout)
    result["proxy_resolves"] = bool((ctx.facts.get("proxy.route") or {}).get("used"))
    result["nameservers"] = _nameservers(ctx)
    return {"dns.gateway": result}


@probe(name="dns.proxy", provides=("dns.proxy",), needs=("proxy.route",), network=True)
def resolve_proxy(ctx: ProbeContext) -> Facts:
    """Resolve the proxy host when a proxy applies (``None`` otherwise)."""
    route = ctx.facts.get("proxy.route") or {}
    if not route.get("used") or not route.get("host"):
        return {"dns.proxy": None}
    result = resolve(str(route["host"]), ctx.timeout)
    result["nameservers"] = _nameservers(ctx)
    return {"dns.proxy": result}


@probe(name="connect.gateway", provides=("connect.gateway",),
       needs=("dns.gateway", "proxy.route", "gateway.port", "route.target"), network=True)
def connect_gateway(ctx: ProbeContext) -> Facts:
    """Open a TCP connection straight to the gateway when no proxy applies."""
    started = time.monotonic()
    if (ctx.facts.get("proxy.route") or {}).get("used"):
        return {"connect.gateway": {"status": "skipped_via_proxy", "address": None,
                                    "duration_ms": 0}}
    dns = ctx.facts.get("dns.gateway") or {}
    if dns.get("status") not in ("ok", "literal") or not dns.get("addresses"):
        raise ProbeSkipped("the gateway host did not resolve")
    port = int(target(ctx)["port"] or 443)
    status, address = "unreachable", None
    # Three addresses at most, tried in turn as the client does, but within one shared
    # deadline: three black-holed addresses must not add up to three timeouts (and overrun
    # the probe's own limit, which would hide "unreachable" behind an ENG002 timeout).
    deadline = started + ctx.timeout
    for addr in dns["addresses"][:3]:
        left = deadline - time.monotonic()
        if left <= 0.05:
            status = "timeout"
            break
        address = addr
        try:
            connect_tcp(addr, port, left).close()
            status = "ok"
            break
        except OSError as exc:
            status = socket_error_status(exc)
    return {"connect.gateway": {"status": status, "address": address, "port": port,
                                "duration_ms": int((time.monotonic() - started) * 1000)}}


@hookimpl
def gwdoctor_register_probes() -> list:
    return reporting([resolve_gateway, resolve_proxy, connect_gateway])
