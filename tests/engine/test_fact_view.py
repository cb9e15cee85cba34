"""A rule sees only the facts it declares (needs + reads): any other read raises, naming both."""

from __future__ import annotations

import pytest
from gwdoctor.engine import Finding, rule
from gwdoctor.engine.evaluate import evaluate
from gwdoctor.engine.graph import GraphIndex, build_graph
from gwdoctor.engine.model import FactView, UndeclaredFactError
from gwdoctor.engine.registry import builtin_rules

FACTS = {"a.needed": 1, "a.optional": 2, "a.hidden": 3}


READS = {
    "index": lambda facts, key: facts[key],
    "get": lambda facts, key: facts.get(key, 0),
    "in": lambda facts, key: key in facts,
}


def _reader(how: str, key: str):  # noqa: ANN202
    @rule(id="CFG950", name="reader", cause="x.y", severity="warning",
          needs=("a.needed",), reads=("a.optional",))
    def reader(facts):  # noqa: ANN001, ANN202
        return Finding(message=f"{key}={READS[how](facts, key)!r}")
    return reader


@pytest.mark.parametrize("how", READS)
@pytest.mark.parametrize("key", ["a.needed", "a.optional"])
def test_declared_reads_work(how: str, key: str) -> None:
    [finding] = _reader(how, key).evaluate(FACTS)
    assert finding.message != f"{key}=0"


@pytest.mark.parametrize("how", READS)
@pytest.mark.parametrize("key", ["a.hidden", "a.missing"])
def test_an_undeclared_read_raises_naming_rule_and_fact(how: str, key: str) -> None:
    with pytest.raises(UndeclaredFactError) as err:
        _reader(how, key).evaluate(FACTS)
    assert "CFG950" in str(err.value) and repr(key) in str(err.value)
    assert not isinstance(err.value, KeyError)  # .get() must not swallow it


def test_the_view_is_read_only_and_iterates_only_declared_keys() -> None:
    view = FactView(FACTS, "CFG950", ("a.needed", "a.optional", "a.absent"))
    assert dict(view) == {"a.needed": 1, "a.optional": 2} and len(view) == 2
    with pytest.raises(TypeError):
        view["a.needed"] = 5  # type: ignore[index]


def test_in_a_scan_an_undeclared_read_is_the_rules_eng004() -> None:
    eng = [r for r in builtin_rules() if r.id == "ENG004"]
    result = evaluate([_reader("index", "a.hidden"), *eng], FACTS, GraphIndex(build_graph([])))
    assert [d["reason"] for d in result.not_evaluated if d["rule_id"] == "CFG950"] == ["raised"]
    [finding] = [r.finding for r in result.results if r.rule.id == "ENG004"]
    assert "CFG950" in finding.message and "a.hidden" in str(finding.evidence)
