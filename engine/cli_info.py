"""Read-only commands: rules, explain, graph, schema. Each imports what it needs on use."""

from __future__ import annotations

import re
import sys
from typing import Any

import click

RULE_ID = re.compile(r"^[A-Za-z]{3}\d{3}$")


def _registry(no_plugins: bool = False) -> Any:
    import os

    from .plugins import get_plugin_manager
    from .registry import build_registry

    return build_registry(get_plugin_manager(load_entrypoints=not no_plugins, env=dict(os.environ)))


def register(main: click.Group) -> None:
    main.add_command(rules)
    main.add_command(explain)
    main.add_command(graph)
    main.add_command(schema)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--no-plugins", is_flag=True, help="List only the built-in rules.")
def rules(fmt: str, no_plugins: bool) -> None:
    """List every rule: id, name, cause, severity, area."""
    import json

    reg = _registry(no_plugins)
    items = [
        {"id": r.id, "name": r.name, "cause": r.cause, "severity": r.severity.label,
         "area": r.area, "confidence": r.confidence, "needs": list(r.needs), "reads": list(r.reads),
         "fallback_after": list(r.fallback_after), "plugin": reg.owner.get(r.id, "")}
        for r in sorted(reg.rules, key=lambda r: r.id)
    ]
    if fmt == "json":
        sys.stdout.write(json.dumps(items, indent=2) + "\n")
        return
    width = max((len(i["name"]) for i in items), default=10)
    for i in items:
        click.echo(f"{i['id']}  {i['name']:<{width}}  {i['severity']:<8}  {i['cause']}")


@click.command()
@click.argument("target", required=False)
@click.option("--all", "all_", is_flag=True, help="Document every rule.")
@click.option("--markdown", is_flag=True, help="Markdown output (as in docs/rules/).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="For pasted error text: ranked causes as text or JSON.")
def explain(target: str | None, all_: bool, markdown: bool, fmt: str) -> None:
    """Explain a rule (`explain TLS001`) or a pasted client error line
    (`explain "API Error: ..."`)."""
    from .docs import render_all_markdown, render_rule_markdown

    reg = _registry()
    by_id = {r.id: r for r in reg.rules}
    by_name = {r.name: r for r in reg.rules}
    if all_:
        sys.stdout.write(render_all_markdown(sorted(reg.rules, key=lambda r: r.id)))
        return
    if not target:
        raise click.UsageError("give a rule id (e.g. TLS001), a rule name, or an error text")
    found = by_id.get(target.upper()) if RULE_ID.match(target) else by_name.get(target)
    if found is not None:
        sys.stdout.write(render_rule_markdown(found) if markdown else _plain_doc(found))
        return
    if RULE_ID.match(target):
        raise click.UsageError(f"no rule {target.upper()} (see `gwdoctor rules`)")
    _explain_error_text(target, reg, by_id, fmt)


def _plain_doc(rule: Any) -> str:
    head = (f"{rule.id} {rule.name}\n"
            f"cause: {rule.cause}   severity: {rule.severity.label}   area: {rule.area}\n"
            f"needs: {', '.join(rule.needs) or '-'}\n"
            f"reads when present: {', '.join(rule.reads) or '-'}\n\n")
    return head + rule.doc.replace("## ", "") + "\n"


def _explain_error_text(text: str, reg: Any, by_id: dict[str, Any], fmt: str) -> None:
    import json

    from .explain import describe_parts, explain_text, load_faults, load_signatures, scan_hint

    matches = explain_text(text, load_signatures(reg.knowledge_dirs), by_id)
    parts = describe_parts(text, load_faults(reg.knowledge_dirs))
    hint = scan_hint(parts)
    if fmt == "json":
        sys.stdout.write(json.dumps({"causes": [m.to_dict() for m in matches],
                                     "parts": [p.to_dict() for p in parts], "scan": hint},
                                    indent=2, default=str) + "\n")
        return
    if matches:
        click.echo("Likely causes, most likely first:")
        for i, m in enumerate(matches[:5], start=1):
            click.echo(f"{i}. {m.rule_id} {m.rule_name}  [{m.cause}]  score {m.score:.2f}")
            if m.note:
                click.echo(f"   {m.note}")
            if m.confirm:
                click.echo(f"   confirm: {m.confirm}")
    else:
        click.echo("No known error signature matches this text.")
    if parts:
        click.echo("\nWhat its parts say:" if matches else "What its parts say on their own:")
        for p in parts:
            click.echo(f"- {p.says}" + (f": {p.meaning}" if p.meaning else ""))
    click.echo(f"\nRun `{hint}` to check which cause applies here"
               + ("" if hint == "gwdoctor scan" else " (or `gwdoctor scan` for every check)") + ".")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "json"]), default="mermaid",
              show_default=True)
def graph(fmt: str) -> None:
    """Print the decision graph (edges read "cause -> probable symptom")."""
    import json

    from . import graph as g

    reg = _registry()
    dg = g.load_graph(reg.knowledge_dirs)
    if fmt == "mermaid":
        sys.stdout.write(g.to_mermaid(dg))
    elif fmt == "dot":
        sys.stdout.write(g.to_dot(dg))
    else:
        sys.stdout.write(json.dumps(g.to_json(dg), indent=2) + "\n")


def _schema_kinds() -> list[str]:
    from .knowledge import builtin_dir

    names = [p.name for p in (builtin_dir() / "schemas").iterdir()]
    return sorted(n.removesuffix(".schema.json") for n in names if n.endswith(".schema.json"))


@click.command()
@click.argument("kind", default="report")
@click.option("--list", "list_", is_flag=True, help="List the schema kinds.")
def schema(kind: str, list_: bool) -> None:
    """Print a published JSON Schema (draft 2020-12): `report` (default) or a knowledge file
    kind."""
    kinds = _schema_kinds()
    if list_:
        click.echo("\n".join(kinds))
        return
    if kind not in kinds:
        raise click.UsageError(f"no schema {kind!r}; one of: {', '.join(kinds)}")
    import json

    from .knowledge import schema as load

    sys.stdout.write(json.dumps(load(kind), indent=2) + "\n")
