"""What the provider-mode capture tests share: the pinned client, gwdoctor's offline route for the
same setup, and a run of both against a loopback recorder answering in the provider's wire format
(tests/live/_provider_fake.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from gwdoctor.probes._recorder import Recorder

REPO = Path(__file__).resolve().parents[2]
CLAUDE = REPO / ".lab/claude/node_modules/.bin/claude"
GWDOCTOR = Path(sys.executable).parent / "gwdoctor"
sys.path.insert(0, str(REPO / "tests/live"))

from _provider_fake import ProviderFake  # noqa: E402

AWS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
       "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


def _env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "CLAUDE_CODE_MAX_RETRIES": "0",
            **extra}


def _run_client(env: dict[str, str], model: str | None = None) -> subprocess.CompletedProcess[str]:
    args = [str(CLAUDE), "-p", "say hi"] + (["--model", model] if model else [])
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=env["HOME"])


def _route(env: dict[str, str], model: str | None = None) -> dict[str, Any]:
    """gwdoctor's ``route.target`` for the same setup (offline: no probe touches the network)."""
    if model:
        env = {**env, "ANTHROPIC_MODEL": model}
    out = subprocess.run([str(GWDOCTOR), "scan", "--offline", "--format", "json", "--fail-on",
                          "never"],
                         env=env, capture_output=True, text=True, timeout=60, cwd=env["HOME"])
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["facts"]["route.target"]


def _capture(extra: dict[str, str], model: str | None = None, *, base_var: str, base_path: str):
    fake = ProviderFake(require_auth=False, prefix=base_path.removesuffix("/v1"))
    with Recorder(responder=fake.respond) as rec, tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp), {**extra, base_var: rec.url + base_path})
        done = _run_client(env, model)
        route = _route(env, model)
    return done, rec.exchanges, route


def _probed(extra: dict[str, str], model: str | None = None, *, base_var: str,
            base_path: str) -> list[Any]:
    """What a live ``gwdoctor scan`` sends to the same kind of recorder."""
    fake = ProviderFake(require_auth=False, prefix=base_path.removesuffix("/v1"))
    with Recorder(responder=fake.respond) as rec, tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp), {**extra, base_var: rec.url + base_path,
                               **({"ANTHROPIC_MODEL": model} if model else {})})
        out = subprocess.run([str(GWDOCTOR), "scan", "--format", "json", "--fail-on", "never",
                              "--timeout", "3"],
                             env=env, capture_output=True, text=True, timeout=60, cwd=env["HOME"])
        assert out.returncode == 0, out.stderr
    return rec.exchanges


def _posts(exchanges: list[Any]) -> list[Any]:
    return [e for e in exchanges if e.method == "POST"]
