"""The built-ins are found the way third-party plugins are: gwdoctor's own entry points, and the
`gwdoctor_plugins` tuples of the modules they name (docs/engine.md, docs/plugins.md)."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import sys
import types
from pathlib import Path

import pytest
from gwdoctor.engine.plugins import (
    SUBPLUGINS,
    PluginManager,
    _load,
    builtin_entry_points,
    get_plugin_manager,
)
from gwdoctor.engine.registry import build_registry

ROOT = Path(__file__).resolve().parents[2]


def _listed() -> list[str]:
    """Every built-in plugin module in registration order: each entry point's listed modules,
    then the entry point itself."""
    out: list[str] = []
    for ep in builtin_entry_points():
        out += list(getattr(importlib.import_module(ep.value), SUBPLUGINS, ())) + [ep.name]
    return out


def test_the_built_ins_are_the_distributions_own_entry_points_and_nothing_else() -> None:
    manager = get_plugin_manager(load_entrypoints=False, env={})
    assert manager.load_errors == []
    assert manager.loaded == []  # third-party plugins only
    assert [name for name, _ in manager.pm.list_name_plugin()] == _listed()
    assert {ep.dist.name for ep in builtin_entry_points()} == {"gwdoctor"}


def test_listed_modules_register_in_their_order() -> None:
    import gwdoctor.probes

    registry = build_registry(get_plugin_manager(load_entrypoints=False, env={}))
    owners = list(dict.fromkeys(registry.owner[p.name] for p in registry.probes))
    assert owners == [m for m in gwdoctor.probes.gwdoctor_plugins if m in owners]
    assert registry.probes[0].name == "client.version"  # the report lists config's probes first


@pytest.mark.parametrize("layer", ["probes", "rules"])
def test_every_module_that_implements_a_hook_is_listed(layer: str) -> None:
    listed = set(_listed())
    for path in sorted((ROOT / layer).glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hooks = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)
                 and n.name.startswith("gwdoctor_")]
        module = f"gwdoctor.{layer}" + ("" if path.stem == "__init__" else f".{path.stem}")
        assert not hooks or module in listed, (
            f"{module} implements {hooks} but is in no {SUBPLUGINS}")


def test_a_listed_module_is_blocked_by_its_name() -> None:
    registry = build_registry(get_plugin_manager(
        load_entrypoints=False, env={"GWDOCTOR_DISABLE_PLUGINS": "gwdoctor.probes.tls"}))
    owners = set(registry.owner.values())
    assert "gwdoctor.probes.tls" not in owners and "gwdoctor.probes.dns" in owners


def test_a_broken_listed_module_is_reported_and_the_rest_loads(monkeypatch) -> None:
    import pluggy
    from gwdoctor.engine import hookspecs

    package = types.ModuleType("gwdoctor_test_pkg")
    package.gwdoctor_plugins = ("gwdoctor_test_missing", "gwdoctor.probes.dns")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gwdoctor_test_pkg", package)
    pm = pluggy.PluginManager("gwdoctor")
    pm.add_hookspecs(hookspecs)
    manager = PluginManager(pm)
    ep = importlib.metadata.EntryPoint(name="testpkg", value="gwdoctor_test_pkg", group="gwdoctor")
    _load(manager, ep, builtin=False)
    assert [e["plugin"] for e in manager.load_errors] == ["gwdoctor_test_missing"]
    assert "ModuleNotFoundError" in manager.load_errors[0]["error"]
    assert pm.get_plugin("gwdoctor.probes.dns") is not None
    assert manager.loaded == [{"plugin": "testpkg", "value": "gwdoctor_test_pkg", "version": ""}]
