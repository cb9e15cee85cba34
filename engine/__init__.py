"""gwdoctor's plugin API: the names a probe or rule plugin imports.

Nothing happens at import: the names load on first use (PEP 562), so the
command line starts with little more than click.
"""

from __future__ import annotations

from ._version import __version__

# NOTE: not `from typing import TYPE_CHECKING`: typing costs ~5 ms of every `--version`.
TYPE_CHECKING = False

_EXPORTS = {
    "hookimpl": ".hookspecs",
    "Facts": ".model",
    "Finding": ".model",
    "Fix": ".model",
    "Options": ".model",
    "Probe": ".model",
    "ProbeContext": ".model",
    "ScanOption": ".model",
    "ProbeSkipped": ".model",
    "Rule": ".model",
    "Severity": ".model",
    "Vault": ".model",
    "describe_secret": ".model",
    "probe": ".model",
    "rule": ".model",
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:
    from .hookspecs import hookimpl
    from .model import (
        Facts,
        Finding,
        Fix,
        Options,
        Probe,
        ProbeContext,
        ProbeSkipped,
        Rule,
        ScanOption,
        Severity,
        Vault,
        describe_secret,
        probe,
        rule,
    )


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gwdoctor.engine' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
