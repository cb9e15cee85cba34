"""Model probe over HTTP: one tiny streaming `POST /v1/messages?beta=true` per model the
client will send.

Costs one output token per model (``inference=True``; skipped by ``--no-inference``).
Requests run concurrently, each bounded by ``ctx.timeout`` and 256 KiB.

The main model's request is padded with JSON whitespace to the size of the client's own first
request (captured per version), so a hop with a body-size limit refuses it as it refuses the
client; it is asked again unpadded before the size is blamed.
"""

from __future__ import annotations

import json
import time
from typing import Any

from gwdoctor.engine import ProbeContext, ProbeSkipped, hookimpl, probe

from ._envelope import excerpt, looks_like_html, parse_error
from ._gwhttp import base_url, client_headers, gate, secrets
from ._http import classify_transport_error, client_for, read_capped
from ._lazy import httpx  # imported on first use
from ._netenv import behaviour
from ._outcome import reporting
from ._sse import read_sse

__all__ = ["check_model", "model_messages", "pad_size"]

MAX_MODELS = 8
# Where gateways commonly serve the Messages API when not at the root (failure-cases:
# gw-base-url-missing-path-prefix; TrueFoundry /api/llm; LiteLLM pass-through /anthropic).
PREFIXES = ("/api", "/anthropic", "/api/llm", "/api/anthropic")


# One output token is the cheapest answer; a gateway that refuses it (BerriAI/litellm#35061:
# "Could not finish the message because max_tokens … was reached") is asked again with room
# for a short answer, so a probe artefact is not reported as a broken model.
PROBE_MAX_TOKENS = 1
CONFIRM_MAX_TOKENS = 64


# `claude -p` sends 49,268 bytes on 2.1.332 in the capture tier but 52,782 in the scenario
# harness (another HOME, cwd and environment in its system prompt); a CLAUDE.md, MCP tools or git
# status add more. The padded request is the captured size plus a quarter.
PAD_HEADROOM = 1.25


def _body(model: str, max_tokens: int = PROBE_MAX_TOKENS) -> dict[str, Any]:
    return {"model": model, "max_tokens": max_tokens, "stream": True,
            "messages": [{"role": "user", "content": "Reply with one word: ok"}]}


def _encode(body: dict[str, Any], size: int = 0) -> bytes:
    """The body as compact JSON, padded with spaces after its opening brace to ``size`` bytes:
    still valid JSON, and no tokens (gateways parse and re-serialize it; measured through
    LiteLLM 1.108.7: tests/scenarios/test_nginx_body_limit.py)."""
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    pad = max(0, size - len(raw))
    return b"{" + b" " * pad + raw[1:] if pad else raw


def pad_size(behaviour: dict[str, Any]) -> int:
    """How large the padded request is for this client version (0: not padded, as for a
    version before the first captured one, whose request size nothing records)."""
    captured = behaviour.get("print_first_request_bytes")
    return int(captured * PAD_HEADROOM) if isinstance(captured, int) and captured > 0 else 0


def _refuses_tiny_max_tokens(result: dict[str, Any]) -> bool:
    text = f"{result.get('error_type') or ''} {result.get('error_message') or ''}".lower()
    return result.get("status") in (400, 422) and "max_tokens" in text


def _attempt(client: httpx.Client, url: str, model: str, headers: dict[str, str],
             budget: float, scrub: list[str], max_tokens: int = PROBE_MAX_TOKENS,
             size: int = 0) -> dict[str, Any]:
    started = time.monotonic()
    deadline = started + budget
    result: dict[str, Any] = {"status": None, "error": None, "error_type": None,
                              "error_message": None, "content_type": None, "sse": None,
                              "body_excerpt": None}
    try:
        with client.stream("POST", url, headers=headers,
                           content=_encode(_body(model, max_tokens), size),
                           timeout=httpx.Timeout(budget)) as response:
            headers_at = time.monotonic()
            result["status"] = response.status_code
            ctype = response.headers.get("content-type") or ""
            result["content_type"] = ctype or None
            if response.status_code >= 300:
                body = read_capped(response, 64 * 1024)
                result["error_type"], result["error_message"] = parse_error(body, scrub)
                result["body_excerpt"] = excerpt(body, ctype, scrub)
                if response.is_redirect:
                    result["error"] = "redirect"
                return result
            reading = read_sse(response, started, deadline)
            sse = reading.summary(started, time.monotonic(), headers_at)
            result["sse"] = sse
            result["error"] = reading.error
            if reading.error_event:
                # The event's type is gateway text like its message: scrubbed and capped too.
                etype = reading.error_event.get("type")
                result["error_type"] = (excerpt(str(etype), None, scrub) or "")[:80] or None
                msg = reading.error_event.get("message")
                result["error_message"] = excerpt(str(msg), None, scrub) if msg else None
            if not sse["events"]:
                result["body_excerpt"] = excerpt(reading.raw, ctype, scrub)
                if looks_like_html(reading.raw, ctype):
                    result["error_type"] = result["error_type"] or "html_body"
    except httpx.HTTPError as exc:
        result["error"] = classify_transport_error(exc)
    return result


