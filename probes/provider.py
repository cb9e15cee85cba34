"""Provider probes: what Bedrock or Vertex mode will use (region, project, credentials), from env and local files. No network."""

from __future__ import annotations

import re
from typing import Any

from gwdoctor.engine import Facts, ProbeContext, hookimpl, probe
from gwdoctor.engine.knowledge import client_behaviour
from gwdoctor.rules._providers import bedrock_prefix_for_region, gcp_region_valid, providers

from ._cloud import adc_file, aws_profile, expired_at, sso_cache_expiry
from ._provider_route import provider_route
from ._settings import truthy

__all__ = ["cloud", "route_target"]


def _getter(ctx: ProbeContext):  # type: ignore[no-untyped-def]
    cfg = ctx.facts.get("config.env")

    def get(var: str) -> str | None:
        if not isinstance(cfg, dict):
            return ctx.env.get(var) or None
        if var not in cfg:
            return None
        raw = ctx.vault.get(f"env.{var}")
        if raw is None and isinstance(cfg[var].get("value"), str):
            raw = cfg[var]["value"]
        return raw or None
    return get


def _settings_keys(ctx: ProbeContext) -> set[str]:
    return {k for f in ctx.facts.get("config.settings_files") or [] if f.get("valid")
            for k in f.get("keys") or []}


def _bedrock(ctx: ProbeContext, get: Any, behaviour: dict[str, Any], mode: str) -> dict[str, Any]:
    from_config = bool(behaviour.get("bedrock_region_from_aws_config"))
    profile = aws_profile(get, ctx.home, ctx.cwd)
    ignored: list[dict[str, str]] = []
    candidates = [("AWS_REGION", get("AWS_REGION"), True),
                  ("AWS_DEFAULT_REGION", get("AWS_DEFAULT_REGION"), from_config),
                  ("profile", profile["region"], from_config)]
    region, region_source = None, None
    for name, value, read in candidates:
        if not value:
            continue
        if not read:
            ignored.append({"var": name, "value": value})
        elif region is None:
            region, region_source = value, name
    if get("AWS_REGION_NAME"):  # boto/LiteLLM spelling: no AWS SDK for JavaScript reads it
        ignored.append({"var": "AWS_REGION_NAME", "value": str(get("AWS_REGION_NAME"))})
    if region is None:
        region, region_source = providers()["claude_on_bedrock"]["default_region"], "default"

    kind, expired, expires = None, None, None
    if get("AWS_BEARER_TOKEN_BEDROCK"):
        kind = "bearer_token"
    elif get("AWS_ACCESS_KEY_ID") and get("AWS_SECRET_ACCESS_KEY"):
        kind = "env"
        expired, expires = expired_at(get("AWS_CREDENTIAL_EXPIRATION"))
    elif get("AWS_WEB_IDENTITY_TOKEN_FILE") and get("AWS_ROLE_ARN"):
        kind = "web_identity"
    elif get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        kind = "container"
    elif profile["static_keys"]:
        kind = "profile"
        expired, expires = expired_at(profile["expiration"])
    elif profile["sso_session"] or profile["sso_start_url"]:
        kind = "sso"
        stamp = sso_cache_expiry(profile, ctx.home)
        expired, expires = expired_at(stamp) if stamp else (True, None)
    elif profile["credential_process"]:
        kind = "process"
    elif profile["role_arn"] or profile["web_identity"]:
        kind = "profile"
    elif "awsCredentialExport" in _settings_keys(ctx):
        kind = "settings_export"
    skip_var = "CLAUDE_CODE_SKIP_MANTLE_AUTH" if mode == "mantle" else "CLAUDE_CODE_SKIP_BEDROCK_AUTH"
    base_var = "ANTHROPIC_BEDROCK_MANTLE_BASE_URL" if mode == "mantle" else "ANTHROPIC_BEDROCK_BASE_URL"
    prefix = get("ANTHROPIC_BEDROCK_REGION_PREFIX") or bedrock_prefix_for_region(region)
    return {"region": region, "region_source": region_source, "region_ignored": ignored,
            "profile": profile["name"], "profile_exists": profile["exists"],
            "credentials": {"kind": kind, "expired": expired, "expires_at": expires},
            "skip_auth": truthy(get(skip_var)), "base_url": get(base_var),
            "region_prefix": prefix, "auth_refresh": "awsAuthRefresh" in _settings_keys(ctx)}


