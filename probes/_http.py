"""HTTP plumbing for the gateway/auth/model probes: the client's exact route, capped reads,
error classes.

Stable API (used by other helpers' probes; add parameters, never rename):

``client_for(ctx, *, timeout=None) -> httpx.Client``
    An httpx client that takes the route Claude Code takes to the gateway:

    * proxy: when ``facts["proxy.route"]["used"]``, the proxy URL from the vault
      (``proxy.url``, with credentials; only http/https proxies; the credentials are
      kept only when user *and* password are non-empty, as undici does); else direct;
    * verify: an ``ssl.SSLContext`` with the client's trust store (bundled roots +
      system store per SSL_CERT_FILE/SSL_CERT_DIR unless CLAUDE_CODE_CERT_STORE drops
      one + NODE_EXTRA_CA_CERTS when this version applies it), the client certificate
      from CLAUDE_CODE_CLIENT_CERT/KEY when loadable, and no verification only when the
      client has none either (NODE_TLS_REJECT_UNAUTHORIZED=0);
    * ``trust_env=False`` (httpx's own proxy/CA env handling would change the route),
      ``follow_redirects=False``, connect/read/write/pool timeouts of ``timeout``
      seconds (default ``ctx.timeout``);
    * ``ctx.transport`` replaces the network when set (unit tests); the proxy is then
      not mounted, so the transport sees every request.

``read_capped(response, limit=256*1024) -> bytes``
    At most ``limit`` bytes of a (preferably streamed) response body.
    ``read_capped_info`` also says whether the body was cut.

``classify_transport_error(exc) -> str``
    ``"refused" | "timeout" | "reset" | "tls" | "proxy" | "dns" | "protocol"``.
"""

from __future__ import annotations

import errno
import socket
import ssl
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from gwdoctor.engine import ProbeContext

from ._lazy import httpx  # imported on first use
from ._trust import client_ssl_context

__all__ = ["DEFAULT_BODY_LIMIT", "classify_transport_error", "client_for", "proxy_url_for_httpx",
           "read_capped", "read_capped_info"]

DEFAULT_BODY_LIMIT = 256 * 1024


def proxy_url_for_httpx(url: str | None) -> str | None:
    """The proxy URL as undici would use it: a scheme added when missing (the client
    repairs ``host:port``), credentials dropped unless both parts are non-empty."""
    if not url:
        return None
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return None  # SOCKS and the like: the client has no support; proxy.url_problems says so
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    if user and password:
        # httpx decodes the userinfo once, like undici's decodeURIComponent; re-quote
        # so a raw '%' or '@' in a password cannot change the host httpx connects to.
        netloc = f"{quote(unquote(user), safe='')}:{quote(unquote(password), safe='')}@{hostport}"
    else:
        netloc = hostport
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, "", ""))


def client_for(ctx: ProbeContext, *, timeout: float | None = None) -> httpx.Client:
    """Return an httpx client on the client's route to the gateway (see module doc)."""
    seconds = float(timeout if timeout is not None else ctx.timeout)
    route = ctx.facts.get("proxy.route") or {}
    proxy_scheme = str(route.get("scheme") or "").lower() if route.get("used") else ""
    tls_hop = str(ctx.facts.get("gateway.scheme") or "https").lower() == "https" \
        or proxy_scheme == "https"
    # No TLS on this route (http:// gateway, http:// proxy or none, redirects not
    # followed): skip building the client's trust store for nothing.
    verify = client_ssl_context(ctx) if tls_hop else False
    kwargs: dict = {
        "trust_env": False,
        "follow_redirects": False,
        "timeout": httpx.Timeout(seconds, connect=seconds),
    }
    if ctx.transport is not None:
        inner = ctx.transport
    else:
        proxy = None
        if isinstance(route, dict) and route.get("used"):
            proxy = proxy_url_for_httpx(ctx.vault.get("proxy.url") or route.get("url"))
        # The transport, not the client, gets verify and proxy: it is wrapped below, and a
        # client-level proxy would mount a transport of its own around the wrapper.
        inner = httpx.HTTPTransport(verify=verify, proxy=proxy, trust_env=False)
    # Inflated size, body size and exchange time bounded for every probe. Imported here:
    # _bounded subclasses httpx types, and an offline scan must not import httpx at all.
    from ._bounded import bounded

    kwargs["transport"] = bounded(inner)
    return httpx.Client(**kwargs)


def read_capped_info(response: httpx.Response,
                     limit: int = DEFAULT_BODY_LIMIT) -> tuple[bytes, bool]:
    """``(body, truncated)``: at most ``limit`` bytes; stops reading a streamed body there."""
    if response.is_stream_consumed or getattr(response, "_content", None) is not None:
        data = response.content
        return data[:limit], len(data) > limit
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            response.close()
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False


def read_capped(response: httpx.Response, limit: int = DEFAULT_BODY_LIMIT) -> bytes:
    """At most ``limit`` bytes of the body (use with ``client.stream(...)``)."""
    return read_capped_info(response, limit)[0]


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out and len(out) < 10:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


_RESET_ERRNOS = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED}


def classify_transport_error(exc: BaseException) -> str:
    """Map an httpx/OSError failure to the transport class the report uses."""
    chain = _chain(exc)
    if any(isinstance(e, (httpx.TimeoutException, TimeoutError, socket.timeout)) for e in chain):
        return "timeout"
    if any(isinstance(e, httpx.ProxyError) for e in chain):
        return "proxy"
    for e in chain:
        if isinstance(e, socket.gaierror):
            return "dns"
        if isinstance(e, (ssl.SSLError, ssl.CertificateError)):
            return "reset" if isinstance(e, ssl.SSLEOFError) else "tls"
        if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED:
            return "refused"
        if isinstance(e, ConnectionResetError) or getattr(e, "errno", None) in _RESET_ERRNOS:
            return "reset"
    text = " ".join(str(e) for e in chain).lower()
    if "name or service not known" in text or "nodename nor servname" in text \
            or "temporary failure in name resolution" in text or "getaddrinfo" in text:
        return "dns"
    if "refused" in text:
        return "refused"
    if "certificate" in text or "ssl" in text or "tls" in text:
        return "tls"
    if "reset" in text or "disconnected without sending" in text or "broken pipe" in text:
        return "reset"
    return "protocol"
