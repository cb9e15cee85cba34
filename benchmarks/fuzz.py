"""Fuzz gwdoctor with hostile environments, settings files and LiteLLM YAML: one command, one
line of figures.

    .venv/bin/python benchmarks/fuzz.py [--cases 100000] [--seed 1] [--jobs 2]
        [--render-every 10] [--json out.json]

Each case is a whole offline scan in process, rendered in all five formats plus the facts
bundle (benchmarks/fuzz_cases.py says what is generated and counted). Prints the counts of
tracebacks (what the CLI would exit 3 with), probe errors, non-JSON output and leaked
secrets, all of which must be 0, with the first examples of each; exits 1 if any is not.
tests/hardening/test_fuzz.py runs the same cases for a fixed seed and count in CI.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fuzz_cases import fuzz  # noqa: E402


def _worker(args: tuple[int, int, int, int]) -> dict:
    cases, seed, index, render_every = args
    with tempfile.TemporaryDirectory(prefix=f"gwdoctor-fuzz-{index}-") as tmp:

        def progress(done: int, tally) -> None:  # type: ignore[no-untyped-def]
            print(f"worker {index}: {done}/{cases} cases, {tally.bad()} bad", file=sys.stderr,
                  flush=True)

        return fuzz(cases, seed, Path(tmp), progress, render_every).as_dict()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--render-every", type=int, default=10,
                        help="render text/markdown/SARIF/JUnit every Nth case (JSON: every case)")
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args()
    jobs = max(1, min(args.jobs, args.cases))
    shares = [args.cases // jobs + (1 if i < args.cases % jobs else 0) for i in range(jobs)]
    # Worker i uses seed*1000+i: the run is reproducible for a given --seed and --jobs.
    work = [(n, args.seed * 1000 + i, i, max(1, args.render_every)) for i, n in enumerate(shares)]
    start = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        results = pool.map(_worker, work)
    total = {k: sum(r[k] for r in results) for k in ("cases", "traceback", "probe_error",
                                                       "non_json", "leak")}
    total["wall_s"] = round(time.monotonic() - start, 1)
    total["cases_per_s"] = round(total["cases"] / max(total["wall_s"], 0.1), 1)
    total["seed"], total["jobs"], total["render_every"] = args.seed, jobs, args.render_every
    examples = [e for r in results for e in r["examples"]][:10]
    print(json.dumps(total))
    for example in examples:
        print("  example:", example[:800])
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({**total, "examples": examples}, indent=2))
    bad = total["traceback"] + total["probe_error"] + total["non_json"] + total["leak"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
