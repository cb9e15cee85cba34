"""The decision graph: load the flat edge lists, reject cycles, place fired rules (root cause or
symptom).

An edge A -> B reads "when A fires, B is probably a symptom of A". The graph
only orders and groups findings; it never hides one. Placement is a single
pass in topological order, linear in nodes plus edges.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .cache import read_json, write_json
from .knowledge import KnowledgeError, load_yaml_text, validate

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    import networkx as nx


@dataclass(frozen=True)
class Placement:
    root_cause: bool
    caused_by: tuple[str, ...]
    layer: int


def _read_fragments(dirs: Iterable[Traversable]) -> list[tuple[str, str]]:
    texts = []
    for directory in dirs:
        path = directory / "graph.yaml"
        if path.is_file():
            texts.append((f"{getattr(directory, 'name', directory)}/graph.yaml",
                          path.read_text(encoding="utf-8")))
    return texts


def _parse(texts: list[tuple[str, str]]) -> list[tuple[str, dict[str, Any]]]:
    fragments = []
    for name, text in texts:
        data = load_yaml_text(text, name) or {}
        validate(data, "graph", name)
        fragments.append((name, data))
    return fragments


def load_fragments(dirs: Iterable[Traversable]) -> list[tuple[str, dict[str, Any]]]:
    return _parse(_read_fragments(dirs))


def build_graph(fragments: Iterable[tuple[str, Mapping[str, Any]]]) -> "nx.DiGraph":
    """Compose every fragment into one DAG; a cycle is an error naming the cycle."""
    import networkx as nx

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


def load_graph(dirs: Iterable[Traversable]) -> "nx.DiGraph":
    return build_graph(load_fragments(dirs))


class GraphIndex:
    """Topological order, predecessors, layers and edge reasons: all a scan needs.

    Built from the networkx graph (``GraphIndex(graph)``), or from the compiled
    form a previous scan cached (:func:`load_index`), so a scan whose knowledge
    files did not change neither parses the YAML nor imports networkx."""

    def __init__(self, graph: "nx.DiGraph | None" = None) -> None:
        self.graph = graph
        self.order: list[str] = []
        self.preds: dict[str, list[str]] = {}
        self.reasons: dict[str, str] = {}  # "A>B" -> because
        if graph is not None:
            import networkx as nx

            self.order = list(nx.topological_sort(graph))
            self.preds = {n: sorted(graph.predecessors(n)) for n in self.order}
            self.reasons = {f"{u}>{v}": str(d.get("because", ""))
                            for u, v, d in graph.edges(data=True)}
        self._layers()

    def _layers(self) -> None:
        self.layer: dict[str, int] = {}
        for node in self.order:
            ps = self.preds[node]
            self.layer[node] = 1 + max(self.layer[p] for p in ps) if ps else 0

    @property
    def edge_count(self) -> int:
        return len(self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {"order": self.order, "preds": self.preds, "reasons": self.reasons}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "GraphIndex":
        index = cls()
        index.order, index.preds = (list(data["order"]),
                                    {k: list(v) for k, v in data["preds"].items()})
        index.reasons = dict(data["reasons"])
        index._layers()
        return index

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
        return self.reasons.get(f"{cause}>{symptom}")


def load_index(dirs: Iterable[Traversable]) -> GraphIndex:
    """The compiled decision graph, from the cache when the fragments are unchanged."""
    from ._version import __version__

    texts = _read_fragments(dirs)
    digest = hashlib.sha256(__version__.encode())
    for name, text in texts:
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    key = digest.hexdigest()[:24]
    name = f"graph-{key}.json"
    cached = read_json(name)
    if cached is not None:
        try:
            return GraphIndex.from_json(cached)
        except (KeyError, TypeError, ValueError):
            pass  # a damaged cache is rebuilt
    index = GraphIndex(build_graph(_parse(texts)))
    write_json(name, index.to_json())
    return index


def to_mermaid(graph: "nx.DiGraph") -> str:
    lines = ["flowchart LR"]
    for node in sorted(graph.nodes):
        lines.append(f"    {node}[\"{node}\"]")
    for u, v, data in sorted(graph.edges(data=True)):
        reason = str(data.get("because", "")).replace('"', "'")
        lines.append(f"    {u} -->|\"{reason}\"| {v}")
    return "\n".join(lines) + "\n"


def to_dot(graph: "nx.DiGraph") -> str:
    lines = ["digraph gwdoctor {", "  rankdir=LR;"]
    for node in sorted(graph.nodes):
        lines.append(f'  "{node}" [label="{node}"];')
    for u, v, data in sorted(graph.edges(data=True)):
        reason = str(data.get("because", "")).replace('"', "'")
        lines.append(f'  "{u}" -> "{v}" [label="{reason}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(graph: "nx.DiGraph") -> dict[str, Any]:
    return {
        "nodes": [{"id": n, **{k: v for k, v in d.items() if k != "source"}}
                  for n, d in sorted(graph.nodes(data=True))],
        "edges": [{"from": u, "to": v, "because": d.get("because", "")}
                  for u, v, d in sorted(graph.edges(data=True))],
    }
