"""Rules for the gateway area (placeholder until the area lands)."""

from __future__ import annotations

from gwdoctor.engine import hookimpl


@hookimpl
def gwdoctor_register_rules() -> list:
    return []
