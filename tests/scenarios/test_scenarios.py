"""Whole-scan scenarios: a realistic setup in, the expected top-ranked cause out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _harness import all_scenarios, load, materialise, scan
from gwdoctor.engine.docs import fact_catalogue
from gwdoctor.engine.knowledge import builtin_dir

CATALOGUE = fact_catalogue([builtin_dir()])
JSON_TYPES: dict[str, type | tuple[type, ...]] = {"null": type(None), "boolean": bool,
                                                  "integer": int, "number": (int, float),
                                                  "string": str, "array": list, "object": dict}


def check_facts(facts: dict[str, Any]) -> None:
    """Every fact of the scan is in the catalogue (knowledge/facts.yaml) with one of its types."""
    assert set(facts) <= set(CATALOGUE), (
        f"uncatalogued facts: {sorted(set(facts) - set(CATALOGUE))}")
    wrong = {k: (type(v).__name__, CATALOGUE[k]["type"]) for k, v in facts.items()
             if not any(isinstance(v, JSON_TYPES[t]) and (t == "boolean") == isinstance(v, bool)
                        for t in CATALOGUE[k]["type"])}
    assert not wrong, f"facts of a type the catalogue does not give: {wrong}"


def check(report: dict[str, Any], expect: dict[str, Any]) -> None:
    findings = report["findings"]
    ids = [f["rule_id"] for f in findings]
    summary = [(f["rank"], f["rule_id"], f["severity"], f["root_cause"], f["message"][:90])
               for f in findings]
    if expect.get("healthy"):
        errors = [f for f in findings if f["severity"] in ("error", "critical")]
        assert not errors, f"healthy setup has error findings: {summary}"
        # An offline scan never says healthy ("unknown": the deciding network checks did not run).
        allowed = (("healthy", "degraded")
                   + (("unknown",) if (report.get("options") or {}).get("offline") else ()))
        assert report["verdict"] in allowed, (report["verdict"], summary)
    if "verdict" in expect:
        assert report["verdict"] == expect["verdict"], (report["verdict"], summary)
    if expect.get("verdict") == "healthy":  # healthy means nothing to act on: no warning either
        loud = [f for f in findings if f["severity"] in ("warning", "error", "critical")]
        assert not loud, f"a healthy setup has warnings: {summary}"
    if "top" in expect:
        assert ids and ids[0] == expect["top"], f"expected {expect['top']} first: {summary}"
        assert findings[0]["root_cause"], summary
    if "top_cause" in expect:
        assert findings and findings[0]["cause"] == expect["top_cause"], summary
    for text in expect.get("top_message_contains") or []:  # what the user reads first
        assert findings and text in findings[0]["message"], (text, summary)
    for rid in expect.get("fires") or []:
        assert rid in ids, f"{rid} did not fire: {summary}"
    for rid in expect.get("absent") or []:
        assert rid not in ids, f"{rid} fired: {summary}"
    if "ranked" in expect:  # these ids appear in this relative order
        positions = [ids.index(r) for r in expect["ranked"] if r in ids]
        assert len(positions) == len(expect["ranked"]), (
            f"missing some of {expect['ranked']}: {summary}")
        assert positions == sorted(positions), f"order {expect['ranked']} not kept: {summary}"
    for symptom, cause in (expect.get("symptom_of") or {}).items():
        f = next(f for f in findings if f["rule_id"] == symptom)
        assert not f["root_cause"] and cause in f["caused_by"], summary


@pytest.mark.parametrize("path", all_scenarios(), ids=lambda p: p.stem)
def test_scenario(path: Path, parts: Any, tmp_path: Path) -> None:
    data = load(path)
    setup = materialise(data, tmp_path, parts(data.get("parts") or []))
    report = scan(setup, data.get("options") or {})
    check_facts(report["facts"])
    check(report, data.get("expect") or {})


def test_every_scenario_expects_something() -> None:
    for path in all_scenarios():
        expect = load(path).get("expect") or {}
        assert expect.get("healthy") or expect.get("top") or expect.get("verdict") == "healthy", \
            f"{path.name} asserts nothing decisive"
