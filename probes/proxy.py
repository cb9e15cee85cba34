"""Proxy probes: the route this client version takes to the gateway, and a real exchange with
the proxy."""

from __future__ import annotations

import ssl
import time
from typing import Any

from gwdoctor.engine import Facts, ProbeContext, ProbeSkipped, hookimpl, probe

from ._gwhttp import target as route_goal
from ._netenv import behaviour, env_source, env_value, repo_chosen_untrusted
from ._outcome import reporting
from ._route import (
    ALL_VARS,
    NO_PROXY_VARS,
    PROXY_VARS,
    no_proxy_match,
    redact_url,
    select_proxy,
    split_proxy_url,
    url_problems,
)
from ._trust import client_ssl_context
from ._tunnel import basic_credentials, connect_tcp, proxy_exchange, socket_error_status

GATEWAY = ("gateway.scheme", "gateway.host", "gateway.port", "route.target")


def _shp(ctx: ProbeContext) -> tuple[Any, Any, Any]:
    """Scheme, host and port the client sends to (route.target: the provider endpoint in
    Bedrock/Vertex mode), which is what the proxy variables and NO_PROXY are matched against."""
    t = route_goal(ctx)
    return t["scheme"], t["host"], t["port"]


def _route(ctx: ProbeContext, values: dict[str, str | None]) -> dict[str, Any]:
    beh = behaviour(ctx)
    scheme, host, port = _shp(ctx)
    var, url = select_proxy(values, str(scheme or "https"), beh)
    np_var = next((v for v in NO_PROXY_VARS if values.get(v) is not None), None)
    no_proxy = values.get(np_var) if np_var else None
    match = no_proxy_match(str(host), int(port or 443), no_proxy,
                           cidr=bool(beh["no_proxy_cidr_matches_ip_literals"]))
    honoured = bool(beh.get("no_proxy_honoured"))
    route: dict[str, Any] = {
        "used": False, "variable": var, "url": None, "scheme": None, "host": None, "port": None,
        "has_username": False, "has_password": False, "reason": "", "no_proxy": no_proxy,
        "no_proxy_variable": np_var, "no_proxy_match": match, "no_proxy_honoured": honoured,
        # Where the chosen variable's value comes from: a cloned repository's
        # .claude/settings.json can name the proxy that sees every request.
        "source": env_source(ctx, var) if var else None, "untrusted_settings": False,
    }
    if var is None:
        route["reason"] = "no proxy variable is set: the client connects directly"
        return route
    if url == "":
        route["reason"] = (f"{var} is set to an empty string: it masks the variables after it "
                           "and the client connects directly")
        return route
    url = str(url)
    parts = split_proxy_url(url)
    route.update(url=redact_url(url if "://" in url else "http://" + url), scheme=parts["scheme"],
                 host=parts["host"], port=parts["port"], has_username=bool(parts["user"]),
                 has_password=bool(parts["password"]))
    if parts["error"]:
        route["reason"] = f"{var} does not parse as a URL: the client refuses to start"
        return route
    if match and honoured:
        route["reason"] = f"{np_var} entry {match!r} covers {host}: the client connects directly"
        return route
    route["used"] = True
    route["untrusted_settings"] = repo_chosen_untrusted(ctx, route["source"])
    route["reason"] = f"{var} applies to {scheme}://{host}:{port}"
    if match:
        route["reason"] += (f"; {np_var} entry {match!r} would cover it, but client version "
                            f"{ctx.facts.get('client.version') or '(assumed)'} ignores NO_PROXY")
    elif no_proxy is not None:
        route["reason"] += f"; no {np_var} entry covers {host}"
    if route["untrusted_settings"]:
        # The layer, not the file: the file is in route.source (a whole value, which validate
        # maps back from its scratch copy; a path inside this sentence would stay scratch).
        route["reason"] += (f"; set by the {route['source'].get('layer')} settings of a "
                            "workspace the user has not trusted, so gwdoctor sends no credentials "
                            "on this route")
    return route


@probe(name="proxy.route", provides=("proxy.route", "proxy.variables", "proxy.url_problems"),
       needs=GATEWAY + ("config.env", "client.behaviour"))
