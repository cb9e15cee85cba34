"""One bounded reader: hostile local files and programs cost a scan neither time nor memory, and
are findings.

Also the rule behind it: no probe module reads a file or starts a program except through
probes/_io.py (a listed, reasoned exception aside)."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Callable

import pytest
from gwdoctor.probes._io import LIMITS, parse_json, read_file, run_process

from ._hostile import gw_env, run_gw

PROBES = Path(__file__).resolve().parents[2] / "probes"
READS = {"open", "read_text", "read_bytes", "popen", "system", "fdopen", "spawnv", "spawnvp",
         "execv", "execvp", "load_cert_chain"}
# file -> the calls it may still make, each with its reason. Anything new fails.
ALLOWED = {
    "_io.py": None,  # the bounded reader itself
    # OpenSSL reads the pair itself; client_cert_info first reads both through _io
    # (regular file, 1 MiB) and returns before this call when either is not.
    "_trust.py": {"load_cert_chain": 2},
}


def _calls(path: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        name = None
        if isinstance(node, ast.Call):
            fn = node.func
            name = (fn.id if isinstance(fn, ast.Name)
                    else fn.attr if isinstance(fn, ast.Attribute) else None)
            if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) \
                    and fn.value.id == "os" and fn.attr == "read":
                name = "os.read"
            if name not in READS and name != "os.read":
                name = None
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.append(node.module)
            if any(m.split(".")[0] in ("subprocess", "pty", "multiprocessing") for m in modules):
                name = "import subprocess"
        if name:
            found[name] = found.get(name, 0) + 1
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in PROBES.glob("*.py")))
def test_no_probe_reads_a_file_or_runs_a_program_outside_the_bounded_reader(module: str) -> None:
    allowed = ALLOWED.get(module, {})
    if allowed is None:
        return
    extra = {k: n for k, n in _calls(PROBES / module).items() if n > allowed.get(k, 0)}
    assert not extra, f"probes/{module}: use probes/_io (read_file, run_process), not {extra}"


# ---- the reader itself ---------------------------------------------------------------------

def test_special_files_are_problems_found_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    zero = tmp_path / "zero"
    zero.symlink_to("/dev/zero")
    sparse = tmp_path / "sparse"
    with open(sparse, "wb") as fh:
        fh.truncate(2 * 2**30)
    sock_path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    start = time.monotonic()
    try:
        results = {name: read_file(path, "claude_json") for name, path in
                   [("fifo", fifo), ("zero", zero), ("sparse", sparse), ("socket", sock_path),
                    ("dir", tmp_path), ("missing", tmp_path / "nope")]}
    finally:
        sock.close()
    assert time.monotonic() - start < 1
    assert "FIFO" in results["fifo"].problem and "character device" in results["zero"].problem
    assert results["sparse"].problem.startswith("larger than")
    assert results["socket"].problem and results["dir"].problem
    assert results["missing"].missing and not any(r.ok for r in results.values())


def test_a_regular_file_at_the_cap_is_read_and_one_byte_more_is_not(tmp_path: Path) -> None:
    f = tmp_path / "creds"
    f.write_bytes(b"x" * LIMITS["credentials"])
    assert read_file(f, "credentials").data == b"x" * LIMITS["credentials"]
    f.write_bytes(b"x" * (LIMITS["credentials"] + 1))
    assert not read_file(f, "credentials").ok


def test_deep_json_is_a_problem_not_a_recursion_error() -> None:
    assert parse_json("[" * 100000 + "]" * 100000)[1]
    assert parse_json("[" * 65 + "]" * 65)[1]
    assert parse_json('{"a": [1, {"b": 2}]}') == ({"a": [1, {"b": 2}]}, None)


def test_a_program_that_prints_for_ever_is_cut_in_time_and_size() -> None:
    start = time.monotonic()
    done = run_process(["/bin/sh", "-c", "yes 0123456789abcdef"], env=os.environ, timeout=1,
                       cap=4096)
    assert time.monotonic() - start < 3 and done.timed_out and len(done.stdout) == 4096


# ---- whole scans with hostile local files ----------------------------------------------------

def _fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


def _zero(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to("/dev/zero")


def _sparse(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(2 * 2**30)


def _deep(path: Path) -> None:
    path.write_text('{"projects": ' + "[" * 200000 + "]" * 200000 + "}")


def _sso_zero(home: Path) -> dict[str, str]:
    config = home / ".aws" / "config"
    config.parent.mkdir(parents=True)
    config.write_text("[profile dev]\nsso_session = corp\nregion = us-east-1\n"
                      "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n")
    cache = home / ".aws" / "sso" / "cache" / f"{hashlib.sha1(b'corp').hexdigest()}.json"
    _zero(cache)
    return {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_PROFILE": "dev"}


def _printing_claude(home: Path) -> dict[str, str]:
    bin_dir = home / "bin"
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    claude.write_text("#!/bin/sh\nexec yes '2.1.332 (Claude Code) and more'\n")
    claude.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin"}


def _made(make: Callable[[Path], None], *rel: str,
          env: dict[str, str] | None = None) -> Callable[[Path], dict[str, str]]:
    """A case that makes one hostile file under HOME (``make``) and adds ``env`` ("{path}" in a
    value is that file)."""
    def setup(home: Path) -> dict[str, str]:
        path = home.joinpath(*rel)
        make(path)
        return {k: v.replace("{path}", str(path)) for k, v in (env or {}).items()}
    return setup


HOSTILE_FILES: dict[str, Callable[[Path], dict[str, str]]] = {
    "~/.claude.json -> /dev/zero": _made(_zero, ".claude.json"),
    "~/.claude.json FIFO": _made(_fifo, ".claude.json"),
    "~/.claude.json 2 GB sparse": _made(_sparse, ".claude.json"),
    "~/.claude.json nested 200,000 deep": _made(_deep, ".claude.json"),
    "settings.json FIFO": _made(_fifo, ".claude", "settings.json"),
    "settings.json -> /dev/zero": _made(_zero, ".claude", "settings.json"),
    "AWS_CONFIG_FILE=/dev/zero (Bedrock)": lambda h: {"AWS_CONFIG_FILE": "/dev/zero",
                                                      "CLAUDE_CODE_USE_BEDROCK": "1"},
    "AWS_SHARED_CREDENTIALS_FILE FIFO (Bedrock)": _made(
        _fifo, "creds", env={"AWS_SHARED_CREDENTIALS_FILE": "{path}",
                             "CLAUDE_CODE_USE_BEDROCK": "1"}),
    "SSO cache -> /dev/zero (Bedrock)": _sso_zero,
    "claude on PATH prints for ever": _printing_claude,
}


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_a_hostile_local_file_costs_no_time_or_memory(name: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    extra = HOSTILE_FILES[name](home)
    run = run_gw(["scan", "--offline", "--format", "json", "--timeout", "2"],
                 gw_env(home, **extra), tmp_path, timeout=120)
    assert run.code in (0, 1) and "Traceback" not in run.stderr, (run.code, run.stderr[-1500:])
    assert run.wall < 10 and run.maxrss_mb < 200, (name, run.wall, run.maxrss_mb)
    report = json.loads(run.stdout)
    # Config findings are not lost: a fresh HOME has no credential, which is still said
    # (the FIFO once timed the config probe out, and exit was 0).
    ids = {f["rule_id"] for f in report["findings"]}
    assert run.code == 1 and ids, (name, ids)
    assert not [p for p in report["probes"]
                if p["status"] in ("error", "timeout")], report["probes"]


@pytest.mark.parametrize("name", ["settings.json FIFO", "settings.json -> /dev/zero"])
def test_a_special_settings_file_is_named_in_a_finding(name: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    HOSTILE_FILES[name](home)
    run = run_gw(["scan", "--offline", "--format", "json"], gw_env(home), tmp_path)
    messages = " ".join(f["message"] for f in json.loads(run.stdout)["findings"])
    assert "settings.json" in messages and "not a regular file" in messages, messages
