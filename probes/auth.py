"""Auth probe over HTTP: `GET {base}/v1/models` with exactly the client's credential headers.

The credential is read from the vault and sent only to the base URL the user configured
(no redirects followed); the answer becomes ``gateway.models`` with echoed keys scrubbed. When
that answer is not the API's (404, 405 or an HTML page) and the base URL has a path, the same
request goes to at most two shorter base URLs on the same scheme, host and port
(``gateway.root_models``), so a wrong path can be told from a wrong host.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from gwdoctor.engine import ProbeContext, ProbeSkipped, hookimpl, probe

from ._gwhttp import (
    base_url,
    client_headers,
    credentials_withheld,
    gate,
    get,
    provider_routed,
    secrets,
)
from ._http import client_for
from ._outcome import reporting

__all__ = ["gateway_models", "parse_models", "shorter_bases"]

# Answers that say "no API here" rather than "the API refuses you": a missing route, a route
# that takes no GET (a static mount), or a web page.
_NOT_API_STATUS = frozenset({404, 405})


def parse_models(body: bytes | None) -> tuple[list[str] | None, dict[str, int]]:
    """Servable model names and known output limits from either list shape: OpenAI
    (``{"data":[{"id","max_output_tokens"}]}``) or Anthropic (``{"data":[{"id","max_tokens"}]}``).

    NOTE: LiteLLM 1.108.7 lists some models for Claude Code under a display id
    (``claude-opus-5-5[1m]``, ``claude-router-<hex>[1m]``) with the name to send in
    ``source_model``; that name is the one a request must carry."""
    try:
        data = json.loads(body or b"")
    except ValueError:
        return None, {}
    items = data.get("data") if isinstance(data, dict) else data if isinstance(data, list) else None
    if not isinstance(items, list):
        return None, {}
    ids: list[str] = []
    limits: dict[str, int] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        name = str(item["source_model"] if isinstance(item.get("source_model"), str)
                   else item["id"])
        ids.append(name)
        limit = item.get("max_output_tokens", item.get("max_tokens"))
        if isinstance(limit, int) and limit > 0:
            limits[name] = limit
    return ids, limits


def shorter_bases(base: str) -> list[str]:
    """The base URLs to ask when ``base`` answers no API: its parent path, then its origin
    (``http://h:4000/a/b/c`` gives ``http://h:4000/a/b`` and ``http://h:4000``), at most two,
    never another scheme, host or port, so the credential stays with its host."""
    parts = urlsplit(base.rstrip("/"))
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        return []
    origin = f"{parts.scheme}://{parts.netloc}"
    parent = "/".join(segments[:-1])
    return [f"{origin}/{parent}", origin] if parent else [origin]


def _not_api(result: dict[str, Any]) -> bool:
    ctype = str(result.get("content_type") or "").lower()
    return result.get("status") in _NOT_API_STATUS or ("html" in ctype and not result["error"])


def _root_models(client: Any, base: str, headers: dict[str, Any], scrub: list[str],
                 first: dict[str, Any]) -> dict[str, Any] | None:
    """Confirm before blaming the path: GET /v1/models under the shorter base URLs, nearest
    first, stopping at the first that lists models."""
    candidates = shorter_bases(base)
    if not candidates or not _not_api(first):
        return None
    tried = []
    answered = None
    for candidate in candidates:
        result, _, body = get(client, "GET", f"{candidate}/v1/models", headers=headers,
                              secret_values=scrub)
        # A non-empty list: an empty one or any other JSON could be some web app's.
        ids = (parse_models(body)[0] or None) if result["status"] == 200 else None
        shown = str(result["url"]).removesuffix("/v1/models")  # without any user:password@
        tried.append({"base_url": shown, "url": result["url"], "status": result["status"],
                      "error": result["error"], "content_type": result["content_type"],
                      "error_message": result["error_message"], "api": ids is not None,
                      "model_count": len(ids) if ids is not None else None})
        if ids is not None:
            answered = shown
            break
    return {"tried": tried, "answered": answered}


@probe(name="auth.models", network=True,
       needs=("gateway.base_url", "gateway.transport_error", "route.target"),
       provides=("gateway.models", "gateway.root_models"))
def gateway_models(ctx: ProbeContext) -> dict[str, Any]:
    """List the gateway's models with the client's own credential headers: a 401/400 here is
    the credential, a list that lacks a requested model is the gateway's model config. A 404,
    405 or web page under a base URL with a path is asked again under the shorter base URLs
    (``gateway.root_models``), with the same headers on the same host.

    In Bedrock/Vertex mode there is no model list on the client's route: the provider model
    probe (``provider.model_checks``) asks each model instead, and ``gateway.models`` is
    ``None`` when it can, absent (skipped, with the reason) when it cannot."""
    if provider_routed(ctx):
        from .provider_model import _auth

        gate(ctx, provider_ok=True)
        how, reason = _auth(ctx, ctx.facts.get("route.target") or {})
        if how == "unavailable":
            raise ProbeSkipped(f"the models on the provider route cannot be asked: {reason}")
        return {"gateway.models": None, "gateway.root_models": None}
    gate(ctx)
    headers = client_headers(ctx)
    scrub = secrets(ctx)
    with client_for(ctx) as client:
        result, _, body = get(client, "GET", f"{base_url(ctx)}/v1/models", headers=headers,
                              secret_values=scrub)
        root = _root_models(client, base_url(ctx), headers, scrub, result)
    ids, limits = parse_models(body) if result["status"] == 200 else (None, {})
    result["ids"] = sorted(set(ids)) if ids is not None else None
    result["output_limits"] = limits or None
    result["sent_headers"] = sorted(h for h in headers if h in ("authorization", "x-api-key"))
    # A repository-chosen base URL or proxy in an untrusted workspace gets no credentials (see
    # _gwhttp.withheld_because): a 401 here then says nothing about the credential.
    result["credentials_withheld"] = credentials_withheld(ctx)
    return {"gateway.models": result, "gateway.root_models": root}


@hookimpl
def gwdoctor_register_probes() -> list:
    return reporting([gateway_models])
