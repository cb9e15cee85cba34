"""Data behind `gwdoctor generate`: served names, Claude ids per provider, gateway profiles. Reads knowledge files (through the engine's loader) on call, never at import."""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass
from typing import Any

__all__ = ["CLAUDE_MODELS", "ENTERPRISE", "SERVED_NAMES", "ClaudeModel", "GatewayProfile",
           "SetupError", "assumed_client_version", "bedrock_prefix_for_region", "claude_defaults",
           "gateway_knowledge", "is_internal_host", "output_budget", "providers",
           "vertex_catalogue", "vertex_region_for"]

# Short model_name for each Vertex model of providers.yaml (keyed by its model_id): what the
# client is told to request. Short and stable, so settings survive a model-version bump.
SERVED_NAMES = {
    "gemini-2.5-flash": "gemini-2.5-flash",
    "gemini-2.5-pro": "gemini-2.5-pro",
    "deepseek-ai/deepseek-r1-0528-maas": "deepseek-r1",
    "meta/llama-3.1-405b-instruct-maas": "llama-3.1-405b",
    "codestral-2501": "codestral",
    "qwen/qwen3-coder-480b-a35b-instruct-maas": "qwen3-coder-480b",
    "qwen/qwen3-235b-a22b-instruct-2507-maas": "qwen3-235b",
    "openai/gpt-oss-20b-maas": "gpt-oss-20b",
}


class SetupError(ValueError):
    """Options that cannot produce a working setup; the message names the option."""


@dataclass(frozen=True)
class ClaudeModel:
    """One Claude model that exists on all three providers, spelled as each wants it."""

    role: str           # opus | sonnet | haiku
    api_id: str         # Anthropic API id (and the model_name the gateway serves)
    bedrock_id: str     # base id; an inference-profile id is "<prefix>." + this
    vertex_id: str      # '@' before the date on Vertex
    vertex_region_var: str  # Claude Code's per-model override variable
    vertex_regions: tuple[str, ...]  # regions gwdoctor knows it is offered in (first = fallback)


# Dated 4.5 models are on Anthropic, Bedrock (InvokeModel, inference profiles) and Vertex alike;
# the newest models are Messages-API-only on Bedrock (Mantle), so a multi-provider gateway with
# fallbacks uses these. Vertex regions: the docs' example pins Haiku 4.5 to us-east5 when
# CLOUD_ML_REGION=global (CC:google-vertex-ai); Google may list more.
CLAUDE_MODELS = (
    ClaudeModel("opus", "claude-opus-4-5-20251101", "anthropic.claude-opus-4-5-20251101-v1:0",
                "claude-opus-4-5@20251101", "VERTEX_REGION_CLAUDE_4_5_OPUS", ("global", "us-east5")),
    # Sonnet 4.5 was retired on 2026-11-30 (the client itself says so: tests/capture); 4.6 is the
    # Sonnet the three providers list with the same ids everywhere (versionless, like newer
    # models): anthropic.claude-sonnet-4-6 on Bedrock, claude-sonnet-4-6 on Vertex (platform
    # models overview; client-and-gateway-facts.md 1.7/1.8, VERTEX_REGION_CLAUDE_4_6_SONNET).
    ClaudeModel("sonnet", "claude-sonnet-4-6", "anthropic.claude-sonnet-4-6",
                "claude-sonnet-4-6", "VERTEX_REGION_CLAUDE_4_6_SONNET", ("global", "us-east5")),
    ClaudeModel("haiku", "claude-haiku-4-5-20251001", "anthropic.claude-haiku-4-5-20251001-v1:0",
                "claude-haiku-4-5@20251001", "VERTEX_REGION_CLAUDE_HAIKU_4_5", ("us-east5",)),
)


@dataclass(frozen=True)
class GatewayProfile:
    """Client-side shape of one enterprise gateway (client-and-gateway-facts.md §4)."""

    id: str
    name: str
    base_url: str               # default; UPPERCASE parts are placeholders to replace
    base_url_fixed: bool        # True when the default is the real public endpoint
    credential_var: str         # ANTHROPIC_AUTH_TOKEN (Bearer) or ANTHROPIC_API_KEY (x-api-key)
    credential_hint: str
    headers: tuple[tuple[str, str], ...] = ()  # ANTHROPIC_CUSTOM_HEADERS lines (placeholders)
    unset: tuple[str, ...] = ()  # variables that must not be set alongside
    notes: tuple[str, ...] = ()
    source: str = ""


