"""Terminal view (rich): root causes first, their symptoms indented under them, evidence and
highlighted fixes."""

from __future__ import annotations

import json
import re
from typing import IO, Any, Mapping

from rich.console import Console, Group
from rich.live import Live
from rich.padding import Padding
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from .knowledge import diagnosis

SEVERITY_STYLE = {"critical": "bold white on red", "error": "bold red",
                  "warning": "bold yellow", "info": "cyan"}
VERDICT_STYLE = {"healthy": "bold green", "degraded": "bold yellow",
                 "broken": "bold red", "unknown": "bold magenta"}
STATUS_STYLE = {"ok": "green", "failed": "red", "skipped": "dim", "error": "bold red",
                "timeout": "yellow", "running": "cyan", "pending": "dim"}
LEXER = {"sh": "bash", "json": "json", "yaml": "yaml", "text": "text"}


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """No control characters on the terminal: a repository's settings key or a helper's
    stderr could otherwise carry escape sequences (clear screen, retitle, fake output)."""
    return _CONTROL.sub("\ufffd", text)


def make_console(file: IO[str], *, plain: bool, width: int | None = None) -> Console:
    return Console(file=file, no_color=plain, color_system=None if plain else "auto",
                   highlight=False, emoji=False, width=width or (100 if plain else None),
                   force_terminal=False if plain else None, soft_wrap=False)


def _evidence_lines(evidence: Mapping[str, Any], limit: int = 6) -> list[str]:
    lines = []
    for key, value in list(evidence.items())[:limit]:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                               default=str)
        if len(text) > 160:
            text = text[:157] + "..."
        lines.append(f"{key} = {text}")
    if len(evidence) > limit:
        lines.append(f"… {len(evidence) - limit} more (see --format json)")
    return lines


def _finding_block(f: Mapping[str, Any], *, plain: bool, indent: int,
                   verbose: bool) -> list[tuple[Any, bool]]:
    """The finding as ``(renderable, soft)`` pieces; ``soft`` pieces (fix snippets) are printed
    without wrapping or cropping, because a wrapped command breaks when pasted."""
    sev = f["severity"]
    head = Text()
    head.append(f"{f['rank']:>2}. ", style="bold")
    head.append(f" {sev.upper()} ", style=SEVERITY_STYLE.get(sev, ""))
    head.append(f" {f['rule_id']} {f['rule_name']}", style="bold")
    head.append(f"  [{f['cause']}, confidence {f['confidence']:.2f}]", style="dim")
    parts: list[Any] = [head, Padding(Text(clean(f["message"])), (0, 0, 0, 4))]
    pieces: list[tuple[Any, bool]] = []
    if f.get("because"):
        parts.append(Padding(Text(clean("because: " + "; ".join(f["because"])), style="dim italic"),
                             (0, 0, 0, 4)))
    if f.get("evidence") and (verbose or f["root_cause"]):
        ev = Text(clean("\n".join(_evidence_lines(f["evidence"], 12 if verbose else 6))),
                  style="dim")
        parts.append(Padding(ev, (0, 0, 0, 4)))
    for fix in f.get("fixes") or []:
        label = Text(f"fix ({fix['safety']}) → {fix['target']}: ", style="bold green")
        label.append(clean(fix["title"]), style="green")
        parts.append(Padding(label, (0, 0, 0, 4)))
        pieces.append((Padding(Group(*parts), (0, 0, 0, indent)), False))
        parts = []
        snippet = clean(fix["snippet"])
        if plain:
            body = Text(snippet)
        else:
            body = Syntax(snippet, LEXER.get(fix["lang"], "text"), theme="ansi_dark",
                          background_color="default").highlight(snippet)
            body.rstrip()
        margin = " " * (indent + 6)
        for line in body.split("\n"):
            pieces.append((Text(margin) + line, True))
    if parts:
        pieces.append((Padding(Group(*parts), (0, 0, 0, indent)), False))
    return pieces


