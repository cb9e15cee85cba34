"""Provider model probe: one bounded streaming request per model in Bedrock or Vertex wire
format, on the client's route (``route.target``).

Registered by probes/provider.py. Costs one output token per model (``inference=True``).
Credentials: none with ``CLAUDE_CODE_SKIP_*_AUTH`` (the gateway's verdict is what counts; the
client's ``ANTHROPIC_CUSTOM_HEADERS`` go along), SigV4 from static AWS keys in the environment,
``AWS_BEARER_TOKEN_BEDROCK`` as Bearer. Credentials the SDKs resolve at run time (SSO, profiles,
IMDS, Google ADC, which the client trades for a token at oauth2.googleapis.com) are not
resolved here: those models are reported as not checked, with the reason.
"""

from __future__ import annotations

import json
import time
from typing import Any

from gwdoctor.engine import ProbeContext, ProbeSkipped, probe

from ._cloud import profile_keys
from ._envelope import excerpt
from ._gwhttp import client_headers, credentials_withheld, gate, parse_custom_headers, secrets
from ._http import classify_transport_error, client_for, read_capped
from ._lazy import httpx  # imported on first use
from ._netenv import env_value
from ._provider_route import vertex_region_var
from ._provider_wire import (
    classify,
    eventstream_events,
    provider_error,
    request_body,
    sigv4_headers,
)
from ._sse import read_sse

__all__ = ["provider_models"]

MAX_MODELS = 6


def _headers(ctx: ProbeContext) -> dict[str, Any]:
    """The client's headers in provider mode: no Anthropic credential (the Bedrock and Vertex
    SDKs carry none), but the custom headers, betas, version and user agent."""
    headers = client_headers(ctx, json_body=True)
    custom = {n.lower() for n, _ in parse_custom_headers(
        None if credentials_withheld(ctx) else ctx.vault.get("auth.custom_headers")
        or env_value(ctx, "ANTHROPIC_CUSTOM_HEADERS"))}
    for name in ("authorization", "x-api-key"):
        if name not in custom:
            headers.pop(name, None)
    headers["accept"] = "application/json"
    return headers


def _profile_keys(ctx: ProbeContext) -> tuple[str, str, str | None] | None:
    return profile_keys(lambda v: env_value(ctx, v), ctx.home, ctx.cwd)


def _auth(ctx: ProbeContext, route: dict[str, Any]) -> tuple[str, str | None]:
    """``(how, reason not checked)``: ``none``, ``sigv4``, ``bearer``, or ``unavailable``."""
    if route.get("skip_auth"):
        return "none", None
    if credentials_withheld(ctx):
        return "unavailable", ("the route was chosen by an untrusted repository: gwdoctor sends no "
                               "cloud credentials there")
    if route["mode"] == "mantle":
        kind = (((ctx.facts.get("provider.bedrock") or {}).get("credentials") or {}).get("kind"))
        if kind == "bearer_token" and env_value(ctx, "AWS_BEARER_TOKEN_BEDROCK"):
            return "bearer", None
        return "unavailable", ("Mantle with AWS credentials other than AWS_BEARER_TOKEN_BEDROCK: "
                               "gwdoctor does not model its request signing, so the models were "
                               "not asked")
    if route["mode"] == "bedrock":
        # The credential the client signs with (provider.bedrock.credentials: bearer key, then
        # awsCredentialExport, then the profile when AWS_PROFILE is set, else the env keys).
        creds = (ctx.facts.get("provider.bedrock") or {}).get("credentials") or {}
        kind = creds.get("kind")
        if kind == "bearer_token" and env_value(ctx, "AWS_BEARER_TOKEN_BEDROCK"):
            return "bearer", None
        if (kind == "env" and env_value(ctx, "AWS_ACCESS_KEY_ID")
                and env_value(ctx, "AWS_SECRET_ACCESS_KEY")):
            return "sigv4", None
        if kind == "profile" and _profile_keys(ctx):
            return "sigv4", None
        return "unavailable", (f"AWS credentials of kind {kind or 'none found'} are resolved by "
                               "the AWS SDK at run time (SSO, profile, role, IMDS); gwdoctor does "
                               "not call AWS to get them, so the models were not asked")
    adc = (ctx.facts.get("provider.vertex") or {}).get("adc") or {}
    return "unavailable", (f"Vertex needs a Google OAuth token, which the client obtains from its "
                           f"ADC ({adc.get('type') or 'none found'}) at oauth2.googleapis.com; "
                           "gwdoctor does not, so the models were not asked")


