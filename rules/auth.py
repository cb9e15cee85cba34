"""Auth rules (AUT): which credential reaches the gateway and what it said about it. Pure
functions of facts."""

from __future__ import annotations

from typing import Any

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._gw import env_fix, first_line

# Faults (knowledge/faults.yaml, classified probe-side into fact `http.faults`) that say a 401/403
# is about something other than the key the client sent.
_NOT_THE_KEY = {"http.key_missing", "http.model_access_denied", "http.upstream_error",
                "http.policy_refusal"}


def _faults(facts: Facts, name: str) -> set[str]:
    """The fault ids probes/faults.py gave the answer recorded under ``name``."""
    return set((facts.get("http.faults") or {}).get(name) or [])


def _models(facts: Facts) -> dict[str, Any]:
    value = facts.get("gateway.models")
    return value if isinstance(value, dict) else {}


def _credential_var(facts: Facts) -> str:
    kind = facts.get("gateway.kind")
    return "ANTHROPIC_API_KEY" if kind in ("cloudflare", "anthropic") else "ANTHROPIC_AUTH_TOKEN"


@rule(id="AUT001", name="no-credentials", cause="auth.missing", severity=Severity.ERROR,
      needs=("gateway.custom", "auth.credential_source"), confidence=0.9,
      reads=("auth.login", "gateway.base_url", "gateway.kind", "gateway.models", "provider.mode"))
def no_credentials(facts: Facts) -> Finding | None:
    """## What it checks
    None of `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_API_KEY`, `apiKeyHelper` or
    `CLAUDE_CODE_OAUTH_TOKEN` is set: for a gateway in `ANTHROPIC_BASE_URL`, or, for the
    Anthropic API itself, with no claude.ai login stored either.

    ## Why it matters
    Claude Code stops before sending anything: `Not logged in · Please run /login`.
    A gateway key is not a claude.ai login, so `/login` does not help behind a gateway.

    ## Example
    `ANTHROPIC_BASE_URL=http://127.0.0.1:4000` exported, the key forgotten in another shell.

    ## Fix
    Export the gateway key in `ANTHROPIC_AUTH_TOKEN` (sent as `Authorization: Bearer`),
    or in `ANTHROPIC_API_KEY` for gateways that read `x-api-key`; for the Anthropic API,
    run `claude /login` or set `ANTHROPIC_API_KEY`.

    ## Fix safety
    Safe: it only adds a credential the client lacked.
    """
    if facts["auth.credential_source"]:
        return None
    if facts.get("provider.mode") not in (None, "anthropic"):
        return None
    if not facts["gateway.custom"]:
        login = facts.get("auth.login") or {}
        if login.get("stored") is not False:  # logged in, or not knowable (macOS Keychain)
            return None
        return Finding(
            message="Claude Code has no credential for the Anthropic API: no token, API key or "
                    f"helper is set and no claude.ai login is stored ({login.get('path')})",
            evidence={"auth.credential_source": None, "auth.login": login},
            fixes=(Fix(title="Log in, or give Claude Code an API key", safety="safe",
                       snippet='claude /login    # or: export ANTHROPIC_API_KEY='
                               '"<your-api-key>"'),),
            confidence=0.85,
        )
    models = _models(facts)
    said = first_line(models.get("error_message")) if models.get("status") == 401 else ""
    var = _credential_var(facts)
    return Finding(
        message=f"No credential is set for the gateway {facts.get('gateway.base_url')}"
                + (f"; it answers 401 {said}" if said else ""),
        evidence={"auth.credential_source": None, "gateway.models.status": models.get("status"),
                  "gateway.models.error_message": models.get("error_message")},
        fixes=(Fix(title=f"Give Claude Code the gateway key in {var}",
                   snippet=f'export {var}="<your-gateway-key>"', safety="safe"),),
        confidence=0.99 if said else None,
    )


@rule(id="AUT002", name="credential-rejected", cause="auth.rejected", severity=Severity.ERROR,
      needs=("gateway.models", "http.faults"), confidence=0.9,
      reads=("auth.api_key", "auth.credential_source", "auth.token", "gateway.base_url",
             "gateway.kind", "model.checks"))
