"""Provider and variable knowledge (knowledge/providers.yaml, variables.yaml), loaded once and schema-checked; no other I/O."""

from __future__ import annotations

import fnmatch
import functools
import re
from typing import Any

from gwdoctor.engine.knowledge import builtin_dir, read_yaml

__all__ = [
    "bedrock_prefix_for_region",
    "route_endpoint",
    "gcp_region_valid",
    "providers",
    "suggest_gcp_region",
    "variables",
    "vertex_model_for",
]


@functools.lru_cache(maxsize=None)
def providers() -> dict[str, Any]:
    data = read_yaml(builtin_dir(), "providers.yaml")
    # built-in: schema-checked by tests/test_knowledge.py, not on every scan
    return data


@functools.lru_cache(maxsize=None)
def variables() -> dict[str, dict[str, Any]]:
    """Variable name -> its knowledge entry."""
    data = read_yaml(builtin_dir(), "variables.yaml")
    # built-in: schema-checked by tests/test_knowledge.py, not on every scan
    return {v["name"]: v for v in data["variables"]}


def gcp_region_valid(region: str | None) -> bool:
    return bool(region) and re.fullmatch(providers()["gcp"]["region_pattern"], region) is not None


def suggest_gcp_region(region: str) -> str:
    """A GCP spelling of a likely mistyped location: AWS-style us-east-1 -> us-east1."""
    candidate = re.sub(r"-(\d+)$", r"\1", region.strip().lower())
    return candidate if gcp_region_valid(candidate) else "global"


def bedrock_prefix_for_region(region: str | None) -> str:
    """Claude Code's default inference-profile prefix for an AWS region."""
    table = providers()["claude_on_bedrock"]["region_prefixes"]
    for row in table:
        if fnmatch.fnmatchcase(region or "", row["region_glob"]):
            return str(row["prefix"])
    return "global"


def vertex_model_for(model: str) -> dict[str, Any] | None:
    """The knowledge entry for a LiteLLM model string (``vertex_ai/...``) or a bare model id."""
    wanted = model.strip()
    bare = wanted.removeprefix("vertex_ai/")
    for entry in providers()["vertex_models"]:
        if wanted in entry["litellm_models"] or bare == entry["model_id"]:
            return entry
        if any(bare == m.removeprefix("vertex_ai/") for m in entry["litellm_models"]):
            return entry
    return None


def route_endpoint(facts: Any) -> dict[str, Any]:
    """Where the client's requests go, for rule messages and fixes: ``host``, ``port``,
    ``base_url`` and the variable that sets it (``var``). In Bedrock/Vertex/Mantle mode that is
    the provider route (the ``route.target`` fact), not ANTHROPIC_BASE_URL, which the client
    never contacts then; otherwise the ``gateway.*`` facts."""
    route = facts.get("route.target")
    if isinstance(route, dict) and route.get("mode") in ("bedrock", "vertex", "mantle"):
        return {"host": route.get("host"), "port": route.get("port"), "base_url": route.get("base_url"),
                "var": route.get("base_url_var") or "ANTHROPIC_BASE_URL"}
    return {"host": facts.get("gateway.host"), "port": facts.get("gateway.port"),
            "base_url": facts.get("gateway.base_url"), "var": "ANTHROPIC_BASE_URL"}
