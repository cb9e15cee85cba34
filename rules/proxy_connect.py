"""Proxy-exchange rules: what the proxy itself answered to CONNECT, unreachable (PRX001),
credentials (PRX003, PRX004, PRX009), a refused destination (PRX005). Pure functions of facts."""

from __future__ import annotations

from typing import Any

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._netfix import shq


def _where(route: dict[str, Any]) -> str:
    return f"{route.get('host')}:{route.get('port')}"


def _url_shape(route: dict[str, Any]) -> str:
    scheme = route.get("scheme") or "http"
    return f"{scheme}://<user>:<password-percent-encoded>@{_where(route)}"


def _encode_fix() -> Fix:
    return Fix(title="Percent-encode the password without echoing it", safety="safe",
               snippet="python3 -c 'import getpass, urllib.parse; "
                       "print(urllib.parse.quote(getpass.getpass(\"proxy password: \"), "
                       "safe=\"\"))'")


@rule(id="PRX001", name="proxy-unreachable", cause="proxy.unreachable",
      severity=Severity.CRITICAL, needs=("proxy.tcp", "proxy.route"), confidence=0.95,
      reads=("engine.options", "gateway.base_url", "proxy.connect"))
def proxy_unreachable(facts: Facts) -> Finding | None:
    """## What it checks
    A TCP connection to the proxy the client uses for the gateway is refused, times
    out or has no route; or the proxy accepts the connection but never answers the
    `CONNECT` (times out, closes or resets it, or answers something that is not HTTP).

    ## Why it matters
    Every request goes to the proxy first. The client prints
    `Connection refused — a firewall or proxy may be blocking it (ECONNREFUSED)`,
    the same text as for a closed gateway port, after about three minutes of retries.

    ## Example
    `HTTPS_PROXY=http://127.0.0.1:3128` left over from a stopped local proxy; a proxy
    port that is a black hole behind a firewall that accepts and drops.

    ## Fix
    Start or correct the proxy, or unset the variable when the gateway needs no proxy.

    ## Fix safety
    Manual: removing a proxy changes the route of everything the client does.
    """
    tcp, route = facts["proxy.tcp"] or {}, facts["proxy.route"] or {}
    var = route.get("variable") or "HTTPS_PROXY"
    unset = Fix(title=f"No proxy needed? Remove {var} for claude", safety="manual",
                snippet=f"unset {var}")
    if tcp.get("status") not in ("refused", "timeout", "unreachable"):
        return _proxy_silent(facts, route, var, unset)
    return Finding(
        message=f"The proxy {_where(route)} (from {var}) is unreachable: "
                f"connection {tcp['status']}",
        evidence={"proxy.tcp": tcp, "proxy.route": route},
        fixes=(Fix(title="Test the proxy port", safety="safe",
                   snippet=f"nc -vz {route.get('host')} {route.get('port')}"), unset),
    )


def _proxy_silent(facts: Facts, route: dict[str, Any], var: str, unset: Fix) -> Finding | None:
    """The TCP connect worked but the proxy never gave an HTTP answer to CONNECT (or GET)."""
    connect = facts.get("proxy.connect") or {}
    error = connect.get("error")
    if (facts["proxy.tcp"] or {}).get("status") != "ok" or connect.get("status") is not None \
            or error not in ("timeout", "closed", "reset", "not_http"):
        return None
    method = connect.get("method") or "CONNECT"
    timeout = (facts.get("engine.options") or {}).get("timeout")
    within = (f" within {timeout:g} s" if isinstance(timeout, (int, float))
              else " within the timeout")
    why = {"timeout": f"accepted the connection but did not answer {method}{within}",
           "closed": f"accepted the connection and closed it without answering {method}",
           "reset": f"accepted the connection and reset it instead of answering {method}",
           "not_http": f"answered {method} with something that is not HTTP "
                       "(not an HTTP proxy on this port?)"}[error]
    target = facts.get("gateway.base_url") or "https://api.anthropic.com"
    return Finding(
        message=f"The proxy {_where(route)} (from {var}) {why}",
        evidence={"proxy.connect": connect, "proxy.route": route},
        fixes=(Fix(title="Watch the proxy's answer", safety="safe",
                   snippet=f"curl -v --max-time 10 -x http://{_where(route)} {shq(str(target))}"),
               unset),
    )


