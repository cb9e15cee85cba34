"""Provider identifiers read the way the client and the providers read them: GCP locations,
Vertex and Bedrock model-id spellings. Pure functions over knowledge/providers.yaml, used by the
provider probes so rules get the answers as facts and hold no text patterns themselves."""

from __future__ import annotations

import fnmatch
import functools
import re
from typing import Any

from gwdoctor.engine.knowledge import read_builtin

__all__ = ["bedrock_fix", "bedrock_prefix_for_region", "gcp_region_valid", "provider_neutral",
           "providers", "suggest_gcp_region", "vertex_model_for", "vertex_spelling"]


@functools.lru_cache(maxsize=None)
def providers() -> dict[str, Any]:
    # built-in: schema-checked by tests/test_knowledge.py, not on every scan
    return dict(read_builtin("providers.yaml"))


def gcp_region_valid(region: str | None) -> bool:
    return (bool(region)
            and re.fullmatch(providers()["gcp"]["region_pattern"], str(region)) is not None)


def suggest_gcp_region(region: str) -> str:
    """A GCP spelling of a likely mistyped location: AWS-style us-east-1 -> us-east1."""
    candidate = re.sub(r"-(\d+)$", r"\1", region.strip().lower())
    return candidate if gcp_region_valid(candidate) else "global"


def bedrock_prefix_for_region(region: str | None) -> str:
    """Claude Code's default inference-profile prefix for an AWS region."""
    for row in providers()["claude_on_bedrock"]["region_prefixes"]:
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


def vertex_spelling(model: str) -> str | None:
    """Vertex's spelling of an id written the Anthropic or Bedrock way (``claude-sonnet-4-5-
    20250929`` -> ``claude-sonnet-4-5@20250929``); None when it is already Vertex's."""
    know = providers()["claude_on_vertex"]
    bare = re.sub(r"^(?:[a-z-]+\.)?anthropic\.", "", model)
    bare = re.sub(r"-v\d+(:\d+)?$", "", bare)
    match = re.fullmatch(know["api_style_dated_pattern"], bare)
    if match:
        return f"{match.group(1)}@{match.group(2)}"
    return bare if bare != model else None


def bedrock_fix(model: str, prefix: str) -> str | None:
    """The inference-profile id for a bare foundation-model id or an Anthropic-API name, None
    for an id Bedrock takes as it is (an ARN or a profile)."""
    know = providers()["claude_on_bedrock"]
    if re.match(know["arn_pattern"], model) or re.fullmatch(know["profile_id_pattern"], model):
        return None
    if re.fullmatch(know["base_id_pattern"], model):
        return f"{prefix}.{model}"
    match = re.fullmatch(r"(claude-[a-z0-9-]+?)(?:[-@](\d{8}))?", model)
    if match:
        return f"{prefix}.anthropic.{match.group(1)}-{match.group(2)}-v1:0" if match.group(2) \
            else f"{prefix}.anthropic.{match.group(1)}"
    return None


def provider_neutral(model: str) -> str:
    """The Anthropic spelling of a model id in any provider's (a LiteLLM ``model`` string too):
    ``bedrock/eu.anthropic.claude-sonnet-4-5-20250929-v1:0`` -> ``claude-sonnet-4-5-20250929``,
    ``vertex_ai/claude-3-5-haiku@20241022`` -> ``claude-3-5-haiku-20241022``."""
    base = model.split("/", 1)[-1].lower()
    for prefix in ("us.", "eu.", "apac.", "global.", "jp.", "au."):
        base = base.removeprefix(prefix)
    base = base.removeprefix("anthropic.").replace("@", "-")
    for suffix in ("-v1:0", "-v2:0", "-v1"):
        base = base.removesuffix(suffix)
    return base
