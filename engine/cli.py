"""Command line: parses options and delegates. Only click is imported at start-up; the rest
loads on use."""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path
from typing import Any

import click

from ._version import __version__
from .cli_input import (
    BUDGET_RANGE,
    TIMEOUT_RANGE,
    FiniteFloat,
    check_only,
    env_timeout,
    reopen_closed_std_streams,
)
from .cli_output import (
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_PIPE,
    EXIT_USAGE,
    FAIL_ON,
    FORMATS,
    check_output,
    exit_code,
    mark_stdout_closed,
    render_report,
    write_output,
)

MAX_BUNDLE = 64 * 2**20  # a real bundle is tens of KiB


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (CliRunner): nothing to do
        pass


class GwdoctorGroup(click.Group):
    """Turns unexpected exceptions into exit 3 with one line (a traceback only with
    GWDOCTOR_DEBUG=1), and asks the plugins for their commands when one is not built in."""

    plugin_commands_loaded = False

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and self.load_plugin_commands():
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugin_commands()
        return super().list_commands(ctx)

    def load_plugin_commands(self) -> bool:
        """Call ``gwdoctor_register_commands(cli=self)`` once; False when already done.

        Lazy, so `scan` and `--version` never build a plugin manager here (start-up is
        benchmarked). Built-in commands keep their names whatever a plugin adds."""
        if self.plugin_commands_loaded:
            return False
        self.plugin_commands_loaded = True
        from .plugins import get_plugin_manager

        builtin = dict(self.commands)
        try:
            get_plugin_manager(env=dict(os.environ)).hook.gwdoctor_register_commands(cli=self)
        except Exception as exc:  # noqa: BLE001  a broken plugin must not take the CLI with it
            click.echo(f"gwdoctor: warning: a plugin's commands: {type(exc).__name__}: {exc}",
                       err=True)
        self.commands.update(builtin)
        return True

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Usage errors as one line on stderr, exit 2 (click prints three)."""
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:  # pragma: no cover - click >= 8.2
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(EXIT_OK)
        except click.UsageError as exc:
            cmd = exc.ctx.command_path if exc.ctx else "gwdoctor"
            click.echo(f"{cmd}: error: {exc.format_message()} (see '{cmd} --help')", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            click.echo(f"gwdoctor: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("gwdoctor: aborted", err=True)
            sys.exit(130)
        if isinstance(rv, int):
            sys.exit(rv)
        sys.exit(EXIT_OK)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            rv = super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except BrokenPipeError:
            # The reader went away (`gwdoctor scan | head`): stop quietly, as a process killed
            # by SIGPIPE would, and keep Python from complaining when it flushes at exit.
            _silence_stdout()
            ctx.exit(EXIT_PIPE)
        except Exception as exc:  # noqa: BLE001
            self._internal(ctx, exc)
        # Flush here, not at exit: a full disk or a closed pipe must reach a handler
        # (`gwdoctor explain X > /dev/full` once exited 0 having written nothing).
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
            ctx.exit(EXIT_PIPE)
        except (OSError, ValueError) as exc:
            click.echo(f"gwdoctor: error: cannot write the output: "
                       f"{getattr(exc, 'strerror', None) or exc}", err=True)
            _silence_stdout()
            ctx.exit(EXIT_USAGE)
        return rv

    @staticmethod
    def _internal(ctx: click.Context, exc: Exception) -> None:
        from .knowledge import KnowledgeError
        from .registry import RegistryError

        if isinstance(exc, (KnowledgeError, RegistryError)):
            click.echo(f"gwdoctor: error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)
        if os.environ.get("GWDOCTOR_DEBUG"):
            raise exc
        click.echo(f"gwdoctor: internal error: {type(exc).__name__}: {exc} "
                   "(set GWDOCTOR_DEBUG=1 for a traceback)", err=True)
        ctx.exit(EXIT_INTERNAL)


@click.group(cls=GwdoctorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="gwdoctor")
def main() -> None:
    """Find why an AI coding client cannot reach its models, and print the fix.

    \b
    Quick start:
      gwdoctor scan                       diagnose this machine's Claude Code setup
      gwdoctor scan --format json         the same, for CI (exit 1 on errors)
      gwdoctor explain "API Error: ..."   what a pasted error line usually means
    """


def probe_options(func: Any) -> Any:
    decorators = [
        click.option("--timeout", type=FiniteFloat(*TIMEOUT_RANGE), default=None,
                     help="Per-probe network timeout in seconds "
                          "[default: 4, or GWDOCTOR_TIMEOUT]."),
        click.option("--budget", type=FiniteFloat(*BUDGET_RANGE), default=None,
                     help="Time budget for the whole scan in seconds "
                          "[default: 4 x timeout, at least 10]."),
        click.option("--offline", is_flag=True, help="Skip every network probe."),
        click.option("--no-inference", is_flag=True,
                     help="Skip the paid model requests (POST /v1/messages)."),
        click.option("--only", metavar="AREAS",
                     help="Comma-separated probe areas to run (the areas `gwdoctor rules` "
                          "groups the rules by)."),
        click.option("--no-plugins", is_flag=True, help="Load no third-party plugins."),
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func


class ScanCommand(click.Command):
    """``scan`` and ``facts``: the options the plugins' probes read are added when the command
    parses its arguments (``gwdoctor_register_scan_options``), never at start-up; the plugin
    manager built for that is the one the scan then uses."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["gwdoctor.no_plugins"] = "--no-plugins" in args
        return super().parse_args(ctx, args)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        own = super().get_params(ctx)
        if "gwdoctor.plugin_params" not in ctx.meta:
            ctx.meta["gwdoctor.plugin_params"] = self._plugin_params(ctx, own)
        helps = [self.get_help_option(ctx)]  # --help stays last
        return [*(p for p in own if p not in helps), *ctx.meta["gwdoctor.plugin_params"],
                *(p for p in helps if p is not None)]

    @staticmethod
    def _plugin_params(ctx: click.Context, own: list[click.Parameter]) -> list[click.Parameter]:
        from .plugins import get_plugin_manager

        manager = get_plugin_manager(load_entrypoints=not ctx.meta.get("gwdoctor.no_plugins"),
                                     env=dict(os.environ))
        ctx.meta["gwdoctor.manager"] = manager
        taken = {flag for param in own for flag in param.opts}
        params: list[click.Parameter] = []
        declared = []
        for options in manager.hook.gwdoctor_register_scan_options():
            for opt in options or ():
                if opt.flag in taken:
                    raise click.UsageError(f"a plugin declares {opt.flag}, which "
                                           f"`{ctx.command_path}` already has")
                taken.add(opt.flag)
                declared.append(opt)
                kind = click.Path(dir_okay=False) if opt.path else None
                params.append(click.Option([opt.flag], is_flag=opt.is_flag, type=kind,
                                           metavar=opt.metavar, help=opt.help))
        ctx.meta["gwdoctor.plugin_options"] = declared
        return params


