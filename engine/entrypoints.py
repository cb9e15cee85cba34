"""gwdoctor's own entry points: the built-in plugins, found without a plugin manager.

Apart from :mod:`.plugins` so that the knowledge loader can reach the built-in modules without
importing the hook specifications (and through them the plugin API's model): no import cycle.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
from typing import Any

ENTRY_POINT_GROUP = "gwdoctor"
# The distribution this engine ships in: its own entry points are the built-in plugins.
DISTRIBUTION = "gwdoctor"
# A plugin module's tuple of further plugin modules, registered before it (pytest_plugins).
SUBPLUGINS = "gwdoctor_plugins"


def builtin_modules() -> list[Any]:
    """The built-in plugin objects in registration order (each entry point's listed modules, then
    the entry point's own), without a plugin manager; one that fails to import is left out (the
    manager reports it)."""
    out: list[Any] = []
    for ep in builtin_entry_points():
        try:
            plugin = ep.load()
            out += [importlib.import_module(name) for name in getattr(plugin, SUBPLUGINS, ())]
        except Exception:  # noqa: BLE001  reported by get_plugin_manager, not here
            continue
        out.append(plugin)
    return out


@functools.lru_cache(maxsize=None)
def builtin_entry_points() -> tuple[importlib.metadata.EntryPoint, ...]:
    """gwdoctor's own entry points, in the order of its metadata (read once per process).

    From the first copy of gwdoctor's metadata on the path that has any: a build leaves a
    ``gwdoctor.egg-info`` in the checkout, which shadows the installed metadata whenever the
    checkout is the working directory, and one made before the entry points existed has none."""
    for dist in importlib.metadata.distributions(name=DISTRIBUTION):
        eps = tuple(ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP)
        if eps:
            return eps
    return ()
