"""Third-party plugins through the `gwdoctor` entry-point group, installed for real with pip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


def _install(name: str, target: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(target),
                    str(PLUGINS / name)], check=True, capture_output=True, timeout=180)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    _install("sample", target)
    _install("broken", target)
    return target


def gw(args, site, **env):
    full = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "NO_COLOR": "1",
            "PYTHONPATH": str(site), **env}
    return subprocess.run([sys.executable, "-m", "gwdoctor.engine.cli", *args],
                          capture_output=True, text=True, env=full, timeout=60)


def test_plugin_rule_and_probe_load_through_the_entry_point(site):
    out = gw(["rules", "--format", "json"], site)
    rules = {r["id"]: r for r in json.loads(out.stdout)}
    assert rules["SMP001"]["plugin"] == "sample"
    report = json.loads(gw(["scan", "--offline", "--format", "json", "--fail-on", "never"], site,
                           GWDOCTOR_SAMPLE_MARKER="on").stdout)
    assert any(f["rule_id"] == "SMP001" and "on" in f["message"] for f in report["findings"])
    probes = {p["name"]: p for p in report["probes"]}
    assert probes["sample.marker"]["status"] == "ok"
    assert {"plugin": "sample", "value": "gwdoctor_sample", "version": "1.2.3"} in report["plugins"]


def test_broken_import_and_raising_probe_become_findings_and_the_scan_completes(site):
    report = json.loads(gw(["scan", "--offline", "--format", "json", "--fail-on", "never"],
                           site).stdout)
    by_rule = {}
    for f in report["findings"]:
        by_rule.setdefault(f["rule_id"], []).append(f)
    assert any("broken" in f["message"] for f in by_rule["ENG003"])
    assert any("sample.raises" in f["message"] and "ZeroDivisionError" in f["message"]
               for f in by_rule["ENG001"])
    probes = {p["name"]: p["status"] for p in report["probes"]}
    assert probes["sample.raises"] == "error"
    assert probes["sample.marker"] == "ok"  # the other probes' results are intact
    assert all(s in {"ok", "failed", "skipped", "error", "timeout"} for s in probes.values())


def test_hanging_probe_times_out_and_is_reported(site):
    out = gw(["scan", "--offline", "--format", "json", "--fail-on", "never"], site,
             GWDOCTOR_SAMPLE_HANG="1")
    report = json.loads(out.stdout)
    probes = {p["name"]: p for p in report["probes"]}
    assert probes["sample.hangs"]["status"] == "timeout"
    assert any(f["rule_id"] == "ENG002" for f in report["findings"])


def test_no_plugins_and_disable_list(site):
    out = gw(["rules", "--format", "json", "--no-plugins"], site)
    assert "SMP001" not in out.stdout
    out = gw(["scan", "--offline", "--format", "json", "--fail-on", "never"], site,
             GWDOCTOR_DISABLE_PLUGINS="broken,sample")
    report = json.loads(out.stdout)
    assert not any(f["rule_id"] in {"ENG003", "SMP001", "ENG001"} for f in report["findings"])
