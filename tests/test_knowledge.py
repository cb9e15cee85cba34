"""Knowledge files: each validates against its schema, the graph is a DAG, causes and rules match
one to one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import networkx as nx
import pytest
import yaml
from gwdoctor.engine.explain import load_signatures
from gwdoctor.engine.knowledge import areas
from gwdoctor.engine.registry import builtin_rules

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
SCHEMAS = KNOWLEDGE / "schemas"
# Every knowledge/*.yaml file and the schema it must satisfy.
KINDS = {path.stem: path.stem for path in sorted(KNOWLEDGE.glob("*.yaml"))}


def _load(name: str) -> Any:
    return yaml.safe_load((KNOWLEDGE / f"{name}.yaml").read_text(encoding="utf-8"))


GRAPH = _load("graph")
CAUSES = _load("causes")["causes"]
RETIRED = _load("retired") or []
RULES = builtin_rules()
RETIRED_IDS = {r["id"] for r in RETIRED if "id" in r}


@pytest.mark.parametrize("schema_path", sorted(SCHEMAS.glob("*.schema.json")), ids=lambda p: p.name)
def test_every_schema_is_a_valid_draft_2020_12_schema(schema_path: Path) -> None:
    schema = json.loads(schema_path.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema.get("additionalProperties") is False or schema.get("type") in ("array",
                                                                                 ["array", "null"])


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_knowledge_file_validates_against_its_schema(name: str) -> None:
    schema_path = SCHEMAS / f"{name}.schema.json"
    assert schema_path.is_file(), f"knowledge/{name}.yaml has no schemas/{name}.schema.json"
    jsonschema.Draft202012Validator(json.loads(schema_path.read_text())).validate(_load(name))


@pytest.mark.parametrize("path", sorted((ROOT / "tests/rules/cases").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_rule_case_file_validates(path: Path) -> None:
    schema = json.loads((SCHEMAS / "rule-cases.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(path.read_text()))


def _graph() -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(GRAPH["nodes"])
    g.add_edges_from((e["from"], e["to"]) for e in GRAPH["edges"])
    return g


def test_graph_is_acyclic() -> None:
    g = _graph()
    cycle = [] if nx.is_directed_acyclic_graph(g) else nx.find_cycle(g)
    assert not cycle, f"cycle: {cycle}"


def test_every_edge_joins_two_nodes_once_with_a_reason() -> None:
    seen = set()
    for e in GRAPH["edges"]:
        assert e["from"] in GRAPH["nodes"] and e["to"] in GRAPH["nodes"], e
        assert e["from"] != e["to"], e
        assert (e["from"], e["to"]) not in seen, f"duplicate edge {e}"
        seen.add((e["from"], e["to"]))
        assert len(e["because"].split()) >= 3, e


@pytest.mark.parametrize("node", sorted(GRAPH["nodes"]))
def test_node_area_matches_its_id_prefix(node: str) -> None:
    assert GRAPH["nodes"][node]["area"] == areas()[node[:3]]


def test_every_rule_is_a_graph_node_and_every_node_a_rule_or_retired() -> None:
    ids = {r.id for r in RULES}
    nodes = set(GRAPH["nodes"])
    assert ids - nodes == set(), f"rules missing from knowledge/graph.yaml: {sorted(ids - nodes)}"
    orphans = nodes - ids - RETIRED_IDS
    assert orphans == set(), (
        f"graph nodes with no rule (add the rule or retire the id): {sorted(orphans)}")


def test_retired_ids_and_names_are_not_reused() -> None:
    assert RETIRED_IDS & {r.id for r in RULES} == set()
    retired_names = {r["name"] for r in RETIRED if "name" in r}
    assert retired_names & {r.name for r in RULES} == set()


def test_every_rule_cause_is_in_the_taxonomy() -> None:
    unknown = {r.id: r.cause for r in RULES if r.cause not in CAUSES}
    assert unknown == {}, f"add these causes to knowledge/causes.yaml: {unknown}"


def test_every_cause_has_a_rule() -> None:
    used = {r.cause for r in RULES}
    unused = sorted(set(CAUSES) - used)
    assert unused == [], f"causes no rule names yet: {unused}"


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_cause_area_is_a_known_area(cause: str) -> None:
    assert cause.split(".")[0] in set(areas().values())


def test_signature_rules_are_graph_nodes_and_causes_known() -> None:
    for sig in load_signatures():
        assert set(sig.rules) <= set(GRAPH["nodes"]), sig.origin
        assert sig.cause in CAUSES, sig.origin


def test_signature_cause_is_its_first_rules_cause() -> None:
    by_id = {r.id: r for r in RULES}
    wrong = [f"{s.origin}: {s.rules[0]} is {by_id[s.rules[0]].cause}, signature says {s.cause}"
             for s in load_signatures()
             if s.rules[0] in by_id and by_id[s.rules[0]].cause != s.cause]
    assert wrong == []


def test_every_signature_rule_is_registered_or_retired() -> None:
    ids = {r.id for r in RULES} | RETIRED_IDS
    missing = sorted({rid for s in load_signatures() for rid in s.rules} - ids)
    assert missing == [], f"signatures name rules that do not exist: {missing}"


def test_every_rule_is_named_by_some_signature_or_is_exempt() -> None:
    # Engine rules describe gwdoctor itself; nothing a client prints points at them.
    named = {rid for s in load_signatures() for rid in s.rules}
    unnamed = sorted(r.id for r in RULES if r.id not in named and not r.id.startswith("ENG"))
    assert unnamed == [], f"no error text leads to these rules; add a signature: {unnamed}"


def test_signature_patterns_are_anchored_on_real_text() -> None:
    # A pattern that matches a common word would vote on every paste.
    for sig in load_signatures():
        for filler in ("error", "the request failed", "API Error:", "please try again"):
            assert not sig.pattern.fullmatch(filler), f"{sig.origin} matches {filler!r}"
        assert re.sub(r"\W", "", sig.pattern.pattern), sig.origin