def _proxy_407(facts: Facts) -> tuple[dict[str, Any], dict[str, Any]] | None:
    connect = facts["proxy.connect"] or {}
    if connect.get("status") != 407:
        return None
    return connect, facts["proxy.route"] or {}


def _ntlm_only(connect: dict[str, Any]) -> bool:
    schemes = {s.lower() for s in connect.get("authenticate") or []}
    return (bool(schemes) and "basic" not in schemes
            and bool(schemes & {"ntlm", "negotiate", "kerberos"}))


@rule(id="PRX003", name="proxy-requires-credentials", cause="proxy.auth_required",
      severity=Severity.ERROR, needs=("proxy.connect", "proxy.route"), confidence=0.95)
def proxy_requires_credentials(facts: Facts) -> Finding | None:
    """## What it checks
    The proxy answers 407 and the client would send no credentials: the proxy URL
    has none, or has a user name without a password (the client then sends nothing).

    ## Why it matters
    The client fails at once with `Couldn't connect through your proxy (ERR_PROXY_TUNNEL)`
    for an https gateway, or `API Error: 407 ERROR: Cache Access Denied` for an http one.

    ## Example
    `HTTPS_PROXY=http://proxy.corp:8080` where the proxy demands Basic authentication.

    ## Fix
    Put the credentials in the proxy URL, percent-encoding special characters.

    ## Fix safety
    Review: the password ends up in your environment; prefer a file only you can read.
    """
    got = _proxy_407(facts)
    if got is None or got[0].get("sent_credentials") or _ntlm_only(got[0]):
        return None
    connect, route = got
    var = route.get("variable") or "HTTPS_PROXY"
    why = ("the URL has a user name but no password, so the client sends no credentials"
           if route.get("has_username") else "the proxy URL carries no credentials")
    return Finding(
        message=f"The proxy {_where(route)} requires authentication (407) and {why}",
        evidence={"proxy.connect": connect, "proxy.route": route},
        fixes=(Fix(title=f"Put Basic credentials in {var}", safety="review",
                   snippet=f"export {var}={shq(_url_shape(route))}"),
               _encode_fix()),
    )


@rule(id="PRX004", name="proxy-rejects-credentials", cause="proxy.auth_required",
      severity=Severity.ERROR, needs=("proxy.connect", "proxy.route"), confidence=0.9)
def proxy_rejects_credentials(facts: Facts) -> Finding | None:
    """## What it checks
    The proxy answers 407 even though the client sends the Basic credentials from
    the proxy URL.

    ## Why it matters
    The user name or password is wrong, or a special character in it was not
    percent-encoded, so the proxy receives something else. The client reports a
    tunnel failure that does not mention the password.

    ## Example
    A password containing `@` written raw: `http://me:p@ss@proxy:8080`.

    ## Fix
    Check the credentials and percent-encode special characters (`@` → `%40`,
    `:` → `%3A`, `/` → `%2F`, `#` → `%23`, `%` → `%25`).

    ## Fix safety
    Review: the password ends up in your environment.
    """
    got = _proxy_407(facts)
    if got is None or not got[0].get("sent_credentials") or _ntlm_only(got[0]):
        return None
    connect, route = got
    var = route.get("variable") or "HTTPS_PROXY"
    return Finding(
        message=f"The proxy {_where(route)} rejects the credentials in {var} (407)",
        evidence={"proxy.connect": connect, "proxy.route": route},
        fixes=(_encode_fix(),
               Fix(title=f"Write {var} with the encoded password", safety="review",
                   snippet=f"export {var}={shq(_url_shape(route))}")),
    )


