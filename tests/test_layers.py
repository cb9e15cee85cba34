"""The layers and the direction of every dependency (docs/engine.md, "Layers"), read from the
code with `ast`: every import counts, lazy ones inside functions and TYPE_CHECKING ones too.

    engine  <-  probes, rules, knowledge, setup (nothing in the engine imports them)

- the engine imports no other layer;
- no module imports another layer's private module (``gwdoctor.rules._x`` from probes);
- no import cycle among modules.

There are no exceptions: the last breaches (the setup side in knowledge/, engine/cli_setup.py)
went when setup became its own plugin, and a new one fails the test that finds it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("engine", "probes", "rules", "knowledge", "setup")

def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["gwdoctor", *parts])


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for layer in LAYERS for p in sorted((ROOT / layer).rglob("*.py"))}


MODULES = _modules()


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _target(name: str) -> str | None:
    """The gwdoctor module ``name`` refers to (``gwdoctor.rules._providers.route`` ->
    ``gwdoctor.rules._providers``), or None outside the four layers."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for mod, path in MODULES.items():
        graph.add_node(mod)
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, is_package, node)
                # `from . import cli_setup` imports the submodule; `from .x import name`, module x.
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                         for a in node.names]
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "import_module" and node.args
                  and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str)):
                names = [node.args[0].value]       # importlib.import_module("gwdoctor.x.y")
            for name in names:
                target = _target(name)
                if target and target != mod:
                    graph.add_edge(mod, target, line=getattr(node, "lineno", 0))
    return graph


GRAPH = import_graph()


def _layer(mod: str) -> str:
    return mod.split(".")[1]


def _private(mod: str) -> bool:
    return any(part.startswith("_") and part != "__init__" for part in mod.split(".")[2:])


def _where(a: str, b: str) -> str:
    return f"{MODULES[a].relative_to(ROOT)}:{GRAPH.edges[a, b]['line']} imports {b}"


def test_the_graph_sees_every_layer() -> None:
    # A parser that found nothing would pass every test below.
    assert {_layer(m) for m in MODULES} == set(LAYERS)
    assert GRAPH.number_of_edges() > 100
    assert ("gwdoctor.rules.proxy", "gwdoctor.engine") in GRAPH.edges


def test_the_engine_imports_no_domain_layer() -> None:
    found = {(a, b) for a, b in GRAPH.edges if _layer(a) == "engine" and _layer(b) != "engine"}
    assert not found, "\n".join(_where(a, b) for a, b in sorted(found))


def test_no_module_imports_another_layers_private_module() -> None:
    found = {(a, b) for a, b in GRAPH.edges if _layer(a) != _layer(b) and _private(b)}
    assert not found, "\n".join(_where(a, b) for a, b in sorted(found))


def test_no_import_cycles() -> None:
    cycles = {tuple(sorted(c)): c for c in nx.simple_cycles(GRAPH)}
    assert not cycles, "import cycles:\n" + "\n".join(
        " -> ".join([*c, c[0]]) for c in cycles.values())


DOC = (ROOT / "docs" / "engine.md").read_text()


def _documented_layer_edges() -> set[tuple[str, str]]:
    block = re.search(r"```layers\n(.*?)```", DOC, re.S)
    assert block, "docs/engine.md has no ```layers block"
    edges = {tuple(part.strip() for part in line.split("->"))
             for line in block[1].splitlines() if line.strip()}
    assert all(len(e) == 2 and set(e) <= set(LAYERS) for e in edges), edges
    return edges  # type: ignore[return-value]


def test_layer_dependencies_are_exactly_the_documented_ones() -> None:
    """Probes, rules and knowledge depend on the engine and on nothing else of gwdoctor's; the
    list in docs/engine.md is the one the code has, no more (a new arrow) and no less (stale)."""
    actual: dict[tuple[str, str], list[str]] = {}
    for a, b in GRAPH.edges:
        if _layer(a) != _layer(b):
            actual.setdefault((_layer(a), _layer(b)), []).append(_where(a, b))
    documented = _documented_layer_edges()
    extra = {e: v for e, v in actual.items() if e not in documented}
    assert not extra, f"undocumented layer dependencies: {extra}"
    assert documented <= set(actual), f"documented but unused: {documented - set(actual)}"


def test_nothing_imports_the_cli() -> None:
    importers = {a for a, b in GRAPH.edges if b == "gwdoctor.engine.cli"}
    assert not importers, importers
