"""The decision graph: load the flat edge lists, reject cycles, place fired rules (root cause or symptom).

An edge A -> B reads "when A fires, B is probably a symptom of A". The graph
only orders and groups findings; it never hides one. Placement is a single
pass in topological order, linear in nodes plus edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Any, Iterable, Mapping

import networkx as nx

from .knowledge import KnowledgeError, load_yaml_text, validate


@dataclass(frozen=True)
class Placement:
    root_cause: bool
    caused_by: tuple[str, ...]
    layer: int


def load_fragments(dirs: Iterable[Traversable]) -> list[tuple[str, dict[str, Any]]]:
    fragments = []
    for directory in dirs:
        path = directory / "graph.yaml"
        if not path.is_file():
            continue
        name = f"{getattr(directory, 'name', directory)}/graph.yaml"
        data = load_yaml_text(path.read_text(encoding="utf-8"), name)
        try:
            validate(data, "graph", name)
        except FileNotFoundError:  # the schema ships with the knowledge package
            pass
        fragments.append((name, data))
    return fragments


def build_graph(fragments: Iterable[tuple[str, Mapping[str, Any]]]) -> nx.DiGraph:
    """Compose every fragment into one DAG; a cycle is an error naming the cycle."""
    graph = nx.DiGraph()
    for name, data in fragments:
        for node, attrs in (data.get("nodes") or {}).items():
            graph.add_node(node, **(attrs or {}), source=name)
        for edge in data.get("edges") or []:
            for end in (edge["from"], edge["to"]):
                if end not in graph:
                    raise KnowledgeError(f"{name}: edge names {end}, which is not a node")
            graph.add_edge(edge["from"], edge["to"], because=edge.get("because", ""), source=name)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return graph
    path = " -> ".join([u for u, _v in cycle] + [cycle[0][0]])
    raise KnowledgeError(f"decision graph has a cycle: {path}")


def load_graph(dirs: Iterable[Traversable]) -> nx.DiGraph:
    return build_graph(load_fragments(dirs))


class GraphIndex:
    """Topological order, predecessors and layers, computed once per graph."""

    def __init__(self, graph: nx.DiGraph) -> None:
        self.graph = graph
        self.order: list[str] = list(nx.topological_sort(graph))
        self.preds: dict[str, list[str]] = {n: list(graph.predecessors(n)) for n in self.order}
        self.layer: dict[str, int] = {}
        for node in self.order:
            ps = self.preds[node]
            self.layer[node] = 1 + max(self.layer[p] for p in ps) if ps else 0

    def place(self, fired: set[str]) -> dict[str, Placement]:
        """For each fired node: is it a root cause, and which fired nodes cause it.

        ``caused_by`` holds the *nearest* fired ancestors: the findings this one
        would be indented under. A fired node outside the graph is a root cause
        at layer 0."""
        nearest: dict[str, frozenset[str]] = {}
        empty: frozenset[str] = frozenset()
        for node in self.order:
            acc: set[str] = set()
            for p in self.preds[node]:
                if p in fired:
                    acc.add(p)
                else:
                    acc.update(nearest[p])
            nearest[node] = frozenset(acc) if acc else empty
        out = {}
        for node in fired:
            causes = nearest.get(node, empty)
            out[node] = Placement(
                root_cause=not causes,
                caused_by=tuple(sorted(causes)),
                layer=self.layer.get(node, 0),
            )
        return out

    def because(self, cause: str, symptom: str) -> str | None:
        data = self.graph.get_edge_data(cause, symptom)
        return data.get("because") if data else None


def to_mermaid(graph: nx.DiGraph) -> str:
    lines = ["flowchart LR"]
    for node in sorted(graph.nodes):
        lines.append(f"    {node}[\"{node}\"]")
    for u, v, data in sorted(graph.edges(data=True)):
        reason = str(data.get("because", "")).replace('"', "'")
        lines.append(f"    {u} -->|\"{reason}\"| {v}")
    return "\n".join(lines) + "\n"


def to_dot(graph: nx.DiGraph) -> str:
    lines = ["digraph gwdoctor {", "  rankdir=LR;"]
    for node in sorted(graph.nodes):
        lines.append(f'  "{node}" [label="{node}"];')
    for u, v, data in sorted(graph.edges(data=True)):
        reason = str(data.get("because", "")).replace('"', "'")
        lines.append(f'  "{u}" -> "{v}" [label="{reason}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(graph: nx.DiGraph) -> dict[str, Any]:
    return {
        "nodes": [{"id": n, **{k: v for k, v in d.items() if k != "source"}}
                  for n, d in sorted(graph.nodes(data=True))],
        "edges": [{"from": u, "to": v, "because": d.get("because", "")}
                  for u, v, d in sorted(graph.edges(data=True))],
    }
