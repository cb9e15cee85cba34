"""Provider probes: what Bedrock or Vertex mode will use (region, project, credentials), from
env and local files. No network."""

from __future__ import annotations

import re
from typing import Any, Mapping

from gwdoctor.engine import Facts, ProbeContext, hookimpl, probe
from gwdoctor.probes.client_behaviour import client_behaviour

from ._cloud import adc_file, aws_profile, expired_at, sso_cache_expiry
from ._outcome import reporting
from ._provider_ids import (
    bedrock_fix,
    bedrock_prefix_for_region,
    gcp_region_valid,
    providers,
    suggest_gcp_region,
    vertex_model_for,
    vertex_spelling,
)
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


def _aws_credentials(ctx: ProbeContext, get: Any, profile: dict[str, Any]) -> dict[str, Any]:
    """The AWS credentials the client signs with, in its order (captured on 2.1.332,
    tests/capture/test_provider_capture.py::test_bedrock_credential_precedence):
    ``AWS_BEARER_TOKEN_BEDROCK``, then the settings' ``awsCredentialExport``, then the AWS SDK
    chain, which skips the env keys whenever ``AWS_PROFILE`` is set (it warns and uses the
    profile). ``source`` names what won, ``why`` says why, ``shadowed`` lists what lost."""
    found: list[dict[str, Any]] = []
    env_keys = bool(get("AWS_ACCESS_KEY_ID") and get("AWS_SECRET_ACCESS_KEY"))
    pinned = get("AWS_PROFILE")
    name = profile["name"]
    if get("AWS_BEARER_TOKEN_BEDROCK"):
        found.append({"kind": "bearer_token", "source": "AWS_BEARER_TOKEN_BEDROCK",
                      "why": "a Bedrock API key is used before any AWS credential"})
    if "awsCredentialExport" in _settings_keys(ctx):
        found.append({"kind": "settings_export", "source": "awsCredentialExport (settings)",
                      "why": "the settings command's credentials come before the AWS SDK chain"})
    env = {"kind": "env", "source": "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
           "why": "environment keys come first in the AWS SDK chain when AWS_PROFILE is not set"}
    if env_keys and not pinned:
        exp = expired_at(get("AWS_CREDENTIAL_EXPIRATION"))
        found.append({**env, "expired": exp[0], "expires_at": exp[1]})
    where = (
        f"profile {name} "
        f"({profile['credentials_path'] if profile['static_keys'] else profile['config_path']})")
    why_profile = (f"AWS_PROFILE={name} is set, so the AWS SDK uses the profile" if pinned
                   else "the default profile, as nothing earlier in the chain is set")
    if get("AWS_WEB_IDENTITY_TOKEN_FILE") and get("AWS_ROLE_ARN") and not pinned:
        found.append({"kind": "web_identity", "source": "AWS_WEB_IDENTITY_TOKEN_FILE",
                      "why": "web identity from the environment"})
    if profile["static_keys"]:
        exp = expired_at(profile["expiration"])
        found.append({"kind": "profile", "source": where, "why": why_profile, "expired": exp[0],
                      "expires_at": exp[1]})
    elif profile["sso_session"] or profile["sso_start_url"]:
        stamp = sso_cache_expiry(profile, ctx.home)
        exp = expired_at(stamp) if stamp else (True, None)
        found.append({"kind": "sso", "source": f"{where}, SSO cache ~/.aws/sso/cache",
                      "why": why_profile, "expired": exp[0], "expires_at": exp[1]})
    elif profile["credential_process"]:
        found.append({"kind": "process", "source": f"{where} credential_process",
                      "why": why_profile})
    elif profile["role_arn"] or profile["web_identity"]:
        found.append({"kind": "profile", "source": f"{where} role", "why": why_profile})
    if env_keys and pinned:
        found.append({**env, "why": f"AWS_PROFILE={name} is set: the AWS SDK ignores the "
                                    "environment keys (it prints 'Please ensure that your "
                                    "environment only sets either the AWS_PROFILE or the "
                                    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY pair')"})
    if get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        found.append({"kind": "container", "source": "AWS_CONTAINER_CREDENTIALS_*",
                      "why": "container credentials endpoint"})
    if not found:
        return {"kind": None, "expired": None, "expires_at": None, "source": None,
                "why": f"nothing in the chain: no AWS_BEARER_TOKEN_BEDROCK, awsCredentialExport, "
                       f"env keys or usable {where}",
                "shadowed": []}
    if pinned and env_keys and found[0]["kind"] == "env":
        # AWS_PROFILE names a profile with no credentials: the SDK still does not fall back to env.
        found[0] = {"kind": None, "source": None,
                    "why": f"AWS_PROFILE={name} has no credentials and the environment keys are "
                           "ignored while it is set"}
    won = found[0]
    return {"kind": won["kind"], "expired": won.get("expired"), "expires_at": won.get("expires_at"),
            "source": won["source"], "why": won["why"],
            "shadowed": [{k: f[k] for k in ("kind", "source", "why")} for f in found[1:]]}


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

    creds = _aws_credentials(ctx, get, profile)
    skip_var = ("CLAUDE_CODE_SKIP_MANTLE_AUTH" if mode == "mantle"
                else "CLAUDE_CODE_SKIP_BEDROCK_AUTH")
    base_var = ("ANTHROPIC_BEDROCK_MANTLE_BASE_URL" if mode == "mantle"
                else "ANTHROPIC_BEDROCK_BASE_URL")
    prefix = get("ANTHROPIC_BEDROCK_REGION_PREFIX") or bedrock_prefix_for_region(region)
    return {"region": region, "region_source": region_source, "region_ignored": ignored,
            "profile": profile["name"], "profile_exists": profile["exists"],
            "credentials": creds,
            "skip_auth": truthy(get(skip_var)), "base_url": get(base_var),
            "region_prefix": prefix, "auth_refresh": "awsAuthRefresh" in _settings_keys(ctx),
            # AWS config/credentials files that exist but could not be read (FIFO, device, size)
            "file_problems": profile.get("file_problems") or []}


_ADC_KINDS = {"authorized_user": "gcloud user login (gcloud auth application-default login)",
              "service_account": "service-account key",
              "external_account": "workload identity federation",
              "impersonated_service_account": "impersonated service account"}


def _vertex(ctx: ProbeContext, get: Any) -> dict[str, Any]:
    adc = adc_file(get, ctx.home, ctx.cwd)
    skip = truthy(get("CLAUDE_CODE_SKIP_VERTEX_AUTH"))
    # Captured on 2.1.332 (tests/capture/test_provider_capture.py::test_vertex_project_precedence):
    # ANTHROPIC_VERTEX_PROJECT_ID wins over GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT and the key file's
    # project (the docs say the reverse), and under CLAUDE_CODE_SKIP_VERTEX_AUTH it is the only
    # source: without it the client refuses to start. With Google auth on, the auth library may
    # supply the project from GCLOUD_PROJECT, GOOGLE_CLOUD_PROJECT or the key file (documentary).
    order = [("ANTHROPIC_VERTEX_PROJECT_ID", get("ANTHROPIC_VERTEX_PROJECT_ID"),
              "the client's own variable wins")]
    file_project = adc["project_id"] if adc["type"] == "service_account" else None
    later = [("GCLOUD_PROJECT", get("GCLOUD_PROJECT")),
             ("GOOGLE_CLOUD_PROJECT", get("GOOGLE_CLOUD_PROJECT")), ("adc_file", file_project)]
    for name, value in later:
        why = ("ignored: with CLAUDE_CODE_SKIP_VERTEX_AUTH the client reads only "
               "ANTHROPIC_VERTEX_PROJECT_ID" if skip
               else "used by the Google auth library only when ANTHROPIC_VERTEX_PROJECT_ID is "
                    "unset")
        order.append((name, value, why))
    usable = order if not skip else order[:1]
    chosen = next(((name, value, why) for name, value, why in usable if value), (None, None, None))
    ignored = [{"var": name, "value": value, "why": why} for name, value, why in order
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
    names = [v for v in (cfg if isinstance(cfg, dict) else ctx.env)
             if v.startswith("VERTEX_REGION_")]
    model_regions = {v: get(v) for v in sorted(names) if get(v)}
    return {"project_id": chosen[1], "project_source": chosen[0], "project_why": chosen[2],
            "project_ignored": ignored,
            "region": region, "region_raw": raw_region, "region_valid": valid,
            "model_regions": model_regions,
            "invalid_model_regions": sorted(v for v, r in model_regions.items()
                                            if not gcp_region_valid(r)),
            # GCP spellings of mistyped locations (AWS-style us-east-1 -> us-east1), for the fixes
            "region_suggestion": (suggest_gcp_region(raw_region) if raw_region and not valid
                                  else None),
            "model_region_suggestions": {v: suggest_gcp_region(r) for v, r in model_regions.items()
                                         if not gcp_region_valid(r)},
            "adc": {**{k: adc[k] for k in ("path", "source", "exists", "type", "error")},
                    # whose credentials: a gcloud user login, a service-account key, federation
                    "kind": _ADC_KINDS.get(str(adc["type"])), "project": adc["project_id"]},
            "project_mismatch": ({"adc_project": adc["project_id"], "configured": chosen[1]}
                                 if adc["project_id"] and chosen[1]
                                 and adc["project_id"] != chosen[1] else None),
            "skip_auth": skip,
            "base_url": get("ANTHROPIC_VERTEX_BASE_URL"),
            "auth_refresh": "gcpAuthRefresh" in _settings_keys(ctx)}


@probe(name="provider.cloud", needs=("provider.mode", "config.env"),
       provides=("provider.bedrock", "provider.vertex"))
def cloud(ctx: ProbeContext) -> Facts:
    """Resolve the Bedrock region and credentials, or the Vertex project, region and ADC
    file, the way this client version does. Reads files only; no network."""
    mode = ctx.facts["provider.mode"]
    behaviour = (ctx.facts.get("client.behaviour")
                 or client_behaviour(ctx.facts.get("client.version")))
    get = _getter(ctx)
    return {"provider.bedrock": (_bedrock(ctx, get, behaviour, mode)
                                 if mode in ("bedrock", "mantle") else None),
            "provider.vertex": _vertex(ctx, get) if mode == "vertex" else None}


_GATEWAY = ("gateway.base_url", "gateway.custom", "gateway.scheme", "gateway.host", "gateway.port",
            "gateway.path", "gateway.url_error")


_ROLE_VARS = ("main", "opus", "sonnet", "haiku")


@probe(name="provider.ids", needs=("model.requested",),
       after=("gateway_config.models", "provider.bedrock"),
       provides=("provider.model_ids", "provider.gateway_vertex_locations"))
def provider_ids(ctx: ProbeContext) -> Facts:
    """Read the model ids and locations the user configured the way the provider reads them:
    the Vertex spelling and the Bedrock inference-profile id of each configured model, and for
    each `vertex_ai/` deployment of a LiteLLM config whether its location is a GCP location
    where that model is offered (knowledge/providers.yaml). No I/O."""
    return ids_facts(ctx.facts)


def ids_facts(facts: Mapping[str, Any]) -> Facts:
    """provider.ids as a pure function of the facts it reads (the rule-case runner uses it too)."""
    bedrock = facts.get("provider.bedrock") or {}
    prefix = bedrock.get("region_prefix") or bedrock_prefix_for_region(bedrock.get("region"))
    ids = []
    for entry in facts.get("model.requested") or []:
        sent = entry.get("sent")
        if entry.get("source") == "default" or entry.get("role") not in _ROLE_VARS or not sent:
            continue
        ids.append({"role": entry["role"], "sent": sent,
                    "vertex_spelling": vertex_spelling(str(sent)),
                    "bedrock_profile": bedrock_fix(str(sent), prefix), "bedrock_prefix": prefix,
                    "bedrock_geo": str(sent).split(".", 1)[0] if "." in str(sent) else None,
                    "bedrock_geo_known": (str(sent).split(".", 1)[0]
                                          in providers()["claude_on_bedrock"]["valid_prefixes"])})
    locations = []
    for m in facts.get("gateway_config.models") or []:
        if not isinstance(m, dict) or m.get("provider") != "vertex_ai" or not m.get("model"):
            continue
        known = vertex_model_for(str(m["model"]))
        params = m.get("params") or {}
        key = "vertex_location" if "vertex_location" in params else "vertex_ai_location"
        loc = params.get(key)
        if not known or not isinstance(loc, str) or loc.startswith("os.environ/"):
            continue
        locations.append({"model_name": m.get("model_name"), "model": m["model"],
                          "line": m.get("line"),
                          "key": key, "location": loc, "valid": gcp_region_valid(loc),
                          "name": known["name"], "regions": known["regions"],
                          "regions_confirmed": known["regions_confirmed"],
                          "regions_exhaustive": known.get("regions_exhaustive", True)})
    return {"provider.model_ids": ids, "provider.gateway_vertex_locations": locations}


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

    return reporting([cloud, provider_ids, route_target, provider_models])