# NOTE: knowledge/gateways.yaml (helper H) carries detection signals and the credential
# variable / required header names; it has no vercel or ngrok entry and no header value
# shapes, so this table is the generator's source. tests/test_setup.py checks it agrees with
# gateways.yaml wherever both describe a gateway.
ENTERPRISE = {p.id: p for p in (
    GatewayProfile(
        "litellm", "LiteLLM proxy", "https://LITELLM-HOST:4000", False, "ANTHROPIC_AUTH_TOKEN",
        "a LiteLLM virtual key or the master key (sk-...)",
        notes=("Every model the client requests (main and background/haiku) must be a model_name "
               "in the proxy's config; `gwdoctor generate litellm-vertex` writes one.",),
        source="client-and-gateway-facts.md §2.8"),
    GatewayProfile(
        "truefoundry", "TrueFoundry AI Gateway", "https://YOUR-ORG.truefoundry.cloud/api/llm", False,
        "ANTHROPIC_AUTH_TOKEN", "a TrueFoundry API key (PAT or virtual-account token)",
        notes=("Model names look like `<account>/<model>`; map Opus, Sonnet and Haiku with the "
               "ANTHROPIC_DEFAULT_*_MODEL variables so every alias resolves.",
               "Copy the exact base URL from the Playground's unified code snippet."),
        source="truefoundry.com/docs/ai-gateway/claude-code"),
    GatewayProfile(
        "zuplo", "Zuplo AI Gateway", "https://YOUR-GATEWAY.zuplo.app", False, "ANTHROPIC_AUTH_TOKEN",
        "the Zuplo app's API key",
        notes=("An Anthropic provider, a team and an app must exist in Zuplo first.",),
        source="zuplo.com/docs/ai-gateway/integrations/claude-code"),
    GatewayProfile(
        "portkey", "Portkey", "https://api.portkey.ai", True, "ANTHROPIC_AUTH_TOKEN",
        "your Portkey API key",
        headers=(("x-portkey-api-key", "<your-portkey-api-key>"),
                 ("x-portkey-provider", "@<your-provider-slug>")),
        notes=("Use the base URL without /v1: an older Portkey doc variant with /v1 makes the "
               "client call /v1/v1/messages.",),
        source="portkey.ai/docs/integrations/libraries/claude-code"),
    GatewayProfile(
        "cloudflare", "Cloudflare AI Gateway",
        "https://gateway.ai.cloudflare.com/v1/ACCOUNT_ID/GATEWAY_ID/anthropic", False,
        "ANTHROPIC_API_KEY", "your Anthropic API key (Cloudflare forwards it upstream)",
        headers=(("cf-aig-authorization", "Bearer <your-cf-aig-token>"),),
        notes=("The cf-aig-authorization token needs the AI Gateway `Run` permission.",
               "The `/v1/` in this URL is Cloudflare's own API version, not the Anthropic "
               "`/v1` that the client appends."),
        source="developers.cloudflare.com/ai-gateway/integrations/coding-agents/claude-code"),
    GatewayProfile(
        "kong", "Kong AI Gateway", "https://KONG-HOST/YOUR-ROUTE", False, "ANTHROPIC_AUTH_TOKEN",
        "the credential your route's auth plugin expects",
        notes=("The route's ai-proxy plugin must accept the Anthropic format "
               "(`llm_format: anthropic`, `route_type: llm/v1/chat`).",
               "If the route uses key-auth with its own header, pass `--auth-header NAME` to "
               "send the key in that header as well."),
        source="developer.konghq.com (Kong AI Gateway, Claude Code how-to)"),
    GatewayProfile(
        "vercel", "Vercel AI Gateway", "https://ai-gateway.vercel.sh", True, "ANTHROPIC_AUTH_TOKEN",
        "your Vercel AI Gateway key", unset=("ANTHROPIC_API_KEY",),
        notes=("Vercel's docs say to set ANTHROPIC_API_KEY to an empty string; the client does "
               "not unset a variable that way, so unset it in the shell instead.",),
        source="vercel.com/docs/ai-gateway (Claude Code)"),
    GatewayProfile(
        "ngrok", "ngrok AI Gateway", "https://gateway.ngrok.ai", True, "ANTHROPIC_AUTH_TOKEN",
        "your ngrok AI Gateway key", unset=("ANTHROPIC_API_KEY",),
        notes=("ngrok: \"the gateway URL without /v1, since Claude Code appends /v1/messages "
               "itself\".",),
        source="ngrok.com/docs/ai-gateway/agents/claude-code"),
)}


