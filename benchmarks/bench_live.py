"""Live gwdoctor scans against the lab setups: a healthy LiteLLM, and six broken setups.

Each scan is ``gwdoctor scan --format json`` as a subprocess (what a user runs, start-up
included) in a clean environment with a fresh empty HOME; the healthy one is also timed
in process (``run_scan``). Every run's verdict and rank-1 rule are recorded, not asserted.
"""

from __future__ import annotations

import contextlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from _setups import BROKEN, Setup, clean_env, fresh_home, healthy

GWDOCTOR = str(Path(sys.executable).parent / "gwdoctor")
DEFAULT_TIMEOUT = 4.0  # gwdoctor's default --timeout (per probe)
SCAN_CAP_S = 120.0     # hard cap on one scan subprocess


OFFLINE = Setup("offline", "offline", "", {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
                                           "ANTHROPIC_AUTH_TOKEN": "sk-gwdoctor-bench"})
_cache: dict[str, Path] = {}


@contextlib.contextmanager
def shared_cache() -> Iterator[Path]:
    """One gwdoctor cache (XDG_CACHE_HOME) for the scans inside, filled by one untimed
    scan: gwdoctor caches its compiled decision graph there, so only a user's very
    first scan pays for building it. HOME stays fresh and empty for every scan."""
    path = Path(tempfile.mkdtemp(prefix="gwdoctor-bench-cache-"))
    _cache["dir"] = path
    try:
        scan_once(OFFLINE, ("--offline",))
        yield path
    finally:
        _cache.pop("dir", None)
        shutil.rmtree(path, ignore_errors=True)


def scan_once(setup: Setup, args: tuple[str, ...] = (), *, cold: bool = False) -> dict[str, Any]:
    """One ``gwdoctor scan --format json``: wall time, exit code, verdict, rank-1 rule.
    ``cold``: without the shared cache (as a user's first scan)."""
    with fresh_home() as home:
        env = clean_env(home, setup.env)
        if "dir" in _cache and not cold:
            env["XDG_CACHE_HOME"] = str(_cache["dir"])
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([GWDOCTOR, "scan", "--format", "json", *args], env=env, cwd=home,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=SCAN_CAP_S)
        wall = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU time (user+sys) of the scan and its children (`claude --version`): unlike wall
    # time, it barely moves when other work shares the cores.
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        return {"seconds": wall, "cpu_s": cpu, "exit": proc.returncode, "verdict": "no-report",
                "rank1": None, "error": (proc.stderr or proc.stdout)[-300:]}
    findings = sorted(report.get("findings") or [], key=lambda f: f.get("rank", 0))
    slow = sorted(report.get("probes") or [], key=lambda p: -p.get("duration_ms", 0))[:3]
    return {"seconds": wall, "cpu_s": cpu, "exit": proc.returncode,
            "verdict": report.get("verdict"),
            "rank1": findings[0]["rule_id"] if findings else None,
            "rules": [f["rule_id"] for f in findings[:4]],
            "elapsed_ms": report.get("elapsed_ms"),
            "slowest_probes": [(p["name"], p["status"], p["duration_ms"]) for p in slow]}


def summarize(name: str, samples: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    secs = [s["seconds"] for s in samples]
    cpu = [s["cpu_s"] for s in samples if "cpu_s" in s]
    return {"benchmark": name, "runs": len(secs), "median_s": statistics.median(secs),
            "min_s": min(secs), "max_s": max(secs),
            "cpu_median_s": statistics.median(cpu) if cpu else None, "samples": samples, **extra}


def bench_fixed_cost(runs: int) -> list[dict[str, Any]]:
    """``gwdoctor scan --offline``: what every scan pays before and after its probes
    (interpreter, imports, plugins, knowledge and graph, rules, report validation)."""
    cold = [scan_once(OFFLINE, ("--offline",), cold=True) for _ in range(runs)]
    warm = [scan_once(OFFLINE, ("--offline",)) for _ in range(runs)]
    return [summarize("startup: gwdoctor scan --offline --format json, first scan (no cache)",
                      cold),
            summarize("startup: gwdoctor scan --offline --format json (fixed cost)", warm)]


def bench_healthy(runs: int, progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """The full live scan of a healthy setup: subprocess and in-process."""
    from gwdoctor.engine.model import Options
    from gwdoctor.engine.scan import ScanRequest, run_scan

    with healthy() as setup:
        if progress:
            progress(f"healthy scan x{runs} (subprocess) + x{runs} (in process)")
        scan_once(setup)  # first call after LiteLLM start: not timed
        sub = [scan_once(setup) for _ in range(runs)]
        inproc = []
        for _ in range(runs):
            with fresh_home() as home:
                request = ScanRequest(env=clean_env(home, setup.env), home=home, cwd=home,
                                      options=Options(probe_timeout=DEFAULT_TIMEOUT))
                t0, c0 = time.perf_counter(), time.process_time()
                outcome = run_scan(request)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            findings = outcome.report["findings"]
            inproc.append({"seconds": wall, "cpu_s": cpu, "verdict": outcome.report["verdict"],
                           "rank1": findings[0]["rule_id"] if findings else None,
                           "elapsed_ms": outcome.report["elapsed_ms"]})
    verdicts = sorted({s["verdict"] for s in sub + inproc})
    return [
        summarize("healthy: gwdoctor scan --format json (subprocess)", sub, target_s=1.0,
                  verdicts=verdicts, expected="healthy"),
        summarize("healthy: run_scan() in process", inproc, target_s=1.0, verdicts=verdicts,
                  expected="healthy"),
    ]


def bench_broken(runs: int, progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Time to diagnosis on each broken setup (default --timeout)."""
    rows = []
    for make in BROKEN:
        with make() as setup:
            if progress:
                progress(f"broken: {setup.name} x{runs}")
            samples = [scan_once(setup) for _ in range(runs)]
        rank1 = [s["rank1"] for s in samples]
        top = statistics.mode(rank1) if rank1 else None
        rows.append(summarize(
            f"diagnose: {setup.label}", samples, setup=setup.name, expected=setup.expected,
            by_design=setup.by_design,
            rank1=top, rank1_all=sorted({str(r) for r in rank1}),
            target_s=DEFAULT_TIMEOUT + 0.5,
            verdicts=sorted({str(s["verdict"]) for s in samples})))
    return rows

