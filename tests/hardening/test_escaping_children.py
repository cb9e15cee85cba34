"""Every process a scan starts, and all its descendants (setsid, nohup, a cleared environment), are
gone when it ends."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from ._hostile import gw_env, run_gw

# Each escape sleeps for its own number of seconds, so /proc tells them apart.
HELPERS = {
    "setsid": "setsid sleep 985 & echo sk-escape-token-0123456789",
    "subshell": "(sleep 986 &); echo sk-escape-token-0123456789",
    "nohup": "nohup sleep 987 >/dev/null 2>&1 & echo sk-escape-token-0123456789",
    "setsid-without-env": "env -i /usr/bin/setsid /bin/sleep 988 & echo sk-escape-token-0123456789",
    "setsid-twice-later": "setsid sh -c 'sleep 0.3; setsid sleep 989' >/dev/null 2>&1 & "
                          "echo sk-escape-token-0123456789",
    "daemonised-double-fork": "sh -c 'setsid sh -c \"sleep 984 &\" &' ; "
                              "echo sk-escape-token-0123456789",
}
CLAUDE = ("#!/bin/sh\nsetsid sleep 990 >/dev/null 2>&1 &\nenv -i /usr/bin/setsid /bin/sleep 991 "
          ">/dev/null 2>&1 &\necho '2.1.332 (Claude Code)'\n")


def _sleepers(seconds: set[str]) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
            with open(f"/proc/{name}/stat", "rb") as fh:
                state = fh.read().rpartition(b")")[2].split()[0]
        except OSError:
            continue
        if state != b"Z" and len(argv) >= 2 and argv[0].endswith(b"sleep") \
                and argv[1].decode(errors="replace") in seconds:
            found.append(int(name))
    return found


@pytest.fixture
def leftovers():
    """The test's own clean-up: kill (by pid) whatever the scan failed to end."""
    seen: list[int] = []
    yield seen
    for pid in seen:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs procfs")
@pytest.mark.parametrize("name", HELPERS)
def test_an_escaping_api_key_helper_child_is_gone_after_the_scan(name: str, tmp_path: Path,
                                                                 leftovers: list[int]) -> None:
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text(json.dumps({"apiKeyHelper": HELPERS[name]}))
    run = run_gw(["scan", "--offline", "--format", "json"], gw_env(tmp_path), tmp_path)
    assert run.code in (0, 1), run.stderr[-1500:]
    helper = json.loads(run.stdout)["facts"]["config.api_key_helper"]
    assert helper["ran"], helper
    time.sleep(0.8)  # "setsid-twice-later" would start its second sleep by now
    left = _sleepers({"984", "985", "986", "987", "988", "989"})
    leftovers.extend(left)
    assert not left, f"{name}: still running after gwdoctor exited: {left}"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs procfs")
def test_a_claude_on_path_that_leaves_children_leaves_none(tmp_path: Path,
                                                           leftovers: list[int]) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    claude.write_text(CLAUDE)
    claude.chmod(0o755)
    env = gw_env(tmp_path, PATH=f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    run = run_gw(["scan", "--offline", "--format", "json"], env, tmp_path)
    assert run.code in (0, 1), run.stderr[-1500:]
    assert json.loads(run.stdout)["facts"]["client.version_source"] == "claude --version"
    time.sleep(0.3)
    left = _sleepers({"990", "991"})
    leftovers.extend(left)
    assert not left, f"still running after gwdoctor exited: {left}"