def _check(ctx: ProbeContext, client: httpx.Client, route: dict[str, Any], req: dict[str, Any],
           url: str, how: str, scrub: list[str]) -> dict[str, Any]:
    mode = route["mode"]
    body = json.dumps({**request_body(mode),
                       **({"model": req["model"]} if mode == "mantle" else {})}).encode()
    headers = _headers(ctx)
    if how == "bearer":
        headers["authorization"] = f"Bearer {env_value(ctx, 'AWS_BEARER_TOKEN_BEDROCK')}"
    elif how == "sigv4":
        kind = (((ctx.facts.get("provider.bedrock") or {}).get("credentials") or {}).get("kind"))
        keys = _profile_keys(ctx) if kind == "profile" else (
            str(env_value(ctx, "AWS_ACCESS_KEY_ID")), str(env_value(ctx, "AWS_SECRET_ACCESS_KEY")),
            env_value(ctx, "AWS_SESSION_TOKEN"))
        assert keys is not None  # _auth said sigv4
        headers.update(sigv4_headers("POST", url, body, access_key=keys[0], secret_key=keys[1],
                                     session_token=keys[2],
                                     region=str(req.get("region") or "us-east-1")))
    out: dict[str, Any] = {"model": req["model"], "roles": req.get("roles") or [],
                           "region": req.get("region"), "url": req["url"], "checked": True,
                           "auth": how, "status": None, "error": None,
                           "error_type": None, "error_message": None, "content_type": None,
                           "events": [], "fault": None,
                           # the variable that pins this model's Vertex location (for the fix)
                           "region_env": (vertex_region_var(str(req["model"])) if mode == "vertex"
                                          else None)}
    started = time.monotonic()
    budget = ctx.timeout * 0.9
    try:
        with client.stream("POST", url, headers=headers, content=body,
                           timeout=httpx.Timeout(budget)) as resp:
            out["status"] = resp.status_code
            ctype = resp.headers.get("content-type") or ""
            out["content_type"] = ctype or None
            if resp.status_code >= 300:
                raw = read_capped(resp, 64 * 1024)
                etype, msg = provider_error(resp.status_code, resp.headers, raw)
                out["error_type"] = (excerpt(etype, None, scrub) or "")[:80] or None
                out["error_message"] = excerpt(msg or raw, ctype, scrub)
            elif mode == "bedrock":
                raw = read_capped(resp, 256 * 1024)
                if "vnd.amazon.eventstream" not in ctype.lower():
                    out["fault"] = "stream_rewritten"
                    out["error_message"] = excerpt(raw, ctype, scrub)
                else:
                    events, exception, framing = eventstream_events(raw)
                    out["events"] = events[:50]
                    if exception:
                        out["error_type"] = exception
                    elif not framing:
                        out["error"] = "protocol"
            else:
                reading = read_sse(resp, started, started + budget)
                out["events"] = reading.events[:50]
                out["error"] = reading.error
                if reading.error_event:
                    out["error_type"] = str(reading.error_event.get("type"))[:80]
                    msg = reading.error_event.get("message")
                    out["error_message"] = excerpt(str(msg), None, scrub) if msg else None
    except httpx.HTTPError as exc:
        out["error"] = classify_transport_error(exc)
    complete = bool(out["events"]) and out["events"][-1] == "message_stop" and not out["error_type"]
    out["duration_ms"] = int((time.monotonic() - started) * 1000)
    out["fault"] = out["fault"] or (classify(out["status"], out["error"], out["error_type"],
                                             out["error_message"], complete=complete))
    if out["error_type"] and out["fault"] == "stream_broken":
        out["fault"] = classify(400, None, out["error_type"], out["error_message"])
    return out


