"""`--only AREA` runs the area's probes and what they need, and nothing else, for every area,
with and without `--offline` (issue 10: it once dropped the probes an area depends on)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from gwdoctor.engine.knowledge import areas
from gwdoctor.engine.model import Probe
from gwdoctor.engine.plugins import get_plugin_manager
from gwdoctor.engine.registry import build_registry, with_prerequisites

PROBES = build_registry(get_plugin_manager(load_entrypoints=False, env={})).probes
# The areas of knowledge/areas.yaml that have probes (the engine's own area has none).
AREAS = tuple(a for a in areas().values() if any(p.name.split(".")[0] == a for p in PROBES))
BY_NAME = {p.name: p for p in PROBES}
PROVIDER = {key: p.name for p in PROBES for key in p.provides}


def _facts_bundle(area: str, offline: bool, home) -> dict:  # noqa: ANN001
    # A gateway on a loopback port nothing listens on: every network probe gets a fast refusal,
    # never the internet.
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "NO_COLOR": "1", "LANG": "C.UTF-8",
           "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
           "ANTHROPIC_AUTH_TOKEN": "sk-only-test-0123456789"}
    args = ["facts", "--no-plugins", "--timeout", "2", "--only", area]
    args += ["--offline"] if offline else []
    out = subprocess.run([sys.executable, "-m", "gwdoctor.engine.cli", *args], capture_output=True,
                         text=True, env=env, cwd=home, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline"])
@pytest.mark.parametrize("area", AREAS)
def test_only_area_runs_its_probes_with_what_they_need(
        area: str, offline: bool, tmp_path) -> None:  # noqa: ANN001
    bundle = _facts_bundle(area, offline, tmp_path)
    records = {r["name"]: r for r in bundle["probes"]}
    ran = set(records)
    own = {p.name for p in PROBES if p.name.split(".")[0] == area}
    assert own and own <= ran, f"--only {area} left out {sorted(own - ran)}"
    assert ran < set(BY_NAME), f"--only {area} ran every probe"
    for name in ran:
        detail = records[name]["detail"] or ""
        assert "no probe provides it" not in detail, (name, detail)
        # Every fact a kept probe needs comes from a kept probe.
        left_out = {PROVIDER[k] for k in BY_NAME[name].needs if k in PROVIDER} - ran
        assert not left_out, f"{name} needs {sorted(left_out)}, which --only {area} did not run"
        if offline and BY_NAME[name].network:
            assert records[name]["status"] == "skipped", (name, records[name])


def test_every_probe_area_is_tested() -> None:
    assert len(AREAS) == 8, AREAS
    assert set(AREAS) == set(areas().values()) - {"engine"}


def test_prerequisites_follow_needs_and_requires_transitively() -> None:
    a = Probe(name="a.x", func=lambda ctx: {}, provides=("a.x",))
    b = Probe(name="b.x", func=lambda ctx: {}, provides=("b.x",), requires=("a.x",))
    c = Probe(name="c.x", func=lambda ctx: {}, provides=("c.x",), needs=("b.x",))
    d = Probe(name="d.x", func=lambda ctx: {}, provides=("d.x",))
    assert [p.name for p in with_prerequisites([a, b, c, d], [c])] == ["a.x", "b.x", "c.x"]
