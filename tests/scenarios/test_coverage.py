"""Coverage of the taxonomy: every cause in knowledge/causes.yaml is the expected rank-1 cause
(`expect.top_cause`) of at least one scenario, and every top rule id names that cause.

A few causes cannot come out first in a realistic whole-scan setup; they are listed in
NOT_PRODUCIBLE with the reason and the tests that cover them instead."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from _harness import REPO, all_scenarios, load

NOT_PRODUCIBLE = {
    "engine.probe_error": (
        "a probe that raises is a gwdoctor bug: probes turn every I/O failure into facts. The one "
        "realistic setup that made a probe raise (a host with an empty label crashed tls.scheme) "
        "was fixed, see gateway-host-typo-empty-label. Covered by tests/engine/test_collect.py and "
        "tests/rules/cases/ENG001.yaml"),
    "engine.probe_timeout": (
        "every probe bounds its I/O by the probe timeout; what still overruns (a tarpit gateway or "
        "proxy) is explained by GWY002/PRX001 (graph edges to ENG002), which rank first. Covered "
        "by tests/engine/test_collect.py and tests/rules/cases/ENG002.yaml"),
    "engine.plugin_error": (
        "needs a broken third-party plugin installed; scenarios scan with the built-in plugins "
        "only. Covered by tests/engine/test_plugins.py and tests/rules/cases/ENG003.yaml"),
    "engine.rule_error": (
        "a rule that raises is a gwdoctor bug. Covered by tests/rules/cases/ENG004.yaml"),
}


def _causes() -> set[str]:
    return set(yaml.safe_load((REPO / "knowledge/causes.yaml").read_text())["causes"])


def _rule_causes() -> dict[str, str]:
    from gwdoctor.engine.registry import builtin_rules

    return {r.id: r.cause for r in builtin_rules()}


def test_every_cause_is_the_top_cause_of_a_scenario() -> None:
    causes = _causes()
    assert set(NOT_PRODUCIBLE) <= causes, "NOT_PRODUCIBLE names a cause that no longer exists"
    covered: dict[str, list[str]] = {}
    for path in all_scenarios():
        top_cause = (load(path).get("expect") or {}).get("top_cause")
        if top_cause:
            covered.setdefault(top_cause, []).append(path.stem)
    missing = sorted(causes - set(covered) - set(NOT_PRODUCIBLE))
    assert not missing, f"causes no scenario ranks first: {missing}"
    stale = sorted(set(NOT_PRODUCIBLE) & set(covered))
    assert not stale, f"listed as not producible but covered by a scenario: {stale}"


def test_top_rule_and_top_cause_agree() -> None:
    rule_cause = _rule_causes()
    for path in all_scenarios():
        expect = load(path).get("expect") or {}
        if "top" in expect:
            assert expect["top"] in rule_cause, f"{path.name}: unknown rule {expect['top']}"
        if "top" in expect and "top_cause" in expect:
            assert rule_cause[expect["top"]] == expect["top_cause"], (
                f"{path.name}: {expect['top']} is {rule_cause[expect['top']]}, "
                f"not {expect['top_cause']}")
        for rid in [*(expect.get("fires") or []), *(expect.get("absent") or []),
                    *(expect.get("ranked") or []), *(expect.get("symptom_of") or {}),
                    *(expect.get("symptom_of") or {}).values()]:
            assert rid in rule_cause, f"{path.name}: unknown rule {rid}"


def test_at_least_six_scenarios_mix_a_cause_and_its_symptom() -> None:
    mixed = [p.stem for p in all_scenarios() if (load(p).get("expect") or {}).get("symptom_of")]
    assert len(mixed) >= 6, mixed


def test_the_readme_table_lists_every_cause_and_scenario() -> None:
    text = (Path(__file__).parent / "README.md").read_text()
    for cause in _causes():
        assert f"`{cause}`" in text, f"README.md table lacks {cause}"
    for path in all_scenarios():
        assert path.stem in text, f"README.md does not mention {path.stem}"


def test_generated_scenarios_match_the_generator() -> None:
    """healthy-generated-* hold `gwdoctor generate` output verbatim (the token placeholder
    filled)."""
    from gwdoctor.setup.generator import generate

    for kind in ("litellm-vertex", "bedrock"):
        data = load(Path(__file__).parent / f"healthy-generated-{kind}.yaml")
        files = generate(kind, {})
        settings = json.loads(files["settings.json"])
        ours = data["files"]["home/.claude/settings.json"]
        for var, value in settings["env"].items():
            if not value.startswith("<"):
                assert ours["env"].get(var) == value, (
                    f"{kind}: settings env {var} differs from the generator")
        if "config.yaml" in files:
            assert data["gateway_config"] == files["config.yaml"], (
                f"{kind}: config.yaml differs from the generator")
