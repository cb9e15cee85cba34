"""Declarative YAML rules: conditions on facts without eval, built into ordinary Rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from gwdoctor.engine.declarative import MISSING, evaluate_condition, load_rules, lookup, parse_rules
from gwdoctor.engine.knowledge import KnowledgeError
from gwdoctor.engine.model import Severity

RULES_YAML = """
version: 1
rules:
  - id: CFG950
    name: corp-gateway-over-plain-http
    cause: tls.scheme_mismatch
    severity: warning
    confidence: 0.7
    needs: [gateway.scheme, gateway.host, proxy.route]
    when:
      all:
        - {fact: gateway.scheme, equals: http}
        - {fact: gateway.host, matches: '\\.corp\\.example$'}
        - not: {fact: proxy.route.used, truthy: true}
    message: "Gateway {gateway.host} is reached over plain http"
    fixes:
      - title: Use https
        snippet: 'export ANTHROPIC_BASE_URL=https://{gateway.host}'
        safety: review
    doc: |
      ## What it checks
      A corp gateway reached over http.

      ## Why it matters
      Corp gateways only listen on https.

      ## Example
      `ANTHROPIC_BASE_URL=http://llm.corp.example`

      ## Fix
      Use https.

      ## Fix safety
      Review: the port may differ.
"""

FACTS = {"gateway.scheme": "http", "gateway.host": "llm.corp.example",
         "proxy.route": {"used": False, "no_proxy": None}, "tls.verify.client": {"trusted": True}}


def _rule():
    [r] = parse_rules(yaml.safe_load(RULES_YAML), "corp/rules.yaml")
    return r


def test_builds_an_ordinary_rule_with_literal_metadata() -> None:
    r = _rule()
    assert (r.id, r.name, r.cause, r.severity, r.confidence) == (
        "CFG950", "corp-gateway-over-plain-http", "tls.scheme_mismatch", Severity.WARNING, 0.7)
    assert r.check.__name__ == "corp_gateway_over_plain_http"
    assert r.doc.startswith("## What it checks")


def test_fires_and_fills_message_fix_and_evidence() -> None:
    [finding] = _rule().evaluate(FACTS)
    assert finding.message == "Gateway llm.corp.example is reached over plain http"
    assert finding.fixes[0].snippet == "export ANTHROPIC_BASE_URL=https://llm.corp.example"
    assert finding.evidence == {"gateway.scheme": "http", "gateway.host": "llm.corp.example",
                                "proxy.route.used": False}


@pytest.mark.parametrize("override", [
    {"gateway.scheme": "https"},
    {"gateway.host": "llm.example.com"},
    {"proxy.route": {"used": True}},
])
def test_quiet_when_any_condition_fails(override: dict) -> None:
    assert _rule().evaluate({**FACTS, **override}) == []


def test_lookup_prefers_the_longest_fact_key_and_walks_into_values() -> None:
    facts = {"tls.verify": {"client": "x"}, "tls.verify.client": {"trusted": False},
             "model.checks": [{"status": 404}]}
    assert lookup(facts, "tls.verify.client.trusted") is False
    assert lookup(facts, "model.checks.0.status") == 404
    assert lookup(facts, "model.checks.5.status") is MISSING
    assert lookup(facts, "dns.gateway") is MISSING


@pytest.mark.parametrize(("cond", "expected"), [
    ({"fact": "a.n", "gt": 3}, True), ({"fact": "a.n", "lt": 3}, False),
    ({"fact": "a.s", "in": ["x", "y"]}, True), ({"fact": "a.s", "not_in": ["x"]}, False),
    ({"fact": "a.l", "contains": "b"}, True), ({"fact": "a.none", "is_null": True}, True),
    ({"fact": "a.gone", "exists": False}, True), ({"fact": "a.gone", "equals": None}, False),
    ({"fact": "a.s", "not_equals": "y"}, True), ({"any": [{"fact": "a.s", "equals": "q"},
                                                         {"fact": "a.n", "equals": 5}]}, True),
    ({"fact": "a.b", "gt": 0}, False),  # a bool is not a number here
])
def test_operators(cond: dict, expected: bool) -> None:
    facts = {"a.n": 5, "a.s": "x", "a.l": ["a", "b"], "a.none": None, "a.b": True}
    assert evaluate_condition(cond, facts) is expected


def test_placeholders_are_only_fact_lookups() -> None:
    facts = {**FACTS, "gateway.host": "{gateway.scheme}.corp.example"}
    [finding] = _rule().evaluate(facts)
    # A value is inserted verbatim: never expanded again, never evaluated.
    assert finding.message == "Gateway {gateway.scheme}.corp.example is reached over plain http"


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda s: s.replace("needs: [gateway.scheme, gateway.host, proxy.route]",
                         "needs: [gateway.scheme, gateway.host]"),
     "condition on 'proxy.route.used', which is not under any of needs"),
    (lambda s: s.replace("equals: http", "eval: http"), "corp/rules.yaml: rules/0/when"),
    (lambda s: s.replace("matches: '", "matches: '("), "bad regex"),
    (lambda s: s.replace("severity: warning", "severity: high"), "rules/0/severity"),
])
def test_bad_files_are_rejected_with_their_name(mutate, message: str) -> None:
    with pytest.raises(KnowledgeError, match=None) as info:
        parse_rules(yaml.safe_load(mutate(RULES_YAML)), "corp/rules.yaml")
    assert message in str(info.value)


def test_load_rules_reads_a_file_and_reports_yaml_errors(tmp_path: Path) -> None:
    good = tmp_path / "rules.yaml"
    good.write_text(RULES_YAML)
    assert [r.id for r in load_rules(good)] == ["CFG950"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules: [\n")
    with pytest.raises(KnowledgeError, match=r"bad.yaml:\d+:\d+: invalid YAML"):
        load_rules(bad)
