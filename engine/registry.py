"""Collect probes, rules and knowledge directories from the plugin manager, rejecting clashes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .model import Probe, Rule
from .plugins import PluginManager, get_plugin_manager

if TYPE_CHECKING:  # importlib.resources costs ~10 ms at start-up
    from importlib.resources.abc import Traversable


class RegistryError(ValueError):
    """Two plugins claim the same probe name, fact key or rule id."""


@dataclass
class Registry:
    probes: list[Probe] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    knowledge_dirs: list[Traversable] = field(default_factory=list)
    owner: dict[str, str] = field(default_factory=dict)  # probe name / rule id -> plugin
    plugin_errors: list[dict[str, str]] = field(default_factory=list)
    plugins: list[dict[str, str]] = field(default_factory=list)


def _per_plugin(manager: PluginManager, hook_name: str) -> list[tuple[str, list[Any]]]:
    out: list[tuple[str, list[Any]]] = []
    hook = getattr(manager.hook, hook_name)
    for impl in hook.get_hookimpls():
        plugin_name = manager.pm.get_name(impl.plugin) or repr(impl.plugin)
        try:
            items = impl.function() or []
        except Exception as exc:  # a plugin's registration hook failed: report, go on
            manager.load_errors.append(
                {"plugin": plugin_name, "value": hook_name, "version": "",
                 "error": f"{type(exc).__name__}: {exc}"[:300]}
            )
            continue
        out.append((plugin_name, list(items)))
    # pluggy calls hooks LIFO; sort by registration order for stable output.
    order = {name: i for i, (name, _) in enumerate(manager.pm.list_name_plugin())}
    return sorted(out, key=lambda pair: order.get(pair[0], 10**6))


def build_registry(manager: PluginManager | None = None) -> Registry:
    manager = manager or get_plugin_manager()
    reg = Registry()
    provided: dict[str, str] = {}
    for plugin_name, probes in _per_plugin(manager, "gwdoctor_register_probes"):
        for p in probes:
            if not isinstance(p, Probe):
                raise RegistryError(f"plugin {plugin_name} registered {p!r}, not a Probe")
            if p.name in reg.owner:
                raise RegistryError(
                    f"probe {p.name!r} is registered by both {reg.owner[p.name]} and {plugin_name}"
                )
            for key in p.provides:
                if key in provided:
                    raise RegistryError(
                        f"fact {key!r} is provided by both {provided[key]} and {plugin_name}"
                    )
                provided[key] = plugin_name
            reg.owner[p.name] = plugin_name
            reg.probes.append(p)
    for plugin_name, rules in _per_plugin(manager, "gwdoctor_register_rules"):
        for r in rules:
            if not isinstance(r, Rule):
                raise RegistryError(f"plugin {plugin_name} registered {r!r}, not a Rule")
            if r.id in reg.owner:
                raise RegistryError(
                    f"rule {r.id} is registered by both {reg.owner[r.id]} and {plugin_name}"
                )
            reg.owner[r.id] = plugin_name
            reg.rules.append(r)
    reg.knowledge_dirs = knowledge_dirs(manager)
    reg.plugin_errors = list(manager.load_errors)
    reg.plugins = list(manager.loaded)
    return reg


def knowledge_dirs(manager: PluginManager) -> list[Traversable]:
    """Every directory the plugins return from ``gwdoctor_register_knowledge``, in
    registration order."""
    return [d for _name, dirs in _per_plugin(manager, "gwdoctor_register_knowledge") for d in dirs]


def builtin_rules() -> list[Rule]:
    """Every rule of the built-in plugins (no entry points): for tests and docs."""
    return build_registry(get_plugin_manager(load_entrypoints=False, env={})).rules



def with_prerequisites(probes: list[Probe], chosen: list[Probe]) -> list[Probe]:
    """``chosen`` plus every probe that provides a fact one of them needs or requires,
    transitively, in registration order: ``--only tls`` must still run what tells the TLS
    probes the route."""
    provider = {key: p for p in probes for key in p.provides}
    keep = {p.name for p in chosen}
    todo = list(chosen)
    while todo:
        probe = todo.pop()
        for key in (*probe.needs, *probe.requires):
            dep = provider.get(key)
            if dep is not None and dep.name not in keep:
                keep.add(dep.name)
                todo.append(dep)
    # A probe that only reads what kept probes saw (``after``, no needs of its own) comes along:
    # it adds facts about them and costs no I/O of its own.
    kept_keys = {key for p in probes if p.name in keep for key in p.provides}
    for p in probes:
        if p.after and not p.needs and not p.requires and set(p.after) & kept_keys:
            keep.add(p.name)
    return [p for p in probes if p.name in keep]
