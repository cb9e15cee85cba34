"""Engine-alone benchmarks: start-up, ranking N synthetic rules, replaying facts bundles."""

from __future__ import annotations

import functools
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

Row = dict[str, Any]


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def row(name: str, samples: list[float], **extra: Any) -> Row:
    return {"benchmark": name, "runs": len(samples), "median_s": statistics.median(samples),
            "min_s": min(samples), "max_s": max(samples), **extra}


def bench_startup(runs: int) -> list[Row]:
    """Each command ``max(3 x runs, 15)`` times, round-robin: these take ~0.1 s, so one
    noisy moment would move a median of five, and interleaving keeps a drift in the
    machine's speed from favouring whichever command ran first."""
    py = sys.executable
    gw = str(Path(py).parent / "gwdoctor")
    commands = {"base": [py, "-c", "pass"], "click": [py, "-c", "import click"],
                "version": [gw, "--version"], "help": [gw, "--help"]}
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(max(3 * runs, 15)):
        for name, args in commands.items():
            t0 = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True)
            samples[name].append(time.perf_counter() - t0)
    base, click_floor, version, helps = (samples[k] for k in ("base", "click", "version", "help"))
    floor = statistics.median(click_floor)
    return [
        row("startup: python -c pass", base),
        row("startup: python -c 'import click'", click_floor),
        row("startup: gwdoctor --version", version,
            ratio=f"{statistics.median(version) / floor:.2f}x import click, "
                  f"{statistics.median(version) / statistics.median(base):.2f}x bare python"),
        row("startup: gwdoctor --help", helps,
            ratio=f"{statistics.median(helps) / floor:.2f}x import click"),
    ]


def synthetic(n_rules: int, seed: int = 7) -> tuple[list[Any], Any, dict[str, Any]]:
    """``n_rules`` rules over one fact set; a layered random DAG with ~2 edges per rule."""
    from gwdoctor.engine import Finding, rule
    from gwdoctor.engine.graph import GraphIndex, build_graph

    rng = random.Random(seed)
    rules, facts = [], {}
    ids = [f"SYN{i:06d}" for i in range(n_rules)]
    for i, rid in enumerate(ids):
        key = f"syn.f{i}"
        facts[key] = rng.random()
        sev = rng.choice(["critical", "error", "warning", "info"])

        def check(f: Any, key: str = key, rid: str = rid) -> Any:
            return Finding(message=f"{rid} saw {f[key]:.3f}") if f[key] > 0.7 else None

        rules.append(rule(id=rid, name=f"synthetic-{i}", cause="synthetic.case", severity=sev,
                          needs=(key,), confidence=round(rng.random(), 2))(check))
    edges = []
    for i in range(1, n_rules):
        for _ in range(2):
            j = rng.randrange(0, i)  # j < i: acyclic by construction
            edges.append({"from": ids[j], "to": ids[i], "because": "synthetic"})
    graph = build_graph([("synthetic", {"nodes": {r: {"area": "x"} for r in ids},
                                        "edges": edges})])
    return rules, GraphIndex(graph), facts


def bench_ranking(sizes: list[int], runs: int) -> list[Row]:
    from gwdoctor.engine.evaluate import evaluate
    from gwdoctor.engine.graph import GraphIndex

    rows = []
    for n in sizes:
        rules, index, facts = synthetic(n)
        t0 = time.perf_counter()
        GraphIndex(index.graph)
        build = time.perf_counter() - t0
        samples = timed(functools.partial(evaluate, rules, facts, index), runs)
        fired = len(evaluate(rules, facts, index).results)
        rows.append(row(f"engine: evaluate+rank {n:,} rules ({fired:,} fire, "
                        f"{index.graph.number_of_edges():,} edges)", samples,
                        note=f"graph index build {build * 1000:.0f} ms",
                        per_rule_us=statistics.median(samples) / n * 1e6))
    return rows


def bench_replay(n_bundles: int, runs: int) -> list[Row]:
    """Replay ``n_bundles`` facts bundles through the full built-in rule set, in process."""
    from gwdoctor.engine.model import Options
    from gwdoctor.engine.scan import ScanRequest, prepare, run_scan

    with tempfile.TemporaryDirectory() as tmp:
        live = run_scan(ScanRequest(env={"PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL":
                                         "http://127.0.0.1:9/v1"},
                                    home=Path(tmp), cwd=Path(tmp),
                                    options=Options(offline=True), load_plugins=False))
        bundle = json.loads(json.dumps(live.bundle))
    request = ScanRequest(env={}, bundle=bundle, load_plugins=False)
    prepared = prepare(request)  # plugins and graph loaded once, as a support tool would

    def replay_all() -> None:
        for _ in range(n_bundles):
            run_scan(request, prepared)

    samples = timed(replay_all, runs)
    return [row(f"engine: replay {n_bundles:,} facts bundles (full rule set)", samples,
                per_bundle_ms=statistics.median(samples) / n_bundles * 1000)]
