"""Start a real LiteLLM proxy (the lab's pinned install) on loopback, offline, in front of a fake
upstream.

Usable outside pytest::

    up = start_fake_upstream()
    gw = start_litellm(lab_config(up.url))      # ≈6-10 s
    print(gw.url, gw.master_key)
    gw.stop(); up.stop()
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

__all__ = ["LAB_MASTER_KEY", "LAB_MODELS", "LiteLLM", "LiteLLMMissing", "client_lab_models",
           "free_port", "lab_config",
           "litellm_binary", "start_litellm"]

REPO = Path(__file__).resolve().parents[2]
LAB_MASTER_KEY = "sk-gwdoctor-lab-master-4e1f"
# model_name -> upstream model behind it (anthropic/ unless "openai/"); fault tokens pick the
# fake upstream's behaviour (see _fake_upstream.FAULTS). These are the names scenarios ask for by
# name; what the client sends by itself (its default and alias models) is added by
# ``client_lab_models()`` from a capture of the real client, never from knowledge/.
LAB_MODELS = {
    "claude-sonnet-4-5": "anthropic/fake-sonnet",
    "gemini-2.5-pro": "openai/fake-gemini",
    "claude-upstream-500": "anthropic/fake-500",
    "claude-upstream-429": "anthropic/fake-429",
    "claude-upstream-401": "anthropic/fake-401",
    "claude-upstream-hang": "anthropic/fake-hang",
    "claude-upstream-cut": "anthropic/fake-cut",
    "claude-upstream-html": "anthropic/fake-html",
    "claude-upstream-buffered": "anthropic/fake-buffered",
}


class LiteLLMMissing(RuntimeError):
    """The pinned LiteLLM install is absent: tests must fail loudly, not skip."""


def litellm_binary() -> Path:
    override = os.environ.get("GWDOCTOR_LITELLM")
    candidates = [Path(override)] if override else [REPO / ".lab/litellm/bin/litellm"]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    found = shutil.which("litellm")
    if found and not override:
        return Path(found)
    raise LiteLLMMissing(
        f"LiteLLM not found at {candidates[0]} (set GWDOCTOR_LITELLM or run .ci/run to install "
        "litellm[proxy]==1.108.7 + prisma into .lab/litellm)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client_lab_models() -> dict[str, str]:
    """LAB_MODELS plus the default and alias models the pinned client really sends (captured)."""
    from ._client_truth import client_models

    captured = client_models()
    targets = {"main": "anthropic/fake-main", "opus": "anthropic/fake-opus",
               "sonnet": "anthropic/fake-sonnet-alias", "haiku": "anthropic/fake-haiku"}
    out = {captured[role]: target for role, target in targets.items()}
    return {**out, **LAB_MODELS}


def lab_config(upstream_url: str, *, master_key: str = LAB_MASTER_KEY,
               models: dict[str, str] | None = None,
               request_timeout: float = 2.0) -> dict[str, Any]:
    """A LiteLLM config serving ``models`` (default LAB_MODELS) from the fake at
    ``upstream_url``."""
    model_list = []
    for name, target in (models or client_lab_models()).items():
        openai = target.startswith("openai/")
        model_list.append({"model_name": name, "litellm_params": {
            "model": target,
            "api_base": f"{upstream_url}/v1" if openai else upstream_url,
            "api_key": "sk-fake-upstream-key"}})
    return {
        "model_list": model_list,
        "litellm_settings": {"num_retries": 0, "request_timeout": request_timeout,
                             # the fake speaks chat-completions, not the Responses API
                             "use_chat_completions_url_for_anthropic_messages": True},
        "general_settings": {"master_key": master_key},
    }


@dataclass
class LiteLLM:
    """A running proxy: ``url``, ``master_key``, ``log`` (text so far), ``stop()``."""

    url: str
    port: int
    master_key: str
    proc: subprocess.Popen[bytes]
    workdir: Path
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def log(self) -> str:
        path = self.workdir / "litellm.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LiteLLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_litellm(config: dict[str, Any], port: int | None = None, *,
                  startup_timeout: float = 60.0, env: dict[str, str] | None = None) -> LiteLLM:
    """Start LiteLLM with ``config`` on 127.0.0.1:``port`` and wait for /health/liveliness."""
    binary = litellm_binary()
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="gwdoctor-litellm-"))
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    run_env = {k: v for k, v in os.environ.items()
               if not k.lower().endswith("_proxy")
               and k not in ("DATABASE_URL", "LITELLM_MASTER_KEY")}
    run_env.update({"LITELLM_LOCAL_MODEL_COST_MAP": "True", "DISABLE_SCHEMA_UPDATE": "True",
                    "NO_DOCS": "True", "NO_PROXY": "*", "HOME": str(workdir),
                    "PYTHONUNBUFFERED": "1", **(env or {})})
    log = open(workdir / "litellm.log", "wb")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen(
        [str(binary), "--config", str(workdir / "config.yaml"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=run_env, start_new_session=True)
    log.close()
    gw = LiteLLM(url=f"http://127.0.0.1:{port}", port=port,
                 master_key=str((config.get("general_settings") or {}).get("master_key", "")),
                 proc=proc, workdir=workdir, config=config)
    # A script that dies before stop() must not leave a 400 MB proxy behind (the child is in its
    # own session, so it would not get the terminal's SIGINT either).
    atexit.register(gw.stop)
    deadline = time.monotonic() + startup_timeout
    with httpx.Client(trust_env=False, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                text = gw.log[-3000:]
                gw.stop()
                raise RuntimeError(f"LiteLLM exited with {proc.returncode} during startup:\n{text}")
            try:
                if client.get(f"{gw.url}/health/liveliness").status_code == 200:
                    return gw
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    text = gw.log[-3000:]
    gw.stop()
    raise RuntimeError(f"LiteLLM did not answer /health/liveliness within {startup_timeout:g} s:\n"
                       f"{text}")
