"""Provider-route rules (PRV009, PRV010, PRV017, PRV018): the gateway in front of Bedrock or Vertex
lacks the route, rewrites the stream, or the request fails another way. Pure functions of
provider.model_checks."""

from __future__ import annotations

from urllib.parse import urlsplit

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._netfix import shq
from ._provider_checks import NAMES, NEEDS, base_url_var, per_model, said


@rule(id="PRV009", name="provider-route-not-found", cause="gateway.base_url_path",
      severity=Severity.ERROR, needs=NEEDS, confidence=0.85,
      reads=("provider.route_check",))
def provider_route_not_found(facts: Facts) -> Finding | None:
    """## What it checks
    In Bedrock or Vertex mode, every model request on the client's route
    (`/model/<id>/invoke-with-response-stream` or `.../models/<id>:streamRawPredict` under the
    base URL) is answered 404 or 405 by something that is not the provider's "model not found".

    ## Why it matters
    The base URL's path is wrong, so every request misses the pass-through route. Claude Code
    says only `API Error: 404` (or that the model "is not available on your deployment").

    ## Example
    `ANTHROPIC_BEDROCK_BASE_URL=http://litellm:4000` (LiteLLM serves Bedrock under `/bedrock`),
    or `ANTHROPIC_VERTEX_BASE_URL=http://litellm:4000/vertex_ai` (it needs `/vertex_ai/v1`).

    ## Fix
    Set the base URL to the gateway's pass-through prefix; gwdoctor names it when it found one.

    ## Fix safety
    Review: it changes where every request goes.
    """
    route = facts["route.target"] or {}
    checks = [c for c in facts["provider.model_checks"] or [] if c.get("checked")]
    if not checks or any(c.get("fault") != "route_not_found" for c in checks):
        return None
    around = facts.get("provider.route_check") or {}
    hint = around.get("route_hint")
    if not hint and around.get("anthropic_route"):
        return None  # PRV010: the gateway has no pass-through at all
    var = base_url_var(route)
    where = f"; it answers under {hint['base_url']}" if hint else ""
    fixes = [Fix(title=f"Point {var} at the pass-through route", safety="review",
                 snippet=f"export {var}={shq(hint['base_url'])}")] if hint else [
        Fix(title="Find the gateway's pass-through prefix", safety="safe",
            snippet=f"curl -si -X POST {shq(checks[0]['url'])} -d '{{}}' | head -5")]
    return Finding(message=(f"The {NAMES.get(str(route.get('mode')), 'provider')} route under "
                            f"{route.get('base_url')} is not found ({said(checks[0])}){where}"),
                   evidence={"checks": checks, "provider.route_check": around,
                             "route.base_url": route.get("base_url")},
                   fixes=tuple(fixes))


@rule(id="PRV010", name="gateway-lacks-provider-passthrough", cause="gateway.api_format",
      severity=Severity.ERROR, needs=NEEDS, confidence=0.8,
      reads=("provider.route_check",))
def gateway_lacks_provider_passthrough(facts: Facts) -> Finding | None:
    """## What it checks
    In Bedrock or Vertex mode with a base-URL override, the provider route is missing (404/405)
    under the base URL and the usual prefixes, but the gateway serves the Anthropic Messages API
    (`POST /v1/messages`).

    ## Why it matters
    The gateway does not implement the Bedrock/Vertex pass-through the client speaks in this
    mode; no base path will fix it.

    ## Example
    `CLAUDE_CODE_USE_BEDROCK=1` with `ANTHROPIC_BEDROCK_BASE_URL` pointing at a gateway that
    only offers `/v1/messages`.

    ## Fix
    Use the gateway in Anthropic mode: unset `CLAUDE_CODE_USE_BEDROCK`/`CLAUDE_CODE_USE_VERTEX`
    and set `ANTHROPIC_BASE_URL` to it (the gateway then talks to the cloud).

    ## Fix safety
    Review: it changes the client's provider mode and model names.
    """
    route = facts["route.target"] or {}
    checks = [c for c in facts["provider.model_checks"] or [] if c.get("checked")]
    around = facts.get("provider.route_check") or {}
    if not checks or any(c.get("fault") != "route_not_found" for c in checks):
        return None
    if around.get("route_hint") or not around.get("anthropic_route"):
        return None
    parts = urlsplit(str(route.get("base_url") or ""))
    origin = f"{parts.scheme}://{parts.netloc}"
    use = "CLAUDE_CODE_USE_BEDROCK" if route.get("mode") == "bedrock" else "CLAUDE_CODE_USE_VERTEX"
    return Finding(
        message=(f"The gateway at {origin} has no "
                 f"{NAMES.get(str(route.get('mode')), 'provider')} pass-through "
                 f"({said(checks[0])}) but serves the Anthropic Messages API (POST /v1/messages: "
                 f"{around.get('anthropic_route')})"),
        evidence={"checks": checks, "provider.route_check": around},
        fixes=(Fix(title="Use the gateway in Anthropic mode", safety="review",
                   snippet=f"unset {use} {base_url_var(route)}\n"
                           f"export ANTHROPIC_BASE_URL={shq(origin)}"),),
    )


