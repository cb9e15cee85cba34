"""Gateway probes over HTTP: what answers at the base URL, which gateway it is, its health,
count_tokens.

All requests take the client's route (``_http.client_for``): proxy or direct, the client's
trust store, no redirects, capped bodies. Credentials go only to ``{base}/v1/...`` URLs, the
base the user configured; ``/`` and the health endpoints are asked without them.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from gwdoctor.engine import ProbeContext, hookimpl, probe
from gwdoctor.engine.knowledge import read_builtin

from ._gwhttp import client_headers, gate, get, provider_routed, secrets, target, user_agent
from ._http import client_for
from ._lazy import httpx  # imported on first use
from ._outcome import reporting

__all__ = ["detect_kind", "gateway_http", "gateways"]

TRANSPORT_ERRORS = frozenset({"refused", "timeout", "reset", "tls", "proxy", "dns", "protocol"})
_PROBE_BODY = {"messages": [{"role": "user", "content": "ping"}]}


@functools.lru_cache(maxsize=1)
def gateways() -> tuple[dict[str, Any], ...]:
    """knowledge/gateways.yaml, schema-checked."""
    data = read_builtin("gateways.yaml")
    # built-in: schema-checked by tests/test_knowledge.py, not on every scan
    return tuple(data["gateways"])


def _signal_matches(signal: dict[str, Any], seen: list[dict[str, Any]], host: str,
                    path: str) -> bool:
    if "host" in signal:
        return bool(re.search(signal["host"], host or "", re.I))
    if "path" in signal:
        return bool(re.search(signal["path"], path or "", re.I))
    for obs in seen:
        where = signal.get("where", "any")
        if where != "any" and obs["where"] != where:
            continue
        if "header" in signal:
            value = obs["headers"].get(signal["header"]["name"])
            if value is not None and re.search(signal["header"].get("value", ""), value):
                return True
        elif "body" in signal and obs["body"]:
            if re.search(signal["body"], obs["body"].strip(), re.I | re.M):
                return True
    return False


def detect_kind(seen: list[dict[str, Any]], host: str, path: str) -> tuple[str, str]:
    """``(kind, evidence)`` from observations
    ``{"where", "headers": {lower: value}, "body": str}``."""
    for gw in gateways():
        for signal in gw["signals"]:
            if _signal_matches(signal, seen, host, path):
                return gw["id"], signal["note"]
    return "unknown", "no known gateway signature in headers, bodies or URL"


def _observation(where: str, headers: httpx.Headers | None, body: bytes | None) -> dict[str, Any]:
    return {"where": where,
            "headers": {k.lower(): v for k, v in (headers or {}).items()},
            "body": (body or b"")[:4096].decode("utf-8", "replace")}


def _main_model(ctx: ProbeContext) -> str:
    for entry in ctx.facts.get("model.requested") or []:
        if isinstance(entry, dict) and entry.get("role") == "main" and entry.get("sent"):
            return str(entry["sent"])
    distinct = ctx.facts.get("model.distinct") or []
    return str(distinct[0]) if distinct else "claude-sonnet-4-5"


def _side_by_side(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in daemon threads and return their results in order; each call is
    bounded by its own request timeout, and an exception is re-raised here."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001  re-raised in the probe's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def _readiness_db(body: bytes | None) -> str | None:
    try:
        data = json.loads(body or b"")
    except ValueError:
        return None
    return str(data["db"]) if isinstance(data, dict) and data.get("db") is not None else None


@probe(name="gateway.http", network=True,
       needs=("gateway.base_url", "route.target", "dns.gateway", "connect.gateway"),
       provides=("gateway.root", "gateway.kind", "gateway.kind_evidence", "gateway.health",
                 "gateway.count_tokens", "gateway.transport_error"))
def gateway_http(ctx: ProbeContext) -> dict[str, Any]:
    """Ask the gateway `GET /`, its LiteLLM health endpoints and `POST /v1/messages/count_tokens`
    (with the client's headers), and work out which gateway it is."""
    gate(ctx, after_gateway_probe=False, provider_ok=True)
    base = str(target(ctx)["base_url"]).rstrip("/")
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    # Bedrock/Vertex mode: the client speaks the provider's wire format under the base URL
    # (provider_model.py probes it); here only what answers at the origin, without credentials.
    provider = provider_routed(ctx)
    if provider:
        base = origin
    deadline = time.monotonic() + 2 * ctx.timeout
    scrub = secrets(ctx)
    plain = {"accept": "*/*", "user-agent": user_agent(ctx)}
    out: dict[str, Any] = {"gateway.root": None, "gateway.kind": "unknown",
                           "gateway.kind_evidence": "", "gateway.health": None,
                           "gateway.count_tokens": None, "gateway.transport_error": None}
    seen: list[dict[str, Any]] = []

    def left() -> float:
        return max(0.2, min(ctx.timeout, deadline - time.monotonic()))

    with client_for(ctx) as client:
        root, headers, body = get(client, "GET", f"{base}/", headers=plain, secret_values=scrub,
                                  timeout=left())
        out["gateway.root"] = root
        if root["error"] in TRANSPORT_ERRORS:
            out["gateway.transport_error"] = root["error"]
            out["gateway.kind"], out["gateway.kind_evidence"] = detect_kind(
                [], parts.hostname or "", parts.path)
            return out
        seen.append(_observation("root", headers, body))
        headers_ct = client_headers(ctx, json_body=True)

        def liveliness() -> tuple[str, Any, Any, Any]:
            result = get(client, "GET", f"{base}/health/liveliness", headers=plain,
                         secret_values=scrub, timeout=left())
            if result[0]["status"] == 404 and base != origin:
                return (origin, *get(client, "GET", f"{origin}/health/liveliness", headers=plain,
                                     secret_values=scrub, timeout=left()))
            return (base, *result)

        def count_tokens() -> Any:
            return get(client, "POST", f"{base}/v1/messages/count_tokens?beta=true",
                       headers=headers_ct, json_body={"model": _main_model(ctx), **_PROBE_BODY},
                       secret_values=scrub, timeout=left())

        # Independent round trips, side by side: LiteLLM takes 100-300 ms for count_tokens.
        if provider:
            (live_base, live, lh, lb), = _side_by_side(liveliness)
        else:
            (live_base, live, lh, lb), (count, ch, cb) = _side_by_side(liveliness, count_tokens)
            out["gateway.count_tokens"] = count
            if count["error"] in TRANSPORT_ERRORS:
                out["gateway.transport_error"] = count["error"]
            seen.append(_observation("any", ch, cb))
        seen.append(_observation("liveliness", lh, lb))
        kind, evidence = detect_kind(seen, parts.hostname or "", parts.path)
        out["gateway.kind"], out["gateway.kind_evidence"] = kind, evidence
        if kind == "litellm":
            ready, _, rb = get(client, "GET", f"{live_base}/health/readiness", headers=plain,
                               secret_values=scrub, timeout=left())
            out["gateway.health"] = {"liveliness": live, "readiness": ready,
                                     "db": _readiness_db(rb) if ready["status"] == 200 else None}
    return out


@hookimpl
def gwdoctor_register_probes() -> list:
    return reporting([gateway_http])
