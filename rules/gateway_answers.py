"""Gateway-answer rules (GWY006-011): what the gateway answered to API requests, rejected headers,
broken streams, upstream faults, rate limits, count_tokens, HTML pages. Pure functions of facts."""

from __future__ import annotations

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._gw import checks, faults_of, first_line, http_results, is_html, route_404s


@rule(id="GWY006", name="beta-header-rejected", cause="gateway.header_rejected",
      severity=Severity.ERROR, needs=("model.checks",), confidence=0.85,
      reads=("http.faults",))
def beta_header_rejected(facts: Facts) -> Finding | None:
    """## What it checks
    A model request with the client's `anthropic-beta` header fails with 4xx, and the same
    request without it succeeds (or the error names the beta header).

    ## Why it matters
    The gateway or its upstream (Bedrock, Vertex) rejects beta flags Claude Code sends on
    every request: `invalid beta flag`, `Unexpected value(s) … anthropic-beta`.

    ## Example
    LiteLLM forwarding `anthropic-beta` unfiltered to Bedrock.

    ## Fix
    `CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS=1`, or have the gateway filter beta values
    (a newer LiteLLM maps them per provider).

    ## Fix safety
    Safe: beta features are dropped, the requests themselves stay the same.
    """
    hits = []
    for c in checks(facts):
        if c.get("status") is None or c["status"] < 400:
            continue
        retry = c.get("without_beta") or {}
        # A retry that streamed to message_stop: a flaky upstream that merely answered
        # differently the second time is not evidence against the header.
        retry_ok = (retry.get("status") is not None and retry["status"] < 400
                    and retry.get("complete") is True)
        named = "http.beta_rejected" in faults_of(facts, c)
        if retry_ok or (named and c["status"] == 400):
            hits.append((c, retry_ok))
    if not hits:
        return None
    proven = any(ok for _, ok in hits)
    first = hits[0][0]
    return Finding(
        message=f"The gateway rejects the client's anthropic-beta header for {first['model']}: "
                f"{first['status']} {first_line(first.get('error_message'))}"
                + (" (the same request without it succeeds)" if proven else ""),
        evidence={"models": [c["model"] for c, _ in hits],
                  "error_message": first.get("error_message"),
                  "without_beta": first.get("without_beta")},
        fixes=(Fix(title="Stop sending experimental beta headers", safety="safe",
                   snippet="export CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS=1"),),
        confidence=0.97 if proven else 0.75,
    )


@rule(id="GWY007", name="stream-broken-or-buffered", cause="gateway.streaming_broken",
      severity=Severity.ERROR, needs=("model.checks",), confidence=0.85,
      reads=("gateway.base_url", "gateway.kind"))