def credential_rejected(facts: Facts) -> Finding | None:
    """## What it checks
    The gateway answers `GET /v1/models` (or a model request), sent with exactly the
    client's credential headers, with 401 or 403 about the key itself (not a missing key, not a
    model allowlist, not an upstream provider's 401 relayed by the gateway, not a refusal by
    policy: the faults `http.key_missing`, `http.model_access_denied`, `http.upstream_error`,
    `http.policy_refusal` of knowledge/faults.yaml rule those out).

    ## Why it matters
    Every request fails with `Failed to authenticate. API Error: 401 …`, after ≈3 minutes
    of retries with default settings.

    ## Example
    A LiteLLM virtual key deleted or created on another proxy:
    `Authentication Error, Invalid proxy server token passed.`

    ## Fix
    Put a key this gateway knows in the variable the client reads; compare its
    fingerprint with the one the gateway admin issued.

    ## Fix safety
    Review: it replaces the credential.
    """
    def own(name: str, result: dict[str, Any]) -> bool:
        return result.get("status") in (401, 403) and not _faults(facts, name) & _NOT_THE_KEY

    if _models(facts).get("credentials_withheld"):
        return None  # no credential went out (untrusted repo-chosen base URL): a 401 judges nothing
    # Some gateways leave /v1/models open and judge the key only on /v1/messages.
    candidates = [("gateway.models", _models(facts))] + [
        (f"model.checks[{c.get('model')}]", c) for c in facts.get("model.checks") or []
        if isinstance(c, dict)]
    models = next((r for name, r in candidates if own(name, r)), None)
    if models is None:
        return None
    status, message = models.get("status"), models.get("error_message") or ""
    source = facts.get("auth.credential_source")
    secret = (facts.get("auth.token") if source == "ANTHROPIC_AUTH_TOKEN"
              else facts.get("auth.api_key"))
    var = (source if source in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY")
           else _credential_var(facts))
    fixes = [env_fix(var, "<a-key-this-gateway-issued>", (secret or {}).get("source"),
                     title=f"Set a valid gateway key in {var}")]
    if facts.get("gateway.kind") == "litellm":
        fixes.append(Fix(title="Check the key on the LiteLLM proxy (run by its admin)", lang="sh",
                         safety="safe",
                         snippet=f"curl -s {facts.get('gateway.base_url')}/key/info "
                                 "-H 'Authorization: Bearer <master-key>' -G -d key=<the-key>"))
    return Finding(
        message=f"The gateway rejects the credential from {source or 'the client'}: "
                f"{status} {first_line(message) or models.get('error_type') or ''}".rstrip(),
        evidence={"status": status, "error_type": models.get("error_type"),
                  "error_message": message, "credential": secret,
                  "sent_headers": models.get("sent_headers")},
        fixes=tuple(fixes),
    )


@rule(id="AUT003", name="litellm-key-needs-database", cause="auth.rejected",
      severity=Severity.ERROR, needs=("gateway.models", "http.faults"), confidence=0.95,
      reads=("auth.credential_source", "gateway.count_tokens"))
def litellm_key_needs_database(facts: Facts) -> Finding | None:
    """## What it checks
    LiteLLM answers 400 `No connected db.` (`no_db_connection`): the key sent is not the
    master key, so LiteLLM tries to look it up as a virtual key, and it has no database.

    ## Why it matters
    Claude Code prints `API Error: 400 No connected db.`, which reads like a server fault;
    the real problem is the key. 400 is not retried, so it fails at once.

    ## Example
    `ANTHROPIC_AUTH_TOKEN=sk-test` against a LiteLLM started with only a master key.

    ## Fix
    Use the proxy's master key (`general_settings.master_key`), or give LiteLLM a
    database (`database_url`) and create virtual keys with `/key/generate`.

    ## Fix safety
    Review: a master key is an admin credential; prefer virtual keys for people.
    """
    found = [(name, r) for name, r in (("gateway.models", _models(facts)),
                                       ("gateway.count_tokens",
                                        facts.get("gateway.count_tokens") or {}))
             if r.get("status") == 400 and (r.get("error_type") == "no_db_connection"
                                            or "http.no_db" in _faults(facts, name))]
    if not found:
        return None
    name, result = found[0]
    source = facts.get("auth.credential_source") or "ANTHROPIC_AUTH_TOKEN"
    var = (source if source in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY")
           else "ANTHROPIC_AUTH_TOKEN")
    return Finding(
        message=f"LiteLLM does not know the key from {source} and has no database to look it up "
                f"(400 No connected db.)",
        evidence={"fact": name, "status": 400, "error_type": result.get("error_type"),
                  "error_message": result.get("error_message")},
        fixes=(
            Fix(title="Use the proxy's master key", safety="review",
                snippet=f'export {var}="<general_settings.master_key of the proxy>"'),
            Fix(title="Or give LiteLLM a database for virtual keys", lang="yaml",
                target="litellm config.yaml", safety="manual",
                snippet="general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n"
                        "  database_url: os.environ/DATABASE_URL   # postgresql://..."),
        ),
    )


