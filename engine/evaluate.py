"""Evaluate every rule against the facts and rank the findings with the decision graph."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .graph import GraphIndex
from .model import Finding, Rule, Severity


@dataclass(frozen=True)
class Result:
    """One finding of one rule, placed in the graph (engine-only)."""

    rule: Rule
    finding: Finding
    severity: Severity
    confidence: float
    root_cause: bool = True
    caused_by: tuple[str, ...] = ()
    layer: int = 0
    # The worst severity among this finding and the findings it causes (set by rank()): a root
    # cause behind an error outranks a root cause that is only a warning itself.
    impact: int = 0

    def sort_key(self) -> tuple[Any, ...]:
        return (not self.root_cause, -max(self.impact, int(self.severity)), -int(self.severity),
                -self.confidence, self.layer, self.rule.id, self.finding.message)


@dataclass
class Evaluation:
    results: list[Result]
    not_evaluated: list[dict[str, Any]]
    evaluated: list[str]


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, float(value)))


def _run(rules: Iterable[Rule], facts: Mapping[str, Any],
         raw: list[tuple[Rule, Finding]], not_evaluated: list[dict[str, Any]],
         evaluated: list[str], rule_errors: list[dict[str, Any]]) -> None:
    for r in rules:
        missing = [k for k in r.needs if k not in facts]
        if missing:
            not_evaluated.append({"rule_id": r.id, "rule_name": r.name,
                                  "reason": "missing facts", "missing": missing})
            continue
        try:
            findings = r.evaluate(facts)
        except Exception as exc:  # noqa: BLE001  a rule's bug is reported, not fatal
            rule_errors.append({"rule_id": r.id, "error": f"{type(exc).__name__}: {exc}"[:300]})
            not_evaluated.append({"rule_id": r.id, "rule_name": r.name,
                                  "reason": "raised", "missing": []})
            continue
        evaluated.append(r.id)
        raw.extend((r, f) for f in findings)


# The engine's own fact of the rules that raised: it exists only once the other rules have run.
RULE_ERRORS = "engine.rule_errors"


def reads_rule_errors(r: Rule) -> bool:
    """Whether ``r`` declares (in ``needs`` or ``reads``) the fact of the rules that raised."""
    return RULE_ERRORS in r.needs or RULE_ERRORS in r.reads


def evaluate(rules: Iterable[Rule], facts: Mapping[str, Any], index: GraphIndex) -> Evaluation:
    """Evaluate every rule (they are cheap and pure), then rank.

    A rule that declares ``engine.rule_errors`` runs after all the others, on their errors."""
    rules = list(rules)
    domain = [r for r in rules if not reads_rule_errors(r)]
    engine = [r for r in rules if reads_rule_errors(r)]
    raw: list[tuple[Rule, Finding]] = []
    not_evaluated: list[dict[str, Any]] = []
    evaluated: list[str] = []
    rule_errors: list[dict[str, Any]] = []
    _run(domain, facts, raw, not_evaluated, evaluated, rule_errors)
    raw = drop_explained(raw)
    engine_facts = {**facts, RULE_ERRORS: rule_errors}
    _run(engine, engine_facts, raw, not_evaluated, evaluated, [])
    return Evaluation(rank(raw, index), sorted(not_evaluated, key=lambda d: d["rule_id"]),
                      sorted(evaluated))


def _severity(r: Rule, f: Finding) -> Severity:
    return f.severity if f.severity is not None else r.severity


def drop_explained(raw: list[tuple[Rule, Finding]]) -> list[tuple[Rule, Finding]]:
    """Drop each fallback finding that a more specific one explains: a finding of a rule that
    is not a fallback, from an area the fallback names, at least as severe."""
    specific = [(r.area, _severity(r, f)) for r, f in raw if not r.fallback_after]
    return [(r, f) for r, f in raw
            if not r.fallback_after
            or not any(area in r.fallback_after and sev >= _severity(r, f)
                       for area, sev in specific)]


def rank(raw: Iterable[tuple[Rule, Finding]], index: GraphIndex) -> list[Result]:
    """Root causes first, the one behind the worst failure first; then severity, confidence,
    graph layer, id."""
    raw = list(raw)
    placement = index.place({r.id for r, _ in raw})
    results = []
    for r, f in raw:
        where = placement[r.id]
        results.append(Result(
            rule=r, finding=f,
            severity=f.severity if f.severity is not None else r.severity,
            confidence=_clamp(f.confidence if f.confidence is not None else r.confidence),
            root_cause=where.root_cause, caused_by=where.caused_by, layer=where.layer,
        ))
    worst: dict[str, int] = {}
    for res in results:
        worst[res.rule.id] = max(worst.get(res.rule.id, 0), int(res.severity))
    # Carry each finding's severity up to the causes placed above it (the graph is a DAG and
    # caused_by names the nearest fired causes, so a few passes reach the roots).
    for _ in range(len(results)):
        changed = False
        for res in results:
            for cause in res.caused_by:
                if worst.get(res.rule.id, 0) > worst.get(cause, 0):
                    worst[cause] = worst[res.rule.id]
                    changed = True
        if not changed:
            break
    results = [dataclasses.replace(res, impact=worst.get(res.rule.id, int(res.severity)))
               for res in results]
    return sorted(results, key=Result.sort_key)
