"""Decision graph: cycles rejected by name, placement and ranking deterministic."""

from __future__ import annotations

import pytest
from gwdoctor.engine import Finding, Severity, rule
from gwdoctor.engine.evaluate import evaluate
from gwdoctor.engine.graph import GraphIndex, build_graph
from gwdoctor.engine.knowledge import KnowledgeError


def frag(edges, nodes=None):
    names = nodes or sorted({e[0] for e in edges} | {e[1] for e in edges})
    return ("test/graph.yaml", {"version": 1, "nodes": {n: {"area": "x"} for n in names},
                                "edges": [{"from": a, "to": b, "because": f"{a} breaks {b}"}
                                          for a, b in edges]})


def test_cycle_is_rejected_naming_the_cycle():
    with pytest.raises(KnowledgeError, match="cycle: .*AAA001 -> BBB001"):
        build_graph([frag([("AAA001", "BBB001"), ("BBB001", "CCC001"), ("CCC001", "AAA001")])])


def test_edge_to_unknown_node_is_rejected():
    with pytest.raises(KnowledgeError, match="not a node"):
        build_graph([("g.yaml", {"nodes": {"A": {}}, "edges": [{"from": "A", "to": "B"}]})])


def test_nearest_fired_ancestors_are_the_causes():
    index = GraphIndex(build_graph([frag([("DNS001", "TLS001"), ("TLS001", "AUT002"),
                                          ("DNS001", "AUT002")])]))
    place = index.place({"DNS001", "AUT002"})
    assert place["DNS001"].root_cause and not place["AUT002"].root_cause
    assert place["AUT002"].caused_by == ("DNS001",)
    place = index.place({"TLS001", "AUT002"})
    assert place["TLS001"].root_cause and place["AUT002"].caused_by == ("TLS001",)


def _rule(rid, sev, conf=0.8):
    @rule(id=rid, name=f"r-{rid.lower()}", cause="x.y", severity=sev, needs=(), confidence=conf)
    def check(facts):
        return Finding(message=f"{rid} fired")
    return check


def test_ranking_puts_root_causes_first_then_severity_confidence_layer_id():
    index = GraphIndex(build_graph([frag([("DNS001", "GWY001")],
                                         nodes=["DNS001", "GWY001", "AUT001", "AUT002",
                                                "AUT003"])]))
    rules = [_rule("GWY001", Severity.CRITICAL), _rule("DNS001", Severity.ERROR),
             _rule("AUT002", Severity.ERROR, 0.9), _rule("AUT001", Severity.ERROR, 0.9),
             _rule("AUT003", Severity.ERROR, 0.95)]
    ev = evaluate(rules, {}, index)
    # DNS001 explains a critical failure, so it leads the root causes; the rest by severity,
    # then confidence, then id.
    assert [r.rule.id for r in ev.results] == ["DNS001", "AUT003", "AUT001", "AUT002", "GWY001"]
    assert ev.results[-1].caused_by == ("DNS001",) and not ev.results[-1].root_cause


def test_a_warning_behind_an_error_outranks_a_lone_warning():
    index = GraphIndex(build_graph([frag([("CFG009", "AUT003")],
                                         nodes=["CFG009", "AUT003", "MDL010"])]))
    rules = [_rule("MDL010", Severity.WARNING, 0.99), _rule("CFG009", Severity.WARNING, 0.5),
             _rule("AUT003", Severity.ERROR)]
    ev = evaluate(rules, {}, index)
    assert [r.rule.id for r in ev.results] == ["CFG009", "MDL010", "AUT003"]


def test_rule_with_missing_needs_is_not_evaluated_and_a_raising_rule_is_reported():
    @rule(id="AAA001", name="needs-x", cause="x.y", severity="error", needs=("x.fact",))
    def needs_x(facts):
        return Finding(message="x")

    @rule(id="AAA002", name="raises", cause="x.y", severity="error", needs=())
    def raises(facts):
        raise KeyError("oops")

    from gwdoctor.rules.engine import rule_raised

    ev = evaluate([needs_x, raises, rule_raised], {}, GraphIndex(build_graph([])))
    assert [n["rule_id"] for n in ev.not_evaluated] == ["AAA001", "AAA002"]
    assert ev.not_evaluated[0]["missing"] == ["x.fact"]
    assert [r.rule.id for r in ev.results] == ["ENG004"]
    assert "AAA002" in ev.results[0].finding.message


def test_placement_is_linear_enough_for_a_long_chain():
    chain = [f"AAA{i:03d}" for i in range(1000)]
    index = GraphIndex(build_graph([frag(list(zip(chain, chain[1:])))]))
    place = index.place(set(chain[::2]))
    assert place["AAA000"].root_cause
    assert place["AAA998"].caused_by == ("AAA996",)