def _request(kw: dict[str, Any], bundle: Any = None, on_event: Any = None) -> Any:
    from .model import Options
    from .scan import ScanRequest

    meta = click.get_current_context().meta
    timeout = kw.get("timeout") or env_timeout()
    plugin = {o.dest: kw.get(o.dest) for o in meta.get("gwdoctor.plugin_options", ())}
    options = Options(offline=kw["offline"], no_inference=kw["no_inference"],
                      probe_timeout=timeout, plugin=plugin)
    only = tuple(a.strip() for a in (kw.get("only") or "").split(",") if a.strip())
    return ScanRequest(env=dict(os.environ), options=options, budget=kw.get("budget"),
                       bundle=bundle, load_plugins=not kw["no_plugins"], only=only,
                       on_event=on_event, manager=meta.get("gwdoctor.manager"))


def _run(kw: dict[str, Any], bundle: Any = None, *, progress: bool) -> Any:
    from .scan import prepare, run_scan

    request = _request(kw, bundle)
    prepared = prepare(request)
    check_only(request.only, {p.name for p in prepared[0].probes})
    if progress and bundle is None and sys.stderr.isatty() and not os.environ.get("CI"):
        from .render_text import Progress

        with Progress(sys.stderr) as prog:
            request.on_event = prog
            return run_scan(request, prepared)
    return run_scan(request, prepared)


