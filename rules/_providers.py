"""Provider and variable knowledge (knowledge/providers.yaml, variables.yaml), loaded once and
schema-checked; no other I/O."""

from __future__ import annotations

import fnmatch
import functools
from typing import Any

from gwdoctor.engine.knowledge import read_builtin

__all__ = [
    "bedrock_prefix_for_region",
    "route_endpoint",
    "providers",
    "variables",
]


@functools.lru_cache(maxsize=None)
def providers() -> dict[str, Any]:
    data = read_builtin("providers.yaml")
    # built-in: schema-checked by tests/test_knowledge.py, not on every scan
    return data


@functools.lru_cache(maxsize=None)
def variables() -> dict[str, dict[str, Any]]:
    """Variable name -> its knowledge entry."""
    data = read_builtin("variables.yaml")
    # built-in: schema-checked by tests/test_knowledge.py, not on every scan
    return {v["name"]: v for v in data["variables"]}


def bedrock_prefix_for_region(region: str | None) -> str:
    """Claude Code's default inference-profile prefix for an AWS region."""
    table = providers()["claude_on_bedrock"]["region_prefixes"]
    for row in table:
        if fnmatch.fnmatchcase(region or "", row["region_glob"]):
            return str(row["prefix"])
    return "global"


def route_endpoint(facts: Any) -> dict[str, Any]:
    """Where the client's requests go, for rule messages and fixes: ``host``, ``port``,
    ``base_url`` and the variable that sets it (``var``). In Bedrock/Vertex/Mantle mode that is
    the provider route (the ``route.target`` fact), not ANTHROPIC_BASE_URL, which the client
    never contacts then; otherwise the ``gateway.*`` facts."""
    route = facts.get("route.target")
    if isinstance(route, dict) and route.get("mode") in ("bedrock", "vertex", "mantle"):
        return {"host": route.get("host"), "port": route.get("port"),
                "base_url": route.get("base_url"),
                "var": route.get("base_url_var") or "ANTHROPIC_BASE_URL"}
    return {"host": facts.get("gateway.host"), "port": facts.get("gateway.port"),
            "base_url": facts.get("gateway.base_url"), "var": "ANTHROPIC_BASE_URL"}
