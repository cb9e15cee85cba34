"""Certificate rules (TLS001-004, TLS009): trust, names and validity of the certificate the
client is shown. Pure functions of facts: no I/O, no os.environ."""

from __future__ import annotations

from typing import Any

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._netfix import set_env_fixes, shq
from ._providers import route_endpoint

_GENERIC_VENDORS = {"Unnamed TLS-inspection CA", "Squid ssl-bump"}
_VERIFY = ("tls.verify.client", "tls.verify.other", "tls.chain", "tls.inspection_vendor",
           "tls.chain_incomplete")


def _top(facts: Facts) -> dict[str, Any]:
    chain = facts["tls.chain"] or [{}]
    return chain[-1]


def _unchecked(facts: Facts) -> tuple[Severity | None, str]:
    """Severity override and message suffix when NODE_TLS_REJECT_UNAUTHORIZED=0 is set: the client
    accepts the certificate anyway (measured on 2.1.332, scenario tls-verification-disabled), so the
    problem is latent (TLS010 is the finding that matters now), not what breaks the client."""
    if facts.get("tls.reject_unauthorized_disabled"):
        return (Severity.WARNING,
                "; not enforced now: NODE_TLS_REJECT_UNAUTHORIZED=0 turns checks off")
    return None, ""


def _ca_fixes(facts: Facts, title: str) -> tuple[Fix, ...]:
    """NODE_EXTRA_CA_CERTS pointing at a file other tools already trust, else how to get the
    root."""
    other = facts["tls.verify.other"] or {}
    found = next((s for s in other.get("sources") or []
                  if s.get("trusted") and s.get("name") != "system"), None)
    found = found or next((s for s in other.get("sources") or [] if s.get("trusted")), None)
    if found:
        extra = facts.get("tls.extra_ca") or {}
        return set_env_fixes("NODE_EXTRA_CA_CERTS", found["path"], safety="review",
                             source=extra.get("source"),
                             title=f"{title}: trust the CA file {found['name']} already names")
    end = route_endpoint(facts)
    host, port = end["host"], end["port"]
    proxy = (facts.get("proxy.route") or {})
    via = f" -proxy {proxy['host']}:{proxy['port']}" if proxy.get("used") else ""
    grab = (f"openssl s_client -showcerts -connect {host}:{port} -servername {host}{via} "
            "</dev/null 2>/dev/null \\\n"
            "  | awk '/BEGIN CERT/{c=\"\"} {c=c $0 \"\\n\"} /END CERT/{last=c} "
            "END{printf \"%s\", last}' > ~/corp-root.pem\n"
            "openssl x509 -in ~/corp-root.pem -noout -subject -issuer   "
            "# check it is the root you expect\n"
            "export NODE_EXTRA_CA_CERTS=\"$HOME/corp-root.pem\"")
    return (Fix(title=f"{title}: save the top certificate of the chain and trust it", snippet=grab,
                safety="manual"),)


@rule(id="TLS001", name="certificate-untrusted-by-client", cause="tls.untrusted_ca",
      severity=Severity.ERROR, needs=_VERIFY, confidence=0.85,
      reads=("gateway.base_url", "gateway.host", "gateway.port", "proxy.route", "route.target",
             "tls.extra_ca", "tls.reject_unauthorized_disabled"))
def certificate_untrusted_by_client(facts: Facts) -> Finding | None:
    """## What it checks
    The gateway's certificate chain does not lead to a CA the client trusts (its
    bundled roots, the system store as SSL_CERT_FILE/SSL_CERT_DIR define it, and
    NODE_EXTRA_CA_CERTS), and no known TLS-inspection CA signed it.

    ## Why it matters
    Claude Code fails at once with `SSL certificate verification failed
    (UNABLE_TO_VERIFY_LEAF_SIGNATURE)` or `Self-signed certificate detected`. curl or
    Python may still work because `REQUESTS_CA_BUNDLE`/`CURL_CA_BUNDLE` are theirs only.
    With `NODE_TLS_REJECT_UNAUTHORIZED=0` the client accepts the chain anyway, so this
    finding (like TLS002, TLS003, TLS004 and TLS009) is then only a warning beside TLS010.

    ## Example
    A LiteLLM gateway behind a certificate from the company's private CA, with the
    CA only in `REQUESTS_CA_BUNDLE`.

    ## Fix
    Point `NODE_EXTRA_CA_CERTS` at a PEM file holding the CA (the file other tools
    already trust, when one was found).

    ## Fix safety
    Review: you are choosing which CA the client trusts.
    """
    client = facts["tls.verify.client"] or {}
    if (client.get("trusted", True) or facts["tls.inspection_vendor"]
            or facts["tls.chain_incomplete"]):
        return None
    other = [s["name"] for s in (facts["tls.verify.other"] or {}).get("sources") or []
             if s.get("trusted")]
    also = f"; {', '.join(other)} trust it, the client does not read those" if other else ""
    severity, off = _unchecked(facts)
    return Finding(
        message=(f"The gateway certificate (issuer {_top(facts).get('issuer')}) "
                 f"is not trusted by Claude Code: {client.get('code')}{also}{off}"),
        severity=severity,
        evidence={"tls.verify.client": client, "tls.verify.other": facts["tls.verify.other"]},
        confidence=0.95 if other else None,
        fixes=_ca_fixes(facts, "Trust the gateway's CA"),
    )


