"""TLS probes: the client's CA/cert settings, the gateway's presented chain verified as the
client and as other tools would, and scheme/port mismatches."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from typing import Any

from gwdoctor.engine import Facts, ProbeContext, ProbeSkipped, hookimpl, probe

from ._gwhttp import target
from ._lazy import x509  # imported on first use
from ._netenv import env_value
from ._outcome import reporting
from ._trust import client_cert_info, client_trust, extra_ca_info, other_trust, quiet_serial_warning
from ._tunnel import TunnelError, open_route
from ._x509 import (
    chain_incomplete,
    describe,
    expired,
    hostname_matches,
    inspection_vendor,
    verify_chain,
)

__all__ = ["tls_config", "tls_gateway", "tls_scheme", "handshake"]

GATEWAY = ("gateway.scheme", "gateway.host", "gateway.port", "route.target")
_DER = 2  # _ssl.ENCODING_DER


def _der_chain(sslobj: Any) -> list[bytes]:
    # NOTE: Python 3.10-3.12 expose the presented chain only on the private _sslobj
    # (3.13 made get_unverified_chain public, returning DER bytes).
    inner = getattr(sslobj, "_sslobj", sslobj)
    getter = (getattr(inner, "get_unverified_chain", None)
              or getattr(sslobj, "get_unverified_chain", None))
    if getter is not None:
        items = getter() or []
        return [i if isinstance(i, bytes) else i.public_bytes(_DER) for i in items]
    leaf = sslobj.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def handshake(sock: socket.socket, host: str, timeout: float,
              context: ssl.SSLContext | None = None) -> dict[str, Any]:
    """A TLS handshake over ``sock`` that verifies nothing (verification happens
    afterwards, against each trust store) and keeps the first bytes the server sent,
    so a plain-HTTP answer on a TLS port is recognised. Returns ``{"status",
    "protocol", "error", "der": [bytes]}``; closes ``sock``."""
    if context is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    try:
        ipaddress.ip_address(host.strip("[]"))
        sni = None  # Node sends no SNI for an IP literal
    except ValueError:
        sni = host
    obj = context.wrap_bio(incoming, outgoing, server_hostname=sni)
    out: dict[str, Any] = {"status": "ok", "protocol": None, "error": None, "der": []}
    first = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending = outgoing.read()
                if pending:
                    sock.sendall(pending)
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = sock.recv(16384)
                if not chunk:
                    out.update(status="reset",
                               error="the server closed the connection during the handshake")
                    return out
                first = first or chunk[:8]
                incoming.write(chunk)
        pending = outgoing.read()
        if pending:
            sock.sendall(pending)
        out["protocol"] = obj.version()
        out["der"] = _der_chain(obj)
    except (TimeoutError, socket.timeout):
        out.update(status="timeout", error=f"no TLS answer within {timeout:g} s")
    except ssl.SSLError as exc:
        plain = first.startswith(b"HTTP/")
        out.update(status="plain_http" if plain else "failed",
                   error=("the server answered in plain HTTP" if plain
                          else f"{exc.reason or exc}"[:200]))
    except OSError as exc:
        out.update(status="reset", error=str(exc)[:200])
    finally:
        sock.close()
    return out


@probe(name="tls.config",
       provides=("tls.extra_ca", "tls.client_cert", "tls.reject_unauthorized_disabled"),
       needs=("config.env", "client.behaviour"))
def tls_config(ctx: ProbeContext) -> Facts:
    """Check NODE_EXTRA_CA_CERTS, the client certificate and NODE_TLS_REJECT_UNAUTHORIZED."""
    return {"tls.extra_ca": extra_ca_info(ctx), "tls.client_cert": client_cert_info(ctx),
            "tls.reject_unauthorized_disabled": (env_value(ctx, "NODE_TLS_REJECT_UNAUTHORIZED")
                                                 == "0")}


_EMPTY = {"tls.chain": None, "tls.verify.client": None, "tls.verify.other": None,
          "tls.hostname_match": None, "tls.expired": None, "tls.inspection_vendor": None,
          "tls.inspection_issuer": None, "tls.chain_incomplete": None}


def _open(ctx: ProbeContext, host: str, port: int, why: str) -> Any:
    """The client's route to the gateway, or ProbeSkipped with ``why`` naming the failure."""
    try:
        return open_route(ctx, host, port, ctx.timeout)
    except TunnelError as exc:
        raise ProbeSkipped(why.format(exc.status)) from exc


