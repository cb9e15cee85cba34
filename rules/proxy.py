"""Proxy-route rules (PRX002, PRX006-008, PRX010, PRX011): the proxy variables and which hosts
bypass the proxy. Pure functions of facts: no I/O, no os.environ."""

from __future__ import annotations

from typing import Any

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._netfix import is_internal, is_loopback, no_proxy_with, set_env_fixes, shq
from ._providers import route_endpoint

_ROUTE = ("proxy.route", "gateway.host")


_UNSET = "env " + " ".join(f"-u {v}"
                           for v in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"))


def _no_proxy_fixes(facts: Facts, route: dict[str, Any], hosts: list[str],
                    safety: str = "safe") -> tuple[Fix, ...]:
    if not route.get("no_proxy_honoured"):
        return (Fix(title="This client version ignores NO_PROXY: "
                          "start claude without the proxy variables",
                    snippet=f"{_UNSET} claude", safety="review"),
                Fix(title="Or update Claude Code to a version that honours NO_PROXY",
                    snippet="claude update", safety="review"))
    var = route.get("no_proxy_variable") or "NO_PROXY"
    value = no_proxy_with(route.get("no_proxy"), *hosts)
    source = ((facts.get("proxy.variables") or {}).get(var) or {}).get("source")
    return set_env_fixes(var, value, title=f"Bypass the proxy for {hosts[0]}", safety=safety,
                         source=source)


def _bypass_hosts(host: str) -> list[str]:
    # 2.1.332 (measured): NO_PROXY=localhost does not cover 127.0.0.1, so list the exact host first.
    extra = ["localhost", "127.0.0.1", "::1"] if is_loopback(host) else []
    return [host] + [h for h in extra if h != host]


@rule(id="PRX002", name="loopback-gateway-via-proxy", cause="proxy.bypass_missing",
      severity=Severity.ERROR, needs=_ROUTE, confidence=0.95,
      reads=("gateway.base_url", "gateway.port", "proxy.connect", "proxy.tcp", "proxy.variables",
             "route.target"))
def loopback_gateway_via_proxy(facts: Facts) -> Finding | None:
    """## What it checks
    The gateway is on a loopback address, a proxy variable applies, and no
    `NO_PROXY` entry covers the gateway host. Quiet when the proxy was seen reaching
    the gateway, or is itself a live proxy on this machine (it shares the loopback).

    ## Why it matters
    The client asks the proxy to reach *its own* 127.0.0.1, which answers 403/502/503
    or a 407, often with an HTML page, naming neither proxy nor gateway. Claude Code
    does not bypass loopback by default, and even sends `http://` gateways through `HTTPS_PROXY`.

    ## Example
    `HTTPS_PROXY=http://proxy.corp:8080`, `ANTHROPIC_BASE_URL=http://127.0.0.1:4000`,
    `NO_PROXY=localhost` (on 2.1.332 `localhost` does not cover `127.0.0.1`).

    ## Fix
    Add the gateway host (exactly as written in `ANTHROPIC_BASE_URL`) to `NO_PROXY`,
    keeping your existing entries.

    ## Fix safety
    Safe: only traffic that could never work through the proxy changes route.
    """
    route, host = facts["proxy.route"] or {}, str(route_endpoint(facts)["host"] or "")
    if not route.get("used") or not is_loopback(host) or route.get("no_proxy_match"):
        return None  # a matching entry that this version ignores is PRX011's finding
    connect = facts.get("proxy.connect") or {}
    if connect.get("status") == 200 or connect.get("from_proxy") is False:
        return None  # the proxy demonstrably reached the gateway
    if is_loopback(route.get("host")) and (facts.get("proxy.tcp") or {}).get("status") == "ok":
        return None  # a live proxy on this machine shares its loopback: it can reach the gateway
    covered = f" ({route.get('no_proxy_variable')}={route.get('no_proxy')!r} does not cover it)" \
        if route.get("no_proxy") is not None else ""
    return Finding(
        message=f"The gateway {host} is loopback but requests go through the proxy "
                f"{route.get('host')}:{route.get('port')} from {route.get('variable')}{covered}",
        evidence={"proxy.route": route, "gateway.host": host},
        fixes=_no_proxy_fixes(facts, route, _bypass_hosts(host)),
    )


@rule(id="PRX010", name="internal-gateway-via-proxy", cause="proxy.bypass_missing",
      severity=Severity.WARNING, needs=_ROUTE, confidence=0.6,
      reads=("gateway.base_url", "gateway.port", "proxy.connect", "proxy.variables",
             "route.target"))
def internal_gateway_via_proxy(facts: Facts) -> Finding | None:
    """## What it checks
    The gateway host is internal (a private IP, a single-label name or an internal
    suffix such as `.internal`, `.corp`, `.local`), a proxy applies and `NO_PROXY`
    does not cover it; quiet when the proxy was seen passing the request through.

    ## Why it matters
    Corporate proxies usually cannot reach internal hosts, or are not allowed to:
    requests end in 403/502/503 pages from the proxy, or time out. A warning while the
    proxy has not been seen failing; an error once it answered 403 or 5xx for the host.

    ## Example
    `ANTHROPIC_BASE_URL=https://litellm.corp.internal` and `HTTPS_PROXY` set for the internet.

    ## Fix
    Add the gateway host to `NO_PROXY`, keeping your existing entries.

    ## Fix safety
    Review: if the gateway is reachable only through the proxy, bypassing breaks it.
    """
    route, host = facts["proxy.route"] or {}, str(route_endpoint(facts)["host"] or "")
    if (not route.get("used") or is_loopback(host) or not is_internal(host)
            or route.get("no_proxy_match")):
        return None
    connect = facts.get("proxy.connect") or {}
    if connect.get("status") == 200 or connect.get("from_proxy") is False:
        return None  # the proxy demonstrably passes the request through
    status = connect.get("status")
    seen = f"; the proxy answered {status}" if status else ""
    # The proxy itself refused or failed the internal host (squid: 503 ERR_DNS_FAIL, 403 by
    # policy): not a risk any more but the reason the client fails (ERR_PROXY_TUNNEL).
    failed = isinstance(status, int) and (status == 403 or status >= 500)
    return Finding(
        message=f"The internal gateway {host} is reached through the proxy "
                f"{route.get('host')}:{route.get('port')}{seen}"
                + (", so the client cannot reach it (ERR_PROXY_TUNNEL)" if failed else ""),
        evidence={"proxy.route": route, "proxy.connect": connect or None},
        severity=Severity.ERROR if failed else None,
        confidence=0.85 if failed else (0.8 if status else None),
        fixes=_no_proxy_fixes(facts, route, [host], safety="review"),
    )


@rule(id="PRX011", name="no-proxy-ignored-by-client-version", cause="proxy.bypass_missing",
      severity=Severity.ERROR, needs=_ROUTE + ("client.version",), confidence=0.85,
      reads=("gateway.base_url", "gateway.port", "route.target"))
def no_proxy_ignored_by_client_version(facts: Facts) -> Finding | None:
    """## What it checks
    A `NO_PROXY` entry covers the gateway host, but this Claude Code version ignores
    `NO_PROXY` for the API (1.0.93 added it; 2.1.23–2.1.37 and 2.1.92–2.1.206 lost it).

    ## Why it matters
    The user did the right thing, and the gateway traffic still goes to the proxy:
    502s, 403s or timeouts that `NO_PROXY` "should" have prevented.

    ## Example
    Claude Code 2.1.117, `NO_PROXY=.example.com`, gateway `https://llm.example.com`.

    ## Fix
    Update Claude Code, or start it without the proxy variables when it only needs the gateway.

    ## Fix safety
    Review: without the proxy variables, anything else the client fetches goes direct.
    """
    route = facts["proxy.route"] or {}
    if not route.get("used") or not route.get("no_proxy_match") or route.get("no_proxy_honoured"):
        return None
    version = facts["client.version"]
    return Finding(
        message=(f"{route.get('no_proxy_variable')} entry {route['no_proxy_match']!r} covers "
                 f"{route_endpoint(facts)['host']}, but Claude Code {version} ignores NO_PROXY: "
                 f"the request goes through {route.get('host')}:{route.get('port')}"),
        evidence={"proxy.route": route, "client.version": version},
        fixes=(Fix(title="Update Claude Code to a version that honours NO_PROXY", safety="review",
                   snippet="claude update"),
               Fix(title="Or start claude without the proxy variables", safety="review",
                   snippet=f"{_UNSET} claude")),
    )


_INVALID = {"no_scheme", "socks", "https_scheme", "unparseable", "unencoded_userinfo",
            "user_without_password"}


@rule(id="PRX006", name="proxy-url-invalid", cause="proxy.misconfigured",
      severity=Severity.ERROR, needs=("proxy.url_problems", "proxy.route"), confidence=0.9)
def proxy_url_invalid(facts: Facts) -> list[Finding]:
    """## What it checks
    A proxy variable whose value is malformed: no scheme, a SOCKS or https:// scheme,
    unparseable, unencoded special characters in the credentials, or a user name
    without a password.

    ## Why it matters
    Claude Code refuses to start on an unparseable proxy URL, has no SOCKS support,
    sends no credentials for a user without a password, and connects to the wrong
    host when a raw `/`, `?` or `#` in the password ends the host part early.

    ## Example
    `HTTPS_PROXY=http://me:pa/ss@proxy:8080` (the client reads host `me`).

    ## Fix
    Write `http://<user>:<password-percent-encoded>@host:port`.

    ## Fix safety
    Review: the corrected URL may route traffic differently.
    """
    route = facts["proxy.route"] or {}
    out = []
    for p in facts["proxy.url_problems"] or []:
        if p["code"] not in _INVALID:
            continue
        used = p["variable"] == route.get("variable")
        severity = Severity.WARNING if (p["code"] == "no_scheme" or not used) else None
        host = (f"{route.get('host')}:{route.get('port')}" if used and route.get("host")
                else "<host>:<port>")
        out.append(Finding(
            message=f"{p['variable']}: {p['detail']}"
                    + ("" if used else " (not the variable the client uses)"),
            evidence={"problem": p}, severity=severity,
            fixes=(Fix(title=f"Rewrite {p['variable']} as a plain http:// URL", safety="review",
                       snippet=f"export {p['variable']}="
                               f"{shq('http://<user>:<password-percent-encoded>@' + host)}"),),
        ))
    return out


@rule(id="PRX007", name="proxy-points-at-gateway", cause="proxy.misconfigured",
      severity=Severity.ERROR, needs=("proxy.url_problems",), confidence=0.9)
def proxy_points_at_gateway(facts: Facts) -> list[Finding]:
    """## What it checks
    A proxy variable names the LLM gateway itself, or a URL with a path such as
    `/openai/v1/`, which is a gateway URL, not a forward proxy.

    ## Why it matters
    `HTTPS_PROXY` is for CONNECT proxies. Pointed at a gateway, the client still
    targets `api.anthropic.com`, and the TLS session ends at the gateway:
    `Hostname/IP does not match certificate's altnames`, or 400/404 pages.

    ## Example
    `HTTPS_PROXY=https://llm.corp.example/openai/v1/`.

    ## Fix
    Unset the proxy variable and set `ANTHROPIC_BASE_URL` to the gateway's origin.

    ## Fix safety
    Review: check that no real proxy is needed for other traffic.
    """
    out = []
    for p in facts["proxy.url_problems"] or []:
        if p["code"] not in ("points_at_gateway", "has_path"):
            continue
        out.append(Finding(
            message=f"{p['variable']}: {p['detail']}", evidence={"problem": p},
            confidence=0.95 if p["code"] == "points_at_gateway" else 0.75,
            fixes=(Fix(title="Use the gateway as the base URL, not as a proxy", safety="review",
                       snippet=f"unset {p['variable']}\nexport ANTHROPIC_BASE_URL='https://<gateway-host>'"),),
        ))
    return out


@rule(id="PRX008", name="proxy-variables-disagree", cause="proxy.misconfigured",
      severity=Severity.WARNING, needs=("proxy.url_problems",), confidence=0.7)
def proxy_variables_disagree(facts: Facts) -> list[Finding]:
    """## What it checks
    The lower-case and upper-case forms of a proxy variable are both set, to
    different values.

    ## Why it matters
    Claude Code reads the lower-case one first; curl, Python and other tools may
    read the other. "curl works but claude doesn't" follows.

    ## Example
    `https_proxy=http://old-proxy:3128` and `HTTPS_PROXY=http://proxy.corp:8080`.

    ## Fix
    Give both the same value, or unset the stale one.

    ## Fix safety
    Review: choose the value that is correct today.
    """
    out = []
    for p in facts["proxy.url_problems"] or []:
        if p["code"] != "case_disagreement":
            continue
        upper = p["variable"]
        out.append(Finding(
            message=p["detail"], evidence={"problem": p},
            fixes=(Fix(title="Make both forms the same", safety="review",
                       snippet=f'export {upper}="${upper.lower()}"   # or unset the stale one'),),
        ))
    return out


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [loopback_gateway_via_proxy, internal_gateway_via_proxy,
            no_proxy_ignored_by_client_version, proxy_url_invalid, proxy_points_at_gateway,
            proxy_variables_disagree]