@rule(id="TLS002", name="tls-inspection-ca-untrusted", cause="tls.untrusted_ca",
      severity=Severity.ERROR, needs=_VERIFY, confidence=0.97,
      reads=("gateway.base_url", "gateway.host", "gateway.port", "proxy.route", "route.target",
             "tls.extra_ca", "tls.inspection_issuer", "tls.reject_unauthorized_disabled"))
def tls_inspection_ca_untrusted(facts: Facts) -> Finding | None:
    """## What it checks
    The certificate the client receives was issued by a TLS-inspection CA (Zscaler,
    Netskope, Palo Alto, Fortinet, ...; see knowledge/tls_vendors.yaml) that the
    client does not trust.

    ## Why it matters
    A proxy or endpoint agent decrypts and re-signs the traffic. Browsers trust its
    root through the OS; Claude Code fails with `SELF_SIGNED_CERT_IN_CHAIN` or
    `UNABLE_TO_GET_ISSUER_CERT_LOCALLY` until that root is in its store.

    ## Example
    Zscaler Internet Access on a laptop, issuer `Zscaler Intermediate Root CA`.

    ## Fix
    Export the inspection root as PEM and set `NODE_EXTRA_CA_CERTS`, or install it in
    the system store and keep `CLAUDE_CODE_CERT_STORE` including `system`.

    ## Fix safety
    Review: trusting an inspection root lets that proxy read the traffic (it already does).
    """
    client, vendor = facts["tls.verify.client"] or {}, facts["tls.inspection_vendor"]
    if client.get("trusted", True) or not vendor:
        return None
    issuer = facts.get("tls.inspection_issuer") or _top(facts).get("issuer")
    severity, off = _unchecked(facts)
    return Finding(
        message=f"TLS inspection by {vendor} (issuer {issuer}): Claude Code does not trust it "
                f"({client.get('code')}){off}",
        severity=severity,
        evidence={"tls.verify.client": client, "tls.inspection_vendor": vendor, "issuer": issuer},
        confidence=0.9 if vendor in _GENERIC_VENDORS else 0.97,
        fixes=_ca_fixes(facts, f"Trust the {vendor} root"),
    )


@rule(id="TLS009", name="incomplete-certificate-chain", cause="tls.untrusted_ca",
      severity=Severity.ERROR, needs=_VERIFY, confidence=0.8,
      reads=("tls.reject_unauthorized_disabled",))
def incomplete_certificate_chain(facts: Facts) -> Finding | None:
    """## What it checks
    The server sends its certificate without the intermediate that links it to a
    root: no store knows the issuer, and the certificate names where to download it (AIA).

    ## Why it matters
    Browsers fetch the missing intermediate themselves; Claude Code does not and
    fails with `UNABLE_TO_VERIFY_LEAF_SIGNATURE`.

    ## Example
    nginx configured with `cert.pem` instead of `fullchain.pem`.

    ## Fix
    Whoever runs the gateway must serve the full chain. Meanwhile the intermediate
    can be added with `NODE_EXTRA_CA_CERTS`.

    ## Fix safety
    Review: a client-side workaround hides a server fault from other clients.
    """
    if not facts["tls.chain_incomplete"]:
        return None
    top = _top(facts)
    url = (top.get("aia_ca_issuers") or ["<issuer-url>"])[0]
    severity, off = _unchecked(facts)
    return Finding(
        message=f"The gateway sends an incomplete chain: the issuer {top.get('issuer')} "
                f"is missing{off}",
        severity=severity,
        evidence={"tls.chain": facts["tls.chain"], "tls.verify.client": facts["tls.verify.client"]},
        fixes=(Fix(title="Serve the full chain (gateway operator)", lang="text", safety="manual",
                   snippet="Configure the TLS server with the leaf followed by its "
                           "intermediate(s), e.g. nginx ssl_certificate fullchain.pem"),
               Fix(title="Workaround: trust the intermediate", safety="review",
                   snippet=f"curl -fsSL {shq(url)} -o /tmp/intermediate.crt\n"
                           "openssl x509 -inform DER -in /tmp/intermediate.crt "
                           "-out ~/gateway-intermediate.pem "
                           "2>/dev/null || cp /tmp/intermediate.crt ~/gateway-intermediate.pem\n"
                           "export NODE_EXTRA_CA_CERTS=\"$HOME/gateway-intermediate.pem\"")),
    )