def _passed(result: dict[str, Any]) -> bool:
    sse = result.get("sse")
    return result.get("status") == 200 and not result.get("error") and bool(sse and sse["complete"])


def _brief(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in ("status", "error", "error_type", "error_message", "content_type",
                                   "body_excerpt")} | {"complete": _passed(result)}


def _size_suspect(result: dict[str, Any]) -> bool:
    """Could the padded request have failed for its size? A 413 or a body-size message, a
    dropped connection, or an HTML page (a front's, not the API's). An API's own JSON error, or
    a timeout, says the same of the small request: asking again would only add a failure, and
    LiteLLM cools a model down after two (429 "No deployments available")."""
    from .faults import classify

    if result.get("status") == 413 or "http.body_too_large" in classify(result):
        return True
    if result.get("status") is None:
        return result.get("error") == "reset"
    return "html" in str(result.get("content_type") or "").lower() or \
        str(result.get("body_excerpt") or "").startswith("[html]")


def _large_request(client: httpx.Client, url: str, model: str, headers: dict[str, str],
                   budget: float, scrub: list[str],
                   size: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The padded request; when it fails in a way size could explain (:func:`_size_suspect`),
    the same request unpadded (confirm before blaming), and when only that passes and the
    padded answer was not a 413, the padded one once more (a one-off failure is not a size
    limit). Returns the answer the check keeps (the unpadded one when it was sent, else the
    padded one) and the ``large_request`` record."""
    padded = _attempt(client, url, model, headers, budget, scrub, size=size)
    record: dict[str, Any] = {"bytes": len(_encode(_body(model), size)), **_brief(padded),
                              "unpadded": None, "again": None}
    if _passed(padded) or not _size_suspect(padded):
        return padded, record
    plain = _attempt(client, url, model, headers, budget, scrub)
    record["unpadded"] = _brief(plain) | {"bytes": len(_encode(_body(model)))}
    if _passed(plain) and padded["status"] != 413:
        record["again"] = _brief(_attempt(client, url, model, headers, budget, scrub, size=size))
    return plain, record


def check_model(ctx: ProbeContext, client: httpx.Client, model: str, roles: list[str],
                pad: int = 0) -> dict[str, Any]:
    """One model: the streaming request (padded to ``pad`` bytes when given, see
    :func:`_large_request`), and when it fails with 4xx/5xx the same request without
    ``anthropic-beta`` to tell a rejected beta header from other faults."""
    # The path and query this version sends (captured: tests/capture/test_requests.py).
    url = base_url(ctx) + str(behaviour(ctx)["messages_path"])
    scrub = secrets(ctx)
    headers = client_headers(ctx, json_body=True)
    headers["accept"] = "text/event-stream, application/json"
    budget = ctx.timeout * 0.9
    large = None
    if pad:
        first, large = _large_request(client, url, model, headers, budget, scrub, pad)
    else:
        first = _attempt(client, url, model, headers, budget, scrub)
    tiny_refused = None
    if _refuses_tiny_max_tokens(first):
        # Confirm before blaming: the client never asks for 1 token (it asks for tens of
        # thousands), so the model is judged on a request with room for an answer.
        tiny_refused = {k: first[k] for k in ("status", "error_type", "error_message")}
        first = _attempt(client, url, model, headers, budget, scrub, CONFIRM_MAX_TOKENS)
    check = {"model": model, "roles": roles, **first, "without_beta": None, "openai_route": None,
             "route_hint": None,
             "max_tokens": CONFIRM_MAX_TOKENS if tiny_refused else PROBE_MAX_TOKENS,
             "tiny_max_tokens_refused": tiny_refused, "large_request": large}
    status = first["status"]
    sse = first["sse"]
    if sse and sse["complete"] and not sse["incremental"]:
        # One burst can be a healthy stream coalesced on a busy machine; a buffering hop
        # buffers every time. Judge on a second reading.
        again = _attempt(client, url, model, headers, budget, scrub)["sse"]
        sse["rechecked"] = True
        if again and again["incremental"]:
            sse["incremental"] = True
    if status is not None and status >= 400 and "anthropic-beta" in headers and status != 408:
        retry_headers = {k: v for k, v in headers.items() if k != "anthropic-beta"}
        second = _attempt(client, url, model, retry_headers, budget, scrub)
        check["without_beta"] = {"status": second["status"], "error": second["error"],
                                 "error_type": second["error_type"],
                                 "error_message": second["error_message"],
                                 "complete": bool(second["sse"] and second["sse"]["complete"])}
    return check


def _route_status(client: httpx.Client, url: str, headers: dict[str, str],
                  budget: float) -> int | None:
    """Does a POST route exist? An empty JSON body is refused (400/401/422) by a route that
    exists and answered 404 by one that does not; nothing is generated."""
    try:
        response = client.post(url, headers=headers, json={}, timeout=httpx.Timeout(budget))
        response.close()
        return response.status_code
    except httpx.HTTPError:
        return None


def _explain_404(ctx: ProbeContext, client: httpx.Client, check: dict[str, Any]) -> None:
    """After a route 404 on /v1/messages: is there an OpenAI route, or a prefix that works?"""
    base = base_url(ctx)
    headers = client_headers(ctx, json_body=True)
    budget = max(0.5, ctx.timeout / 4)
    status = _route_status(client, f"{base}/v1/chat/completions", headers, budget)
    check["openai_route"] = status if status not in (None, 404, 405) else None
    candidates = [base + p for p in PREFIXES if not base.endswith(p)]
    if base.lower().endswith("/v1"):
        candidates.insert(0, base[:-3])
    for candidate in candidates:
        status = _route_status(client, f"{candidate}/v1/messages?beta=true", headers, budget)
        if status not in (None, 404, 405):
            check["route_hint"] = {"base_url": candidate, "status": status}
            return


def _models(ctx: ProbeContext) -> list[tuple[str, list[str]]]:
    roles: dict[str, list[str]] = {}
    for entry in ctx.facts.get("model.requested") or []:
        if isinstance(entry, dict) and entry.get("sent"):
            roles.setdefault(str(entry["sent"]), []).append(str(entry.get("role")))
    distinct = [str(m) for m in ctx.facts.get("model.distinct") or []]
    return [(m, sorted(set(roles.get(m, [])))) for m in distinct[:MAX_MODELS]]


@probe(name="model.messages", network=True, inference=True,
       needs=("gateway.base_url", "model.distinct", "gateway.transport_error"),
       provides=("model.checks",))
def model_messages(ctx: ProbeContext) -> dict[str, Any]:
    """Send each distinct model a `max_tokens: 1` streaming request with the client's headers,
    the main model's padded to the client's own request size; record the status, the error
    envelope and the SSE sequence with its timing."""
    gate(ctx)
    models = _models(ctx)
    if not models:
        raise ProbeSkipped("the client will send no model id (model.distinct is empty)")
    from concurrent.futures import ThreadPoolExecutor  # on use: ~10 ms with logging

    # One request is padded to the client's size: the main model's, the one `claude -p` sends.
    padded = next((m for m, roles in models if "main" in roles), models[0][0])
    pad = pad_size(behaviour(ctx))
    with client_for(ctx) as client, ThreadPoolExecutor(max_workers=len(models)) as pool:
        futures = [pool.submit(check_model, ctx, client, m, roles, pad if m == padded else 0)
                   for m, roles in models]
        checks = [f.result() for f in futures]
        route_404 = [c for c in checks
                     if c["status"] == 404 and c["error_type"] != "not_found_error"]
        if route_404 and len(route_404) == len(checks):
            _explain_404(ctx, client, route_404[0])
            for c in route_404[1:]:
                c["openai_route"], c["route_hint"] = (route_404[0]["openai_route"],
                                                      route_404[0]["route_hint"])
    return {"model.checks": checks}


@hookimpl
def gwdoctor_register_probes() -> list:
    return reporting([model_messages])
