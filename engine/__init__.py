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

__version__ = "0.1.0"

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
