"""Machine and ticket formats of the report: Markdown, SARIF 2.1.0, JUnit XML."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping
from xml.sax.saxutils import escape, quoteattr

from .knowledge import diagnosis
from .model import Rule, Severity

SARIF_LEVEL = {"critical": "error", "error": "error", "warning": "warning", "info": "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _first_line(doc: str, section: str = "## What it checks") -> str:
    if section in doc:
        body = doc.split(section, 1)[1].strip().split("\n## ", 1)[0]
        return " ".join(body.split())
    return doc.strip().splitlines()[0] if doc.strip() else ""


def render_markdown(report: Mapping[str, Any]) -> str:
    lines = [f"## gwdoctor report: **{report['verdict']}**", ""]
    client = report.get("client") or {}
    title = diagnosis()["client"]["title"]
    lines.append(f"- gwdoctor {report['tool']['version']}, {title} {client.get('version')} "
                 f"({client.get('version_source')}), {report.get('mode', 'live')} scan")
    lines.append(f"- {report.get('verdict_reason', '')}")
    lines.append("")
    if not report["findings"]:
        lines.append("No findings.")
    for f in report["findings"]:
        role = "root cause" if f["root_cause"] else f"symptom of {', '.join(f['caused_by'])}"
        lines.append(f"### {f['rank']}. {f['rule_id']} `{f['rule_name']}` "
                     f"({f['severity']}, {role})")
        lines.append("")
        lines.append(f["message"])
        lines.append("")
        lines.append(f"Cause `{f['cause']}`, confidence {f['confidence']:.2f}.")
        if f.get("evidence"):
            lines.append("")
            lines.append("<details><summary>Evidence</summary>")
            lines.append("")
            lines.append("```json")
            lines.append(json.dumps(f["evidence"], indent=2, ensure_ascii=False, default=str))
            lines.append("```")
            lines.append("</details>")
        for fix in f.get("fixes") or []:
            lines.append("")
            lines.append(f"**Fix ({fix['safety']}, {fix['target']}):** {fix['title']}")
            lines.append("")
            lines.append(f"```{ 'bash' if fix['lang'] == 'sh' else fix['lang']}")
            lines.append(fix["snippet"])
            lines.append("```")
        lines.append("")
    lines.append("<details><summary>Probes</summary>")
    lines.append("")
    lines.append("| probe | status | ms | detail |")
    lines.append("|---|---|---|---|")
    for p in report.get("probes") or []:
        detail = str(p.get("detail", "")).replace("|", "\\|")
        lines.append(f"| {p['name']} | {p['status']} | {p['duration_ms']} | {detail} |")
    lines.append("")
    lines.append("</details>")
    return "\n".join(lines) + "\n"


def render_sarif(report: Mapping[str, Any], rules: Iterable[Rule]) -> str:
    rules = sorted(rules, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    driver = {
        "name": "gwdoctor",
        "version": report["tool"]["version"],
        "informationUri": "https://github.com/gwdoctor/gwdoctor",
        "rules": [
            {
                "id": r.id,
                "name": r.name,
                "shortDescription": {"text": r.name.replace("-", " ")},
                "fullDescription": {"text": _first_line(r.doc) or r.name},
                "help": {"text": r.doc or r.name, "markdown": r.doc or r.name},
                "defaultConfiguration": {"level": SARIF_LEVEL[r.severity.label]},
                "properties": {"cause": r.cause, "area": r.area,
                               "tags": [r.area, r.cause]},
            }
            for r in rules
        ],
    }
    results = []
    for f in report["findings"]:
        result: dict[str, Any] = {
            "ruleId": f["rule_id"],
            "level": SARIF_LEVEL[f["severity"]],
            "message": {"text": f["message"]},
            "properties": {
                "rank": f["rank"], "severity": f["severity"], "confidence": f["confidence"],
                "rootCause": f["root_cause"], "causedBy": f["caused_by"], "cause": f["cause"],
                "evidence": f["evidence"], "fixes": f["fixes"],
            },
        }
        if f["rule_id"] in index:
            result["ruleIndex"] = index[f["rule_id"]]
        path = next((v for k, v in f["evidence"].items()
                     if isinstance(v, str) and k.endswith(("path", "file")) and v.startswith("/")),
                    None)
        if path:
            result["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": f"file://{path}"}}}]
        results.append(result)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "results": results,
            "invocations": [{"executionSuccessful": True,
                             "properties": {"verdict": report["verdict"]}}],
        }],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False, default=str) + "\n"


def render_junit(report: Mapping[str, Any], rules: Iterable[Rule], fail_on: str) -> str:
    """One test case per rule: failed when it fired at or above ``fail_on``,
    skipped when its facts were missing (visible, never silently passing)."""
    threshold = None if fail_on == "never" else Severity.parse(fail_on)
    fired: dict[str, list[Mapping[str, Any]]] = {}
    for f in report["findings"]:
        fired.setdefault(f["rule_id"], []).append(f)
    skipped = {n["rule_id"]: n for n in report.get("not_evaluated") or []}
    cases, failures, skips = [], 0, 0
    for r in sorted(rules, key=lambda r: r.id):
        name = quoteattr(f"{r.id} {r.name}")
        classname = quoteattr(f"gwdoctor.{r.area}")
        hits = fired.get(r.id, [])
        if r.id in skipped:
            skips += 1
            reason = (skipped[r.id].get("reason", "") + ": "
                      + ", ".join(skipped[r.id].get("missing") or []))
            cases.append(f"    <testcase name={name} classname={classname}>"
                         f"<skipped message={quoteattr(reason)}/></testcase>")
            continue
        failing = [h for h in hits
                   if threshold is not None and Severity.parse(h["severity"]) >= threshold]
        if failing:
            failures += 1
            body = "\n".join(f"[{h['severity']}] {h['message']}" for h in hits)
            cases.append(f"    <testcase name={name} classname={classname}>"
                         f"<failure message={quoteattr(failing[0]['message'])} "
                         f"type={quoteattr(r.cause)}>{escape(body)}</failure></testcase>")
        elif hits:
            body = "\n".join(f"[{h['severity']}] {h['message']}" for h in hits)
            cases.append(f"    <testcase name={name} classname={classname}>"
                         f"<system-out>{escape(body)}</system-out></testcase>")
        else:
            cases.append(f"    <testcase name={name} classname={classname}/>")
    total = len(cases)
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
            f'  <testsuite name="gwdoctor" tests="{total}" failures="{failures}" errors="0" '
            f'skipped="{skips}" time="{report.get("elapsed_ms", 0) / 1000:.3f}">')
    return "\n".join([head, *cases, "  </testsuite>", "</testsuites>"]) + "\n"
