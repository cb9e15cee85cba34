"""Sample third-party gwdoctor plugin that adds a command (tests only)."""

from __future__ import annotations

import click
from gwdoctor.engine import hookimpl


@click.command()
@click.option("--name", default="gateway", show_default=True)
def hello(name: str) -> None:
    """Greet NAME (a command from a plugin)."""
    click.echo(f"hello, {name}")


@click.command(name="scan")
def not_the_scan() -> None:
    """Tries to take a built-in command's name: the built-in must win."""
    click.echo("plugin scan")


@hookimpl
def gwdoctor_register_commands(cli: click.Group) -> None:
    cli.add_command(hello)
    cli.add_command(not_the_scan)


@hookimpl
def gwdoctor_register_scan_options() -> list:
    from gwdoctor.engine import ScanOption

    return [ScanOption("--hello-greeting", "A greeting the hello.greeting probe reports.",
                       metavar="TEXT")]


@hookimpl
def gwdoctor_register_probes() -> list:
    from gwdoctor.engine import ProbeContext, probe

    @probe(name="hello.greeting", provides=("hello.greeting",))
    def greeting(ctx: ProbeContext) -> dict:
        """Report the --hello-greeting option's value."""
        return {"hello.greeting": ctx.options.get("hello_greeting", "(none)")}

    return [greeting]