def stream_broken_or_buffered(facts: Facts) -> list[Finding]:
    """## What it checks
    A 200 streaming answer that ends before `message_stop`, carries an `error` event or an
    OpenAI `[DONE]` line, or is held back and then arrives in one burst (buffered: the events
    came at least 150 ms after the headers, all at once); or
    a 200 answer with no event at all (`application/json` or anything else instead of a
    `text/event-stream` to a `"stream": true` request; HTML bodies are GWY011's).

    ## Why it matters
    Claude Code consumes events as they arrive. A cut stream makes it fall back to a
    non-streaming request (slow, and often failing too); a buffering proxy stalls it until
    the whole answer is done, which trips its idle watchdogs on long answers.

    ## Example
    nginx with `proxy_buffering on` in front of LiteLLM; an upstream that drops the connection;
    a catch-all service that answers `200 {"ok": true}` to every path.

    A short stream that arrives quickly in one piece is what a healthy gateway sends for the
    probe's one-token answer: without a hold-back there is no evidence of a buffering hop, and
    the rule says nothing (issue 9 found every fast healthy gateway called buffered).

    ## Fix
    Turn response buffering off for `/v1/messages` on every proxy in the path and keep
    `text/event-stream` bodies unmodified. An OpenAI `[DONE]` line: use the gateway's
    Anthropic route instead of an OpenAI-format stream. A 200 without events: point
    `ANTHROPIC_BASE_URL` at a gateway whose `/v1/messages` streams (`curl -N` must print
    `event: message_start`).

    ## Fix safety
    Safe: buffering off changes only when bytes are forwarded.
    """
    out = []
    nginx = facts.get("gateway.kind") == "nginx"
    for c in checks(facts):
        sse = c.get("sse")
        if (c.get("status") == 200 and not (isinstance(sse, dict) and sse.get("events"))
                and not is_html(c)):
            out.append(_not_a_stream(facts, c))
            continue
        if c.get("status") != 200 or not isinstance(sse, dict) or not sse.get("events"):
            continue
        sev = None
        if sse.get("done_sentinel"):
            why, conf = "an OpenAI '[DONE]' line inside the Anthropic stream", 0.9
        elif not sse.get("complete"):
            tail = ("an error event" if "error" in sse["events"]
                    else f"no message_stop (last: {sse['events'][-1]})")
            why, conf = (f"the stream broke: {tail}"
                         + (f", {c['error']}" if c.get("error") else "")), 0.9
        elif not sse.get("incremental") and _held_back(sse):
            why = (f"all {len(sse['events'])} events arrived at once after "
                   f"{sse.get('first_event_ms')} ms, {sse.get('held_ms')} ms after the headers "
                   "(buffered, not streamed)")
            conf = 0.6
            # Buffering slows the client but does not stop it: a warning, not an error.
            sev = Severity.WARNING
        else:
            # A short stream that came fast in one piece is what a healthy gateway sends for a
            # one-token answer: nothing shows a buffering hop, so nothing is said.
            continue
        if sse.get("done_sentinel"):
            fix = Fix(title="Use the gateway's Anthropic route, not its OpenAI stream", lang="text",
                      safety="manual",
                      snippet="The gateway answers /v1/messages in OpenAI's stream format "
                              "([DONE]). Point ANTHROPIC_BASE_URL at its Anthropic-compatible "
                              "route (LiteLLM: the proxy root, which serves /v1/messages "
                              "natively), or turn off the translation.")
        elif nginx or not sse.get("incremental"):
            fix = Fix(title="Stop nginx buffering the stream", lang="text", target="nginx.conf",
                      safety="safe",
                      snippet="location /v1/messages {\n    proxy_buffering off;\n"
                              "    proxy_cache off;\n    proxy_http_version 1.1;\n"
                              "    proxy_read_timeout 600s;\n}")
        else:
            fix = Fix(title="Find where the stream is cut", lang="text", safety="manual",
                      snippet="Check the gateway's log for this request; a relayed upstream error "
                              "or a proxy idle timeout ends the stream early.")
        out.append(Finding(message=f"Model {c['model']}: {why}",
                           evidence={"model": c["model"], "sse": sse, "error": c.get("error"),
                                     "error_message": c.get("error_message")},
                           fixes=(fix,), confidence=conf, severity=sev))
    return out


# Evidence of a buffering hop, not of a fast stream: the headers came and then the events were
# held this long before all arrived in one burst (a streaming hop forwards message_start as soon
# as the upstream sends it), or, with no headers time, the single burst came this late.
HELD_MS = 150
LATE_MS = 400


def _held_back(sse: dict) -> bool:
    held, first = sse.get("held_ms"), sse.get("first_event_ms")
    if isinstance(held, (int, float)):
        return held >= HELD_MS
    return isinstance(first, (int, float)) and first >= LATE_MS


def _not_a_stream(facts: Facts, c: dict) -> Finding:
    ctype = str(c.get("content_type") or "").split(";")[0].strip() or "no content type"
    body = first_line(c.get("body_excerpt"), 120)
    if "event-stream" in ctype:
        why = ("answered 200 with an event stream that carried no event"
               + (f" ({c['error']})" if c.get("error") else ""))
    else:
        why = (f"answered 200 with {ctype} instead of an event stream"
               + (f": {body}" if body else ""))
    base = str(facts.get("gateway.base_url") or "<base-url>").rstrip("/")
    return Finding(
        message=f"Model {c['model']}: the gateway {why}",
        evidence={"model": c["model"], "status": 200, "content_type": c.get("content_type"),
                  "sse": c.get("sse"), "body_excerpt": c.get("body_excerpt")},
        fixes=(Fix(title="Check that the base URL streams Anthropic Messages events", safety="safe",
                   snippet=f"curl -sN '{base}/v1/messages' -H 'content-type: application/json' "
                           "-H 'anthropic-version: 2023-06-01' -H 'x-api-key: <your-token>' "
                           "-d '{\"model\":\"" + str(c["model"]) + "\",\"max_tokens\":1,"
                           "\"stream\":true,"
                           "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'\n"
                           "# a real gateway prints 'event: message_start' lines; "
                           "anything else means ANTHROPIC_BASE_URL is not an Anthropic gateway"),),
        confidence=0.9)


@rule(id="GWY008", name="upstream-provider-failed", cause="gateway.upstream_error",
      severity=Severity.ERROR, needs=("model.checks",), confidence=0.9,
      reads=("http.faults", "engine.options", "gateway.base_url", "gateway.kind", "gateway.models"))