def _read(filename: str) -> Any:
    from gwdoctor.engine.knowledge import read_builtin

    return read_builtin(filename)


@functools.lru_cache(maxsize=None)
def gateway_knowledge() -> dict[str, dict[str, Any]]:
    """knowledge/gateways.yaml entries by id ({} when the file is absent)."""
    from gwdoctor.engine.knowledge import KnowledgeError

    try:
        data = _read("gateways.yaml")
    except (FileNotFoundError, KnowledgeError):
        return {}
    return {g["id"]: g for g in (data or {}).get("gateways") or []}


@functools.lru_cache(maxsize=None)
def providers() -> dict[str, Any]:
    """knowledge/providers.yaml (schema-checked by tests/test_knowledge.py)."""
    return dict(_read("providers.yaml"))


def bedrock_prefix_for_region(region: str | None) -> str:
    """Claude Code's default inference-profile prefix for an AWS region (the
    ``claude_on_bedrock.region_prefixes`` table of providers.yaml, first match wins)."""
    for row in providers()["claude_on_bedrock"]["region_prefixes"]:
        if fnmatch.fnmatchcase(region or "", row["region_glob"]):
            return str(row["prefix"])
    return "global"


def vertex_catalogue() -> list[dict[str, Any]]:
    """The Vertex models of providers.yaml that have a served name, in file order."""
    return [m for m in providers()["vertex_models"] if m["model_id"] in SERVED_NAMES]


def vertex_region_for(model: dict[str, Any], wanted: str) -> str:
    """``wanted`` when the model is known to be offered there, else its first listed region.

    Regions the sources disagree on (``regions_confirmed: false``) always take the first
    listed one: for Qwen3 Coder that is us-south1 (Google's GA post) rather than global.
    """
    regions = list(model["regions"])
    if model.get("regions_confirmed", True) and wanted in regions:
        return wanted
    return regions[0]


def litellm_string(model: dict[str, Any]) -> str:
    preferred = f"vertex_ai/{model['model_id']}"
    return preferred if preferred in model["litellm_models"] else model["litellm_models"][0]


def assumed_client_version() -> str:
    """The client version modelled when none is given (knowledge/client.yaml)."""
    return str(_read("client.yaml")["assumed_version"])


def claude_defaults(client_version: str | None) -> dict[str, str]:
    """The ids this client version requests when nothing is configured (role -> id)."""
    from gwdoctor.engine.knowledge import merge_behaviour

    behaviour = merge_behaviour(_read("client.yaml"), client_version)
    return {k: str(v) for k, v in (behaviour.get("default_models") or {}).items()}


def output_budget(limits: list[int], client_default: int = 32000) -> int | None:
    """A CLAUDE_CODE_MAX_OUTPUT_TOKENS value below the smallest limit, when that limit is
    under the client's default for unknown ids (32000); else None (leave it unset)."""
    smallest = min(limits) if limits else None
    if smallest is None or smallest >= client_default:
        return None
    # A round number strictly below the limit: 8192 -> 8000, 16384 -> 16000, 2048 -> 2000.
    return max(1000, (smallest - 1) // 1000 * 1000)


def is_internal_host(host: str) -> bool:
    """A host a corporate proxy usually cannot (or must not) reach: the `internal` list of
    knowledge/hosts.yaml, the one rule PRX010 uses, so both agree on every host."""
    from gwdoctor.engine.hosts import host_in_list

    return host_in_list(host, "internal")
