"""TLS settings rules: CA and client-certificate files (TLS005, TLS006), a scheme that does not
match the port (TLS007, TLS008), verification turned off (TLS010). Pure functions of facts."""

from __future__ import annotations

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._netfix import set_env_fixes, shq


@rule(id="TLS005", name="extra-ca-file-invalid", cause="tls.ca_bundle_invalid",
      severity=Severity.ERROR, needs=("tls.extra_ca",), confidence=0.95)
def extra_ca_file_invalid(facts: Facts) -> Finding | None:
    """## What it checks
    `NODE_EXTRA_CA_CERTS` names a file that is missing, unreadable, a directory,
    DER instead of PEM, or holds no certificate; or a path starting with `~` or
    relative to the directory claude starts in.

    ## Why it matters
    The client does not stop: it prints one warning line on stderr (`Ignoring extra
    certs from ...`) and goes on without the CA, so the TLS error that follows seems
    to ignore the setting. `~` is not expanded inside quotes or settings files.

    ## Example
    `NODE_EXTRA_CA_CERTS="~/certs/corp.pem"` in `settings.json`, or a `.cer` file in DER.

    ## Fix
    Use an absolute path to a PEM file; convert DER with `openssl x509 -inform DER`.

    ## Fix safety
    Safe: the file is not in use today.
    """
    info = facts["tls.extra_ca"]
    if not info:
        return None
    path = str(info.get("path"))
    if info.get("error"):
        fixes: list[Fix] = []
        if info.get("tilde"):
            fixed = "$HOME" + path[1:]
            fixes.append(Fix(title="Write the home directory out (the client does not expand ~)",
                             safety="safe",
                             snippet=f'export NODE_EXTRA_CA_CERTS="{fixed}"'))
        elif info.get("exists") and info.get("readable") and not info.get("pem"):
            pem = path.rsplit(".", 1)[0] + ".pem"
            fixes.append(Fix(title="Convert the DER certificate to PEM", safety="safe",
                             snippet=f"openssl x509 -inform DER -in {shq(path)} -out {shq(pem)}\n"
                                     f"export NODE_EXTRA_CA_CERTS={shq(pem)}"))
        else:
            fixes.append(Fix(title="Check the file", safety="safe",
                             snippet=f"ls -l {shq(str(info.get('resolved') or path))}\n"
                                     f"openssl x509 -in {shq(str(info.get('resolved') or path))} "
                                     "-noout -subject"))
        return Finding(message=f"NODE_EXTRA_CA_CERTS={path}: {info['error']}; "
                               "the client ignores it",
                       evidence={"tls.extra_ca": info}, fixes=tuple(fixes))
    if info.get("relative"):
        resolved = str(info.get("resolved") or path)
        return Finding(
            message=f"NODE_EXTRA_CA_CERTS={path} is relative: it works only when claude starts "
                    "in the same directory",
            evidence={"tls.extra_ca": info}, severity=Severity.WARNING, confidence=0.8,
            fixes=set_env_fixes("NODE_EXTRA_CA_CERTS", resolved, title="Use the absolute path",
                                safety="safe", source=info.get("source")),
        )
    return None


@rule(id="TLS006", name="client-certificate-unusable", cause="tls.client_cert",
      severity=Severity.ERROR, needs=("tls.client_cert",), confidence=0.9,
      reads=("gateway.models", "model.checks", "tls.handshake"))
def client_certificate_unusable(facts: Facts) -> Finding | None:
    """## What it checks
    `CLAUDE_CODE_CLIENT_CERT`/`CLAUDE_CODE_CLIENT_KEY` are set but the certificate
    or key does not load (missing file, wrong passphrase, key not matching), or the
    certificate has expired.

    ## Why it matters
    A gateway that requires mutual TLS resets the connection (ECONNRESET) or answers
    401/403. The client reads the files once at start, so a rotated certificate
    needs a restart. When the gateway answered without one (a 200 over a completed
    handshake) it does not require mTLS: 2.1.332 then ignores the unusable files
    silently and works (measured, scenario client-cert-missing), so this is a warning.

    ## Example
    A short-lived client certificate that expired during the session.

    ## Fix
    Renew the certificate, check the key matches, and restart claude.

    ## Fix safety
    Manual: certificates come from your PKI.
    """
    info = facts["tls.client_cert"]
    if not info or (info.get("loadable") and not info.get("expired")):
        return None
    cert = str(info.get("cert_path"))
    why = info.get("error") or f"it expired on {info.get('not_after')}"
    ok = [c for c in facts.get("model.checks") or []
          if isinstance(c, dict) and c.get("status") == 200]
    optional = (facts.get("tls.handshake") or {}).get("status") == "ok" and \
        ((facts.get("gateway.models") or {}).get("status") == 200 or bool(ok))
    return Finding(
        message=f"The client certificate {cert} is unusable: {why}"
                + ("; the gateway answered without one, so it does not require mTLS now"
                   if optional else ""),
        severity=Severity.WARNING if optional else None,
        evidence={"tls.client_cert": info},
        fixes=(Fix(title="Inspect the certificate and key", safety="safe",
                   snippet=f"openssl x509 -in {shq(cert)} -noout -subject -enddate\n"
                           f"openssl pkey -in {shq(str(info.get('key_path') or cert))} "
                           "-noout && echo key ok"),),
    )


def _swap_scheme(facts: Facts, to: str) -> str:
    base = str(facts.get("gateway.base_url") or "")
    return to + base.split("://", 1)[1] if "://" in base else base


@rule(id="TLS007", name="https-to-plain-http-port", cause="tls.scheme_mismatch",
      severity=Severity.ERROR, needs=("tls.scheme_mismatch",), confidence=0.95,
      reads=("gateway.base_url", "gateway.host", "gateway.port", "tls.handshake"))
