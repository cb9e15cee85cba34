"""The fact catalogue (knowledge/facts.yaml) is the contract between probes and rules: every
probe provides exactly the facts it lists under its name, every rule reads only catalogued
facts, real scans emit only catalogued facts of the catalogued types, and docs/facts.md's index
is generated from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from gwdoctor.engine.docs import fact_catalogue, write_fact_index
from gwdoctor.engine.knowledge import builtin_dir
from gwdoctor.engine.model import Options
from gwdoctor.engine.plugins import get_plugin_manager
from gwdoctor.engine.registry import build_registry
from gwdoctor.engine.scan import ScanRequest, run_scan

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = build_registry(get_plugin_manager(load_entrypoints=False, env={}))
CATALOGUE = fact_catalogue([builtin_dir()])
JSON_TYPES: dict[str, type | tuple[type, ...]] = {"null": type(None), "boolean": bool,
                                                  "integer": int, "number": (int, float),
                                                  "string": str, "array": list, "object": dict}


def test_every_probe_provides_what_the_catalogue_lists_under_its_name() -> None:
    provided = {key: p.name for p in REGISTRY.probes for key in p.provides}
    listed = {key: e["provider"] for key, e in CATALOGUE.items() if e["provider"] != "engine"}
    assert provided == listed


def test_every_rule_reads_only_catalogued_facts() -> None:
    unknown = {r.id: sorted(set(r.needs + r.reads) - set(CATALOGUE)) for r in REGISTRY.rules}
    assert {k: v for k, v in unknown.items() if v} == {}


def test_the_docs_index_is_generated_from_the_catalogue() -> None:
    assert not write_fact_index(ROOT / "docs" / "facts.md", CATALOGUE, check=True), (
        "docs/facts.md is stale: python -m gwdoctor.engine.docs --facts docs/facts.md")


def _type_ok(value: object, types: list[str]) -> bool:
    if isinstance(value, bool):
        return "boolean" in types
    return any(isinstance(value, JSON_TYPES[t]) for t in types)


def _scan(tmp_path: Path, env: dict[str, str], **options: object) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    request = ScanRequest(env={"HOME": str(home), "PATH": "/usr/bin:/bin", **env}, home=home,
                          cwd=home, options=Options(probe_timeout=2, **options), load_plugins=False)
    return dict(run_scan(request).bundle["facts"])


# Loopback ports nothing listens on: every network probe runs and fails fast, offline.
SETUPS = {
    "gateway-offline": ({"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}, {"offline": True}),
    "gateway-refused": ({"ANTHROPIC_BASE_URL": "https://127.0.0.1:9",
                         "ANTHROPIC_AUTH_TOKEN": "sk-t-0123456789",
                         "HTTPS_PROXY": "http://127.0.0.1:8"}, {}),
    "bedrock": ({"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "eu-west-1",
                 "ANTHROPIC_BEDROCK_BASE_URL": "http://127.0.0.1:9"}, {}),
    "vertex": ({"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "us-east5",
                "ANTHROPIC_VERTEX_PROJECT_ID": "p"}, {"offline": True}),
}


@pytest.mark.parametrize("setup", SETUPS)
def test_a_real_scan_emits_only_catalogued_facts_of_their_types(setup: str, tmp_path: Path) -> None:
    env, options = SETUPS[setup]
    facts = _scan(tmp_path, env, **options)
    assert len(facts) > 40, sorted(facts)  # the probes ran
    assert set(facts) - set(CATALOGUE) == set()
    wrong = {k: (type(v).__name__, CATALOGUE[k]["type"]) for k, v in facts.items()
             if not _type_ok(v, CATALOGUE[k]["type"])}
    assert wrong == {}
    # The engine writes its own facts in every live scan (engine.rule_errors only for the
    # engine's rules, during evaluation).
    engine = {k for k, e in CATALOGUE.items() if e["provider"] == "engine"}
    assert engine - set(facts) == {"engine.rule_errors"}