def proxy_route(ctx: ProbeContext) -> Facts:
    """Predict, for this client version, whether and how the gateway request is proxied.

    Puts the proxy URL with its credentials in the vault as ``proxy.url``.
    """
    if not _shp(ctx)[1]:
        raise ProbeSkipped("the gateway URL has no host")
    values = {v: env_value(ctx, v) for v in ALL_VARS}
    variables: dict[str, dict[str, Any]] = {}
    for var, value in values.items():
        if value is not None:
            variables[var] = {"value": redact_url(value), "source": env_source(ctx, var)}
            if value == "":
                variables[var]["empty"] = True
    gateway = {"host": _shp(ctx)[1], "port": _shp(ctx)[2]}
    problems: list[dict[str, str]] = []
    for var in PROXY_VARS:
        if values.get(var):
            problems.extend(url_problems(var, values[var] or "", gateway))
    route = _route(ctx, values)
    masks = bool(behaviour(ctx).get("empty_proxy_variable_masks", True))
    for lower in ("https_proxy", "http_proxy", "no_proxy"):
        upper = lower.upper()
        if values.get(lower) is not None and values.get(upper) is not None \
                and values[lower] != values[upper]:
            # On versions where an empty variable does not mask the next one, the empty
            # lower-case one is simply skipped: say which one the client really uses.
            used = lower if (values[lower] or masks) else upper
            problems.append({"code": "case_disagreement", "variable": upper,
                             "detail": f"{lower} and {upper} differ; the client uses {used}"})
    if route["used"]:
        raw = values[route["variable"]] or ""
        ctx.vault.put("proxy.url", raw if "://" in raw else "http://" + raw)
    return {"proxy.route": route, "proxy.variables": variables, "proxy.url_problems": problems}


def _schemes(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        scheme = value.split(" ", 1)[0].strip().rstrip(",")
        if scheme and scheme not in out:
            out.append(scheme)
    return out


@probe(name="proxy.connect", provides=("proxy.tcp", "proxy.connect"),
       needs=("proxy.route", "gateway.base_url") + GATEWAY, network=True)
def proxy_connect(ctx: ProbeContext) -> Facts:
    """Talk to the proxy as the client would: CONNECT for an https gateway, an
    absolute-URI GET for an http one, with Basic credentials only when the client
    would send them. Records the status, Proxy-Authenticate schemes and error page title."""
    route = ctx.facts["proxy.route"] or {}
    if not route.get("used"):
        raise ProbeSkipped("no proxy applies to the gateway")
    url = ctx.vault.get("proxy.url") or route.get("url")
    scheme, host, port = _shp(ctx)
    method = "CONNECT" if scheme == "https" else "GET"
    auth = basic_credentials(url)
    result: dict[str, Any] = {"method": method, "status": None, "authenticate": [],
                              "sent_credentials": auth is not None, "error": None,
                              "body_title": None, "error_header": None, "server": None,
                              "from_proxy": None, "duration_ms": 0}
    started = time.monotonic()
    try:
        sock = connect_tcp(route["host"], int(route["port"]), ctx.timeout)
    except OSError as exc:
        tcp = {"status": socket_error_status(exc),
               "duration_ms": int((time.monotonic() - started) * 1000)}
        result.update(error=f"tcp_{tcp['status']}", duration_ms=tcp["duration_ms"])
        return {"proxy.tcp": tcp, "proxy.connect": result}
    tcp = {"status": "ok", "duration_ms": int((time.monotonic() - started) * 1000)}
    try:
        if route.get("scheme") == "https":
            sock = client_ssl_context(ctx).wrap_socket(sock, server_hostname=route["host"])
        if method == "CONNECT":
            target = f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
            reply = proxy_exchange(sock, method, target, target, auth, ctx.timeout, True)
        else:
            base = str(route_goal(ctx)["base_url"] or f"http://{host}:{port}").rstrip("/") + "/"
            reply = proxy_exchange(sock, method, base, f"{host}:{port}", auth, ctx.timeout, True)
    except (ssl.SSLError, OSError) as exc:
        result["error"] = "proxy_tls" if isinstance(exc, ssl.SSLError) else socket_error_status(exc)
        reply = None
    finally:
        try:
            sock.close()
        except OSError:
            pass
    if reply is not None:
        squid = reply.header("x-squid-error")
        result.update(status=reply.status, error=reply.error, body_title=reply.title,
                      authenticate=_schemes(reply.header("proxy-authenticate")),
                      error_header=squid[0] if squid else None,
                      server=next(iter(reply.header("server") or []), None))
        result["from_proxy"] = (method == "CONNECT" or reply.status == 407 or bool(squid)
                                or bool(result["authenticate"]))
    result["duration_ms"] = int((time.monotonic() - started) * 1000)
    return {"proxy.tcp": tcp, "proxy.connect": result}


__all__ = ["proxy_connect", "proxy_route"]


@hookimpl
def gwdoctor_register_probes() -> list:
    return reporting([proxy_route, proxy_connect])
