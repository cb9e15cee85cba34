"""What an interactive session sends, under a real pseudo-terminal (tmux): which models it uses
for one prompt, and that gwdoctor counts exactly those as in use. Captured on both versions:
one prompt sends the main model only (no background haiku request within the session)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from _capture import CLIENTS, TOKEN, Capture, Case, predict
from gwdoctor.probes._recorder import Recorder


def _interactive(version: str, env_extra: dict[str, str]) -> tuple[list[str | None], str, Capture]:
    tmux = shutil.which("tmux")
    assert tmux, "tmux is needed for the interactive capture (bash .ci/install installs it)"
    # The client may still be writing its session files while tmux tears the pane down: the
    # clean-up must not fail the test for that.
    with Recorder() as rec, tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        home, cwd = Path(tmp, "home"), Path(tmp, "project")
        home.mkdir()
        cwd.mkdir()
        # Onboarding and the trust prompt already answered, as on a machine in daily use.
        (home / ".claude.json").write_text(json.dumps({
            "hasCompletedOnboarding": True, "theme": "dark",
            "projects": {str(cwd): {"hasTrustDialogAccepted": True}}}))
        env = {"PATH": f"{CLIENTS[version].parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
               "HOME": str(home), "TERM": "xterm-256color", "LANG": "C.UTF-8",
               "ANTHROPIC_BASE_URL": rec.url, "ANTHROPIC_AUTH_TOKEN": TOKEN,
               "CLAUDE_CODE_MAX_RETRIES": "0", **env_extra}
        sock = str(Path(tmp, "tmux.sock"))
        args = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        subprocess.run([tmux, "-S", sock, "new-session", "-d", "-x", "160", "-y", "40", *args,
                        "-c", str(cwd), str(CLIENTS[version])], env=env, check=True, timeout=30)
        screen = ""
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "?" not in screen and ">" not in screen:
                time.sleep(0.5)
                screen = subprocess.run([tmux, "-S", sock, "capture-pane", "-p"], env=env,
                                        capture_output=True, text=True, timeout=10).stdout
            subprocess.run([tmux, "-S", sock, "send-keys", "say hi", "Enter"], env=env, timeout=10)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "Hello from the gwdoctor recorder" not in screen:
                time.sleep(0.5)
                screen = subprocess.run([tmux, "-S", sock, "capture-pane", "-p"], env=env,
                                        capture_output=True, text=True, timeout=10).stdout
            time.sleep(3)  # room for any background request after the answer
        finally:
            subprocess.run([tmux, "-S", sock, "kill-server"], env=env, timeout=10)
        models = [e.model for e in rec.exchanges
                  if e.method == "POST" and e.path.endswith("/v1/messages")]
        cap = Capture(Case("interactive", (), env=env_extra), version, 0, screen, "", [], [],
                      {"recorder": rec.url, "proxy": "", "recorder_port": str(rec.port)})
        return models, screen, cap


@pytest.mark.client
@pytest.mark.parametrize("version", ["2.1.332", "2.1.197"])
def test_an_interactive_prompt_sends_what_gwdoctor_counts_as_in_use(version: str) -> None:
    models, screen, cap = _interactive(version, {"ANTHROPIC_DEFAULT_HAIKU_MODEL": "gw-haiku"})
    assert "Hello from the gwdoctor recorder" in screen, screen[-800:]
    facts = predict(cap)
    main = next(e["sent"] for e in facts["model.requested"] if e["role"] == "main")
    in_use = {e["sent"] for e in facts["model.requested"] if e.get("in_use")}
    assert models and models[0] == main, models
    assert set(models) <= in_use, f"the session sent {models}; gwdoctor counts {in_use} as in use"
    # Captured: one prompt sends only the main model; the haiku model is not requested.
    assert "gw-haiku" not in models
