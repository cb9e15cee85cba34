"""Plugin manager: built on demand, never at import; a broken plugin is reported, not fatal."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs

AREAS = ("config", "provider", "dns", "proxy", "tls", "auth", "gateway", "model")

BUILTIN_PLUGINS: tuple[str, ...] = (
    tuple(f"gwdoctor.probes.{area}" for area in AREAS)
    + ("gwdoctor.probes.faults",)
    + tuple(f"gwdoctor.rules.{area}" for area in AREAS)
    + ("gwdoctor.rules.client", "gwdoctor.rules.retired", "gwdoctor.rules.unexplained",
       "gwdoctor.rules.engine", "gwdoctor.knowledge")
)

ENTRY_POINT_GROUP = "gwdoctor"


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
    """Build a fresh manager: built-ins first, then entry points one at a time."""
    pm = pluggy.PluginManager("gwdoctor")
    pm.add_hookspecs(hookspecs)
    blocked = disabled_plugins(env)
    for name in blocked:
        pm.set_blocked(name)
    manager = PluginManager(pm)
    for modname in BUILTIN_PLUGINS:
        if modname in blocked:
            continue
        try:
            pm.register(importlib.import_module(modname), name=modname)
        except Exception as exc:  # a broken built-in is reported like any plugin
            manager.load_errors.append({"plugin": modname, "value": modname, "version": "",
                                        "error": f"{type(exc).__name__}: {exc}"[:300]})
    if load_entrypoints:
        _load_entrypoints(manager, blocked)
    pm.check_pending()
    return manager


def _load_entrypoints(manager: PluginManager, blocked: set[str]) -> None:
    for ep in sorted(
        importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
    ):
        if ep.name in blocked or manager.pm.is_blocked(ep.name):
            continue
        dist = getattr(ep, "dist", None)
        version = getattr(dist, "version", "") if dist else ""
        try:
            plugin = ep.load()
            manager.pm.register(plugin, name=ep.name)
            manager.pm.check_pending()
        except Exception as exc:  # a plugin's import error must not stop the scan
            if manager.pm.get_plugin(ep.name) is not None:
                manager.pm.unregister(name=ep.name)
            manager.load_errors.append(
                {
                    "plugin": ep.name,
                    "value": ep.value,
                    "version": version,
                    "error": f"{type(exc).__name__}: {exc}"[:300],
                }
            )
            continue
        manager.loaded.append({"plugin": ep.name, "value": ep.value, "version": version})