@rule(id="PRX009", name="proxy-requires-ntlm", cause="proxy.auth_required",
      severity=Severity.ERROR, needs=("proxy.connect", "proxy.route"), confidence=0.95)
def proxy_requires_ntlm(facts: Facts) -> Finding | None:
    """## What it checks
    The proxy answers 407 and offers only NTLM, Negotiate or Kerberos
    authentication, never Basic.

    ## Why it matters
    Claude Code speaks Basic proxy authentication only; no credentials in the URL
    can satisfy this proxy, so every request fails ("fetch failed", ERR_PROXY_TUNNEL).

    ## Example
    A Windows-domain proxy answering `Proxy-Authenticate: Negotiate` and `NTLM`.

    ## Fix
    Run a local authenticating relay (px, cntlm) and point the client at it, or use
    an internal LLM gateway that needs no proxy.

    ## Fix safety
    Manual: a relay runs with your domain credentials.
    """
    got = _proxy_407(facts)
    if got is None or not _ntlm_only(got[0]):
        return None
    connect, route = got
    var = route.get("variable") or "HTTPS_PROXY"
    schemes = ", ".join(connect.get("authenticate") or [])
    return Finding(
        message=f"The proxy {_where(route)} only offers {schemes} authentication, "
                "which Claude Code cannot do",
        evidence={"proxy.connect": connect, "proxy.route": route},
        fixes=(Fix(title="Relay through a local proxy that does NTLM/Kerberos (px)",
                   safety="manual",
                   snippet=f"python3 -m pip install --user px-proxy\npx --proxy={_where(route)} &\n"
                           f"export {var}=http://127.0.0.1:3128"),),
    )


@rule(id="PRX005", name="proxy-refuses-destination", cause="proxy.blocked",
      severity=Severity.ERROR, needs=("proxy.connect", "proxy.route"), confidence=0.85,
      reads=("gateway.host", "gateway.port"))
def proxy_refuses_destination(facts: Facts) -> Finding | None:
    """## What it checks
    The proxy answers 403 to the CONNECT (https gateway) or to the proxied request
    (http gateway) for the gateway's host and port.

    ## Why it matters
    The proxy's policy forbids that destination (host, category or port). Claude
    Code shows `ERR_PROXY_TUNNEL`, or for an http gateway the misleading
    `Failed to authenticate. API Error: 403 ERROR: The requested URL could not be retrieved`.

    ## Example
    A squid with `http_access deny` for ports other than 443, and a gateway on :4000.

    ## Fix
    Ask the proxy administrators to allow the gateway's host and port, or reach an
    internal gateway directly through `NO_PROXY`.

    ## Fix safety
    Manual: it needs a policy change or a routing decision.
    """
    connect, route = facts["proxy.connect"] or {}, facts["proxy.route"] or {}
    if connect.get("status") != 403 or connect.get("from_proxy") is False:
        return None
    target = f"{facts.get('gateway.host')}:{facts.get('gateway.port')}"
    page = f" ({connect['body_title']})" if connect.get("body_title") else ""
    sure = connect.get("method") == "CONNECT" or bool(connect.get("error_header"))
    return Finding(
        message=f"The proxy {_where(route)} refuses {connect.get('method')} to {target}: 403{page}",
        evidence={"proxy.connect": connect, "proxy.route": route},
        confidence=0.9 if sure else 0.7,
        fixes=(Fix(title="Ask for the destination to be allowed", safety="manual", lang="text",
                   snippet=f"Please allow {connect.get('method')} from this machine to {target} "
                           f"through proxy {_where(route)} (currently 403{page})."),),
    )


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [proxy_unreachable, proxy_requires_credentials, proxy_rejects_credentials,
            proxy_requires_ntlm, proxy_refuses_destination]