def _status(client: httpx.Client, url: str, headers: dict[str, Any], budget: float) -> int | None:
    """Does a POST route exist there? ``{}`` is refused (400/401/422) by a route that exists."""
    try:
        resp = client.post(url, headers=headers, json={}, timeout=httpx.Timeout(budget))
        resp.close()
        return resp.status_code
    except httpx.HTTPError:
        return None


_PREFIXES = {"bedrock": ("/bedrock",), "vertex": ("/vertex_ai/v1", "/vertex-ai/v1", "/v1"),
             "mantle": ("/anthropic",)}


def _look_around(ctx: ProbeContext, client: httpx.Client, route: dict[str, Any],
                 first: dict[str, Any]) -> dict[str, Any]:
    """After the provider path 404s everywhere: is it under another prefix (the LiteLLM one),
    or does the gateway speak only the Anthropic Messages API?"""
    base = str(route["base_url"]).rstrip("/")
    origin = base[: len(base) - len(str(route.get("path") or ""))]
    tail = str(first["url"])[len(base):]
    headers = _headers(ctx)
    budget = max(0.5, ctx.timeout / 4)
    hint = None
    for prefix in _PREFIXES[route["mode"]]:
        candidate = origin + prefix
        if candidate == base:
            continue
        status = _status(client, candidate + tail, headers, budget)
        if status not in (None, 404, 405):
            hint = {"base_url": candidate, "status": status}
            break
    anthropic = _status(client, f"{origin}/v1/messages", headers, budget)
    return {"route_hint": hint,
            "anthropic_route": anthropic if anthropic not in (None, 404, 405) else None}


@probe(name="provider.models", network=True, inference=True,
       needs=("route.target", "provider.bedrock", "provider.vertex", "gateway.transport_error"),
       provides=("provider.model_checks", "provider.route_check"))
def provider_models(ctx: ProbeContext) -> dict[str, Any]:
    """In Bedrock or Vertex mode, send each model the client will use one ``max_tokens: 1``
    streaming request in the provider's wire format, on the client's route, and classify the
    answer (route, model id, region, access, credentials, quota, stream)."""
    route = ctx.facts.get("route.target") or {}
    if route.get("mode") not in ("bedrock", "vertex", "mantle"):
        raise ProbeSkipped("not in Bedrock, Vertex or Mantle mode")
    gate(ctx, provider_ok=True)
    how, reason = _auth(ctx, route)
    requests = list(route.get("requests") or [])[:MAX_MODELS]
    if not requests:
        raise ProbeSkipped("the client will send no model id")
    if how == "unavailable":
        checks = [{"model": r["model"], "roles": r.get("roles") or [], "region": r.get("region"),
                   "url": r["url"], "checked": False, "reason": reason, "fault": None}
                  for r in requests]
        return {"provider.model_checks": checks, "provider.route_check": None}
    scrub = secrets(ctx)
    from concurrent.futures import ThreadPoolExecutor  # on use

    # The raw (unredacted) URL: the base URL may carry userinfo the vault holds.
    base_raw = (env_value(ctx, str(route.get("base_url_var") or "")) if route.get("base_url_var")
                else None)

    def url_of(req: dict[str, Any]) -> str:
        if base_raw:
            return (base_raw.strip().rstrip("/")
                    + str(req["url"])[len(str(route["base_url"]).rstrip("/")):])
        return str(req["url"])

    with client_for(ctx) as client, ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(_check, ctx, client, route, r, url_of(r), how, scrub)
                   for r in requests]
        checks = [f.result() for f in futures]
        around = None
        if all(c["fault"] == "route_not_found" for c in checks) and route.get("override"):
            around = _look_around(ctx, client, route, checks[0])
    return {"provider.model_checks": checks, "provider.route_check": around}
