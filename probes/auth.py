"""Auth probe over HTTP: `GET {base}/v1/models` with exactly the client's credential headers.

The credential is read from the vault and sent only to the base URL the user configured
(no redirects followed); the answer becomes ``gateway.models`` with echoed keys scrubbed.
"""

from __future__ import annotations

import json
from typing import Any

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

__all__ = ["gateway_models", "parse_models"]


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


@probe(name="auth.models", network=True,
       needs=("gateway.base_url", "gateway.transport_error", "route.target"),
       provides=("gateway.models",))
def gateway_models(ctx: ProbeContext) -> dict[str, Any]:
    """List the gateway's models with the client's own credential headers: a 401/400 here is
    the credential, a list that lacks a requested model is the gateway's model config.

    In Bedrock/Vertex mode there is no model list on the client's route: the provider model
    probe (``provider.model_checks``) asks each model instead, and ``gateway.models`` is
    ``None`` when it can, absent (skipped, with the reason) when it cannot."""
    if provider_routed(ctx):
        from .provider_model import _auth

        gate(ctx, provider_ok=True)
        how, reason = _auth(ctx, ctx.facts.get("route.target") or {})
        if how == "unavailable":
            raise ProbeSkipped(f"the models on the provider route cannot be asked: {reason}")
        return {"gateway.models": None}
    gate(ctx)
    headers = client_headers(ctx)
    with client_for(ctx) as client:
        result, _, body = get(client, "GET", f"{base_url(ctx)}/v1/models", headers=headers,
                              secret_values=secrets(ctx))
    ids, limits = parse_models(body) if result["status"] == 200 else (None, {})
    result["ids"] = sorted(set(ids)) if ids is not None else None
    result["output_limits"] = limits or None
    result["sent_headers"] = sorted(h for h in headers if h in ("authorization", "x-api-key"))
    # A repository-chosen base URL or proxy in an untrusted workspace gets no credentials (see
    # _gwhttp.withheld_because): a 401 here then says nothing about the credential.
    result["credentials_withheld"] = credentials_withheld(ctx)
    return {"gateway.models": result}


@hookimpl
def gwdoctor_register_probes() -> list:
    return reporting([gateway_models])