@rule(id="AUT004", name="credential-in-unread-header", cause="auth.wrong_header",
      severity=Severity.ERROR, needs=("gateway.models", "http.faults"), confidence=0.85,
      reads=("auth.headers",))
def credential_in_unread_header(facts: Facts) -> Finding | None:
    """## What it checks
    The client sends a credential, yet the gateway says none was passed (401 `No api key
    passed in.` or similar): it reads the other header.

    ## Why it matters
    `ANTHROPIC_AUTH_TOKEN` goes out as `Authorization: Bearer`, `ANTHROPIC_API_KEY` as
    `x-api-key`; a gateway that reads only one of them never sees the key.

    ## Example
    A Cloudflare AI Gateway key put in `ANTHROPIC_AUTH_TOKEN`; a LiteLLM proxy with
    `litellm_key_header_name: X-My-Key`.

    ## Fix
    Move the key to the variable whose header the gateway reads, or send it in the
    header the gateway names through `ANTHROPIC_CUSTOM_HEADERS`.

    ## Fix safety
    Review: the key moves to another header.
    """
    models = _models(facts)
    if models.get("credentials_withheld"):
        return None  # gwdoctor sent no credential on purpose: "no key passed" is expected
    sent = list(models.get("sent_headers") or facts.get("auth.headers") or [])
    if (models.get("status") != 401 or not sent
            or "http.key_missing" not in _faults(facts, "gateway.models")):
        return None
    if "authorization" in sent and "x-api-key" not in sent:
        move = ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", "x-api-key")
    else:
        move = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "Authorization: Bearer")
    return Finding(
        message=f"The client sends {', '.join(sent)} but the gateway says no key was passed: "
                f"{first_line(models.get('error_message'))}",
        evidence={"sent_headers": sent, "status": 401,
                  "error_message": models.get("error_message")},
        fixes=(Fix(title=f"Send the key as {move[2]} instead", safety="review",
                   snippet=f'export {move[1]}="<your-gateway-key>"\nunset {move[0]}'),
               Fix(title="Or send it in the header the gateway reads", safety="review",
                   snippet="export ANTHROPIC_CUSTOM_HEADERS='<header-name>: <your-gateway-key>'")),
    )


@rule(id="AUT005", name="token-and-api-key-both-set", cause="auth.conflicting_credentials",
      severity=Severity.WARNING, needs=("auth.token", "auth.api_key"), confidence=0.8,
      reads=("gateway.kind",))
def token_and_api_key_both_set(facts: Facts) -> Finding | None:
    """## What it checks
    Both `ANTHROPIC_AUTH_TOKEN` and `ANTHROPIC_API_KEY` are set.

    ## Why it matters
    The client sends both headers; which one counts is up to the gateway (LiteLLM reads
    `Authorization` first, others read `x-api-key` first). Two different values make
    the outcome depend on the gateway, and the client warns "auth may not work as expected".

    ## Example
    An old `ANTHROPIC_API_KEY` in `~/.bashrc` and the gateway key in `ANTHROPIC_AUTH_TOKEN`.

    ## Fix
    Keep the variable the gateway documents and unset the other.

    ## Fix safety
    Review: check which of the two values the gateway issued.
    """
    token, key = facts["auth.token"] or {}, facts["auth.api_key"] or {}
    if not token.get("present") or not key.get("present"):
        return None
    same = token.get("fingerprint") == key.get("fingerprint")
    keep = _credential_var(facts)
    drop = "ANTHROPIC_API_KEY" if keep == "ANTHROPIC_AUTH_TOKEN" else "ANTHROPIC_AUTH_TOKEN"
    return Finding(
        message="ANTHROPIC_AUTH_TOKEN and ANTHROPIC_API_KEY are both set"
                + (" (same value)" if same else " to different values"),
        evidence={"auth.token": token, "auth.api_key": key},
        fixes=(Fix(title=f"Keep {keep}, unset {drop}", snippet=f"unset {drop}", safety="review"),),
        severity=Severity.INFO if same else None,
        confidence=0.95 if not same else 0.6,
    )


@rule(id="AUT006", name="api-key-helper-failed", cause="auth.helper_failed",
      severity=Severity.ERROR, needs=("config.api_key_helper",), confidence=0.95,
      reads=("auth.credential_source",))
