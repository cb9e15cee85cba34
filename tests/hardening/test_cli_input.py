"""Strict CLI input: a bad number, a typo in --only, or a closed std stream is one line and exit 2,
never 3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ._hostile import gw_env

ENTRY = [sys.executable, "-c", "from gwdoctor.engine.cli import entry; entry()"]


def gw(args: list[str], tmp: Path, *, env: dict[str, str] | None = None, shell_redirect: str = "",
       ) -> subprocess.CompletedProcess[str]:
    env = {**gw_env(tmp), **(env or {})}
    if shell_redirect:  # run through sh so the descriptor is really closed, as a user would
        cmd = " ".join(f"'{a}'" for a in ENTRY + args) + " " + shell_redirect
        return subprocess.run(["/bin/sh", "-c", cmd], env=env, cwd=tmp, capture_output=True,
                              text=True, timeout=120)
    return subprocess.run(ENTRY + args, env=env, cwd=tmp, capture_output=True, text=True,
                          timeout=120)


def _one_line_usage(out: subprocess.CompletedProcess[str]) -> None:
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr


@pytest.mark.parametrize("args", [
    ["--timeout", "nan"], ["--budget", "nan"], ["--timeout", "inf"], ["--budget", "-inf"],
    ["--timeout", "1e309"], ["--timeout", "0"], ["--budget", "abc"],
])
def test_a_number_option_that_is_not_finite_and_in_range_is_a_usage_error(args: list[str],
                                                                          tmp_path: Path) -> None:
    _one_line_usage(gw(["scan", "--offline", *args], tmp_path))


@pytest.mark.parametrize("value", ["abc", "nan", "1e309", "-1", "0", "inf"])
@pytest.mark.parametrize("command", ["scan", "facts"])
def test_gwdoctor_timeout_is_validated_like_the_option(value: str, command: str,
                                                       tmp_path: Path) -> None:
    out = gw([command, "--offline"], tmp_path, env={"GWDOCTOR_TIMEOUT": value})
    _one_line_usage(out)
    assert "GWDOCTOR_TIMEOUT" in out.stderr


def test_a_valid_gwdoctor_timeout_still_applies(tmp_path: Path) -> None:
    out = gw(["facts", "--offline"], tmp_path, env={"GWDOCTOR_TIMEOUT": "2.5"})
    assert out.returncode == 0, out.stderr
    assert '"timeout": 2.5' in out.stdout


def test_an_unknown_only_area_is_a_usage_error_listing_the_valid_ones(tmp_path: Path) -> None:
    out = gw(["scan", "--offline", "--only", "dsn"], tmp_path)
    _one_line_usage(out)
    assert "dsn" in out.stderr and "dns" in out.stderr and "config" in out.stderr


def test_a_known_only_area_still_runs(tmp_path: Path) -> None:
    out = gw(["scan", "--offline", "--only", "config,dns", "--format", "json"], tmp_path)
    assert out.returncode in (0, 1), out.stderr


def test_a_closed_stdout_is_a_usage_error_not_an_internal_one(tmp_path: Path) -> None:
    out = gw(["scan", "--offline"], tmp_path, shell_redirect=">&-")
    _one_line_usage(out)
    assert "stdout" in out.stderr


def test_a_closed_stdout_with_output_file_still_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    out = gw(["scan", "--offline", "--format", "json", "-o", str(report)], tmp_path,
             shell_redirect=">&-")
    assert out.returncode in (0, 1), out.stderr
    assert report.read_text().startswith("{")


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize("redirect", ["2>&-", "2>&- <&-"])
def test_a_closed_stderr_or_stdin_changes_nothing(redirect: str, fmt: str, tmp_path: Path) -> None:
    out = gw(["scan", "--offline", "--format", fmt], tmp_path, shell_redirect=redirect)
    assert out.returncode in (0, 1) and "verdict" in out.stdout, out.returncode
