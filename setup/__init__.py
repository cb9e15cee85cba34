"""The setup side as a built-in plugin: `gwdoctor generate` and `gwdoctor validate`, added
through gwdoctor_register_commands. Nothing runs at import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gwdoctor.engine.hookspecs import hookimpl

if TYPE_CHECKING:
    import click


@hookimpl
def gwdoctor_register_commands(cli: click.Group) -> None:
    # Imported here, not at the top: every scan registers this plugin, and only the
    # setup commands need the generator.
    from .commands import generate, validate

    cli.add_command(generate)
    cli.add_command(validate)