def render_text(report: Mapping[str, Any], file: IO[str], *, plain: bool,
                verbose: bool = False, width: int | None = None) -> None:
    console = make_console(file, plain=plain, width=width)
    client = report.get("client") or {}
    head = Text(f"gwdoctor {report['tool']['version']}", style="bold")
    if client.get("version"):
        title = diagnosis()["client"]["title"]
        head.append(f" · {title} {client['version']} ({client.get('version_source')})",
                    style="dim")
    if report.get("mode") == "replay":
        head.append(" · replayed from a facts bundle", style="dim")
    console.print(head)
    verdict = report["verdict"]
    line = Text("verdict: ")
    line.append(verdict.upper(), style=VERDICT_STYLE.get(verdict, ""))
    line.append(f" ({report.get('verdict_reason', '')})", style="dim")
    console.print(line)
    findings = report["findings"]
    if not findings:
        console.print(Text("No findings.", style="green"))
    by_id: dict[str, list[Mapping[str, Any]]] = {}
    for f in findings:
        by_id.setdefault(f["rule_id"], []).append(f)
    shown: set[int] = set()

    def show(f: Mapping[str, Any], depth: int) -> None:
        if f["rank"] in shown:
            return
        shown.add(f["rank"])
        console.print()
        for piece, soft in _finding_block(f, plain=plain, indent=4 * depth, verbose=verbose):
            console.print(piece, soft_wrap=soft)
        for child in findings:
            if f["rule_id"] in child["caused_by"] and child["rank"] not in shown:
                # Indent a symptom under the first of its causes only.
                first_cause = child["caused_by"][0]
                if first_cause == f["rule_id"] or first_cause not in by_id:
                    show(child, depth + 1)

    roots = [f for f in findings if f["root_cause"]]
    if roots:
        console.print()
        console.print(Text(f"Root causes ({len(roots)})", style="bold underline"))
    for f in roots:
        show(f, 0)
    for f in findings:  # anything not reached through the graph (defensive)
        show(f, 0)
    console.print()
    _probe_table(console, report, verbose)
    skipped = report.get("not_evaluated") or []
    if skipped:
        console.print(Text(f"{len(skipped)} rule(s) not evaluated (facts missing)"
                           + (": " + ", ".join(s["rule_id"] for s in skipped) if verbose else
                              "; --verbose lists them"), style="dim"))


def _probe_table(console: Console, report: Mapping[str, Any], verbose: bool) -> None:
    probes = report.get("probes") or []
    if not probes:
        return
    table = Table(title=None, show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("probe")
    table.add_column("status")
    table.add_column("ms", justify="right")
    table.add_column("detail", overflow="fold")
    for p in probes:
        if not verbose and p["status"] == "ok":
            continue
        table.add_row(p["name"], Text(p["status"], style=STATUS_STYLE.get(p["status"], "")),
                      str(p["duration_ms"]), clean(p.get("detail", "")))
    ok = sum(1 for p in probes if p["status"] == "ok")
    console.print(Text(f"Probes: {ok}/{len(probes)} ok, {report.get('elapsed_ms', 0)} ms",
                       style="bold"))
    if table.row_count:
        console.print(table)


class Progress:
    """A live per-probe display on stderr while probing (terminals only)."""

    def __init__(self, file: IO[str]) -> None:
        self.console = Console(file=file, highlight=False)
        self.rows: dict[str, Any] = {}
        self.live = Live(self._table(), console=self.console, transient=True,
                         refresh_per_second=12)

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False)
        for name, rec in self.rows.items():
            table.add_row(Text(rec.status, style=STATUS_STYLE.get(rec.status, "")), name,
                          Text(rec.detail[:60], style="dim"))
        return table

    def __call__(self, rec: Any) -> None:
        self.rows[rec.name] = rec
        self.live.update(self._table())

    def __enter__(self) -> Progress:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.live.__exit__(*exc)
