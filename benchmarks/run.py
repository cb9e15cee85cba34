"""gwdoctor benchmarks: one command, one table.

    .venv/bin/python benchmarks/run.py [--runs 5] [--quick] [--no-client] [--client-runs 1]
        [--json out.json]

Sections: (1) start-up vs the Python/click floor, (2) a full live scan of a healthy
LiteLLM setup, (3) time to diagnosis on six broken setups, (4) the real client's time
to fail on the same six (default retries, in parallel, ≈6 min), (5) the engine alone.
Medians with min/max over ``--runs`` runs; targets are checked and reported, never
asserted. Every server started is stopped; all traffic stays on 127.0.0.1 (plus one
``.invalid`` lookup). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _machine import describe  # noqa: E402
from _setups import BY_DESIGN, LITELLM_BIN, REPO  # noqa: E402
from _table import fmt_s, render  # noqa: E402
from bench_client import HARD_CAP_S, bench_client, claude_binary  # noqa: E402

STARTUP_TARGET = 1.25    # gwdoctor --version <= 1.25 x python -c 'import click'
HEALTHY_TARGET_S = 1.0
RANKING_TARGET_S = 1.0   # 5,000 rules
INSTALL_CAP_S = 1800.0


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ensure_lab(need_client: bool) -> list[str]:
    """Install the lab (LiteLLM, Claude Code) with `bash .ci/install` when it is missing."""
    missing = [name for name, ok in (("LiteLLM", LITELLM_BIN.exists()),
                                     ("Claude Code", (not need_client) or claude_binary()))
               if not ok]
    if not missing:
        return []
    log(f"{' and '.join(missing)} missing: running `bash .ci/install` (cap {INSTALL_CAP_S:g} s)")
    try:
        subprocess.run(["bash", ".ci/install"], cwd=REPO, check=True, timeout=INSTALL_CAP_S)
    except (subprocess.SubprocessError, OSError) as exc:
        log(f"`bash .ci/install` failed ({exc}); run it yourself from {REPO}, then rerun")
    notes = []
    if not LITELLM_BIN.exists():
        notes.append(f"LiteLLM missing ({LITELLM_BIN}): healthy scan skipped; "
                     f"run `bash .ci/install`")
    if need_client and not claude_binary():
        notes.append("Claude Code missing (.lab/claude): client section skipped; "
                     "run `bash .ci/install`")
    return notes


def compile_bytecode() -> None:
    """Write gwdoctor's bytecode as `pip install` does for a regular install. The
    development install is editable, and with PYTHONDONTWRITEBYTECODE set (as on this
    machine) its modules would be compiled from source on every run, which no installed
    gwdoctor does."""
    import compileall

    for part in ("engine", "probes", "rules", "knowledge"):
        compileall.compile_dir(str(REPO / part), quiet=1)


def guarded(name: str, errors: list[str], fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others
        log(f"{name} failed: {type(exc).__name__}: {exc}")
        errors.append(f"{name}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}")
        return None


def fmt_load(load: Any) -> str:
    return "/".join(f"{x:.2f}" for x in load) if load else "?"


def verdict_mark(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "MISSED")


def startup_section(rows: list[dict[str, Any]]) -> tuple[list[list[str]], list[dict[str, Any]]]:
    floor = next(r for r in rows if "import click" in r["benchmark"])["median_s"]
    out, targets = [], []
    for r in rows:
        ratio = r["median_s"] / floor
        target, met = "", None
        if r["benchmark"].endswith("--version"):
            target, met = f"≤ {STARTUP_TARGET:g}x click", ratio <= STARTUP_TARGET
            targets.append({"target": f"gwdoctor --version ≤ {STARTUP_TARGET:g}x "
                                      f"python -c 'import click'",
                            "measured": f"{ratio:.2f}x ({fmt_s(r['median_s'])} vs {fmt_s(floor)})",
                            "met": met})
        out.append([r["benchmark"].removeprefix("startup: "), fmt_s(r["median_s"]),
                    fmt_s(r["min_s"]), fmt_s(r["max_s"]), fmt_s(r.get("cpu_median_s")),
                    f"{ratio:.2f}x", target, verdict_mark(met)])
    return out, targets


def healthy_section(rows: list[dict[str, Any]]) -> tuple[list[list[str]], list[dict[str, Any]]]:
    out, targets = [], []
    for r in rows:
        met = r["median_s"] <= HEALTHY_TARGET_S
        good = sum(1 for s in r["samples"] if s["verdict"] == "healthy")
        verdicts = f"healthy {good}/{len(r['samples'])}"
        if good < len(r["samples"]):
            verdicts += "  !! also " + ",".join(v for v in r["verdicts"] if v != "healthy")
        rank1 = sorted({s.get("rank1") or "—" for s in r["samples"]})
        out.append([r["benchmark"].removeprefix("healthy: "), fmt_s(r["median_s"]),
                    fmt_s(r["min_s"]), fmt_s(r["max_s"]), fmt_s(r.get("cpu_median_s")),
                    f"≤ {fmt_s(HEALTHY_TARGET_S)}", verdict_mark(met),
                    verdicts, ",".join(rank1)])
        targets.append({"target": f"healthy full scan ≤ {HEALTHY_TARGET_S:g} s "
                                  f"({r['benchmark']})",
                        "measured": fmt_s(r["median_s"]), "met": met})
    return out, targets


def hits_of(r: dict[str, Any], rule_id: str) -> str:
    return f"{sum(1 for s in r['samples'] if s['rank1'] == rule_id)}/{len(r['samples'])}"


def broken_section(rows: list[dict[str, Any]]) -> tuple[list[list[str]], list[dict[str, Any]]]:
    out, targets = [], []
    for r in rows:
        met = r["median_s"] <= r["target_s"]
        rank1 = f"{r['rank1'] or '(none)'} {hits_of(r, r['expected'])}"
        if r["rank1"] != r["expected"]:
            nxt = r["samples"][0].get("rules") or []
            at = (f", {r['expected']} at rank {nxt.index(r['expected']) + 1}"
                  if r["expected"] in nxt else "")
            if r["rank1"] in (r.get("by_design") or BY_DESIGN.get(r["setup"]) or {}):
                rank1 = f"{r['rank1']} {hits_of(r, r['rank1'])} (by design{at})"
            else:
                rank1 = f"{r['rank1'] or '(none)'}  !! expected {r['expected']}{at}"
        if len(r["rank1_all"]) > 1:
            rank1 += f" (varied: {','.join(r['rank1_all'])})"
        scan_s = statistics.median((s.get("elapsed_ms") or 0) / 1000 for s in r["samples"])
        in_met = scan_s <= r["target_s"]
        out.append([r["setup"], fmt_s(r["median_s"]), fmt_s(r["min_s"]), fmt_s(r["max_s"]),
                    fmt_s(r.get("cpu_median_s")), f"≤ {fmt_s(r['target_s'])}", verdict_mark(met),
                    f"{fmt_s(scan_s)} ({verdict_mark(in_met)})", rank1, ",".join(r["verdicts"])])
        targets.append({"target": f"{r['setup']} diagnosed ≤ probe timeout + 0.5 s "
                                  f"({r['target_s']:g} s)",
                        "measured": f"{fmt_s(r['median_s'])} wall, {fmt_s(scan_s)} in scan",
                        "met": met, "rank1": r["rank1"], "expected": r["expected"],
                        "by_design": (r.get("by_design") or BY_DESIGN.get(r["setup"])
                                      or {}).get(r["rank1"])})
    return out, targets


def client_section(samples: dict[str, list[dict[str, Any]]],
                   broken: list[dict[str, Any]] | None) -> list[list[str]]:
    gw = {r["setup"]: r["median_s"] for r in broken or []}
    out = []
    for name, results in samples.items():
        if name.endswith(":alone"):
            continue
        secs = [s["seconds"] for s in results]
        med = statistics.median(secs)
        alone = samples.get(f"{name}:alone")
        alone_med = statistics.median(s["seconds"] for s in alone) if alone else None
        basis = alone_med if alone_med is not None else med
        killed = any(s["killed"] for s in results)
        exits = ",".join(sorted({str(s["exit"]) for s in results}))
        ratio = f"{basis / gw[name]:.1f}x" if name in gw and gw[name] else "—"
        out.append([name, fmt_s(med) + (" (cap: killed)" if killed else ""),
                    fmt_s(min(secs)), fmt_s(max(secs)),
                    fmt_s(alone_med) if alone_med is not None else "—", exits,
                    fmt_s(gw[name]) if name in gw else "—", ratio, results[0]["output"][:70]])
    return out


def engine_section(rows: list[dict[str, Any]]) -> tuple[list[list[str]], list[dict[str, Any]]]:
    out, targets = [], []
    for r in rows:
        target, met = "", None
        if "5,000 rules" in r["benchmark"]:
            met = r["median_s"] <= RANKING_TARGET_S
            target = f"≤ {fmt_s(RANKING_TARGET_S)}"
            targets.append({"target": f"5,000 rules ranked ≤ {RANKING_TARGET_S:g} s",
                            "measured": fmt_s(r["median_s"]), "met": met})
        note = r.get("note") or ""
        if "per_rule_us" in r:
            note = f"{r['per_rule_us']:.1f} µs/rule; {note}"
        if "per_bundle_ms" in r:
            note = f"{r['per_bundle_ms']:.2f} ms/bundle"
        out.append([r["benchmark"].removeprefix("engine: "), fmt_s(r["median_s"]),
                    fmt_s(r["min_s"]), fmt_s(r["max_s"]), target, verdict_mark(met), note])
    return out, targets


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    ap.add_argument("--quick", action="store_true",
                    help="skip the client section and the 20,000-rule set; replay 200 bundles")
    ap.add_argument("--no-client", action="store_true",
                    help="skip section 4 (the ≈6 min client runs)")
    ap.add_argument("--client-runs", type=int, default=1,
                    help="rounds of the six client runs (default 1; each ≈6 min)")
    ap.add_argument("--json", metavar="FILE", help="also write every sample and figure as JSON")
    ap.add_argument("--from-json", metavar="FILE",
                    help="measure nothing: reprint the tables of a run saved with --json")
    args = ap.parse_args(argv)
    args.runs = max(1, min(args.runs, 100))
    args.client_runs = max(1, min(args.client_runs, 10))
    return args


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the sections; every sample, figure and error goes into the returned dict."""
    import bench_engine
    import bench_live

    want_client = not (args.no_client or args.quick)
    started = time.monotonic()
    notes = ensure_lab(want_client)
    compile_bytecode()
    errors: list[str] = []
    raw: dict[str, Any] = {"machine": describe(), "args": vars(args), "notes": notes,
                           "errors": errors, "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                           "load": {"start": os.getloadavg()}}

    log(f"1. start-up x{args.runs}")
    with bench_live.shared_cache():  # gwdoctor's graph cache, as on a user's second scan on
        raw["startup"] = guarded("start-up", errors, lambda: (
            bench_engine.bench_startup(args.runs) + bench_live.bench_fixed_cost(args.runs)))
        if LITELLM_BIN.exists():
            log("2. healthy setup: starting LiteLLM (≈10 s)")
            raw["healthy"] = guarded("healthy scan", errors,
                                     lambda: bench_live.bench_healthy(args.runs, log))
        log("3. broken setups")
        raw["broken"] = guarded("broken setups", errors,
                                lambda: bench_live.bench_broken(args.runs, log))
    sizes = [1000, 5000] if args.quick else [1000, 5000, 20000]
    n_bundles = 200 if args.quick else 1000
    log(f"5. engine: ranking {sizes} rules, replaying {n_bundles} bundles, x{args.runs}")
    raw["engine"] = guarded("engine", errors, lambda: (
        bench_engine.bench_ranking(sizes, args.runs)
        + bench_engine.bench_replay(n_bundles, args.runs)))
    if want_client and claude_binary():
        log(f"4. client: {args.client_runs} round(s) of six `claude -p` in parallel")
        raw["client"] = guarded("client", errors,
                                lambda: bench_client(args.client_runs, HARD_CAP_S, log))
    raw["load"]["end"] = os.getloadavg()
    raw["total_s"] = time.monotonic() - started
    return raw


def report(raw: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The printed tables and the targets, from what :func:`measure` returned."""
    machine, runs = raw["machine"], raw["args"]["runs"]
    client_runs = raw["args"]["client_runs"]
    targets: list[dict[str, Any]] = []
    sections = []
    if raw.get("startup"):
        rows, t = startup_section(raw["startup"])
        targets += t
        counts = sorted({r.get("runs", runs) for r in raw["startup"]}, reverse=True)
        sections.append((f"1. Start-up ({' / '.join(map(str, counts))} runs: the four "
                         "~0.1 s commands round-robin, then the scans)",
                         ["command", "median", "min", "max", "cpu", "vs click", "target", "result"],
                         rows))
    if raw.get("healthy"):
        rows, t = healthy_section(raw["healthy"])
        targets += t
        sections.append((f"2. Full live scan, healthy LiteLLM on loopback ({runs} runs)",
                         ["scan", "median", "min", "max", "cpu", "target", "result", "verdict",
                          "rank 1"],
                         rows))
    if raw.get("broken"):
        rows, t = broken_section(raw["broken"])
        targets += t
        sections.append((f"3. Time to diagnosis, `gwdoctor scan --format json`, "
                         f"default --timeout 4 ({runs} runs)",
                         ["setup", "median", "min", "max", "cpu", "target", "result",
                          "in scan (target)", "rank 1", "verdict"], rows))
    if raw.get("client"):
        sections.append((f"4. Claude Code {machine.get('claude_code')} time to fail, "
                         f"default retries (six in parallel, {client_runs} round(s); "
                         f"'alone' = rerun alone)",
                         ["setup", "client", "min", "max", "alone", "exit", "gwdoctor",
                          "client/gwdoctor", "client stdout"],
                         client_section(raw["client"], raw.get("broken"))))
    if raw.get("engine"):
        rows, t = engine_section(raw["engine"])
        targets += t
        sections.append((f"5. Engine alone ({runs} runs)",
                         ["benchmark", "median", "min", "max", "target", "result", "note"], rows))
    load = raw.get("load") or {}
    header = [
        f"gwdoctor benchmarks — {raw.get('date')}, total {raw.get('total_s', 0):.0f} s",
        f"machine: {machine['cores']} cores, {machine['cpu']}, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, {machine['os']}",
        f"load average (1/5/15 min): {fmt_load(load.get('start'))} at start, "
        f"{fmt_load(load.get('end'))} at end (anything else running on the machine shows here)",
        f"versions: gwdoctor {machine['gwdoctor']} ({machine['gwdoctor_commit']}), LiteLLM "
        f"{machine['litellm']}, Claude Code {machine['claude_code']} (node {machine['node']}), "
        f"squid {machine['squid']}",
    ]
    notes = list(raw.get("notes") or []) + [e.splitlines()[0] for e in raw.get("errors") or []]
    return render(header, sections, targets, notes), targets


def _stop_cleanly(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: servers and clients stop


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # SIGTERM, and SIGINT even when a background shell set it to "ignore", end the run
    # through the finally blocks instead of leaving LiteLLM or squid behind.
    signal.signal(signal.SIGTERM, _stop_cleanly)
    signal.signal(signal.SIGINT, _stop_cleanly)
    if args.from_json:
        raw = json.loads(Path(args.from_json).read_text(encoding="utf-8"))
    else:
        raw = measure(args)
    text, targets = report(raw)
    print(text)
    raw["targets"] = targets
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
        log(f"wrote {args.json}")
    return 1 if raw.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
