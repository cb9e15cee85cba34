"""DNS rules (DNS): the gateway or proxy host does not resolve. Pure functions of facts: no I/O,
no os.environ."""

from __future__ import annotations

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._netfix import shq


@rule(id="DNS001", name="gateway-host-unresolvable", cause="dns.unresolvable",
      severity=Severity.CRITICAL, needs=("dns.gateway",), confidence=0.95,
      reads=("gateway.base_url",))
def gateway_host_unresolvable(facts: Facts) -> Finding | None:
    """## What it checks
    The system resolver answers "no such name" (NXDOMAIN) for the gateway host in
    `ANTHROPIC_BASE_URL`, and no proxy resolves it on the client's behalf.

    ## Why it matters
    Every request fails before a byte is sent. Claude Code retries for about three
    minutes and then prints `Can't reach the API server — check your internet or DNS (ENOTFOUND)`.

    ## Example
    `ANTHROPIC_BASE_URL=https://llm-gateway.corp.invalid` with the VPN that serves
    `corp` names disconnected, or a typo in the host.

    ## Fix
    Check the host name in `ANTHROPIC_BASE_URL` for typos; connect the VPN that
    serves the internal zone; confirm with `getent hosts <host>`.

    ## Fix safety
    Manual: only the user knows which host name is right.
    """
    dns = facts["dns.gateway"] or {}
    if dns.get("status") != "nxdomain" or dns.get("proxy_resolves"):
        return None
    host = dns.get("host")
    return Finding(
        message=f"The gateway host {host} does not resolve (NXDOMAIN from the system resolver)",
        evidence={"dns.gateway": dns, "gateway.base_url": facts.get("gateway.base_url")},
        fixes=(Fix(title="Check the name the way the client resolves it", safety="safe",
                   snippet=f"getent hosts {shq(str(host))} "
                           "|| echo 'no address: check the spelling or the VPN'"),),
    )


@rule(id="DNS002", name="resolver-failure", cause="dns.resolver_failure",
      severity=Severity.ERROR, needs=("dns.gateway",), confidence=0.85,
      reads=("dns.proxy", "proxy.route"))
def resolver_failure(facts: Facts) -> list[Finding]:
    """## What it checks
    The system resolver fails or times out (EAI_AGAIN, SERVFAIL, no answer) for the
    gateway host, or for the proxy host when a proxy applies.

    ## Why it matters
    Unlike NXDOMAIN, the name may well exist: the resolver itself is broken or
    unreachable (a split-DNS VPN whose resolver refuses public names, a dead
    nameserver first in `/etc/resolv.conf`). The client reports it as a DNS failure.

    ## Example
    `/etc/resolv.conf` lists a VPN resolver that is down before the local stub.

    ## Fix
    Check the nameservers in `/etc/resolv.conf`; put a working resolver first, or
    reconnect the VPN.

    ## Fix safety
    Manual: resolver configuration is machine-wide.
    """
    out = []
    route_used = bool((facts.get("proxy.route") or {}).get("used"))
    for key, dns in (("dns.gateway", facts["dns.gateway"]), ("dns.proxy", facts.get("dns.proxy"))):
        if not dns or dns.get("status") not in ("failure", "timeout"):
            continue
        if key == "dns.gateway" and (dns.get("proxy_resolves") or route_used):
            continue
        servers = ", ".join(dns.get("nameservers") or []) or "none listed"
        what = "gateway" if key == "dns.gateway" else "proxy"
        out.append(Finding(
            message=(f"The system resolver could not answer for the {what} host {dns.get('host')}: "
                     f"{dns.get('code') or dns.get('status')} ({dns.get('error')}); "
                     f"nameservers: {servers}"),
            evidence={key: dns},
            fixes=(Fix(title="See which resolver answers", safety="safe",
                       snippet=f"cat /etc/resolv.conf\ngetent hosts {shq(str(dns.get('host')))}"),),
        ))
    return out


@rule(id="DNS003", name="proxy-host-unresolvable", cause="dns.unresolvable",
      severity=Severity.CRITICAL, needs=("dns.proxy", "proxy.route"), confidence=0.95)
def proxy_host_unresolvable(facts: Facts) -> Finding | None:
    """## What it checks
    The host of the proxy the client uses for the gateway does not resolve (NXDOMAIN).

    ## Why it matters
    Every request goes to the proxy first, so nothing works. The client's message
    names the API server, not the proxy, which sends people looking in the wrong place.

    ## Example
    `HTTPS_PROXY=http://proxy.corp.invalid:8080` copied from an old laptop profile.

    ## Fix
    Correct the proxy host in the variable the client reads, or unset the variable
    when no proxy is needed.

    ## Fix safety
    Manual: only the user knows the right proxy.
    """
    dns, route = facts["dns.proxy"], facts["proxy.route"] or {}
    if not dns or dns.get("status") != "nxdomain":
        return None
    var = route.get("variable") or "HTTPS_PROXY"
    return Finding(
        message=f"The proxy host {dns.get('host')} (from {var}) does not resolve (NXDOMAIN)",
        evidence={"dns.proxy": dns, "proxy.route": route},
        fixes=(Fix(title=f"Check or remove {var}", safety="manual",
                   snippet=f"getent hosts {shq(str(dns.get('host')))}\n"
                           f"# no proxy needed? then:\nunset {var}"),),
    )


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [gateway_host_unresolvable, resolver_failure, proxy_host_unresolvable]
