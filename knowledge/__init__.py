"""Built-in knowledge: data files (decision graph, signatures, client behaviour) and their schemas. No code runs at import."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from gwdoctor.engine.hookspecs import hookimpl


@hookimpl
def gwdoctor_register_knowledge() -> list[Traversable]:
    return [resources.files(__name__)]
