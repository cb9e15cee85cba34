"""Hook specifications: the whole contract between gwdoctor and its plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

from .model import Probe, Rule, ScanOption

if TYPE_CHECKING:  # importlib.resources costs ~10 ms at start-up
    from importlib.resources.abc import Traversable

    import click

hookspec = pluggy.HookspecMarker("gwdoctor")
hookimpl = pluggy.HookimplMarker("gwdoctor")


@hookspec
def gwdoctor_register_probes() -> list[Probe]:
    """Return the probes this plugin contributes.

    Called once per scan, before any probe runs. A probe name, or a fact key
    provided by two probes, aborts the scan with a usage error naming both
    plugins."""


@hookspec
def gwdoctor_register_rules() -> list[Rule]:
    """Return the rules this plugin contributes.

    Called once per scan and by ``gwdoctor rules``/``explain``. Each id must be
    unique and a node of the decision graph (a plugin adds its nodes and edges
    through :func:`gwdoctor_register_knowledge`)."""


@hookspec
def gwdoctor_register_knowledge() -> list[Traversable]:
    """Return directories of extra knowledge files.

    Each ``*.yaml`` file in them is schema-checked on load; a ``graph.yaml``
    adds nodes and edges to the decision graph, a ``signatures.yaml`` adds
    error signatures for ``gwdoctor explain``."""


@hookspec
def gwdoctor_register_commands(cli: click.Group) -> None:
    """Add commands to the ``gwdoctor`` command line with ``cli.add_command(...)``.

    Called at most once per process, on the top-level group, the first time the
    command line is asked for a command it does not have built in or for the
    list of commands (``gwdoctor --help``); never for ``scan``, ``--version``
    and the other built-in commands. A name a built-in command has is not
    replaced. The built-in ``generate`` and ``validate`` come through this hook
    (``gwdoctor.setup``)."""


@hookspec
def gwdoctor_register_scan_options() -> list[ScanOption]:
    """Return the command-line options this plugin's probes read.

    Each becomes an option of ``gwdoctor scan`` and ``gwdoctor facts``, asked for only when one
    of them parses its arguments (never for ``--version`` or other commands); a probe reads the
    value with ``ctx.options.get(option.dest)``, and the report lists it under
    ``engine.options``. A flag the command already has is a usage error naming it."""
