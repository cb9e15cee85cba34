"""Which provider LiteLLM gives a model_list entry, from knowledge/litellm_routing.yaml: the
static half of its get_llm_provider, so an entry it would drop at startup is seen in the file."""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import urlsplit

from gwdoctor.engine.knowledge import read_builtin

__all__ = ["provider_hint", "provider_of"]


@functools.lru_cache(maxsize=1)
def _routing() -> dict[str, Any]:
    """knowledge/litellm_routing.yaml, its patterns compiled as LiteLLM does (case-insensitive)."""
    data = dict(read_builtin("litellm_routing.yaml"))
    data["compiled"] = [(re.compile(p["match"], re.IGNORECASE), p["provider"])
                        for p in data["patterns"]]
    data["by_name"] = {n: provider for provider, names in data["names"].items() for n in names}
    return data


def _on_endpoint(api_base: str, endpoint: str) -> bool:
    """LiteLLM's own test (_endpoint_matches_api_base): the same host, and the endpoint's path
    as a prefix of the api_base path on a segment boundary."""
    def parse(value: str) -> tuple[str, str]:
        url = urlsplit(value if "://" in value else f"https://{value}")
        return (url.hostname or "").lower(), url.path.rstrip("/")

    (host, path), (want_host, want_path) = parse(api_base), parse(endpoint)
    return bool(host) and host == want_host and (
        not want_path or path == want_path or path.startswith(want_path + "/"))


def provider_of(model: Any, params: dict[str, Any]) -> tuple[str | None, str | None]:
    """(provider, how LiteLLM finds it) for one entry, in get_llm_provider's order: via is
    "custom_llm_provider", "prefix", "api_base", "name" or "pattern"; "environment" for a
    model read from os.environ/ (unknown here); None when LiteLLM finds none and drops the entry
    (the provider is then the unknown prefix, if any)."""
    if not isinstance(model, str):
        return None, None
    if model.startswith("os.environ/"):
        return None, "environment"
    custom = params.get("custom_llm_provider")
    if isinstance(custom, str) and custom:
        return custom, "custom_llm_provider"
    routing = _routing()
    prefix = model.split("/", 1)[0] if "/" in model else None
    if prefix in routing["providers"]:
        return prefix, "prefix"
    base = params.get("api_base")
    if isinstance(base, str) and not base.startswith("os.environ/"):
        if any(_on_endpoint(base, e) for e in routing["api_bases"]):
            # An OpenAI-compatible endpoint it knows: LiteLLM keeps the entry (naming the
            # provider for a few of them only, perplexity, groq, ...; not recorded here).
            return prefix, "api_base"
    if model in routing["by_name"]:
        return routing["by_name"][model], "name"
    for pattern, provider in routing["compiled"]:
        if pattern.search(model):
            return provider, "pattern"
    return prefix, None


# The provider an api_base's host names (LiteLLM itself never infers these from the host).
_HINT_HOSTS = ((".openai.azure.com", "azure"), (".cognitiveservices.azure.com", "azure"),
               ("api.openai.com", "openai"), ("api.anthropic.com", "anthropic"))


def provider_hint(params: dict[str, Any]) -> str | None:
    """The provider the entry's other params point at, to suggest as its prefix: an Azure
    host or an ``api_version`` (only Azure takes one) is azure; OpenAI's and Anthropic's own
    hosts are theirs."""
    base = params.get("api_base")
    host = (urlsplit(base if "://" in base else f"https://{base}").hostname or "").lower() \
        if isinstance(base, str) and not base.startswith("os.environ/") else ""
    for suffix, provider in _HINT_HOSTS:
        if host == suffix.lstrip(".") or host.endswith(suffix):
            return provider
    return "azure" if params.get("api_version") else None