def https_to_plain_http_port(facts: Facts) -> Finding | None:
    """## What it checks
    `ANTHROPIC_BASE_URL` says `https://` but the port answers in plain HTTP; or the TLS
    handshake fails for a reason that is not the certificate (`WRONG_VERSION_NUMBER`,
    `UNEXPECTED_MESSAGE`: the port speaks something other than TLS) with no plain-HTTP
    answer to tell which.

    ## Why it matters
    The client fails with `Unable to connect to API (EPROTO)` after about three minutes of retries.

    ## Example
    `ANTHROPIC_BASE_URL=https://127.0.0.1:4000` for a LiteLLM started without TLS; an https
    URL pointing at an SSH or database port.

    ## Fix
    Use `http://`, or put TLS in front of the gateway; for another protocol, use the
    gateway's real port.

    ## Fix safety
    Review: plain HTTP sends the token unencrypted; fine on loopback only.
    """
    if facts["tls.scheme_mismatch"] is None:
        return _handshake_failed(facts)
    if facts["tls.scheme_mismatch"] != "https_to_plain":
        return None
    return Finding(message="The gateway port speaks plain HTTP, but ANTHROPIC_BASE_URL uses https://",
                   evidence={"gateway.base_url": facts.get("gateway.base_url")},
                   fixes=set_env_fixes("ANTHROPIC_BASE_URL", _swap_scheme(facts, "http://"),
                                       title="Use http:// for this port"))


_NOT_TLS = ("WRONG_VERSION_NUMBER", "UNEXPECTED_MESSAGE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST",
            "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL")


def _handshake_failed(facts: Facts) -> Finding | None:
    """TLS007's second case: a failed handshake that is neither a certificate problem nor a
    plain-HTTP port the scheme probe recognised."""
    hs = facts.get("tls.handshake") or {}
    error = str(hs.get("error") or "")
    if hs.get("status") != "failed" or "CERTIFICATE" in error.upper():
        return None
    not_tls = any(code in error.upper() for code in _NOT_TLS)
    host, port = facts.get("gateway.host") or "<host>", facts.get("gateway.port") or 443
    why = "the port does not seem to speak TLS" if not_tls else "the server refused the handshake"
    return Finding(
        message=(f"The TLS handshake with {host}:{port} failed ({error or 'no reason given'}): "
                 f"{why}, so the https:// base URL cannot work"),
        evidence={"tls.handshake": hs, "gateway.base_url": facts.get("gateway.base_url")},
        fixes=(Fix(title="See what the port answers", safety="safe",
                   snippet=f"openssl s_client -connect {host}:{port} -servername {host} "
                           "</dev/null\n"
                           f"curl -sv --max-time 5 http://{host}:{port}/ -o /dev/null"),
               *set_env_fixes("ANTHROPIC_BASE_URL", _swap_scheme(facts, "http://"),
                              title="If the port serves plain HTTP, use http://")),
        confidence=0.8 if not_tls else 0.6)


@rule(id="TLS008", name="http-to-tls-port", cause="tls.scheme_mismatch",
      severity=Severity.ERROR, needs=("tls.scheme_mismatch",), confidence=0.95,
      reads=("gateway.base_url",))
def http_to_tls_port(facts: Facts) -> Finding | None:
    """## What it checks
    `ANTHROPIC_BASE_URL` says `http://` but the port speaks TLS.

    ## Why it matters
    The server drops the plain request: `Connection dropped (ECONNRESET)`, after
    about three minutes of retries.

    ## Example
    `ANTHROPIC_BASE_URL=http://llm.corp.example:443`.

    ## Fix
    Use `https://`.

    ## Fix safety
    Safe: the port only speaks TLS.
    """
    if facts["tls.scheme_mismatch"] != "http_to_tls":
        return None
    return Finding(message="The gateway port speaks TLS, but ANTHROPIC_BASE_URL uses http://",
                   evidence={"gateway.base_url": facts.get("gateway.base_url")},
                   fixes=set_env_fixes("ANTHROPIC_BASE_URL", _swap_scheme(facts, "https://"),
                                       title="Use https:// for this port", safety="safe"))


@rule(id="TLS010", name="tls-verification-disabled", cause="tls.verification_disabled",
      severity=Severity.WARNING, needs=("tls.reject_unauthorized_disabled",), confidence=1.0)
def tls_verification_disabled(facts: Facts) -> Finding | None:
    """## What it checks
    `NODE_TLS_REJECT_UNAUTHORIZED=0` is in the client's environment.

    ## Why it matters
    Certificate checks are off for everything the client does: anyone on the path
    can read the token and the code sent to the model. It also hides the real trust
    problem, which comes back on the next machine.

    ## Example
    A workaround copied from a forum for `SELF_SIGNED_CERT_IN_CHAIN`.

    ## Fix
    Remove it and trust the right CA with `NODE_EXTRA_CA_CERTS` (the TLS findings name it).

    ## Fix safety
    Review: with verification back on, an untrusted chain fails until its CA is added.
    """
    if not facts["tls.reject_unauthorized_disabled"]:
        return None
    return Finding(message="NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate verification "
                           "for the client",
                   evidence={"tls.reject_unauthorized_disabled": True},
                   fixes=(Fix(title="Turn verification back on", safety="review",
                              snippet="unset NODE_TLS_REJECT_UNAUTHORIZED\n"
                                      "# and remove it from the env block of your settings.json"),))


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [extra_ca_file_invalid, client_certificate_unusable, https_to_plain_http_port,
            http_to_tls_port, tls_verification_disabled]
