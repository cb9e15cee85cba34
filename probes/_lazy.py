"""Heavy third-party modules imported on first use, so `gwdoctor rules`, `explain`, replays
and offline scans never pay for httpx (~150 ms) or cryptography."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """A stand-in that imports the real module on the first attribute access."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__dict__["_lazy_name"])
        return getattr(module, attr)


httpx = LazyModule("httpx")