@main.command(cls=ScanCommand)
@probe_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
              help="Exit 1 when a finding is at or above this severity.")
@click.option("--facts", "facts_file", type=click.Path(dir_okay=False),
              help="Replay a facts bundle (from `gwdoctor facts`) instead of probing.")
@click.option("--verbose", "-v", is_flag=True, help="Show every probe, evidence and skipped rule.")
def scan(fmt: str, output: str | None, fail_on: str, facts_file: str | None, verbose: bool,
         **kw: Any) -> None:
    """Probe this machine as the client sees it and rank what is wrong."""
    check_output(output)
    bundle = _load_bundle(facts_file) if facts_file else None
    outcome = _run(kw, bundle, progress=fmt == "text")
    write_output(render_report(outcome.report, fmt, rules=outcome.registry.rules,
                               fail_on=fail_on, output=output, verbose=verbose), output)
    sys.exit(exit_code(outcome.report, fail_on))


def _load_bundle(path: str) -> Any:
    from .report import read_bundle

    target = Path(path)
    try:
        # A FIFO or /dev/zero would hang or fill memory: regular files only, size-capped.
        if not target.is_file():
            raise click.UsageError(f"--facts {path}: no such file" if not target.exists()
                                   else f"--facts {path}: not a regular file")
        if target.stat().st_size > MAX_BUNDLE:
            raise click.UsageError(f"--facts {path}: larger than {MAX_BUNDLE // 2**20} MiB")
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"--facts {path}: cannot read: {exc}") from None
    from .knowledge import KnowledgeError

    try:
        bundle = read_bundle(text, path)
    except KnowledgeError as exc:
        raise click.UsageError(str(exc)) from None
    return bundle


@main.command(cls=ScanCommand)
@probe_options
@click.option("--output", "-o", metavar="FILE", help="Write the bundle to FILE instead of stdout.")
def facts(output: str | None, **kw: Any) -> None:
    """Write the redacted facts bundle (for `gwdoctor scan --facts` and support tickets)."""
    check_output(output)
    from .report import dumps

    outcome = _run(kw, progress=True)
    write_output(dumps(outcome.bundle), output)


from . import cli_info  # noqa: E402  registers rules/explain/graph/schema on `main`

cli_info.register(main)


def entry() -> None:
    """The `gwdoctor` console script: run the command, flush, and leave with ``os._exit``.

    The interpreter's teardown after a scan (freeing httpx, cryptography, jsonschema and the
    rest, module by module) took ~0.1 s of every run's wall time and does nothing a finished
    command needs: atexit handlers (a plugin's too) still run, scratch files are removed
    in ``finally`` blocks, and abandoned probe threads are daemons. Code that imports gwdoctor
    (tests, CliRunner) calls ``main`` and keeps the normal exit."""
    # A closed stdout: writing the report there is a usage error (exit 2); --output still works.
    mark_stdout_closed(reopen_closed_std_streams())
    # Commands that may run programs (apiKeyHelper, claude --version): whatever those start,
    # even with setsid and a cleared environment, is ours to end (engine.reaper).
    reaping = len(sys.argv) > 1 and sys.argv[1] in ("scan", "facts", "validate")
    if reaping:
        from . import reaper

        reaping = reaper.become_subreaper()
    try:
        main()
        code: Any = EXIT_OK
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = EXIT_OK
    elif not isinstance(code, int):
        if sys.stderr is not None:
            print(code, file=sys.stderr)
        code = EXIT_FINDINGS
    try:  # what a plugin registered (atexit, weakref.finalize, logging.shutdown) still runs
        atexit._run_exitfuncs()
    except Exception:  # noqa: BLE001  a plugin's exit hook must not change the exit code
        pass
    if reaping:
        reaper.kill_descendants()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None when the caller closed the descriptor (`>&-`)
                stream.flush()
        except BrokenPipeError:
            code = code or EXIT_PIPE
        except (OSError, ValueError):
            code = code or EXIT_INTERNAL
    os._exit(code)


if __name__ == "__main__":  # python -m gwdoctor.engine.cli
    entry()