@probe(name="tls.gateway",
       provides=("tls.handshake",) + tuple(_EMPTY),
       needs=GATEWAY + ("proxy.route", "config.env", "client.behaviour"), network=True)
def tls_gateway(ctx: ProbeContext) -> Facts:
    """Handshake with the gateway over the client's route (through the proxy's CONNECT
    tunnel when one applies), then verify the presented chain twice: with the client's
    trust store and with what curl/Python trust (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, system)."""
    goal = target(ctx)
    if goal["scheme"] != "https":
        raise ProbeSkipped("the gateway URL is not https")
    host, port = str(goal["host"]), int(goal["port"] or 443)
    sock, via_proxy = _open(ctx, host, port,
                            "no route to the gateway ({}); see the dns/proxy findings")
    shake = handshake(sock, host, ctx.timeout)
    der = shake.pop("der")
    facts: dict[str, Any] = {"tls.handshake": {**shake, "via_proxy": via_proxy}, **_EMPTY}
    if not der:
        return facts
    quiet_serial_warning()  # inspection proxies mint certificates with odd serials
    chain = [x509.load_der_x509_certificate(d) for d in der]
    trust = client_trust(ctx)
    client = verify_chain(chain, trust.certs, host)
    others = other_trust(ctx)
    sources = []
    for name, path, certs in others:
        verdict = verify_chain(chain, certs, host)
        sources.append({"name": name, "path": path, "trusted": verdict["trusted"],
                        "anchor": verdict["anchor"]})
    vendor, _kind, matched = inspection_vendor(chain)
    facts.update({
        "tls.chain": [describe(c) for c in chain],
        "tls.verify.client": {**client, "stores": trust.stores},
        "tls.verify.other": {"trusted": any(s["trusted"] for s in sources), "sources": sources},
        "tls.hostname_match": hostname_matches(chain[0], host),
        "tls.expired": expired(chain),
        "tls.inspection_vendor": vendor,
        "tls.inspection_issuer": matched,
        "tls.chain_incomplete": (not client["trusted"]
                                 and chain_incomplete(chain, [trust.certs]
                                                      + [c for _, _, c in others])),
    })
    return facts


@probe(name="tls.scheme", provides=("tls.scheme_mismatch",),
       needs=GATEWAY + ("proxy.route",), network=True)
def tls_scheme(ctx: ProbeContext) -> Facts:
    """Is the gateway port speaking the other protocol? https:// to a plain-HTTP port
    (the client fails with EPROTO) or http:// to a TLS port (ECONNRESET)."""
    goal = target(ctx)
    scheme = goal["scheme"]
    if scheme not in ("http", "https"):
        raise ProbeSkipped("the gateway URL has no http(s) scheme")
    host, port = str(goal["host"]), int(goal["port"] or 443)
    # NOTE: a proxy may refuse CONNECT to a non-TLS port: then there is nothing to learn here.
    sock, _via = _open(ctx, host, port, "no route to the gateway port ({})")
    status = handshake(sock, host, min(ctx.timeout, 3.0))["status"]
    if scheme == "https" and status == "plain_http":
        return {"tls.scheme_mismatch": "https_to_plain"}
    if scheme == "http" and status == "ok":
        return {"tls.scheme_mismatch": "http_to_tls"}
    return {"tls.scheme_mismatch": None}


@hookimpl
def gwdoctor_register_probes() -> list:
    return reporting([tls_config, tls_gateway, tls_scheme])