def api_key_helper_failed(facts: Facts) -> Finding | None:
    """## What it checks
    The `apiKeyHelper` command exits non-zero, times out, or prints something that is not
    a single printable token (a banner, several lines, nothing).

    ## Why it matters
    Claude Code shows `Your apiKeyHelper script is failing` (2.1.332: "returned output that
    cannot be used as an API key", then an empty credential; 2.1.197: `Invalid API key · Fix
    external API key` and no request; captured in tests/capture/test_helper.py).

    ## Example
    A helper that prints `Fetching token…` before the token.

    ## Fix
    Make the command print only the token on stdout and exit 0; send logs to stderr.

    ## Fix safety
    Manual: the helper is your script.
    """
    helper = facts["config.api_key_helper"]
    if not isinstance(helper, dict) or not helper.get("command_present"):
        return None
    if facts.get("auth.credential_source") in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY"):
        return None  # a static credential outranks the helper, which is then never run
    shape, code = helper.get("output_shape"), helper.get("exit_code")
    if helper.get("timed_out"):
        why = "timed out"
    elif code not in (0, None):
        why = f"exited {code}"
    elif shape not in (None, "token"):
        why = {"empty": "printed nothing", "multiline": "printed more than one line",
               "nonprintable": "printed non-printable characters",
               "too_long": "printed more than 16,384 characters"}.get(str(shape),
                                                                      f"output is {shape}")
    else:
        return None
    where = (helper.get("source") or {}).get("file") or "settings"
    stderr = helper.get("stderr_excerpt")
    return Finding(
        message=f"apiKeyHelper (from {where}) {why}"
                + (f": {first_line(stderr)}" if stderr else ""),
        evidence={k: helper.get(k) for k in ("exit_code", "timed_out", "output_shape",
                                             "stderr_excerpt", "duration_ms", "source")},
        fixes=(Fix(title="Make the helper print only the token", lang="text", safety="manual",
                   target=str(where),
                   snippet="Run the apiKeyHelper command by hand: it must exit 0 and print exactly "
                           "one line (the key) on stdout; log to stderr (>&2)."),),
    )


@rule(id="AUT007", name="custom-headers-invalid", cause="auth.custom_headers_invalid",
      severity=Severity.ERROR, needs=("auth.custom_headers",), confidence=0.9,
      reads=("gateway.kind",))
def custom_headers_invalid(facts: Facts) -> Finding | None:
    """## What it checks
    `ANTHROPIC_CUSTOM_HEADERS` has lines that are not `Name: Value`, or lacks a header the
    recognised gateway requires (Portkey `x-portkey-api-key`, Cloudflare `cf-aig-authorization`).

    ## Why it matters
    A bad line fails every request with `Invalid ANTHROPIC_CUSTOM_HEADERS`; a missing
    gateway header gets a 401 from the gateway.

    ## Example
    Two headers separated by a comma instead of a newline, or a literal `\\n` in a shell export.

    ## Fix
    One `Name: Value` per line; in a shell `$'a: 1\\nb: 2'`, in settings JSON `"a: 1\\nb: 2"`.

    ## Fix safety
    Safe: only the header text changes.
    """
    headers = facts["auth.custom_headers"] or {}
    bad = list(headers.get("invalid_lines") or [])
    names = set(headers.get("names") or [])
    kind = facts.get("gateway.kind")
    required = {"portkey": ["x-portkey-api-key"],
                "cloudflare": ["cf-aig-authorization"]}.get(str(kind), [])
    missing = [h for h in required if h not in names]
    if not bad and not missing:
        return None
    if bad:
        message = (f"ANTHROPIC_CUSTOM_HEADERS has unusable lines {bad}: "
                   "each line must be 'Name: Value'")
    else:
        message = f"The {kind} gateway needs {', '.join(missing)} in ANTHROPIC_CUSTOM_HEADERS"
    example = "\\n".join([f"{h}: <value>" for h in sorted(names | set(missing))]
                         or ["x-header: <value>"])
    return Finding(
        message=message,
        evidence={"invalid_lines": bad, "names": sorted(names), "missing": missing,
                  "gateway.kind": kind},
        fixes=(Fix(title="One 'Name: Value' per line", safety="safe",
                   snippet=f"export ANTHROPIC_CUSTOM_HEADERS=$'{example}'"),),
        confidence=0.95 if bad else 0.7,
    )


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [no_credentials, credential_rejected, litellm_key_needs_database,
            credential_in_unread_header, token_and_api_key_both_set, api_key_helper_failed,
            custom_headers_invalid]
