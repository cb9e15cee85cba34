"""What every command that writes a report shares: --output checks, writing, the format
dispatch, exit codes. Imports click only; renderers load on use."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterable

import click

__all__ = [
    "EXIT_FINDINGS", "EXIT_INTERNAL", "EXIT_OK", "EXIT_PIPE", "EXIT_USAGE", "FAIL_ON", "FORMATS",
    "check_output", "exit_code", "mark_stdout_closed", "plain_output", "render_report",
    "write_output",
]

FORMATS = ("text", "json", "sarif", "junit", "markdown")
FAIL_ON = ("critical", "error", "warning", "info", "never")
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_PIPE = 141  # stdout closed by its reader (128 + SIGPIPE, what a shell shows for `| head`)

# Set by the console script when the caller closed stdout (`gwdoctor scan >&-`): a report for
# stdout has nowhere to go, which is a usage error, not an internal one.
_STDOUT_CLOSED = False


def mark_stdout_closed(closed: bool) -> None:
    """Record whether the process started with stdout closed (see ``write_output``)."""
    global _STDOUT_CLOSED
    _STDOUT_CLOSED = closed


def check_output(path: str | None) -> None:
    """Refuse an ``--output`` that cannot be written, before any work is done."""
    if not path or path == "-":
        return
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise click.UsageError(f"--output {path}: is a directory")
    if not parent.is_dir():
        raise click.UsageError(f"--output {path}: directory {parent} does not exist")
    if (target.exists() and not os.access(target, os.W_OK)) or not os.access(parent, os.W_OK):
        raise click.UsageError(f"--output {path}: not writable")


def write_output(text: str, output: str | None) -> None:
    """Write ``text`` to stdout (``None`` or ``-``) or to the file ``output``."""
    # Encode before opening: an environment value that is not UTF-8 (a surrogate escape)
    # once raised here after --output had been truncated. As "\\udcff" it stays valid JSON.
    data = text.encode("utf-8", errors="backslashreplace")
    if (not output or output == "-") and _STDOUT_CLOSED:
        raise click.UsageError("stdout is closed: nowhere to write the report (use --output FILE)")
    if not output or output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        raise click.UsageError(f"--output {output}: {exc.strerror or exc}") from None


def plain_output() -> bool:
    """No colour: NO_COLOR is set or stdout is not a terminal."""
    return bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()


def render_report(report: dict[str, Any], fmt: str, *, rules: Iterable[Any], fail_on: str,
                  output: str | None = None, verbose: bool = False) -> str:
    """The report in ``fmt`` (one of FORMATS); ``rules`` are the registry's, for SARIF/JUnit."""
    if fmt == "text":
        import io

        from .render_text import render_text

        buf = io.StringIO()
        plain = plain_output() or bool(output and output != "-")
        render_text(report, buf, plain=plain, verbose=verbose)
        text = buf.getvalue()
        if plain:  # rich pads every line to the console width; a pipe wants none of it
            text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
        return text
    if fmt == "json":
        from .report import dumps

        return str(dumps(report))
    if fmt == "markdown":
        from .formats import render_markdown

        return render_markdown(report)
    if fmt == "sarif":
        from .formats import render_sarif

        return render_sarif(report, rules)
    if fmt == "junit":
        from .formats import render_junit

        return render_junit(report, rules, fail_on)
    raise click.UsageError(f"--format {fmt}: choose one of {', '.join(FORMATS)}")


def exit_code(report: dict[str, Any], fail_on: str) -> int:
    """EXIT_FINDINGS when a finding is at or above ``fail_on`` (``never``: always EXIT_OK)."""
    if fail_on == "never":
        return EXIT_OK
    from .model import Severity

    threshold = Severity.parse(fail_on)
    hit = any(Severity.parse(f["severity"]) >= threshold for f in report["findings"])
    return EXIT_FINDINGS if hit else EXIT_OK
