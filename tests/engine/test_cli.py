"""The CLI contract: formats, exit codes, bad input as one line (never a traceback), replay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

GWDOCTOR = [sys.executable, "-m", "gwdoctor.engine.cli"]


def run(args, env=None, cwd=None, timeout=60):
    base = {"PATH": os.environ["PATH"],
            "HOME": env.pop("HOME") if env and "HOME" in env else "/nonexistent",
            "NO_COLOR": "1", "LANG": "C.UTF-8"}
    base.update(env or {})
    return subprocess.run(GWDOCTOR + args, capture_output=True, text=True, env=base, cwd=cwd,
                          timeout=timeout)


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return h


def test_version_and_help():
    out = run(["--version"])
    assert out.returncode == 0 and "0.1.0" in out.stdout
    out = run(["--help"])
    assert out.returncode == 0 and "scan" in out.stdout


@pytest.mark.parametrize("args,needle", [
    (["scan", "--no-such-option"], "No such option"),
    (["scan", "--format", "xml"], "Invalid value for '--format'"),
    (["scan", "--facts", "/nonexistent/bundle.json"], "no such file"),
    (["scan", "--offline", "--output", "/nonexistent-dir/report.json"], "does not exist"),
    (["explain", "ZZZ999"], "no rule ZZZ999"),
])
def test_usage_errors_exit_2_with_one_line(args, needle, home):
    out = run(args, env={"HOME": str(home)})
    assert out.returncode == 2, out
    assert needle in out.stderr
    assert "Traceback" not in out.stderr


def test_malformed_facts_bundle_names_file_and_line(tmp_path, home):
    bad = tmp_path / "bundle.json"
    bad.write_text('{"facts": {\n  "a": 1,\n}\n')
    out = run(["scan", "--facts", str(bad)], env={"HOME": str(home)})
    assert out.returncode == 2
    assert f"{bad}:3:" in out.stderr and "Traceback" not in out.stderr
    wrong = tmp_path / "list.json"
    wrong.write_text("[1, 2]")
    out = run(["scan", "--facts", str(wrong)], env={"HOME": str(home)})
    assert out.returncode == 2 and "not a gwdoctor facts bundle" in out.stderr


def test_unwritable_output_is_a_usage_error(tmp_path, home):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    target = ro / "report.json"
    out = run(["scan", "--offline", "--output", str(target)], env={"HOME": str(home)})
    if os.geteuid() == 0:  # root writes anyway; a directory as output is still refused
        out = run(["scan", "--offline", "--output", str(tmp_path)], env={"HOME": str(home)})
        assert "is a directory" in out.stderr
    else:
        assert "not writable" in out.stderr
    assert out.returncode == 2


def test_json_report_validates_against_published_schema(home):
    schema = json.loads(run(["schema", "report"]).stdout)
    out = run(["scan", "--format", "json", "--offline", "--fail-on", "never"],
              env={"HOME": str(home)})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)  # stdout carries only the report
    jsonschema.Draft202012Validator(schema).validate(report)
    assert report["tool"] == {"name": "gwdoctor", "version": "0.1.0"}
    assert report["verdict"] in {"healthy", "degraded", "broken", "unknown"}


def test_facts_then_replay_reproduces_findings(tmp_path, home):
    bundle = tmp_path / "facts.json"
    env = {"HOME": str(home), "ANTHROPIC_BASE_URL": "http://127.0.0.1:9/v1"}
    out = run(["facts", "--offline", "--output", str(bundle)], env=dict(env))
    assert out.returncode == 0, out.stderr
    live = json.loads(run(["scan", "--offline", "--format", "json", "--fail-on", "never"],
                          env=dict(env)).stdout)
    replay = json.loads(run(["scan", "--facts", str(bundle), "--format", "json",
                             "--fail-on", "never"], env={"HOME": str(home)}).stdout)
    def strip(r: dict) -> list:
        return [{k: f[k] for k in ("rank", "rule_id", "message", "caused_by", "fixes")}
                for f in r["findings"]]

    assert strip(replay) == strip(live)
    assert replay["mode"] == "replay" and live["mode"] == "live"
    assert replay["verdict"] == live["verdict"]


@pytest.mark.parametrize("fmt", ["text", "markdown", "sarif", "junit"])
def test_every_format_renders(fmt, home):
    out = run(["scan", "--offline", "--format", fmt, "--fail-on", "never"], env={"HOME": str(home)})
    assert out.returncode == 0, out.stderr
    assert "\x1b[" not in out.stdout  # NO_COLOR / not a terminal: plain
    if fmt == "sarif":
        assert json.loads(out.stdout)["version"] == "2.1.0"
    if fmt == "junit":
        assert out.stdout.startswith("<?xml") and "<testcase" in out.stdout
    if fmt == "text":
        assert "verdict:" in out.stdout


def test_graph_and_rules_commands():
    out = run(["rules", "--format", "json"])
    assert out.returncode == 0
    ids = [r["id"] for r in json.loads(out.stdout)]
    assert "ENG001" in ids and ids == sorted(ids)
    for fmt in ("mermaid", "dot", "json"):
        assert run(["graph", "--format", fmt]).returncode == 0


def test_hostile_facts_files_are_usage_errors(tmp_path, home):
    """A FIFO, a device, deep nesting and NaN: one line, exit 2, never a hang or traceback."""
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    deep = tmp_path / "deep.json"
    deep.write_text('{"bundle_version":1,"facts":' + "[" * 100000 + "]" * 100000 + "}")
    nan = tmp_path / "nan.json"
    nan.write_text('{"bundle_version":1,"facts":{"gateway.port": NaN}}')
    for path, needle in ((fifo, "not a regular file"), (Path("/dev/zero"), "not a regular file"),
                         (deep, "nested too deeply"), (nan, "NaN is not valid JSON")):
        out = run(["scan", "--facts", str(path)], env={"HOME": str(home)}, timeout=30)
        assert out.returncode == 2, (path, out.stderr)
        assert needle in out.stderr and "Traceback" not in out.stderr


def test_non_utf8_environment_keeps_output_valid_and_never_truncates(tmp_path, home):
    """An environment value that is not UTF-8 once crashed the writer after --output was
    truncated (exit 3, the previous report lost)."""
    target = tmp_path / "report.json"
    target.write_text("PRECIOUS")
    env = {"HOME": str(home), "ANTHROPIC_MODEL": "claude\udcff-x"}
    base = {"PATH": os.environ["PATH"], "NO_COLOR": "1", "LANG": "C.UTF-8", **env}
    cmd = GWDOCTOR + ["scan", "--offline", "--format", "json", "--fail-on", "never",
                      "-o", str(target)]
    out = subprocess.run([os.fsencode(a) if isinstance(a, str) else a for a in cmd],
                         capture_output=True,
                         env={k: os.fsencode(v) for k, v in base.items()}, timeout=60)
    assert out.returncode == 0, out.stderr
    report = json.loads(target.read_text())
    assert report["tool"]["name"] == "gwdoctor"


def test_no_terminal_escape_reaches_the_text_view(tmp_path):
    """A repository's settings key (or a helper's stderr) is attacker-controlled text."""
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / "settings.json").write_text(
        '{"env": {"\\u001b]0;pwned\\u0007\\u001b[2J": 5}}')
    out = run(["scan", "--offline", "--fail-on", "never"], env={"HOME": str(home)})
    assert out.returncode == 0 and "CFG001" in out.stdout
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout
