"""Plugin manager: built on demand, never at import; a broken plugin is reported, not fatal.

The engine names no plugin. Every plugin, built-in or not, is an entry point of the
``gwdoctor`` group; the built-ins are the entry points of gwdoctor's own distribution, loaded
even when third-party plugins are off. A plugin module may list further plugin modules, in
order, in a ``gwdoctor_plugins`` tuple (pytest's ``pytest_plugins``): they are registered, under
their module names, before the module itself.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .entrypoints import (
    DISTRIBUTION,
    ENTRY_POINT_GROUP,
    SUBPLUGINS,
    builtin_entry_points,
    builtin_modules,
)

__all__ = ["DISTRIBUTION", "ENTRY_POINT_GROUP", "SUBPLUGINS", "PluginManager",
           "builtin_entry_points", "builtin_modules", "disabled_plugins", "get_plugin_manager"]


@dataclass
class PluginManager:
    """The pluggy manager plus what happened while loading plugins."""

    pm: pluggy.PluginManager
    load_errors: list[dict[str, str]] = field(default_factory=list)
    loaded: list[dict[str, str]] = field(default_factory=list)

    @property
    def hook(self) -> Any:
        return self.pm.hook


def disabled_plugins(env: dict[str, str] | None = None) -> set[str]:
    raw = (env if env is not None else os.environ).get("GWDOCTOR_DISABLE_PLUGINS", "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def get_plugin_manager(
    *, load_entrypoints: bool = True, env: dict[str, str] | None = None
) -> PluginManager:
    """Build a fresh manager: the built-ins (gwdoctor's own entry points) first, then, unless
    ``load_entrypoints`` is false, every other distribution's entry points one at a time."""
    pm = pluggy.PluginManager("gwdoctor")
    pm.add_hookspecs(hookspecs)
    blocked = disabled_plugins(env)
    for name in blocked:
        pm.set_blocked(name)
    manager = PluginManager(pm)
    for ep in builtin_entry_points():
        _load(manager, ep, builtin=True)
    if load_entrypoints:
        others = [ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
                  if _dist_name(ep) != DISTRIBUTION]
        for ep in sorted(others, key=lambda e: e.name):
            _load(manager, ep, builtin=False)
    pm.check_pending()
    return manager


def _dist_name(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return (dist.name or "") if dist is not None else ""


def _error(plugin: str, value: str, version: str, exc: Exception) -> dict[str, str]:
    return {"plugin": plugin, "value": value, "version": version,
            "error": f"{type(exc).__name__}: {exc}"[:300]}


def _load(manager: PluginManager, ep: importlib.metadata.EntryPoint, *, builtin: bool) -> None:
    """Register one entry point (and the plugins it lists); a failure is recorded, never raised."""
    pm = manager.pm
    if pm.is_blocked(ep.name):
        return
    dist = getattr(ep, "dist", None)
    version = "" if builtin else (getattr(dist, "version", "") if dist else "")
    try:
        plugin = ep.load()
    except Exception as exc:  # a plugin's import error must not stop the scan
        manager.load_errors.append(_error(ep.name, ep.value, version, exc))
        return
    for modname in getattr(plugin, SUBPLUGINS, ()):
        if pm.is_blocked(modname):
            continue
        try:
            pm.register(importlib.import_module(modname), name=modname)
            pm.check_pending()
        except Exception as exc:  # a broken module is reported like any plugin
            if pm.get_plugin(modname) is not None:
                pm.unregister(name=modname)
            manager.load_errors.append(_error(modname, modname, version, exc))
    try:
        pm.register(plugin, name=ep.name)
        pm.check_pending()
    except Exception as exc:
        if pm.get_plugin(ep.name) is not None:
            pm.unregister(name=ep.name)
        manager.load_errors.append(_error(ep.name, ep.value, version, exc))
        return
    if not builtin:
        manager.loaded.append({"plugin": ep.name, "value": ep.value, "version": version})
