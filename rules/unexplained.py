"""Fallback rules, one per layer of the client's route: a failure a probe saw that no specific
rule explains is still reported, with what was tried and exactly what came back. Pure.

Each rule declares ``fallback_after``: the engine drops its finding when a specific rule of one
of those areas fired at the same severity or above, so these speak only when nothing else does.
"""

from __future__ import annotations

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._fallback import (
    ROUTE,
    catalogue,
    http_evidence,
    model_findings,
    phrase,
    route_note,
    status_meaning,
)
from ._gw import checks

__all__ = ["auth_refusal_unexplained", "dns_answer_unexplained", "gateway_answer_unexplained",
           "model_answer_unexplained", "proxy_answer_unexplained", "tls_handshake_unexplained"]

@rule(id="GWY013", name="gateway-answer-unexplained", cause="gateway.unexplained",
      severity=Severity.ERROR, needs=("gateway.base_url",), confidence=0.6,
      fallback_after=ROUTE,
      reads=("gateway.kind", "gateway.models", "gateway.root", "gateway.transport_error",
             "http.faults", "model.checks", "model.requested", "proxy.route"))
def gateway_answer_unexplained(facts: Facts) -> list[Finding]:
    """## What it checks
    The request the client sends for each prompt (`POST /v1/messages` with its model)
    failed in transport or got a status that is neither success nor a credential or model
    refusal (3xx, 405, 418, 5xx ...), and no specific rule explains it. Without inference
    (`--no-inference`), the same for `GET /v1/models`.

    ## Why it matters
    The client fails on every prompt with `API Error: <status> ...` (after retries for 5xx),
    and a report that says nothing would send the user looking in the wrong place. The
    finding carries exactly what came back: status, content type, server, first bytes.

    ## Example
    A gateway (or a WAF in front of it) answers every request with
    `418 {"error":"teapot"}`.

    ## Fix
    Send the same request by hand (the command is filled in) and read who answered; the
    `server` header and the first bytes usually name it.

    ## Fix safety
    Safe: the command only reads.
    """
    out = model_findings(facts, "gateway")
    if out or checks(facts):
        return out
    models = facts.get("gateway.models")
    transport = facts.get("gateway.transport_error")
    if not isinstance(models, dict) and transport not in (None, "tls", "proxy", "dns"):
        models = facts.get("gateway.root")  # the first request already failed; it is all there is
    if not isinstance(models, dict):
        return []
    status = models.get("status")
    if (models.get("error") is None and status is not None
            and (200 <= status < 300 or status in (401, 403, 404))):
        return []
    base = str(facts.get("gateway.base_url") or "").rstrip("/")
    path = "/v1/models" if models is facts.get("gateway.models") else "/"
    return [Finding(
        message=(f"GET {path} got "
                 f"{phrase(status) if models.get('error') is None else models.get('error')}"
                 f" and no specific check recognises it: {status_meaning(status)}; the model "
                 "request itself was not sent"),
        evidence=http_evidence(f"GET {base}{path}{route_note(facts)}", models, facts),
        fixes=(Fix(title="See who answers", safety="safe",
                   snippet=f"curl -sS -D - '{base}{path}' -H 'authorization: Bearer <your-token>' "
                           "| head -30"),),
    )]


@rule(id="MDL007", name="model-answer-unexplained", cause="model.unexplained",
      severity=Severity.ERROR, needs=("model.checks",), confidence=0.6, fallback_after=ROUTE,
      reads=("gateway.base_url", "gateway.kind", "gateway.models", "http.faults",
             "model.requested", "proxy.route"))
def model_answer_unexplained(facts: Facts) -> list[Finding]:
    """## What it checks
    A model request was refused as a bad request (400, 404, 422), or answered 200 with
    something that is not a complete Anthropic event stream, and no specific rule explains it.

    ## Why it matters
    The client prints `API Error: 400 ...` (not retried) or stops mid-answer; the body is the
    only clue, and it is shown here whole.

    ## Example
    A gateway in front of Vertex answering `400 "thinking.type.enabled" is not supported for
    this model` for a model the client version does not know.

    ## Fix
    Send the same request by hand and read the error; compare the model and client version
    with what the gateway serves.

    ## Fix safety
    Safe: the command only reads.
    """
    return model_findings(facts, "model")


@rule(id="AUT008", name="auth-refusal-unexplained", cause="auth.unexplained",
      severity=Severity.ERROR, needs=("model.checks",), confidence=0.6, fallback_after=ROUTE,
      reads=("gateway.base_url", "gateway.kind", "gateway.models", "http.faults",
             "model.requested", "proxy.route"))
