"""Fallback rules (`@rule(fallback_after=...)`): they speak only when no specific rule of the
areas they name fired at their severity or above. Engine-level, with stand-in rules, then with
the built-in rules on the facts of real scans."""

from __future__ import annotations

from pathlib import Path

import pytest
from gwdoctor.engine import Finding, Severity, rule
from gwdoctor.engine.evaluate import evaluate
from gwdoctor.engine.graph import GraphIndex, build_graph


def _rule(rid: str, severity: Severity = Severity.ERROR, fallback_after: tuple[str, ...] = ()):
    @rule(id=rid, name="r-" + rid.lower(), cause="x.y", severity=severity,
          fallback_after=fallback_after, reads=(rid,))
    def check(facts):  # noqa: ANN001, ANN202
        return Finding(message=rid) if facts.get(rid) else None
    return check


INDEX = GraphIndex(build_graph([]))
FALLBACK = _rule("GWY900", fallback_after=("gateway", "auth"))


def _ids(facts: dict, *rules) -> list[str]:  # noqa: ANN002
    return sorted(r.rule.id for r in evaluate(list(rules), facts, INDEX).results)


def test_a_fallback_speaks_when_nothing_else_does() -> None:
    assert _ids({"GWY900": True}, FALLBACK, _rule("GWY901")) == ["GWY900"]


def test_a_specific_finding_of_a_named_area_silences_it() -> None:
    assert _ids({"GWY900": True, "AUT901": True}, FALLBACK, _rule("AUT901")) == ["AUT901"]


def test_a_finding_of_an_area_it_does_not_name_leaves_it() -> None:
    assert _ids({"GWY900": True, "CFG901": True}, FALLBACK, _rule("CFG901")) == ["CFG901", "GWY900"]


def test_a_less_severe_finding_does_not_explain_it() -> None:
    warn = _rule("GWY902", severity=Severity.WARNING)
    assert _ids({"GWY900": True, "GWY902": True}, FALLBACK, warn) == ["GWY900", "GWY902"]


def test_another_fallback_does_not_silence_it() -> None:
    other = _rule("AUT900", fallback_after=("gateway",))
    assert _ids({"GWY900": True, "AUT900": True}, FALLBACK, other) == ["AUT900", "GWY900"]


# ---- the built-in rules, on facts recorded from real servers (tests/scenarios/_parts.py) ----

def _builtin_ids(facts: dict) -> list[str]:
    from gwdoctor.engine.registry import builtin_rules

    return [r.rule.id for r in evaluate(builtin_rules(), facts, INDEX).results]


TEAPOT = {"model": "claude-opus-5-5", "roles": ["main", "opus"], "status": 418, "error": None,
          "error_type": None, "error_message": "I'm a teapot", "content_type": "application/json",
          "body_excerpt": '{"error":"I\'m a teapot"}', "sse": None}


@pytest.mark.parametrize("ctype, expected", [
    ("application/json", "GWY013"),       # nothing else knows a JSON 418: the fallback speaks
    ("text/html", "GWY011"),              # an HTML page is GWY011's: the fallback stays quiet
])
def test_builtin_fallback_yields_to_a_specific_rule(ctype: str, expected: str) -> None:
    check = {**TEAPOT, "content_type": ctype,
             "body_excerpt": "[html] teapot" if ctype == "text/html" else TEAPOT["body_excerpt"]}
    facts = {"gateway.base_url": "http://127.0.0.1:4000", "gateway.kind": "unknown",
             "model.checks": [check]}
    ids = _builtin_ids(facts)
    assert ids[0] == expected, ids
    assert ("GWY013" in ids) == (expected == "GWY013"), ids


def test_fallback_pages_say_when_they_stay_quiet() -> None:
    from gwdoctor.engine.docs import render_rule_markdown
    from gwdoctor.rules.unexplained import gateway_answer_unexplained

    page = render_rule_markdown(gateway_answer_unexplained)
    assert "| Quiet after |" in page and "`gateway`" in page
    assert page in Path(__file__).parents[2].joinpath("docs/rules/GWY013.md").read_text()
