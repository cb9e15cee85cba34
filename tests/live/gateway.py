"""Fixtures for the gateway side: a fake LLM upstream/gateway and a real LiteLLM proxy in front of
it.

* ``fake_upstream`` (session): the fake on a free port, default (Anthropic-compatible) mode.
* ``fake_gateway`` (function): factory ``fake_gateway(mode, **options)`` for the fake playing
  a broken gateway (``openai_only``, ``prefix``, ``auth``, ``reject_beta``, ``html_login``,
  ``xapikey_only``, ``small_output``).
* ``litellm_gateway`` (session): LiteLLM 1.108.7 serving ``LAB_MODELS`` from ``fake_upstream``,
  master key ``LAB_MASTER_KEY``, warmed up. Started once (≈8-12 s idle, 20+ s on a busy
  machine); fails loudly when LiteLLM is missing. Outside pytest use ``start_fake_upstream`` /
  ``start_litellm``.

``pytest_collection_finish`` (exported to conftest) starts the lab in a background thread as
soon as collection shows a test needs it, so its start-up overlaps the tests that run first;
``pytest_sessionfinish`` stops it whatever happened.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
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
    "fake_gateway", "fake_upstream", "free_port", "lab_config", "litellm_binary",
    "litellm_default_session", "litellm_gateway",
    "pytest_collection_finish", "pytest_sessionfinish", "start_fake_upstream", "start_litellm",
    "warm_up",
]


def warm_up(gw: LiteLLM, models: tuple[str, ...] = ("claude-sonnet-4-5", "gemini-2.5-pro")) -> None:
    """One streaming request per provider path: LiteLLM's first call loads its handlers
    (≈1 s) and coalesces the first events, which would look like a buffering gateway."""
    headers = {"authorization": f"Bearer {gw.master_key}", "anthropic-version": "2023-06-01"}

    def one(model: str) -> None:
        body = {"model": model, "max_tokens": 1, "stream": True,
                "messages": [{"role": "user", "content": "warm up"}]}
        with httpx.Client(trust_env=False, timeout=30) as client, \
                client.stream("POST", f"{gw.url}/v1/messages", headers=headers, json=body) as r:
            r.read()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, models))


class _Lab:
    """The session's fake upstream + LiteLLM, started at most once, possibly in the background."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.upstream: FakeUpstream | None = None
        self.gateway: LiteLLM | None = None
        self.error: BaseException | None = None

    def start_in_background(self) -> None:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._start, name="litellm-lab", daemon=True)
                self.thread.start()

    def _start(self) -> None:
        try:
            litellm_binary()
            gw = start_litellm(lab_config(self.fake().url))
            self.gateway = gw
            warm_up(gw)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test that needs it
            self.error = exc

    def fake(self) -> FakeUpstream:
        with self.lock:
            if self.upstream is None:
                self.upstream = start_fake_upstream()
            return self.upstream

    def litellm(self) -> LiteLLM:
        self.start_in_background()
        assert self.thread is not None
        self.thread.join()
        if self.error is not None:
            raise self.error
        assert self.gateway is not None
        return self.gateway

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.join(90)
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        if self.upstream is not None:
            self.upstream.stop()
            self.upstream = None


_LAB = _Lab()


def pytest_collection_finish(session: pytest.Session) -> None:
    if any("litellm_gateway" in getattr(item, "fixturenames", ()) for item in session.items):
        _LAB.start_in_background()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _LAB.stop()


@pytest.fixture(scope="session")
def fake_upstream() -> FakeUpstream:
    return _LAB.fake()


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
def litellm_default_session(fake_upstream: FakeUpstream) -> Iterator[LiteLLM]:
    """A second LiteLLM serving exactly the models a default session of the pinned client sends
    (its main model and its background haiku model, captured from the client) and nothing else:
    the setup a careful user builds, which must scan healthy."""
    from ._client_truth import client_models

    sent = client_models()
    gw = start_litellm(lab_config(fake_upstream.url, models={
        sent["main"]: "anthropic/fake-main", sent["haiku"]: "anthropic/fake-haiku"}))
    try:
        warm_up(gw, (sent["main"],))
        yield gw
    finally:
        gw.stop()


@pytest.fixture(scope="session")
def litellm_gateway(fake_upstream: FakeUpstream) -> LiteLLM:
    # Raises LiteLLMMissing when the lab install is absent: a failure, never a skip.
    return _LAB.litellm()