def auth_refusal_unexplained(facts: Facts) -> list[Finding]:
    """## What it checks
    A model request got 401, 403 or 407 and no specific rule (missing, rejected or misplaced
    credential, model access, upstream credential) explains it.

    ## Why it matters
    The client prints `Failed to authenticate. API Error: 401 ...` or `403 ...`, which a user
    reads as "my key is wrong" whatever the refusal was about.

    ## Example
    A single-sign-on layer in front of the gateway answering 407 with its own page.

    ## Fix
    Send the same request by hand and read which component refused it and why.

    ## Fix safety
    Safe: the command only reads.
    """
    return model_findings(facts, "auth")


@rule(id="PRX012", name="proxy-answer-unexplained", cause="proxy.unexplained",
      severity=Severity.ERROR, needs=("proxy.route", "proxy.connect"), confidence=0.7,
      fallback_after=("dns", "proxy"),
      reads=("gateway.base_url", "gateway.host", "gateway.port"))
def proxy_answer_unexplained(facts: Facts) -> Finding | None:
    """## What it checks
    The proxy the client uses for the gateway answered the tunnel (`CONNECT`) or the request
    with anything but success, or failed, and no specific proxy rule explains it.

    ## Why it matters
    The client prints `Couldn't connect through your proxy (ERR_PROXY_TUNNEL)` or the proxy's
    status, which names neither the proxy nor its reason; the proxy's error page does.

    ## Example
    squid answering `CONNECT` with `503` and `X-Squid-Error: ERR_CONNECT_FAIL 111`: it cannot
    open a connection to the gateway.

    ## Fix
    Repeat the request through the proxy by hand and read its error page; give the proxy's
    admin the destination and the error code.

    ## Fix safety
    Safe: the command only reads.
    """
    route, connect = facts["proxy.route"] or {}, facts["proxy.connect"] or {}
    if not route.get("used") or not isinstance(connect, dict):
        return None
    status, error = connect.get("status"), connect.get("error")
    if (status == 200 and error is None) or connect.get("from_proxy") is False \
            or (status is None and error is None):
        return None
    code = str(connect.get("error_header") or "").split(" ")[0]
    meaning = catalogue()["proxy_errors"].get(code) or (
        catalogue()["proxy_statuses"].get(f"{status // 100}xx", "an answer the client cannot use")
        if isinstance(status, int) else f"the proxy connection failed ({error})")
    host, port = facts.get("gateway.host"), facts.get("gateway.port")
    method = connect.get("method") or "CONNECT"
    what = phrase(status) if isinstance(status, int) else f"no answer ({error})"
    title = connect.get("body_title")
    proxy = route.get("url") or f"{route.get('host')}:{route.get('port')}"
    user = " -U '<user>:<password>'" if route.get("has_username") else ""
    bare = f"{route.get('scheme') or 'http'}://{route.get('host')}:{route.get('port')}"
    base = str(facts.get("gateway.base_url") or "").rstrip("/")
    return Finding(
        message=(f"The proxy {proxy} answered {method} {host}:{port} with {what}"
                 f"{f' ({title})' if title else ''}{f', {code}' if code else ''}: {meaning}"),
        evidence={"tried": f"{method} {host}:{port} via {proxy}", "status": status, "error": error,
                  "error_page_title": title, "proxy_error": connect.get("error_header"),
                  "proxy_server": connect.get("server"),
                  "authenticate": connect.get("authenticate"), "variable": route.get("variable")},
        fixes=(Fix(title="Repeat the request through the proxy and read its error page",
                   safety="safe",
                   snippet=f"curl -sv -x '{bare}'{user} '{base}/v1/models' -o /dev/null 2>&1 | "
                           "grep -iE '^< |x-squid|error|proxy'"),),
    )


@rule(id="TLS011", name="tls-handshake-unexplained", cause="tls.unexplained",
      severity=Severity.ERROR, needs=("tls.handshake",), confidence=0.6,
      fallback_after=("dns", "proxy", "tls", "gateway"),
      reads=("gateway.host", "gateway.port", "gateway.transport_error", "proxy.route",
             "tls.chain", "tls.reject_unauthorized_disabled", "tls.verify.client"))
