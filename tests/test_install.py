"""A real `pip install .` into a fresh virtual environment, then the CI contract on an empty HOME.

Proves the wheel installs one `gwdoctor.*` namespace (never a bare `engine`,
`rules` or `probes` package in site-packages), that the console script works
with nothing configured, and that its JSON validates against `gwdoctor schema
report` with the exit code the contract gives.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=120)
    # A copy of the tree, so the build cannot write into the checkout.
    src = root.parent / "src"
    files = subprocess.run(["git", "-C", str(REPO), "ls-files"], check=True, capture_output=True,
                           text=True).stdout.split("\n")
    for rel in filter(None, files):
        if not (REPO / rel).is_file():
            continue
        dest = src / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes((REPO / rel).read_bytes())
    out = subprocess.run([str(root / "bin" / "python"), "-m", "pip", "install", "--quiet",
                          str(src)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return root


def _site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def test_wheel_installs_one_namespace(venv: Path) -> None:
    site = _site_packages(venv)
    for bare in ("engine", "rules", "probes", "knowledge"):
        assert not (site / bare).exists(), f"a bare top-level {bare!r} package was installed"
    for part in ("engine", "rules", "probes", "knowledge"):
        assert (site / "gwdoctor" / part / "__init__.py").is_file()
    assert (site / "gwdoctor" / "knowledge" / "graph.yaml").is_file()
    assert (site / "gwdoctor" / "knowledge" / "schemas" / "report.schema.json").is_file()


def test_scan_on_an_empty_home_keeps_the_ci_contract(venv: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    gwdoctor = str(venv / "bin" / "gwdoctor")
    schema = json.loads(subprocess.run([gwdoctor, "schema", "report"], env=env, capture_output=True,
                                       text=True, timeout=60, check=True).stdout)
    out = subprocess.run([gwdoctor, "scan", "--format", "json", "--timeout", "2"], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    report = json.loads(out.stdout)
    jsonschema.Draft202012Validator(schema).validate(report)
    blocking = [f for f in report["findings"] if f["severity"] in ("error", "critical")]
    assert out.returncode == (1 if blocking else 0), (out.returncode, report["findings"])
    # Nothing configured: the client would talk to api.anthropic.com with no login.
    assert report["facts"]["gateway.custom"] is False
    assert report["facts"]["auth.credential_source"] is None
    assert out.stderr == "" or "Traceback" not in out.stderr