def upstream_provider_failed(facts: Facts) -> list[Finding]:
    """## What it checks
    The gateway answers a model request with an error it relays from its upstream
    provider (`litellm.AuthenticationError: AnthropicException …`, 5xx, 408), or it
    answers other requests but holds a model request past the probe timeout (a hanging
    provider: LiteLLM waits its `request_timeout`, 600 s by default, before its 408).
    LiteLLM's "There are no healthy deployments for this model" is not one: no provider was
    called (MDL011).

    ## Why it matters
    The client's own settings are fine; the gateway's provider credential, endpoint or
    quota is not. An upstream 401 prints `Failed to authenticate`, which users read as
    "my token is wrong".

    ## Example
    LiteLLM with an expired provider key in `litellm_params.api_key`; claude-code-router with a
    provider `api_base_url` the provider does not serve, whose 404 it relays as
    `Error from provider(<provider>,<model>: 404): 404 page not found`.

    ## Fix
    Fix the gateway's provider configuration for that model (credential, `api_base`,
    region; a relayed 404 points at the provider URL or model name); `GET /health` on LiteLLM
    lists the failing deployments.

    ## Fix safety
    Manual: the gateway's admin owns its provider credentials.
    """
    out = []
    base = facts.get("gateway.base_url")
    answered = any(c.get("status") for c in checks(facts)) or \
        (facts.get("gateway.models") or {}).get("status") is not None
    for c in checks(facts):
        status, msg = c.get("status"), c.get("error_message") or ""
        if status is None and c.get("error") == "timeout" and answered:
            timeout = (facts.get("engine.options") or {}).get("timeout")
            within = f" within {timeout:g} s" if isinstance(timeout, (int, float)) else ""
            out.append(Finding(
                message=f"Model {c['model']}: the gateway answers other requests but not this "
                        f"one{within}; its provider is probably hanging",
                evidence={"model": c["model"], "error": "timeout", "timeout_s": timeout},
                fixes=(Fix(title="Find the hanging deployment in the gateway log", lang="text",
                           safety="manual",
                           snippet=f"The gateway accepted the request for {c['model']} and sent "
                                   "nothing back: check that deployment's api_base, network path "
                                   "and the gateway log; LiteLLM's request_timeout bounds how long "
                                   "it waits."),),
                confidence=0.7))
            continue
        if status is None or status < 400 or status == 429:
            continue
        if "http.no_healthy_deployment" in faults_of(facts, c):
            continue  # no provider was called: the gateway has no deployment (MDL011)
        relayed = "http.upstream_error" in faults_of(facts, c)
        retry = c.get("without_beta") or {}
        if ((not relayed and status < 500)
                or ((retry.get("status") or 999) < 400 and retry.get("complete"))):
            continue  # a client-side 4xx, or a beta-header rejection (GWY006)
        fixes = [Fix(title="Ask LiteLLM which deployments fail (needs the master key)",
                     safety="safe", snippet=f"curl -s '{base}/health?model={c['model']}' "
                                            "-H 'Authorization: Bearer <master-key>'")] \
            if facts.get("gateway.kind") == "litellm" else []
        snippet = (f"The gateway failed calling its provider for {c['model']}: check that "
                   "deployment's api_key / api_base / region and the gateway log.")
        if status == 404:  # the provider has no such route (or model) at the URL the gateway calls
            snippet = (f"The gateway's provider answered 404 for {c['model']}: the provider URL "
                       "the gateway calls (LiteLLM's api_base, claude-code-router's provider "
                       "api_base_url) has no such route, or the provider has no such model. "
                       "Check that URL and model name, and the gateway log.")
        fixes.append(Fix(title="Check the gateway's provider settings for this model", lang="text",
                         safety="manual", snippet=snippet))
        out.append(Finding(
            message=f"Model {c['model']}: the gateway's upstream failed ({status}): "
                    f"{first_line(msg, 160)}",
            evidence={"model": c["model"], "status": status, "error_type": c.get("error_type"),
                      "error_message": msg},
            fixes=tuple(fixes), confidence=0.95 if relayed else 0.7))
    return out


@rule(id="GWY009", name="gateway-rate-limited", cause="gateway.rate_limited",
      severity=Severity.WARNING, needs=("model.checks",), confidence=0.9,
      reads=("gateway.count_tokens", "gateway.models"))