def tls_handshake_unexplained(facts: Facts) -> Finding | None:
    """## What it checks
    The TLS handshake on the client's route failed, timed out or was dropped, or ended with
    a certificate the client rejects, and no specific TLS rule explains it.

    ## Why it matters
    The client prints `Unable to connect to API (<CODE>)` or `Connection dropped`; the TLS
    alert or error code is the clue, and it is shown here.

    ## Example
    A gateway that requires a client certificate (mutual TLS) while none is configured:
    `TLSV13_ALERT_CERTIFICATE_REQUIRED`.

    ## Fix
    Repeat the handshake by hand and read the alert.

    ## Fix safety
    Safe: the command only reads.
    """
    hs = facts["tls.handshake"]
    if not isinstance(hs, dict):
        return None
    verify = facts.get("tls.verify.client") or {}
    code = verify.get("code") if isinstance(verify, dict) else None
    status = hs.get("status")
    after = status == "ok" and facts.get("gateway.transport_error") == "tls"
    if status == "ok" and not after and (not code or facts.get("tls.reject_unauthorized_disabled")):
        return None
    host, port = facts.get("gateway.host") or "<host>", facts.get("gateway.port") or 443
    if after:
        what = (f"a TLS failure on the first request after a completed "
                f"{hs.get('protocol') or ''} handshake")
        meaning = ("the server ended the session once it had the client's handshake: in TLS 1.3 "
                   "a server that requires a client certificate (mutual TLS) sends its "
                   "certificate_required alert only then")
    elif status != "ok":
        what = f"{status}: {hs.get('error')}"
        meaning = catalogue()["handshake_outcomes"].get(str(status), "the handshake failed")
    else:
        what, meaning = (f"a certificate the client rejects ({code})",
                         "the client would reject this certificate")
    if "CERTIFICATE_REQUIRED" in str(hs.get("error") or "").upper():
        meaning = "the server requires a client certificate (mutual TLS) and none was presented"
    return Finding(
        message=f"The TLS handshake with {host}:{port}{route_note(facts)} ended with "
                f"{what}: {meaning}",
        evidence={"tried": f"TLS handshake with {host}:{port}, then GET /", "tls.handshake": hs,
                  "gateway.transport_error": facts.get("gateway.transport_error"),
                  "verify_code": code,
                  "chain_subjects": [c.get("subject") for c in facts.get("tls.chain") or []
                                     if isinstance(c, dict)]},
        fixes=(Fix(title="Repeat the handshake and read the alert", safety="safe",
                   snippet=f"openssl s_client -connect {host}:{port} -servername {host} "
                           "-brief </dev/null"
                           "\n# 'alert certificate required' or 'tlsv13 alert certificate "
                           "required': set CLAUDE_CODE_CLIENT_CERT and CLAUDE_CODE_CLIENT_KEY"),),
    )


@rule(id="DNS004", name="dns-answer-unexplained", cause="dns.unresolvable",
      severity=Severity.ERROR, needs=("dns.gateway",), confidence=0.6, fallback_after=("dns",),
      reads=("dns.proxy", "proxy.route"))
def dns_answer_unexplained(facts: Facts) -> list[Finding]:
    """## What it checks
    A host on the client's route (the gateway, or the proxy when one applies) did not
    resolve, or resolved only to the unspecified address `0.0.0.0`/`::` (what DNS filters and
    sinkholes answer for a blocked name), and no specific DNS rule explains it.

    ## Why it matters
    The client prints `Unable to connect to API (ENOTFOUND)` or, for a sinkholed name, a
    connection error that points at the gateway instead of the DNS filter.

    ## Example
    A corporate DNS filter answering `0.0.0.0` for the gateway's name.

    ## Fix
    Resolve the name by hand and compare with another resolver.

    ## Fix safety
    Safe: the commands only read.
    """
    out = []
    route = facts.get("proxy.route") or {}
    pairs = [("gateway", facts["dns.gateway"])]
    if isinstance(route, dict) and route.get("used"):
        pairs.append(("proxy", facts.get("dns.proxy")))
    for what, dns in pairs:
        if not isinstance(dns, dict) or (what == "gateway" and dns.get("proxy_resolves")):
            continue
        status, addrs = dns.get("status"), dns.get("addresses") or []
        sinkholed = status == "ok" and addrs and all(a in ("0.0.0.0", "::") for a in addrs)
        if status in ("ok", "literal", None) and not sinkholed:
            continue
        host = dns.get("host")
        got = (f"only {', '.join(addrs)}" if sinkholed
               else f"{status} ({dns.get('code') or dns.get('error')})")
        meaning = ("a DNS filter or sinkhole blocks this name" if sinkholed
                   else "the name does not resolve on this machine")
        out.append(Finding(
            message=f"Resolving the {what} host {host} gave {got}: {meaning}",
            evidence={"tried": f"getaddrinfo({host})", "dns": dns},
            fixes=(Fix(title="Resolve it by hand, with the system resolver and another one",
                       safety="safe",
                       snippet=f"getent ahosts {host}\nnslookup {host}\nnslookup {host} 1.1.1.1"),),
        ))
    return out


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [dns_answer_unexplained, proxy_answer_unexplained, tls_handshake_unexplained,
            gateway_answer_unexplained, auth_refusal_unexplained, model_answer_unexplained]
