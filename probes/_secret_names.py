"""Which names the probes treat as secrets or credential-bearing URLs, from the knowledge's
``secrets.yaml`` (the catalogue the engine's redactor applies too)."""

from __future__ import annotations

import functools
import re
from typing import Any

from gwdoctor.engine.knowledge import read_builtin

__all__ = ["config_env_secret", "config_env_url", "litellm_secret_param"]


@functools.lru_cache(maxsize=None)
def _catalogue() -> dict[str, Any]:
    return read_builtin("secrets.yaml")


@functools.lru_cache(maxsize=None)
def config_env_secret() -> re.Pattern[str]:
    """A variable variables.yaml does not list is a secret when its upper-cased name matches."""
    return re.compile(_catalogue()["config_env"]["secret"])


@functools.lru_cache(maxsize=None)
def config_env_url() -> re.Pattern[str]:
    """A variable variables.yaml does not list holds a URL to mask when its name matches."""
    return re.compile(_catalogue()["config_env"]["url"])


@functools.lru_cache(maxsize=None)
def litellm_secret_param() -> re.Pattern[str]:
    """A LiteLLM config parameter whose value is described, never shown."""
    return re.compile(_catalogue()["litellm"]["secret_param"])
