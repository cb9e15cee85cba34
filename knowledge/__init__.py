"""Built-in knowledge: data files (decision graph, signatures, client behaviour) and their
schemas. No code runs at import."""

from __future__ import annotations

from pathlib import Path

from gwdoctor.engine.hookspecs import hookimpl


@hookimpl
def gwdoctor_register_knowledge() -> list[Path]:
    # A plain path, not importlib.resources.files(): gwdoctor is never imported from a
    # zip, and importlib.resources costs ~10 ms of imports on every scan.
    return [Path(__file__).resolve().parent]
