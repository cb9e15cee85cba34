"""Fuzz tier (CI): a fixed seed and count of hostile environments, settings files and LiteLLM YAML.

Every case is a whole offline scan rendered in all five formats and the facts bundle
(benchmarks/fuzz_cases.py). benchmarks/fuzz.py runs the same generator for 100,000 cases."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from fuzz_cases import fuzz  # noqa: E402

CASES = 300  # ~25 s on a loaded 2-core machine: the CI tier stays under 60 s


def test_fuzzed_environments_settings_and_yaml_give_no_traceback_leak_or_bad_json(
        tmp_path: Path) -> None:
    tally = fuzz(CASES, seed=1, workdir=tmp_path)
    assert tally.cases == CASES
    assert (tally.traceback, tally.probe_error, tally.non_json, tally.leak) == (0, 0, 0, 0), \
        tally.examples
