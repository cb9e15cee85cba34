"""apiKeyHelper, run as the client runs it: bounded, its output only in the vault, its stderr
masked, its children killed."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from _box import CANARY, Box


def _script(box: Box, body: str) -> Path:
    path = box.home / "helper.sh"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_helper_token_goes_to_the_vault_only(box: Box) -> None:
    helper = _script(box, f'echo "$GW_TEAM-$(basename "$PWD")-{CANARY}"\n')
    box.write("user", {"apiKeyHelper": str(helper), "env": {"GW_TEAM": "team1"}})
    facts, ctx = box.run()
    h = facts["config.api_key_helper"]
    assert h["ran"] and h["exit_code"] == 0 and h["output_shape"] == "token" and h["usable"]
    assert h["needs_trust"] is False and h["source"]["layer"] == "user"
    assert CANARY not in json.dumps(facts)
    assert ctx.vault.get("auth.helper_output") == f"team1-proj-{CANARY}"
    assert facts["auth.credential_source"] == "apiKeyHelper"
    assert facts["auth.headers"] == ["authorization", "x-api-key"]


def test_helper_failure_keeps_stderr_but_scrubs_the_output(box: Box) -> None:
    helper = _script(box, f'echo {CANARY}\necho "token {CANARY} refused" >&2\nexit 3\n')
    box.write("user", {"apiKeyHelper": f"sh {helper}"})
    facts, _ = box.run()
    h = facts["config.api_key_helper"]
    assert h["exit_code"] == 3 and not h["usable"]
    assert h["stderr_excerpt"] == "token *** refused"
    assert CANARY not in json.dumps(facts)


@pytest.mark.parametrize("body, shape", [
    ('echo "Fetching token..."; echo sk-abc\n', "multiline"),
    ("printf ''\n", "empty"),
    ("printf 'sk-\\001x'\n", "nonprintable"),
    ("head -c 20000 /dev/zero | tr '\\0' a\n", "too_long"),
])
def test_helper_output_shapes(box: Box, body: str, shape: str) -> None:
    box.write("user", {"apiKeyHelper": f"sh {_script(box, body)}"})
    facts, _ = box.run()
    assert facts["config.api_key_helper"]["output_shape"] == shape
    assert facts["config.api_key_helper"]["usable"] is False


def test_helper_timeout_kills_it(box: Box) -> None:
    box.write("user", {"apiKeyHelper": "echo start; sleep 30; echo never"})
    facts, _ = box.run(timeout=1.0)
    h = facts["config.api_key_helper"]
    assert h["timed_out"] is True and h["exit_code"] is None and h["duration_ms"] < 5000


def test_project_helper_is_not_run_before_trust(box: Box) -> None:
    marker = box.cwd / "ran"
    box.write("project", {"apiKeyHelper": f"touch {marker}; echo sk-x"})
    facts, _ = box.run()
    h = facts["config.api_key_helper"]
    assert h["needs_trust"] is True and h["ran"] is False and not marker.exists()
    (box.home / ".claude.json").write_text(json.dumps(
        {"projects": {str(box.cwd): {"hasTrustDialogAccepted": True}}}))
    facts, _ = box.run()
    assert facts["config.api_key_helper"]["ran"] is True and marker.exists()


# --- client.version ------------------------------------------------------------------------------


def test_helper_stderr_is_masked_for_secrets_and_escapes(box: Box) -> None:
    body = ('echo sk-ant-api03-CANARY3abc\n'
            'echo "refresh_token=rt-CANARY1 password=CANARY2 Authorization: Bearer CANARY4" >&2\n'
            'echo "bare CANARY3abc and a blob QUJDREVGR0hJSktMTU5PUFFS" >&2\n'
            "printf 'x\\033]0;CANARY5\\007y\\033[31mred\\033[0m\\r\\n' >&2\n"
            'exit 2\n')
    box.write("user", {"apiKeyHelper": f"sh {_script(box, body)}"})
    facts, _ = box.run()
    excerpt = facts["config.api_key_helper"]["stderr_excerpt"]
    dumped = json.dumps(facts)
    assert "CANARY" not in dumped and "QUJDREVG" not in dumped
    assert "refresh_token=***" in excerpt and "password=***" in excerpt and "bare ***" in excerpt
    assert "\x1b" not in excerpt and "\x07" not in excerpt and "\r" not in excerpt
    assert "xyred" in excerpt  # short diagnostic text survives


def _gone(pid: int, wait: float = 2.0) -> bool:
    import time
    end = time.monotonic() + wait  # SIGKILL is delivered asynchronously
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):  # killed; a zombie waits for a reaper that may not exist here
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.02)


def test_helper_background_children_are_killed(box: Box) -> None:
    pidfile = box.home / "child.pid"
    box.write("user", {"apiKeyHelper": f"sleep 30 & echo $! > {pidfile}; echo sk-x"})
    facts, _ = box.run(timeout=1.0)
    pid = int(pidfile.read_text())
    try:
        assert _gone(pid), "the helper's background child survived the probe"
        assert facts["config.api_key_helper"]["timed_out"] is True  # it held the pipe open
    finally:
        if not _gone(pid, 0):
            os.kill(pid, 9)


def test_helper_lingering_child_is_killed_even_when_the_pipes_close(box: Box) -> None:
    pidfile = box.home / "child.pid"
    # The helper's own shell records the child's pid ($!) before it prints the key: a
    # child writing its own pid raced with the kill and left no pidfile.
    box.write("user", {"apiKeyHelper":
                       f"sleep 30 >/dev/null 2>&1 & echo $! > {pidfile}; echo sk-x"})
    facts, _ = box.run(timeout=4.0)
    pid = int(pidfile.read_text())
    try:
        assert _gone(pid)
        h = facts["config.api_key_helper"]
        assert h["timed_out"] is False and h["exit_code"] == 0 and h["usable"]
    finally:
        if not _gone(pid, 0):
            os.kill(pid, 9)




def test_ctrl_c_mid_scan_still_kills_a_running_helper(tmp_path: Path) -> None:
    """Ctrl-C ends the scan (exit 130) before the probe thread's clean-up runs; the helper
    sits in its own session, out of reach of the terminal's SIGINT, so the exit kills it."""
    import signal
    import subprocess
    import sys
    import time

    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    pidfile = tmp_path / "helper.pid"
    (home / ".claude" / "settings.json").write_text(json.dumps(
        {"apiKeyHelper": f"echo $$ > {pidfile}; exec sleep 30"}))
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "gwdoctor.engine.cli", "scan", "--offline",
                             "--timeout", "20"], env=env, cwd=home,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline and proc.poll() is None, "the helper never started"
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    try:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        assert _gone(pid), "the apiKeyHelper outlived gwdoctor"
    finally:
        if proc.poll() is None:
            proc.kill()
        if not _gone(pid, 0):
            os.kill(pid, 9)
