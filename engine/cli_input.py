"""Strict command-line input: numbers that must be finite and in range, --only areas, closed
std streams."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import click

__all__ = ["BUDGET_RANGE", "TIMEOUT_RANGE", "FiniteFloat", "check_only", "env_timeout",
           "parse_seconds", "reopen_closed_std_streams"]

TIMEOUT_RANGE = (0.1, 600.0)
BUDGET_RANGE = (0.5, 3600.0)


def parse_seconds(value: Any, low: float, high: float) -> float | None:
    """``value`` as a finite float in [low, high], or None."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and low <= number <= high else None


class FiniteFloat(click.ParamType):
    """A float in [low, high]; nan and inf are refused (click.FloatRange lets nan through:
    every comparison with nan is false, so `--timeout nan` reached the scan and failed there)."""

    name = "float"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        number = parse_seconds(value, self.low, self.high)
        if number is None:
            self.fail(f"{value!r} is not a number of seconds from {self.low:g} to {self.high:g}",
                      param, ctx)
        return number


def env_timeout(default: float = 4.0) -> float:
    """GWDOCTOR_TIMEOUT, held to the same rule as --timeout (`abc`, `nan`, `1e309` once
    exited 3 from deep inside the scan)."""
    raw = os.environ.get("GWDOCTOR_TIMEOUT")
    if not raw:
        return default
    seconds = parse_seconds(raw, *TIMEOUT_RANGE)
    if seconds is None:
        raise click.UsageError(f"GWDOCTOR_TIMEOUT={raw[:40]!r}: not a number of seconds from "
                               f"{TIMEOUT_RANGE[0]:g} to {TIMEOUT_RANGE[1]:g}")
    return seconds


def check_only(only: tuple[str, ...], probe_names: set[str]) -> None:
    """An --only area no probe has is a typo (`--only dsn` once ran nothing and printed
    "No findings"): a usage error listing the real areas."""
    areas = {n.split(".")[0] for n in probe_names}
    unknown = [a for a in only if a not in areas and a not in probe_names]
    if unknown:
        raise click.UsageError(f"--only {','.join(unknown)}: no such area "
                               f"(choose from {','.join(sorted(areas))})")


def reopen_closed_std_streams() -> bool:
    """Put /dev/null on a closed fd 0, 1 or 2 (`gwdoctor scan >&-`); True when stdout was closed.

    Python leaves sys.stdout None then, which failed as an internal error (exit 3); worse,
    the next file the scan opened would get fd 1 and receive the report."""
    stdout_closed = False
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        try:
            null = os.open(os.devnull, os.O_RDONLY if mode == "r" else os.O_WRONLY)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            setattr(sys, name, open(fd, mode, closefd=False, encoding="utf-8",
                                    errors="backslashreplace"))
        except OSError:
            continue
        stdout_closed = stdout_closed or fd == 1
    return stdout_closed
