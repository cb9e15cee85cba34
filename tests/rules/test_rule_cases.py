"""One runner for every rule's YAML case file (tests/rules/cases/<ID>.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gwdoctor.engine.model import FactView, Rule, Severity
from gwdoctor.engine.registry import builtin_rules

CASES_DIR = Path(__file__).parent / "cases"
CASE_KEYS = {"facts", "expect", "severity", "message_contains", "fix_contains", "confidence_min",
             "confidence_max", "count", "note"}
FILE_KEYS = {"rule", "facts", "cases"}




def with_faults(facts: dict[str, Any]) -> dict[str, Any]:
    """A case gives what the probes observe (HTTP answers, configured models, gateway config
    entries); in a scan two probes read those into derived facts with pure functions, so the
    runner does the same with the same code unless the case gives them itself:
    ``http.faults`` (faults.http, the catalogue's classifier) and ``provider.model_ids`` /
    ``provider.gateway_vertex_locations`` (provider.ids)."""
    from gwdoctor.probes.faults import answers, classify
    from gwdoctor.probes.provider import ids_facts

    out = dict(facts)
    if "http.faults" not in out:
        derived = {name: ids for name, result in answers(out) if (ids := classify(result))}
        if derived:
            out["http.faults"] = derived
    if "model.requested" in out or "gateway_config.models" in out:
        for key, value in ids_facts(out).items():
            out.setdefault(key, value)
    return out


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
            prefix = ("fires_when_" if case.get("expect") == "fire"
                      else ("quiet_when_", "quiet_for_", "quiet_without_"))
            assert name.startswith(prefix), f"{path.name}: case {name!r} is misnamed"


@pytest.mark.parametrize(("rule_id", "base", "name", "case"), CASES)
def test_rule_case(rule_id: str, base: dict, name: str, case: dict) -> None:
    unknown = set(case) - CASE_KEYS
    assert not unknown, f"unknown case keys {sorted(unknown)}"
    rule = _rules()[rule_id]
    facts = with_faults({**base, **(case.get("facts") or {})})
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


class _RecordingView(FactView):
    """A rule's view that records undeclared reads instead of raising, to list them all."""

    __slots__ = ("seen",)

    def __init__(self, facts: dict, rule: Rule) -> None:
        super().__init__(facts, rule.id, (*rule.needs, *rule.reads))
        self.seen: set[str] = set()

    def _check(self, key: str) -> None:
        if not self.declares(key):
            self.seen.add(key)


def _undeclared_reads(rule: Rule) -> set[str]:
    """Every fact ``rule`` reads over all its cases and declares in neither needs nor reads."""
    data = yaml.safe_load((CASES_DIR / f"{rule.id}.yaml").read_text())
    seen: set[str] = set()
    for case in (data.get("cases") or {}).values():
        view = _RecordingView(with_faults({**(data.get("facts") or {}),
                                           **(case.get("facts") or {})}), rule)
        rule.check(view)
        seen |= view.seen
    return seen


@pytest.mark.parametrize("rule", builtin_rules(), ids=lambda r: r.id)
def test_rule_reads_only_declared_facts(rule: Rule) -> None:
    undeclared = _undeclared_reads(rule)
    assert not undeclared, (f"{rule.id} reads {sorted(undeclared)} without declaring them: "
                            f"add them to its needs (must be present) or reads (used when present)")

