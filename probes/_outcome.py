"""A built-in probe's outcome: whether the thing it checks is broken, reported to the engine.

The engine records the ``_status``/``_detail`` a probe returns (``ok`` when it returns none) and
knows no status words of its own; the built-in probes describe a failure in a fact's ``status``
(``dns.gateway`` ``{"status": "nxdomain"}``), and :func:`reporting` turns that into ``_status``."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Mapping

from gwdoctor.engine import Probe, ProbeContext

__all__ = ["FAILED_STATUSES", "outcome", "reporting"]

# Statuses a provided fact may carry that mean "the probe ran and the thing it checks is
# broken" (e.g. dns.gateway.status == "nxdomain").
FAILED_STATUSES = frozenset(
    {"failed", "nxdomain", "failure", "timeout", "refused", "reset", "unreachable",
     "plain_http", "dns", "error"}
)


def outcome(result: Mapping[str, Any]) -> tuple[str, str] | None:
    """``("failed", "<fact>: <status>")`` for the first fact of ``result`` whose ``status`` is a
    failure, else ``None``."""
    for key, value in result.items():
        if isinstance(value, Mapping):
            status = value.get("status")
            if isinstance(status, str) and status in FAILED_STATUSES:
                return "failed", f"{key}: {status}"
    return None


def _reported(probe: Probe) -> Probe:
    func = probe.func

    @functools.wraps(func)
    def run(ctx: ProbeContext) -> Mapping[str, Any]:
        out = func(ctx) or {}
        if out.get("_status"):
            return out
        failed = outcome(out)
        if failed is None:
            return out
        return {**out, "_status": failed[0], "_detail": failed[1]}

    return dataclasses.replace(probe, func=run)


def reporting(probes: list[Probe]) -> list[Probe]:
    """``probes``, each reporting ``_status: failed`` when a fact it returns has a failing
    ``status`` (the probe objects of the modules stay as they are, for unit tests)."""
    return [_reported(p) for p in probes]
