"""One runner for every rule's YAML case file (tests/rules/cases/<ID>.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gwdoctor.engine.model import Rule, Severity
from gwdoctor.engine.registry import builtin_rules

CASES_DIR = Path(__file__).parent / "cases"
CASE_KEYS = {"facts", "expect", "severity", "message_contains", "fix_contains", "confidence_min",
             "confidence_max", "count", "note"}
FILE_KEYS = {"rule", "facts", "cases"}


def _rules() -> dict[str, Rule]:
    return {r.id: r for r in builtin_rules()}


def _load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        unknown = set(data) - FILE_KEYS
        assert not unknown, f"{path.name}: unknown keys {sorted(unknown)}"
        assert data["rule"] == path.stem, f"{path.name} names rule {data['rule']}"
        for name, case in (data.get("cases") or {}).items():
            params.append(pytest.param(path.stem, data.get("facts") or {}, name, case,
                                       id=f"{path.stem}-{name}"))
    return params


CASES = _load_cases()


def test_every_rule_has_a_case_file_and_every_case_file_a_rule() -> None:
    ids = set(_rules())
    files = {p.stem for p in CASES_DIR.glob("*.yaml")}
    assert ids - files == set(), f"rules without a case file: {sorted(ids - files)}"
    assert files - ids == set(), f"case files without a rule: {sorted(files - ids)}"


def test_every_case_file_has_a_firing_and_a_quiet_case() -> None:
    for path in sorted(CASES_DIR.glob("*.yaml")):
        cases = yaml.safe_load(path.read_text()).get("cases") or {}
        expects = {c.get("expect") for c in cases.values()}
        assert {"fire", "quiet"} <= expects, f"{path.name} needs both a fire and a quiet case"
        for name, case in cases.items():
            prefix = "fires_when_" if case.get("expect") == "fire" else ("quiet_when_", "quiet_for_", "quiet_without_")
            assert name.startswith(prefix), f"{path.name}: case {name!r} is misnamed"


@pytest.mark.parametrize(("rule_id", "base", "name", "case"), CASES)
def test_rule_case(rule_id: str, base: dict, name: str, case: dict) -> None:
    unknown = set(case) - CASE_KEYS
    assert not unknown, f"unknown case keys {sorted(unknown)}"
    rule = _rules()[rule_id]
    facts = {**base, **(case.get("facts") or {})}
    missing = [k for k in rule.needs if k not in facts]
    assert not missing, f"case lacks needed facts {missing}"
    findings = rule.evaluate(facts)
    if case["expect"] == "quiet":
        assert findings == [], f"expected quiet, got {[f.message for f in findings]}"
        return
    assert case["expect"] == "fire"
    assert findings, "expected the rule to fire"
    if "count" in case:
        assert len(findings) == case["count"]
    for finding in findings:
        assert finding.message
        if "severity" in case:
            got = finding.severity or rule.severity
            assert got == Severity.parse(case["severity"])
        conf = finding.confidence if finding.confidence is not None else rule.confidence
        assert 0.0 <= conf <= 1.0
        if "confidence_min" in case:
            assert conf >= case["confidence_min"]
        if "confidence_max" in case:
            assert conf <= case["confidence_max"]
    text = " ".join(f.message for f in findings)
    if "message_contains" in case:
        assert case["message_contains"] in text
    if "fix_contains" in case:
        snippets = " ".join(fx.snippet + " " + fx.title for f in findings for fx in f.fixes)
        assert case["fix_contains"] in snippets, snippets
