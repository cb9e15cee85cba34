"""Agreement with the real client: gwdoctor's verdict (healthy vs broken) matches whether
Claude Code 2.1.332 (`claude -p`) actually got an answer on the same live setup."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from _harness import CLAUDE, all_scenarios, isolated, load, materialise, scan

CLIENT_SCENARIOS = [p for p in all_scenarios() if load(p).get("client")]
ANSWER = "Hello from fake upstream."


def run_client(setup: Any, model: str | None,
               options: dict[str, Any] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(setup.env)
    # Offline, fast and identical output: retries change only the time (live-lab-notes §4.1).
    env.update({"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "CLAUDE_CODE_MAX_RETRIES": "0",
                "API_TIMEOUT_MS": env.get("API_TIMEOUT_MS", "8000")})
    args = ([*isolated(options or {}), str(CLAUDE), "-p", "say hi"]
            + (["--model", model] if model else []))
    return subprocess.run(args, env=env, cwd=setup.cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=90)


@pytest.mark.client
def test_the_pinned_client_is_installed() -> None:
    assert CLAUDE.exists(), f"Claude Code not installed at {CLAUDE}: run bash .ci/install"
    out = subprocess.run([str(CLAUDE), "--version"], capture_output=True, text=True, timeout=30)
    assert out.stdout.startswith("2.1.332"), out.stdout


@pytest.mark.client
@pytest.mark.parametrize("path", CLIENT_SCENARIOS, ids=lambda p: p.stem)
def test_verdict_matches_the_real_client(path: Path, parts: Any, tmp_path: Path) -> None:
    data = load(path)
    setup = materialise(data, tmp_path, parts(data.get("parts") or []))
    report = scan(setup, data.get("options") or {})
    client = run_client(setup, data.get("client_model"), data.get("options") or {})
    client_ok = client.returncode == 0 and ANSWER in client.stdout
    gwdoctor_ok = report["verdict"] in ("healthy", "degraded")
    top = [(f["rule_id"], f["message"][:80]) for f in report["findings"][:3]]
    assert gwdoctor_ok == client_ok, (
        f"gwdoctor says {report['verdict']} {top}; client rc={client.returncode} "
        f"stdout={client.stdout.strip()[:300]!r} stderr={client.stderr.strip()[:300]!r}")
    if data.get("client_expect"):
        assert data["client_expect"] in client.stdout + client.stderr
