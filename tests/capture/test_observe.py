"""--observe-client: the installed binary, run against a local recorder, tells gwdoctor what it
sends. On the pinned versions what it observes must equal the captured knowledge; it must leave
the user's files alone and refuse when managed settings could send it past the recorder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from _capture import CLIENTS
from gwdoctor.engine.model import Options
from gwdoctor.engine.scan import ScanRequest, run_scan
from gwdoctor.probes.client_behaviour import client_behaviour

OBSERVED_KEYS = ("default_main_alias", "default_models", "legacy_remap", "messages_path",
                 "beta_headers", "user_agent_print_mode")


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file()}


def _scan(version: str, tmp: Path, *, root: Path | None = None, observe: bool = True,
          client_version: str | None = None) -> dict[str, Any]:
    home, cwd = tmp / "home", tmp / "project"
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    cwd.mkdir(exist_ok=True)
    settings = home / ".claude/settings.json"
    if not settings.exists():
        settings.write_text(json.dumps(
            {"model": "sonnet",
             "env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
                     "ANTHROPIC_AUTH_TOKEN": "sk-users-real-token-must-not-move"}}))
    env = {"PATH": f"{CLIENTS[version].parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
           "HOME": str(home)}
    request = ScanRequest(env=env, home=home, cwd=cwd, root=root or tmp / "root",
                          options=Options(offline=True, plugin={
                              "observe_client": observe, "client_version": client_version}),
                          load_plugins=False, only=("config",))
    return run_scan(request).report


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GWDOCTOR_CACHE_DIR", "")  # observe every time


@pytest.mark.client
@pytest.mark.parametrize("version", ["2.1.332", "2.1.197"])
def test_observation_equals_the_captured_knowledge(version: str, tmp_path: Path) -> None:
    report = _scan(version, tmp_path)
    facts = report["facts"]
    basis = facts["client.behaviour_source"]
    assert basis["kind"] == "observed", basis
    assert basis["observation"]["ok"], basis["observation"]
    knowledge = client_behaviour(version)
    for key in OBSERVED_KEYS:
        assert facts["client.behaviour"][key] == knowledge[key], key
    # The user's own model choice (settings "model": "sonnet") is applied on top.
    main = next(e for e in facts["model.requested"] if e["role"] == "main")
    assert main["sent"] == knowledge["default_models"]["sonnet"]
    assert "sk-users-real-token-must-not-move" not in json.dumps(report)


@pytest.mark.client
def test_observation_leaves_the_users_files_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    first = _scan("2.1.332", tmp_path, observe=False)
    assert first["facts"]["client.behaviour_source"]["kind"] == "captured"
    snapshot = _snapshot(home)
    report = _scan("2.1.332", tmp_path)
    assert report["facts"]["client.behaviour_source"]["kind"] == "observed"
    assert _snapshot(home) == snapshot, "the observation touched the user's HOME"


@pytest.mark.client
def test_observation_refused_when_managed_settings_set_the_route(tmp_path: Path) -> None:
    root = tmp_path / "root"
    managed = root / "etc/claude-code/managed-settings.json"
    managed.parent.mkdir(parents=True)
    managed.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://llm.corp.example"}}))
    report = _scan("2.1.332", tmp_path, root=root)
    basis = report["facts"]["client.behaviour_source"]
    assert basis["kind"] == "captured"
    assert "managed settings set ANTHROPIC_BASE_URL" in basis["observation"]["error"]


@pytest.mark.client
def test_uncaptured_version_is_said_and_observation_needs_the_real_binary(tmp_path: Path) -> None:
    report = _scan("2.1.332", tmp_path, client_version="2.1.250")
    basis = report["facts"]["client.behaviour_source"]
    assert basis["kind"] == "nearest-captured" and basis["version"] == "2.1.197"
    assert "another version" in basis["observation"]["error"]
    top = [f for f in report["findings"] if f["rule_id"] == "CFG015"]
    assert top and "2.1.250 was never captured" in top[0]["message"]


@pytest.mark.client
def test_the_cli_flag_observes_the_binary_on_path(tmp_path: Path) -> None:
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{CLIENTS['2.1.197'].parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
           "HOME": str(home), "GWDOCTOR_CACHE_DIR": ""}
    done = subprocess.run([sys.executable, "-m", "gwdoctor.engine.cli", "scan",
                           "--observe-client", "--only", "config", "--offline", "--format", "json",
                           "--fail-on", "never"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    facts = json.loads(done.stdout)["facts"]
    assert facts["client.version"] == "2.1.197"
    assert facts["client.behaviour_source"]["kind"] == "observed"
    assert facts["client.behaviour"]["default_models"]["sonnet"] == "claude-sonnet-5"