def _vertex(ctx: ProbeContext, get: Any) -> dict[str, Any]:
    adc = adc_file(get, ctx.home, ctx.cwd)
    # ANTHROPIC_VERTEX_PROJECT_ID is "overridden by GCLOUD_PROJECT, GOOGLE_CLOUD_PROJECT, or the
    # project in your GOOGLE_APPLICATION_CREDENTIALS credential file" (CC:env-vars).
    order = [("GCLOUD_PROJECT", get("GCLOUD_PROJECT")), ("GOOGLE_CLOUD_PROJECT", get("GOOGLE_CLOUD_PROJECT")),
             ("adc_file", adc["project_id"] if adc["source"] == "GOOGLE_APPLICATION_CREDENTIALS" else None),
             ("ANTHROPIC_VERTEX_PROJECT_ID", get("ANTHROPIC_VERTEX_PROJECT_ID"))]
    chosen = next(((name, value) for name, value in order if value), (None, None))
    ignored = [{"var": name, "value": value} for name, value in order
               if value and name != chosen[0] and value != chosen[1]]
    raw_region = get("CLOUD_ML_REGION")
    default = providers()["gcp"]["claude_code_default_region"]
    if raw_region is None:
        region, valid = default, True
    elif re.search(r"[/. ]", raw_region):
        region, valid = default, False  # the client treats such a value as unset
    else:
        region, valid = raw_region, gcp_region_valid(raw_region)
    cfg = ctx.facts.get("config.env") or {}
    names = [v for v in (cfg if isinstance(cfg, dict) else ctx.env) if v.startswith("VERTEX_REGION_")]
    model_regions = {v: get(v) for v in sorted(names) if get(v)}
    return {"project_id": chosen[1], "project_source": chosen[0], "project_ignored": ignored,
            "region": region, "region_raw": raw_region, "region_valid": valid,
            "model_regions": model_regions,
            "invalid_model_regions": sorted(v for v, r in model_regions.items() if not gcp_region_valid(r)),
            "adc": {k: adc[k] for k in ("path", "source", "exists", "type", "error")},
            "skip_auth": truthy(get("CLAUDE_CODE_SKIP_VERTEX_AUTH")),
            "base_url": get("ANTHROPIC_VERTEX_BASE_URL"),
            "auth_refresh": "gcpAuthRefresh" in _settings_keys(ctx)}


@probe(name="provider.cloud", needs=("provider.mode", "config.env"),
       provides=("provider.bedrock", "provider.vertex"))
def cloud(ctx: ProbeContext) -> Facts:
    """Resolve the Bedrock region and credentials, or the Vertex project, region and ADC
    file, the way this client version does. Reads files only; no network."""
    mode = ctx.facts["provider.mode"]
    behaviour = ctx.facts.get("client.behaviour") or client_behaviour(ctx.facts.get("client.version"))
    get = _getter(ctx)
    return {"provider.bedrock": _bedrock(ctx, get, behaviour, mode) if mode in ("bedrock", "mantle") else None,
            "provider.vertex": _vertex(ctx, get) if mode == "vertex" else None}


_GATEWAY = ("gateway.base_url", "gateway.custom", "gateway.scheme", "gateway.host", "gateway.port",
            "gateway.path", "gateway.url_error")


@probe(name="route.target", needs=("provider.mode", "provider.bedrock", "provider.vertex",
                                   "model.requested", "model.distinct", "config.env") + _GATEWAY,
       provides=("route.target",))
def route_target(ctx: ProbeContext) -> Facts:
    """Where the client's requests really go: ``ANTHROPIC_BASE_URL`` in Anthropic mode; in
    Bedrock or Vertex mode the provider's endpoint (or its base-URL override) per model and
    region, as captured from the client. The DNS, proxy, TLS and HTTP probes follow it."""
    mode = ctx.facts["provider.mode"]
    route = provider_route(mode, _getter(ctx), ctx.facts.get("provider.bedrock"),
                           ctx.facts.get("provider.vertex"), ctx.facts.get("model.requested") or [])
    if route is None:
        base = str(ctx.facts.get("gateway.base_url") or "").rstrip("/")
        path = str(ctx.facts.get("gateway.path") or "")
        models = list(ctx.facts.get("model.distinct") or [])
        route = {"mode": "anthropic" if mode == "anthropic" else mode, "base_url": base,
                 "override": bool(ctx.facts.get("gateway.custom")),
                 "scheme": ctx.facts.get("gateway.scheme"), "host": ctx.facts.get("gateway.host"),
                 "port": ctx.facts.get("gateway.port"), "path": path,
                 "url_error": ctx.facts.get("gateway.url_error"),
                 "base_url_var": "ANTHROPIC_BASE_URL" if ctx.facts.get("gateway.custom") else None,
                 "skip_auth": False, "auth": None, "control": None,
                 "requests": [{"model": m, "method": "POST", "host": ctx.facts.get("gateway.host"),
                               "path": f"{path}/v1/messages", "url": f"{base}/v1/messages"}
                              for m in models]}
    return {"route.target": route}


@hookimpl
def gwdoctor_register_probes() -> list:
    from .provider_model import provider_models

    return [cloud, route_target, provider_models]
