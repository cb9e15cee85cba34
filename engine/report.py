"""The report: one data structure (validated against the published schema) behind every output
format."""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any, Iterable, Mapping

from .evaluate import Evaluation, Result
from .graph import GraphIndex
from .knowledge import KnowledgeError, diagnosis, schema
from .model import Severity

SCHEMA_VERSION = 1
BUNDLE_VERSION = 1


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def finding_dict(rank: int, res: Result, index: GraphIndex | None) -> dict[str, Any]:
    r, f = res.rule, res.finding
    out: dict[str, Any] = {
        "rank": rank,
        "rule_id": r.id,
        "rule_name": r.name,
        "cause": r.cause,
        "area": r.area,
        "severity": res.severity.label,
        "confidence": round(res.confidence, 3),
        "root_cause": res.root_cause,
        "caused_by": list(res.caused_by),
        "message": f.message,
        "evidence": json.loads(json.dumps(dict(f.evidence), default=str)),
        "fixes": [
            {"title": x.title, "snippet": x.snippet, "lang": x.lang, "target": x.target,
             "safety": x.safety}
            for x in f.fixes
        ],
    }
    if index is not None and res.caused_by:
        out["because"] = [b for c in res.caused_by if (b := index.because(c, r.id))]
    return out


def verdict(results: list[Result], facts: Mapping[str, Any], offline: bool,
            static: bool = False) -> tuple[str, str]:
    """``static``: a check of given files (``validate``), judged on its findings alone; no
    network check was ever part of it, so their absence does not make it unknown."""
    worst = max((int(r.severity) for r in results), default=0)
    if worst >= Severity.ERROR:
        blocking = sum(1 for r in results if r.severity >= Severity.ERROR)
        return "broken", f"{blocking} finding(s) at error or above"
    if offline and not static:
        return "unknown", "--offline: the network checks that decide health did not run"
    missing = [] if static else [k for k in diagnosis()["essential_facts"] if k not in facts]
    if missing:
        return "unknown", "checks that decide health did not run: " + ", ".join(missing)
    if worst >= Severity.WARNING:
        return "degraded", "warnings only"
    return "healthy", "no finding at warning or above"


def client_dict(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The report's ``client``: its name, and its version and where that came from (facts)."""
    client = diagnosis()["client"]
    return {"name": client["name"], "version": facts.get(client["version_fact"]),
            "version_source": facts.get(client["version_source_fact"])}


def build_report(
    evaluation: Evaluation,
    *,
    facts: Mapping[str, Any],
    probes: Iterable[Mapping[str, Any]],
    index: GraphIndex | None,
    version: str,
    mode: str,
    options: Mapping[str, Any],
    plugins: list[dict[str, str]],
    elapsed_ms: int = 0,
    static: bool = False,
) -> dict[str, Any]:
    results = evaluation.results
    counts = {s.label: 0 for s in Severity}
    for res in results:
        counts[res.severity.label] += 1
    v, why = verdict(results, facts, bool(options.get("offline")), static)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "gwdoctor", "version": version},
        "generated_at": _now(),
        "mode": mode,
        "verdict": v,
        "verdict_reason": why,
        "client": client_dict(facts),
        "summary": {
            "critical": counts["critical"], "error": counts["error"],
            "warning": counts["warning"], "info": counts["info"],
            "root_causes": sum(1 for r in results if r.root_cause),
            "rules_evaluated": len(evaluation.evaluated),
            "rules_not_evaluated": len(evaluation.not_evaluated),
        },
        "elapsed_ms": int(elapsed_ms),
        "options": dict(options),
        "plugins": plugins,
        "findings": [finding_dict(i, res, index) for i, res in enumerate(results, start=1)],
        "probes": [
            {k: p[k] for k in ("name", "plugin", "status", "duration_ms", "detail") if k in p}
            for p in probes
        ],
        "facts": {k: facts[k] for k in sorted(facts)},
        "not_evaluated": evaluation.not_evaluated,
    }


def validate_report(report: Mapping[str, Any]) -> None:
    """Raise KnowledgeError naming the first violation of the published schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema("report"))
    error = next(iter(sorted(validator.iter_errors(report), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise KnowledgeError(f"report violates its schema at {where}: {error.message}")


def dumps(data: Any) -> str:
    # allow_nan=False: NaN/Infinity are not JSON and break every other JSON reader.
    return json.dumps(data, indent=2, ensure_ascii=False, default=str, allow_nan=False) + "\n"


def make_bundle(facts: Mapping[str, Any], probes: Iterable[Mapping[str, Any]], *, version: str,
                plugins: list[dict[str, str]], options: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "bundle_version": BUNDLE_VERSION,
        "tool": {"name": "gwdoctor", "version": version},
        "generated_at": _now(),
        "plugins": plugins,
        "options": dict(options),
        "probes": list(probes),
        "facts": {k: facts[k] for k in sorted(facts)},
    }


def read_bundle(text: str, name: str) -> dict[str, Any]:
    """Parse a facts bundle; one-line errors naming the file (and line) on bad input."""
    def no_constants(token: str) -> Any:  # NaN/Infinity are not JSON; reports must stay JSON
        raise ValueError(f"{token} is not valid JSON")

    try:
        data = json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise KnowledgeError(f"{name}:{exc.lineno}:{exc.colno}: not valid JSON: "
                             f"{exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise KnowledgeError(f"{name}: not a usable facts bundle: {reason}") from None
    if not isinstance(data, dict) or not isinstance(data.get("facts"), dict):
        raise KnowledgeError(f"{name}: not a gwdoctor facts bundle (no \"facts\" object)")
    if data.get("bundle_version", BUNDLE_VERSION) != BUNDLE_VERSION:
        raise KnowledgeError(f"{name}: bundle_version {data.get('bundle_version')} "
                             "is not supported")
    probes = data.get("probes") or []
    if not isinstance(probes, list) or not all(isinstance(p, dict) for p in probes):
        raise KnowledgeError(f"{name}: \"probes\" must be a list of objects")
    return data