def gateway_rate_limited(facts: Facts) -> Finding | None:
    """## What it checks
    The gateway answers 429 to a model request or to `/v1/models`.

    ## Why it matters
    Claude Code retries 429s with backoff (≈3 minutes by default) before failing;
    parallel sub-agents make it worse. When the main model's own request is refused,
    the client gets no answer at all right now (2.1.332: `API Error: Request rejected
    (429)`), so the finding is an error; a limit seen elsewhere stays a warning.

    ## Example
    A LiteLLM deployment with `rpm: 10`, or a provider quota of 20 requests per minute.

    ## Fix
    Raise the limit (gateway `rpm`/`tpm`, provider quota) or send fewer parallel requests.

    ## Fix safety
    Manual: quotas cost money.
    """
    hits = [(name, r) for name, r in http_results(facts) if r.get("status") == 429]
    if not hits:
        return None
    main = {c.get("model") for c in checks(facts) if "main" in (c.get("roles") or [])}
    main_hits = [(n, r) for n, r in hits
                 if n.startswith("model.checks[") and r.get("model") in main]
    name, result = (main_hits or hits)[0]
    return Finding(
        message=f"The gateway rate-limits requests (429 on {name}): "
                f"{first_line(result.get('error_message'), 160)}",
        severity=Severity.ERROR if main_hits else None,
        evidence={"where": [n for n, _ in hits], "error_message": result.get("error_message")},
        fixes=(Fix(title="Fail fast while the limit is raised", safety="safe",
                   snippet="export CLAUDE_CODE_MAX_RETRIES=2"),),
    )


@rule(id="GWY010", name="count-tokens-unsupported", cause="gateway.api_format",
      severity=Severity.INFO, needs=("gateway.count_tokens",), confidence=0.8,
      reads=("http.faults", "gateway.path", "model.checks"))
def count_tokens_unsupported(facts: Facts) -> Finding | None:
    """## What it checks
    `POST /v1/messages/count_tokens` answers 404/405/501 while the Messages route itself exists.

    ## Why it matters
    Token counting is optional: Claude Code falls back to counting through the inference
    endpoint, at some cost, and gateway logs fill with 404s.

    ## Example
    LiteLLM before count_tokens support (BerriAI/litellm#13252).

    ## Fix
    Upgrade the gateway to a version with `/v1/messages/count_tokens`; nothing to change
    in the client.

    ## Fix safety
    Safe: nothing in the client changes.
    """
    count = facts["gateway.count_tokens"] or {}
    if count.get("status") not in (404, 405, 501):
        return None
    if (route_404s(facts)
            or str(facts.get("gateway.path") or "").rstrip("/").lower().endswith("/v1")):
        return None  # the whole Messages route is missing: GWY003/GWY004
    return Finding(message=f"The gateway has no count_tokens route ({count.get('status')} on "
                           f"{count.get('url')}); the client falls back to the inference endpoint",
                   evidence={"gateway.count_tokens": count},
                   fixes=(Fix(title="Upgrade the gateway (optional)", lang="text", safety="safe",
                              snippet="Upgrade the gateway to one that serves "
                                      "POST /v1/messages/count_tokens."),))


@rule(id="GWY011", name="html-instead-of-api-response", cause="gateway.intercepted",
      severity=Severity.ERROR, needs=("gateway.base_url",), confidence=0.9,
      reads=("gateway.count_tokens", "gateway.kind", "gateway.models", "model.checks"))
def html_instead_of_api_response(facts: Facts) -> Finding | None:
    """## What it checks
    An API route (`/v1/models`, `/v1/messages`, count_tokens) answers with an HTML page or a
    redirect instead of JSON or an event stream.

    ## Why it matters
    Something other than the gateway answers: an SSO login page, a captive portal, a WAF
    block page, or an upstream error page relayed as is. Claude Code prints
    `API returned an empty or malformed response (HTTP 200)`.

    ## Example
    A corporate access proxy redirecting `https://llm.corp/v1/messages` to its login page.

    ## Fix
    Reach the gateway on a route that bypasses the interactive login (a service endpoint,
    a token the access proxy accepts in a header, or the internal host name).

    ## Fix safety
    Manual: the access policy belongs to whoever runs the proxy.
    """
    hits = [(name, r) for name, r in http_results(facts)
            if is_html(r) or r.get("error") == "redirect"]
    if not hits:
        return None
    name, r = hits[0]
    if r.get("error") == "redirect":
        what = f"a redirect to {r.get('location') or 'another page'}"
    else:
        what = f"an HTML page ({first_line(r.get('body_excerpt'), 120)})"
    relayed = ("event-stream" in str(r.get("content_type") or "")
               and facts.get("gateway.kind") == "litellm")
    return Finding(
        message=f"{name} got {what} (HTTP {r.get('status')}) instead of an API response"
                + ("; the gateway relayed it from its upstream" if relayed else ""),
        evidence={"where": [n for n, _ in hits], "status": r.get("status"),
                  "content_type": r.get("content_type"), "body_excerpt": r.get("body_excerpt"),
                  "location": r.get("location")},
        fixes=(Fix(title="Find who answers instead of the gateway", safety="safe",
                   snippet=f"curl -si {facts['gateway.base_url']}/v1/models | head -20"),),
    )


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [beta_header_rejected, stream_broken_or_buffered, upstream_provider_failed,
            gateway_rate_limited, count_tokens_unsupported, html_instead_of_api_response]