@rule(id="TLS003", name="certificate-hostname-mismatch", cause="tls.hostname_mismatch",
      severity=Severity.ERROR, needs=("tls.hostname_match", "tls.chain", "gateway.host"),
      confidence=0.9,
      reads=("gateway.base_url", "gateway.port", "route.target",
             "tls.reject_unauthorized_disabled"))
def certificate_hostname_mismatch(facts: Facts) -> Finding | None:
    """## What it checks
    The gateway's certificate does not name the host in `ANTHROPIC_BASE_URL` (its
    SANs, or its CN when it has no DNS SAN).

    ## Why it matters
    Claude Code fails with `SSL certificate hostname mismatch`
    (ERR_TLS_CERT_ALTNAME_INVALID), typically when the URL uses an IP address or an
    alias, or a proxy or gateway answers with its own certificate.

    ## Example
    `ANTHROPIC_BASE_URL=https://10.0.0.5:4000` with a certificate for `llm.corp.example`.

    ## Fix
    Use a host name the certificate lists, or reissue the certificate with this name.

    ## Fix safety
    Review: the listed name must reach the same gateway.
    """
    if facts["tls.hostname_match"] is not False:
        return None
    leaf = (facts["tls.chain"] or [{}])[0]
    sans = [s for s in leaf.get("sans") or [] if not s.startswith("*")]
    end = route_endpoint(facts)
    host = end["host"] or facts["gateway.host"]
    fixes = []
    if sans:
        name = sans[0].removeprefix("IP:")
        base = str(end["base_url"] or "").replace(f"//{host}", f"//{name}", 1)
        fixes.append(Fix(title=f"Use a name the certificate lists "
                               f"({', '.join(leaf.get('sans') or [])})",
                         snippet=f"export {end['var']}={shq(base)}", safety="review"))
    fixes.append(Fix(title="Or reissue the certificate with this name", lang="text",
                     safety="manual",
                     snippet=f"Add DNS:{host} (or IP:{host}) to the certificate's subjectAltName."))
    names = ", ".join(leaf.get("sans") or []) or str(leaf.get("subject"))
    as_dns = str(host) in (leaf.get("sans") or [])  # an IP listed as a DNS name does not count
    why = (f"lists {host} only as a DNS name; an IP address must be an IP SAN" if as_dns
           else f"names {names}, not {host}")
    severity, off = _unchecked(facts)
    return Finding(
        message=f"The certificate {why}{off}",
        severity=severity,
        evidence={"gateway.host": host, "sans": leaf.get("sans"), "subject": leaf.get("subject")},
        fixes=tuple(fixes),
    )


@rule(id="TLS004", name="certificate-expired", cause="tls.expired",
      severity=Severity.ERROR, needs=("tls.expired", "tls.chain"), confidence=0.95,
      reads=("tls.reject_unauthorized_disabled",))
def certificate_expired(facts: Facts) -> Finding | None:
    """## What it checks
    A certificate in the chain the gateway (or an inspecting proxy) presents is
    outside its validity period.

    ## Why it matters
    Claude Code fails with `CERT_HAS_EXPIRED` (or not yet valid, on a machine whose
    clock is wrong).

    ## Example
    A gateway certificate from a private CA that nobody renewed.

    ## Fix
    Renew the certificate; if it looks valid elsewhere, check this machine's clock.

    ## Fix safety
    Manual: renewal happens on the server.
    """
    if not facts["tls.expired"]:
        return None
    bad = [c for c in facts["tls.chain"] or [] if c.get("not_after")]
    leaf = bad[0] if bad else {}
    severity, off = _unchecked(facts)
    return Finding(
        message=f"The certificate {leaf.get('subject')} is outside its validity "
                f"({leaf.get('not_before')} to {leaf.get('not_after')}){off}",
        severity=severity,
        evidence={"tls.chain": facts["tls.chain"]},
        fixes=(Fix(title="Compare with this machine's clock, then renew on the server",
                   safety="manual",
                   snippet="date -u"),),
    )


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [certificate_untrusted_by_client, tls_inspection_ca_untrusted,
            incomplete_certificate_chain, certificate_hostname_mismatch, certificate_expired]
