"""Data behind `gwdoctor generate`, read from knowledge files (setup.yaml, providers.yaml,
gateways.yaml, client.yaml, hosts.yaml) through the engine's loader on call, never at import."""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass
from typing import Any

__all__ = ["ClaudeModel", "GatewayProfile", "SetupError", "assumed_client_version",
           "bedrock_prefix_for_region", "claude_defaults", "claude_models", "gateway_knowledge",
           "gateway_profiles", "is_internal_host", "output_budget", "providers", "served_names",
           "vertex_catalogue", "vertex_region_for"]

class SetupError(ValueError):
    """Options that cannot produce a working setup; the message names the option."""


@dataclass(frozen=True)
class ClaudeModel:
    """One Claude model that exists on all three providers, spelled as each wants it
    (the fields are explained in knowledge/setup.yaml)."""

    role: str
    api_id: str
    bedrock_id: str
    vertex_id: str
    vertex_region_var: str
    vertex_regions: tuple[str, ...]


@dataclass(frozen=True)
class GatewayProfile:
    """Client-side shape of one enterprise gateway (the fields are explained in
    knowledge/setup.yaml)."""

    id: str
    name: str
    base_url: str
    base_url_fixed: bool
    credential_var: str
    credential_hint: str
    headers: tuple[tuple[str, str], ...] = ()
    unset: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    source: str = ""


def _read(filename: str) -> Any:
    from gwdoctor.engine.knowledge import read_builtin

    return read_builtin(filename)


@functools.lru_cache(maxsize=None)
def _tables() -> dict[str, Any]:
    return dict(_read("setup.yaml"))


def served_names() -> dict[str, str]:
    """providers.yaml Vertex model_id -> the short model_name the gateway serves."""
    return {str(k): str(v) for k, v in _tables()["served_names"].items()}


@functools.lru_cache(maxsize=None)
def claude_models() -> tuple[ClaudeModel, ...]:
    """The Claude models on all three providers, opus, sonnet, haiku (setup.yaml order)."""
    return tuple(ClaudeModel(role=m["role"], api_id=m["api_id"], bedrock_id=m["bedrock_id"],
                             vertex_id=m["vertex_id"], vertex_region_var=m["vertex_region_var"],
                             vertex_regions=tuple(m["vertex_regions"]))
                 for m in _tables()["claude_models"])


@functools.lru_cache(maxsize=None)
def gateway_profiles() -> dict[str, GatewayProfile]:
    """Enterprise gateway profiles by id, in setup.yaml order."""
    return {g["id"]: GatewayProfile(
        id=g["id"], name=g["name"], base_url=g["base_url"], base_url_fixed=g["base_url_fixed"],
        credential_var=g["credential_var"], credential_hint=g["credential_hint"],
        headers=tuple((h["name"], h["value"]) for h in g.get("headers") or ()),
        unset=tuple(g.get("unset") or ()), notes=tuple(g.get("notes") or ()),
        source=g.get("source", "")) for g in _tables()["gateways"]}


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
    return [m for m in providers()["vertex_models"] if m["model_id"] in served_names()]


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
