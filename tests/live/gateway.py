"""Fixtures for the gateway side: a fake LLM upstream/gateway and a real LiteLLM proxy in front of it.

* ``fake_upstream`` (session): the fake on a free port, default (Anthropic-compatible) mode.
* ``fake_gateway`` (function): factory ``fake_gateway(mode, **options)`` for the fake playing
  a broken gateway (``openai_only``, ``prefix``, ``auth``, ``reject_beta``, ``html_login``).
* ``litellm_gateway`` (session): LiteLLM 1.108.7 serving ``LAB_MODELS`` from ``fake_upstream``,
  master key ``LAB_MASTER_KEY``, warmed up. Started once (≈8-12 s); fails loudly when
  LiteLLM is missing. Outside pytest use ``start_fake_upstream`` / ``start_litellm``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import httpx
import pytest

from ._fake_upstream import FAULTS, MODES, FakeUpstream, start_fake_upstream
from ._litellm import (
    LAB_MASTER_KEY,
    LAB_MODELS,
    LiteLLM,
    LiteLLMMissing,
    free_port,
    lab_config,
    litellm_binary,
    start_litellm,
)

__all__ = [
    "FAULTS", "LAB_MASTER_KEY", "LAB_MODELS", "MODES", "FakeUpstream", "LiteLLM", "LiteLLMMissing",
    "fake_gateway", "fake_upstream", "free_port", "lab_config", "litellm_binary", "litellm_gateway",
    "start_fake_upstream", "start_litellm", "warm_up",
]


def warm_up(gw: LiteLLM) -> None:
    """One streaming request per provider path: LiteLLM's first call loads its handlers
    (≈1 s) and coalesces the first events, which would look like a buffering gateway."""
    headers = {"authorization": f"Bearer {gw.master_key}", "anthropic-version": "2023-06-01"}
    with httpx.Client(trust_env=False, timeout=15) as client:
        for model in ("claude-sonnet-4-5", "gemini-2.5-pro"):
            body = {"model": model, "max_tokens": 1, "stream": True,
                    "messages": [{"role": "user", "content": "warm up"}]}
            with client.stream("POST", f"{gw.url}/v1/messages", headers=headers, json=body) as r:
                r.read()


@pytest.fixture(scope="session")
def fake_upstream() -> Iterator[FakeUpstream]:
    up = start_fake_upstream()
    try:
        yield up
    finally:
        up.stop()


@pytest.fixture
def fake_gateway() -> Iterator[Callable[..., FakeUpstream]]:
    started: list[FakeUpstream] = []

    def factory(mode: str = "anthropic", **options: Any) -> FakeUpstream:
        fake = start_fake_upstream(mode, **options)
        started.append(fake)
        return fake

    try:
        yield factory
    finally:
        for fake in started:
            fake.stop()


@pytest.fixture(scope="session")
def litellm_gateway(fake_upstream: FakeUpstream) -> Iterator[LiteLLM]:
    litellm_binary()  # raises LiteLLMMissing: a missing lab install is a failure, not a skip
    gw = start_litellm(lab_config(fake_upstream.url))
    try:
        warm_up(gw)
        yield gw
    finally:
        gw.stop()
