"""Request-size rule (GWY014): something on the route refuses request bodies as large as the
client's, while small requests pass. Pure function of facts."""

from __future__ import annotations

from typing import Any, Mapping

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

__all__ = ["request_body_too_large_for_route"]

# The client's own ceiling: Claude Code prints "Request too large (max 32MB)" (2.1.332 and
# 2.1.197), the Messages API's limit; a front that allows this never refuses the client first.
CLIENT_MAX = "32m"


def _size_refusal(check: Mapping[str, Any], faults: Mapping[str, Any]) -> dict[str, Any] | None:
    """The model check's padded request when it, and only it, was refused for its size: the
    same request unpadded passed, and the refusal was a 413 or a body-size fault, or it came
    again on a second padded request."""
    large = check.get("large_request")
    if not isinstance(large, dict):
        return None
    unpadded, again = large.get("unpadded"), large.get("again")
    if large.get("complete") or not isinstance(unpadded, dict) or not unpadded.get("complete"):
        return None
    ids = list(faults.get(f"model.checks[{check.get('model')}].large_request") or [])
    sized = large.get("status") == 413 or "http.body_too_large" in ids
    if not sized and not (isinstance(again, dict) and not again.get("complete")):
        return None
    return {**large, "faults": ids}


def _answer(large: Mapping[str, Any]) -> str:
    if large.get("status") is None:
        return f"no answer ({large.get('error')})"
    text = str(large.get("body_excerpt") or large.get("error_message") or "").strip()
    return f"HTTP {large['status']}" + (f" ({text[:120]})" if text else "")


@rule(
    id="GWY014",
    name="request-body-too-large-for-route",
    cause="gateway.body_limit",
    severity=Severity.ERROR,
    needs=("model.checks",),
    confidence=0.9,
    reads=("http.faults", "gateway.base_url", "client.version", "client.behaviour"),
)
def request_body_too_large_for_route(facts: Facts) -> Finding | None:
    """## What it checks
    The model probe pads one request with JSON whitespace to the size of the client's own first
    request (captured per client version, plus a quarter) and sends it unpadded when the
    failure could be about size (a 413 or body-size message, a dropped connection, an HTML
    page). This fires when the padded request is refused (a 413, a body-size error page, or the same
    failure twice) while the identical small request passes: a reverse proxy, load balancer or
    gateway setting on the route limits request bodies below what the client sends.

    ## Why it matters
    Every request of Claude Code carries its system prompt and tool definitions (49 KB for
    `claude -p` on 2.1.332, 76 KB on 2.1.197) and grows with the conversation. Over the limit,
    nginx answers 413 with its HTML page and the client prints `Request too large (max 32MB).
    Accumulated images and attachments in the conversation pushed the request over the limit`
    (2.1.197: `Try with a smaller file`), blaming images although the limit is far lower, and
    exits. A `curl` test with a small body passes, so the gateway looks healthy.

    ## Example
    nginx in front of a relay or LiteLLM with `client_max_body_size 16k;`
    (Wei-Shaw/claude-relay-service#630).

    ## Fix
    Raise the body limit of every hop in front of the gateway to the client's own ceiling:
    nginx `client_max_body_size 32m;` in the server or location that proxies the gateway
    (then `nginx -s reload`); the equivalent elsewhere (a load balancer's or WAF's request body
    limit, LiteLLM's `max_request_size_mb`).

    ## Fix safety
    Review: a larger limit lets larger bodies reach the gateway, which is what the client needs.

    ## Known problems
    Only a limit below the client's first request (plus a quarter) is seen: nginx's 1 MB
    default passes the probe, and a long interactive session can still outgrow it.

    ## References
    Wei-Shaw/claude-relay-service#630; nginx `client_max_body_size`
    (https://nginx.org/en/docs/http/ngx_http_core_module.html#client_max_body_size).
    """
    faults = facts.get("http.faults") or {}
    for check in facts["model.checks"] or []:
        if not isinstance(check, dict):
            continue
        large = _size_refusal(check, faults)
        if large is None:
            continue
        base = facts.get("gateway.base_url") or "the gateway"
        unpadded = large["unpadded"]
        beh = facts.get("client.behaviour")
        client_bytes = beh.get("print_first_request_bytes") if isinstance(beh, dict) else None
        version = facts.get("client.version")
        sends = (
            f"Claude Code {version} sends {client_bytes:,} bytes on its first request and more as "
            "a conversation grows"
            if isinstance(client_bytes, int)
            else "Claude Code's requests are at least this large"
        )
        again = large.get("again")
        confirmed = f"; sent padded again: {_answer(again)}" if isinstance(again, dict) else ""
        return Finding(
            message=(
                f"{base} refuses a {large['bytes']:,}-byte request with {_answer(large)}, but "
                f"answers the same request at {unpadded.get('bytes'):,} bytes "
                f"(HTTP {unpadded.get('status')})"
                f"{confirmed}: a body-size limit in front of the gateway is smaller than the "
                f"client's requests. {sends}"
            ),
            evidence={
                "model": check.get("model"),
                "padded": {
                    k: large.get(k)
                    for k in ("bytes", "status", "error", "faults", "content_type", "body_excerpt")
                },
                "unpadded": {"bytes": unpadded.get("bytes"), "status": unpadded.get("status")},
                "padded_again": {"status": again.get("status"), "error": again.get("error")}
                if isinstance(again, dict)
                else None,
                "client_first_request_bytes": client_bytes,
            },
            fixes=(
                Fix(
                    title="Raise the body limit of the nginx in front of the gateway, then "
                    "`nginx -s reload`",
                    lang="text",
                    target="nginx.conf (the server or location that proxies the gateway)",
                    safety="review",
                    snippet=f"client_max_body_size {CLIENT_MAX};",
                ),
                Fix(
                    title="See the limit answer: the same request padded with spaces to the "
                    "client's size",
                    safety="safe",
                    snippet=(
                        f"{{ printf '{{'; head -c {large['bytes']} /dev/zero | tr '\\0' ' '; "
                        f'printf \'"model":"{check.get("model")}","max_tokens":1,'
                        '"messages":[{"role":"user","content":"ok"}]}\'; } | '
                        f"curl -s -o /dev/null -w '%{{http_code}}\\n' {base}/v1/messages "
                        "-H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' "
                        "-H 'authorization: Bearer <your-token>' --data-binary @-"
                    ),
                ),
            ),
        )
    return None


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [request_body_too_large_for_route]
