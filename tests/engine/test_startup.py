"""What each command imports, the knowledge cache that keeps PyYAML off the scan path, and
the console script's exit (flushed output, exit codes, a closed pipe).

Behaviour, not timing: the figures are in benchmarks/ (`benchmarks/run.py`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("httpx", "httpcore", "rich", "pygments", "networkx", "jsonschema", "yaml",
         "cryptography", "pluggy")


def _python(code: str, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8",
           "XDG_CACHE_HOME": str(tmp_path / "cache"), **extra}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=home, timeout=120)


# Runs a CLI command in process (normal exit, so sys.modules can be read afterwards) and
# prints the heavy top-level packages it imported, as JSON, on the last line of stderr.
_LOADED = """
import json, sys
from gwdoctor.engine.cli import main
try:
    main({args!r})
except SystemExit:
    pass
heavy = {heavy!r}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set(heavy))), file=sys.stderr)
"""


def _loaded(args: list[str], tmp_path: Path) -> list[str]:
    out = _python(_LOADED.format(args=args, heavy=HEAVY), tmp_path)
    return json.loads(out.stderr.strip().splitlines()[-1])


def test_version_imports_nothing_but_click(tmp_path):
    assert _loaded(["--version"], tmp_path) == []


def test_offline_scan_with_a_warm_cache_imports_only_the_report_validator(tmp_path):
    first = _loaded(["scan", "--offline", "--format", "json"], tmp_path)
    # The first scan builds the caches (decision graph, knowledge as JSON), so it parses YAML
    # and builds the graph with networkx...
    assert {"yaml", "networkx"} <= set(first)
    # ...and from the second on neither is imported, nor any network library: an offline
    # scan needs pluggy (plugins) and jsonschema (the report is validated before it is written).
    assert _loaded(["scan", "--offline", "--format", "json"], tmp_path) == ["jsonschema", "pluggy"]


def test_import_module_skips_httpx_own_command_line(tmp_path):
    code = """
import sys
from gwdoctor.engine.lazyimport import import_module
httpx = import_module("httpx")
client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204)))
assert client.get("http://gw.test/").status_code == 204
print(sorted(m for m in sys.modules if m.split(".")[0] in ("rich", "pygments", "click")),
      sys.modules["httpx._main"])
"""
    out = _python(code, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[] None"  # blocked: httpx.main is httpx's own stub


def test_lazy_module_imports_on_first_attribute(tmp_path):
    code = """
import sys
from gwdoctor.probes._lazy import x509
assert "cryptography.x509" not in sys.modules
assert x509.Certificate.__name__ == "Certificate"
assert "cryptography.x509" in sys.modules
print("ok")
"""
    out = _python(code, tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# -- the knowledge cache --------------------------------------------------------------

_LOAD = """
import json, sys
from gwdoctor.engine.knowledge import load_yaml_cached
data = load_yaml_cached(open({path!r}).read(), "knowledge/sample.yaml")
print(json.dumps({{"data": data, "yaml": "yaml" in sys.modules}}, default=str))
"""


def _load(tmp_path: Path, path: Path) -> dict:
    out = _python(_LOAD.format(path=str(path)), tmp_path)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _entries(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "cache" / "gwdoctor").glob("knowledge-*.json"))


def test_knowledge_is_read_from_json_once_cached(tmp_path):
    src = tmp_path / "sample.yaml"
    src.write_text("a: 1\nlist: [x, y]\nnested: {k: true}\n")
    first, second = _load(tmp_path, src), _load(tmp_path, src)
    assert first == {"data": {"a": 1, "list": ["x", "y"], "nested": {"k": True}}, "yaml": True}
    assert second == {"data": first["data"], "yaml": False}
    assert len(_entries(tmp_path)) == 1


def test_an_edited_knowledge_file_replaces_its_cache_entry(tmp_path):
    src = tmp_path / "sample.yaml"
    src.write_text("a: 1\n")
    _load(tmp_path, src)
    before = _entries(tmp_path)
    src.write_text("a: 2\n")
    assert _load(tmp_path, src) == {"data": {"a": 2}, "yaml": True}
    after = _entries(tmp_path)
    assert len(after) == 1 and after != before


def test_yaml_that_json_cannot_carry_is_never_cached(tmp_path):
    src = tmp_path / "sample.yaml"
    src.write_text("when: 2024-01-01\n1: one\n")  # a date and an integer key
    assert _load(tmp_path, src)["yaml"] is True
    assert _load(tmp_path, src) == {"data": {"when": "2024-01-01", "1": "one"}, "yaml": True}
    assert _entries(tmp_path) == []


@pytest.mark.parametrize("damage", ["{not json", '{"data": null}', '{"data": {"a": 9}}',
                                    '{"sha256": "0", "data": {"a": 9}}'])
def test_a_damaged_cache_entry_is_parsed_again(tmp_path, damage):
    src = tmp_path / "sample.yaml"
    src.write_text("a: 1\n")
    _load(tmp_path, src)
    (entry,) = (tmp_path / "cache" / "gwdoctor").glob("knowledge-*.json")
    entry.write_text(damage)
    assert _load(tmp_path, src) == {"data": {"a": 1}, "yaml": True}


# -- the console script's exit --------------------------------------------------------

def _console(args: list[str], tmp_path: Path, **kw):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8", "NO_COLOR": "1",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return subprocess.Popen([sys.executable, "-m", "gwdoctor.engine.cli", *args], env=env,
                            cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


@pytest.mark.parametrize("fail_on,expected", [("never", 0), ("info", 1)])
def test_console_script_flushes_the_whole_report_and_keeps_the_exit_code(tmp_path, fail_on,
                                                                        expected):
    proc = _console(["scan", "--offline", "--format", "json", "--fail-on", fail_on], tmp_path)
    out, err = proc.communicate(timeout=120)
    report = json.loads(out)  # complete JSON: flushed before os._exit
    assert report["findings"], "an empty home must give at least one finding"
    assert proc.returncode == expected, err


def test_string_exit_is_printed_and_gives_1(tmp_path):
    code = """
import sys
from gwdoctor.engine import cli
def boom(*a, **k):
    raise SystemExit("gone wrong")
cli.main = boom
cli.entry()
"""
    out = _python(code, tmp_path)
    assert out.returncode == 1 and out.stderr.strip() == "gone wrong"


def test_a_closed_stdout_ends_quietly_with_141(tmp_path):
    proc = _console(["scan", "--offline", "--format", "json"], tmp_path)
    proc.stdout.close()  # the reader goes away before the report is written
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert err == b""


def test_a_full_disk_is_a_one_line_error_not_a_silent_success(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as usual
    with open("/dev/full", "w") as full:
        out = subprocess.run([sys.executable, "-m", "gwdoctor.engine.cli", "explain", "TLS001"],
                             stdout=full, stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip() == "gwdoctor: error: cannot write the output: No space left on device"


def test_a_closed_stdout_descriptor_is_no_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "gwdoctor.engine.cli", "--version"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60,
                         preexec_fn=lambda: os.close(1))
    assert out.returncode == 0 and "Traceback" not in out.stderr


def test_atexit_handlers_still_run_before_the_fast_exit(tmp_path):
    code = """
import atexit, sys
from gwdoctor.engine import cli
atexit.register(lambda: print("plugin flushed", file=sys.stderr))
sys.argv = ["gwdoctor", "--version"]
cli.entry()
"""
    out = _python(code, tmp_path)
    assert out.returncode == 0 and "plugin flushed" in out.stderr
