"""The client's behaviour per version (``knowledge/client.yaml``): what the probes assume about
Claude Code when they model what it will do, and what the setup side writes for it."""

from __future__ import annotations

import functools
from typing import Any

from gwdoctor.engine.knowledge import merge_behaviour, parse_version, read_builtin

__all__ = ["assumed_client_version", "captured_versions", "client_behaviour", "merge_behaviour",
           "parse_version"]


@functools.lru_cache(maxsize=None)
def _client_data() -> dict[str, Any]:
    # Built-in and schema-checked by the test suite (tests/test_knowledge.py); validating
    # it again on every scan cost a jsonschema import (~100 ms) on the critical path.
    return read_builtin("client.yaml")


def captured_versions() -> list[str]:
    """The client versions whose behaviour the capture tier shows (tests/capture)."""
    return [str(v) for v in _client_data().get("captured_versions") or []]


def assumed_client_version() -> str:
    return str(_client_data()["assumed_version"])


def client_behaviour(version: str | None) -> dict[str, Any]:
    """Claude Code's behaviour at ``version`` (the assumed version when unknown)."""
    return merge_behaviour(_client_data(), version)
