"""Known-good gateway and client configurations: pure functions from options (and knowledge
files) to file texts."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ._client import bedrock, enterprise, proxy, vertex
from ._data import SetupError, gateway_profiles
from ._litellm import litellm_multi, litellm_vertex
from ._render import Setup, render_files

__all__ = ["KINDS", "Setup", "SetupError", "build", "gateways", "generate", "listing"]

KINDS: dict[str, Callable[[dict[str, Any]], Setup]] = {
    "litellm-vertex": litellm_vertex,
    "litellm-multi": litellm_multi,
    "enterprise": enterprise,
    "proxy": proxy,
    "bedrock": bedrock,
    "vertex": vertex,
}


def gateways() -> tuple[str, ...]:
    """The ids `generate enterprise --gateway` accepts (knowledge/setup.yaml)."""
    return tuple(gateway_profiles())


def build(kind: str, options: Mapping[str, Any]) -> Setup:
    """The setup for ``kind``; raises SetupError naming the option that cannot work."""
    if kind not in KINDS:
        raise SetupError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    opts = {k: v for k, v in options.items() if v is not None}
    if kind in ("bedrock", "vertex") and opts.get("base_url"):
        # --base-url: the same provider mode through a LiteLLM pass-through (the gateway variant)
        from ._provider_gateway import GATEWAY_VARIANTS

        return GATEWAY_VARIANTS[kind](opts)
    return KINDS[kind](opts)


def generate(kind: str, options: Mapping[str, Any]) -> dict[str, str]:
    """File name -> text. Same options, same bytes: no clock, no randomness, fixed order."""
    return render_files(build(kind, options))


def listing(files: Mapping[str, str]) -> str:
    """All files in one stream, each under a `==> name <==` line (as `tail` prints them)."""
    return "\n".join(f"==> {name} <==\n{text}" for name, text in files.items())
