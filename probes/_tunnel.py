"""Raw sockets on the client's route: TCP connects, proxy CONNECT/GET exchanges, tunnels.
Every read bounded."""

from __future__ import annotations

import base64
import errno
import html
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from gwdoctor.engine import ProbeContext

from ._route import split_proxy_url
from ._trust import client_ssl_context

__all__ = ["ProxyReply", "TunnelError", "basic_credentials", "connect_tcp", "open_route",
           "proxy_exchange", "socket_error_status"]

HEAD_LIMIT = 64 * 1024


class TunnelError(Exception):
    """The route to the gateway could not be opened; ``status`` is a proxy.tcp-style
    class or ``proxy:<code>`` for a refused CONNECT."""

    def __init__(self, status: str, detail: str = "") -> None:
        super().__init__(f"{status}: {detail}" if detail else status)
        self.status = status


@dataclass
class ProxyReply:
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    error: str | None = None

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def title(self) -> str | None:
        match = re.search(rb"<title[^>]*>(.*?)</title>", self.body, re.I | re.S)
        if not match:
            return None
        return html.unescape(match.group(1).decode("utf-8", "replace")).strip()[:200] or None


def socket_error_status(exc: BaseException) -> str:
    """``refused`` | ``timeout`` | ``unreachable`` | ``dns`` for a failed connect."""
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return "refused"
    return "unreachable"  # EHOSTUNREACH, ENETUNREACH and the like


def connect_tcp(host: str, port: int, timeout: float) -> socket.socket:
    """A connected socket (tries every address, like the client); raises OSError.
    A name the IDNA codec refuses (an empty or over-long label, ``llm..corp``) is a name
    that does not resolve, as the client reports it (ENOTFOUND), not a crash."""
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except UnicodeError as exc:
        raise socket.gaierror(socket.EAI_NONAME, f"invalid host name {host!r}: {exc}") from exc


def basic_credentials(proxy_url: str | None) -> str | None:
    """``Proxy-Authorization`` value as undici builds it: Basic of the percent-decoded
    user and password, only when both are non-empty; None otherwise."""
    if not proxy_url:
        return None
    parts = split_proxy_url(proxy_url)
    if parts["error"] or not parts["user"] or not parts["password"]:
        return None
    try:
        user = unquote(parts["user"], errors="strict")
        password = unquote(parts["password"], errors="strict")
    except UnicodeDecodeError:
        return None
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"Basic {token}"


def _recv_head(sock: socket.socket, deadline: float) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < HEAD_LIMIT:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def proxy_exchange(sock: socket.socket, method: str, target: str, host_header: str,
                   auth: str | None, timeout: float, read_body: bool) -> ProxyReply:
    """Send one CONNECT or absolute-URI GET and read the proxy's answer (bounded)."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host_header}", "User-Agent: gwdoctor"]
    if auth:
        lines.append(f"Proxy-Authorization: {auth}")
    if method != "CONNECT":
        lines += ["Accept: */*", "Connection: close"]
    reply = ProxyReply()
    deadline = time.monotonic() + timeout
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head, rest = _recv_head(sock, deadline)
    except (TimeoutError, socket.timeout):
        reply.error = "timeout"
        return reply
    except OSError as exc:
        reply.error = ("reset" if getattr(exc, "errno", None) in (errno.ECONNRESET, errno.EPIPE)
                       else "io")
        return reply
    first, *header_lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/\d(?:\.\d)?\s+(\d{3})", first)
    if not match:
        reply.error = "not_http" if head else "closed"
        return reply
    reply.status = int(match.group(1))
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            reply.headers.append((name.strip(), value.strip()))
    if read_body and not (method == "CONNECT" and reply.status == 200):
        body = rest
        length = next((int(v) for v in reply.header("content-length") if v.isdigit()), None)
        want = min(length if length is not None else HEAD_LIMIT, HEAD_LIMIT)
        try:
            while len(body) < want and time.monotonic() < deadline:
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = sock.recv(4096)
                if not chunk:
                    break
                body += chunk
        except OSError:
            pass  # the head is what matters; a body cut short keeps what arrived
        reply.body = body[:HEAD_LIMIT]
    return reply


def _to_proxy(ctx: ProbeContext, proxy: dict, timeout: float) -> socket.socket:
    sock = connect_tcp(proxy["host"], int(proxy["port"]), timeout)
    if proxy.get("scheme") == "https":
        sock = client_ssl_context(ctx).wrap_socket(sock, server_hostname=proxy["host"])
    return sock


def open_route(ctx: ProbeContext, host: str, port: int,
               timeout: float) -> tuple[socket.socket, bool]:
    """A socket to ``host:port`` on the client's route: a CONNECT tunnel through the
    proxy when ``proxy.route`` says one is used, else a direct connection.
    Returns ``(socket, via_proxy)``; raises :class:`TunnelError`."""
    route = ctx.facts.get("proxy.route") or {}
    if not route.get("used"):
        try:
            return connect_tcp(host, port, timeout), False
        except OSError as exc:
            raise TunnelError(socket_error_status(exc), str(exc)) from exc
    url = ctx.vault.get("proxy.url") or route.get("url") or ""
    parts = urlsplit(url if "://" in url else "http://" + url)
    proxy = {"host": route.get("host") or parts.hostname, "port": route.get("port") or parts.port,
             "scheme": route.get("scheme") or parts.scheme}
    try:
        sock = _to_proxy(ctx, proxy, timeout)
    except ssl.SSLError as exc:
        raise TunnelError("proxy_tls", str(exc)) from exc
    except OSError as exc:
        raise TunnelError(socket_error_status(exc), str(exc)) from exc
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    reply = proxy_exchange(sock, "CONNECT", target, target, basic_credentials(url), timeout, False)
    if reply.status != 200:
        sock.close()
        raise TunnelError(f"proxy:{reply.status or reply.error}")
    sock.settimeout(timeout)
    return sock, True
