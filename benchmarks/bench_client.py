"""Time the real client (`claude -p`) to fail on each broken setup, with its default retries.

All setups run at once (the client spends its time in backoff sleeps, so six in
parallel cost about as long as the slowest one). Each call has a hard cap; an
overrun is killed (its whole process group) and reported as such.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from _setups import BROKEN, CLAUDE_BIN, Setup, clean_env, fresh_home

PROMPT = "say hi"
HARD_CAP_S = 600.0
FAST_S = 30.0  # a call that failed faster than this was not retried


def claude_binary() -> Path | None:
    override = os.environ.get("GWDOCTOR_CLAUDE")
    path = Path(override) if override else CLAUDE_BIN / "claude"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def client_version() -> str | None:
    binary = claude_binary()
    if binary is None:
        return None
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.split()[0] if out.stdout.split() else None


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:160]


def run_round(setups: list[Setup], cap: float = HARD_CAP_S) -> dict[str, dict[str, Any]]:
    """Start one `claude -p` per setup, all at once; wait (≤ cap) for every one."""
    binary = claude_binary()
    assert binary is not None
    results: dict[str, dict[str, Any]] = {}
    with contextlib.ExitStack() as stack:
        procs: dict[str, tuple[subprocess.Popen[bytes], float, Path]] = {}
        for s in setups:
            home = stack.enter_context(fresh_home("gwdoctor-bench-client-"))
            env = clean_env(home, {**s.env, **s.client_env,
                                   "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"})
            out_path = home / "client.out"
            # files, not pipes: nobody drains a pipe during a 6-minute wait
            with open(out_path, "wb") as out, open(home / "client.err", "wb") as err:
                proc = subprocess.Popen([str(binary), "-p", PROMPT, "--model", s.model],
                                        stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                        cwd=home, env=env, start_new_session=True)
            procs[s.name] = (proc, time.monotonic(), out_path)
        try:
            deadline = time.monotonic() + cap
            while procs and time.monotonic() < deadline:
                for name, (proc, t0, out_path) in list(procs.items()):
                    if proc.poll() is not None:
                        results[name] = {"seconds": time.monotonic() - t0, "exit": proc.returncode,
                                         "killed": False,
                                         "output": _first_line(
                                             out_path.read_text(errors="replace"))}
                        del procs[name]
                time.sleep(0.05)
        finally:
            for name, (proc, t0, out_path) in procs.items():  # over the cap: kill the group
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
                results[name] = {"seconds": time.monotonic() - t0, "exit": proc.returncode,
                                 "killed": True,
                                 "output": _first_line(out_path.read_text(errors="replace"))}
    return results


def bench_client(rounds: int, cap: float = HARD_CAP_S,
                 progress: Any = None) -> dict[str, list[dict[str, Any]]]:
    """``rounds`` rounds of the six broken setups in parallel: setup name -> list of results.

    Six Node start-ups at once on a small machine add seconds to the calls that fail at
    once (TLS, 407: not retried), so each of those is also timed alone afterwards
    (key ``<name>:alone``); the retried ones spend minutes asleep and are not affected."""
    samples: dict[str, list[dict[str, Any]]] = {}
    with contextlib.ExitStack() as stack:
        setups = [stack.enter_context(make()) for make in BROKEN]
        for i in range(rounds):
            if progress:
                progress(f"client round {i + 1}/{rounds}: {len(setups)} setups in parallel "
                         f"(≈6 min, cap {cap:g} s)")
            for name, res in run_round(setups, cap).items():
                samples.setdefault(name, []).append(res)
        for s in setups:
            if all(r["seconds"] < FAST_S for r in samples.get(s.name, [])):
                alone = [run_round([s], cap)[s.name] for _ in range(max(rounds, 3))]
                samples[s.name + ":alone"] = alone
    return samples


if __name__ == "__main__":  # python benchmarks/bench_client.py [rounds] > client.json
    import json
    import sys

    print(json.dumps(bench_client(int(sys.argv[1]) if len(sys.argv) > 1 else 1,
                                  progress=lambda m: print(m, file=sys.stderr)), indent=1))
