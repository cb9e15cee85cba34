"""Heavy third-party modules, imported on first use (or warmed up on a side thread while a
scan waits on I/O), so `gwdoctor rules`, `explain`, replays and offline scans never pay for
httpx or cryptography, and a scan pays for them off its critical path.

One more saving: ``import httpx`` also imports ``httpx._main``, httpx's own command line,
which pulls in click, rich.progress, rich.syntax and pygments' lexers. gwdoctor never runs
it; blocking it cut httpx's import from ~0.34 s to ~0.19 s (wall, fresh process, this
2-core machine) and the interpreter's teardown of those modules at exit with it. httpx
handles the missing module itself (``httpx.main`` then prints how to install the CLI).
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType
from typing import Any

# module -> submodules it imports that gwdoctor never uses (None in sys.modules makes the
# import raise ImportError, which these packages catch).
_UNUSED = {"httpx": ("httpx._main",)}


def import_module(name: str) -> ModuleType:
    """``importlib.import_module`` minus the unused submodules above."""
    top = name.partition(".")[0]
    if top not in sys.modules:
        for sub in _UNUSED.get(top, ()):
            sys.modules.setdefault(sub, None)  # type: ignore[arg-type]
    return importlib.import_module(name)


class LazyModule(ModuleType):
    """A stand-in that imports the real module on the first attribute access."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str) -> Any:
        # Only reached for a name not yet copied: each is looked up once, then read from
        # this module's own __dict__ (a TLS probe reads x509.* ~1,600 times).
        value = getattr(import_module(self.__dict__["_lazy_name"]), attr)
        self.__dict__[attr] = value
        return value


def preload(names: tuple[str, ...]) -> threading.Thread:
    """Import ``names`` on a daemon thread. The import lock makes a caller that needs one
    meanwhile wait for the same import instead of starting a second; failures are left
    for the real import to report."""

    def run() -> None:
        for name in names:
            try:
                import_module(name)
            except Exception:  # noqa: BLE001  only a warm-up
                pass

    thread = threading.Thread(target=run, daemon=True, name="gwdoctor-preload")
    thread.start()
    return thread
