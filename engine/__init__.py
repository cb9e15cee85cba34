"""gwdoctor's plugin API: the names a probe or rule plugin imports. Nothing happens at import."""

from __future__ import annotations

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
    Severity,
    Vault,
    describe_secret,
    probe,
    rule,
)

from ._version import __version__

__all__ = [
    "Facts",
    "Finding",
    "Fix",
    "Options",
    "Probe",
    "ProbeContext",
    "ProbeSkipped",
    "Rule",
    "Severity",
    "Vault",
    "__version__",
    "describe_secret",
    "hookimpl",
    "probe",
    "rule",
]