@rule(id="PRV017", name="bedrock-stream-rewritten", cause="gateway.streaming_broken",
      severity=Severity.ERROR, needs=NEEDS, confidence=0.85)
def bedrock_stream_rewritten(facts: Facts) -> list[Finding]:
    """## What it checks
    A Bedrock `invoke-with-response-stream` answer arrives with a content type other than
    `application/vnd.amazon.eventstream`.

    ## Why it matters
    A gateway rewrote the binary event stream; the client stops with `Bedrock streaming
    response has content-type …` (before 2.1.208: `Truncated event message received`).

    ## Example
    A gateway that converts the Bedrock stream to SSE or JSON.

    ## Fix
    Pass the body and `Content-Type` through unchanged (or, to skip the client's check,
    `CLAUDE_CODE_DISABLE_BEDROCK_CONTENT_TYPE_GUARD=1`).

    ## Fix safety
    Review: the gateway's configuration changes.
    """
    return per_model(
        "stream_rewritten", facts,
        lambda c, r: f"The Bedrock stream for {c['model']} arrives as {c.get('content_type')}, "
                     "not application/vnd.amazon.eventstream",
        lambda c, r: [Fix(title="See what the gateway returns", safety="safe",
                          snippet=f"curl -si -X POST {shq(str(c['url']))} "
                                  "-H 'content-type: application/json' "
                                  "-d '{\"anthropic_version\":\"bedrock-2023-05-31\","
                                  "\"max_tokens\":1,"
                                  "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}' "
                                  "| head -5")])


@rule(id="PRV018", name="provider-request-failed", cause="gateway.upstream_error",
      severity=Severity.ERROR, needs=NEEDS, confidence=0.6)
def provider_request_failed(facts: Facts) -> list[Finding]:
    """## What it checks
    A model request on the Bedrock/Vertex route failed in a way none of PRV009-PRV017 names:
    a 5xx, a stream that stopped early, a connection that broke mid-answer, or a status and
    body gwdoctor does not recognise. The finding quotes what came back.

    ## Why it matters
    The client fails the same way (`API Error: <status> …`), with less detail.

    ## Example
    A pass-through whose upstream answers 500, or a gateway that cuts the stream.

    ## Fix
    Read the quoted answer and the gateway's log for that request.

    ## Fix safety
    Manual: the fix depends on what the gateway says.
    """
    out: list[Finding] = []
    for fault in ("upstream_error", "stream_broken", "transport", "other"):
        out += per_model(
            fault, facts,
            lambda c, r: f"The {NAMES.get(r.get('mode'), 'provider')} request for {c['model']} "
                         f"failed ({c.get('error') or said(c)})",
            lambda c, r: [Fix(title="Repeat the request and read the answer", safety="safe",
                              snippet=f"curl -si -X POST {shq(str(c['url']))} "
                                      "-H 'content-type: application/json' "
                                      "-d '{}' | head -20")])
    return out


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [provider_route_not_found, gateway_lacks_provider_passthrough, bedrock_stream_rewritten,
            provider_request_failed]
