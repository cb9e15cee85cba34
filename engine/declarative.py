"""Declarative rules: YAML `when:` conditions on facts, evaluated by a small interpreter (no
eval, no attribute access).

A plugin that only needs "this fact has this value" can ship its rules as data
and register them with::

    @hookimpl
    def gwdoctor_register_rules():
        return load_rules(resources.files(__name__) / "rules.yaml")

The format (schema ``declarative-rules``) is documented in docs/plugins.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .knowledge import KnowledgeError, load_yaml_text, validate
from .model import Facts, Finding, Fix, Rule, rule

if TYPE_CHECKING:  # importlib.resources costs ~10 ms at start-up
    from importlib.resources.abc import Traversable

__all__ = ["MISSING", "evaluate_condition", "load_rules", "lookup", "parse_rules", "render"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\-]+)\}")


def lookup(facts: Facts, path: str) -> Any:
    """The value at ``path``: the longest fact key that prefixes it, then dict keys or list indexes.

    Fact keys contain dots themselves (``tls.verify.client``), so
    ``proxy.route.used`` is the ``used`` field of the fact ``proxy.route``.
    Returns :data:`MISSING` when the path does not exist."""
    parts = path.split(".")
    # A rule's facts are a view that refuses undeclared keys: try only the declared prefixes.
    declares = getattr(facts, "declares", None)
    for cut in range(len(parts), 0, -1):
        key = ".".join(parts[:cut])
        if declares is not None and not declares(key):
            continue
        if key in facts:
            value: Any = facts[key]
            for part in parts[cut:]:
                if isinstance(value, Mapping) and part in value:
                    value = value[part]
                elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                    value = value[int(part)]
                else:
                    return MISSING
            return value
    return MISSING


def _regex(value: Any, pattern: str) -> bool:
    return isinstance(value, str) and re.search(pattern, value) is not None


# Each operator compares the fact's value with the condition's operand; none calls user code.
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda v, x: v is not MISSING and v == x,
    "not_equals": lambda v, x: v is not MISSING and v != x,
    "in": lambda v, x: v is not MISSING and v in x,
    "not_in": lambda v, x: v is not MISSING and v not in x,
    "contains": lambda v, x: isinstance(v, (str, list)) and x in v,
    "matches": _regex,
    "exists": lambda v, x: (v is not MISSING) == bool(x),
    "is_null": lambda v, x: (v is None) == bool(x) and v is not MISSING,
    "truthy": lambda v, x: v is not MISSING and bool(v) == bool(x),
    "gt": lambda v, x: isinstance(v, (int, float)) and not isinstance(v, bool) and v > x,
    "lt": lambda v, x: isinstance(v, (int, float)) and not isinstance(v, bool) and v < x,
}


def evaluate_condition(cond: Mapping[str, Any], facts: Facts) -> bool:
    """``{all: [...]}``, ``{any: [...]}``, ``{not: cond}``, or ``{fact: path, <op>: operand}``."""
    if "all" in cond:
        return all(evaluate_condition(c, facts) for c in cond["all"])
    if "any" in cond:
        return any(evaluate_condition(c, facts) for c in cond["any"])
    if "not" in cond:
        return not evaluate_condition(cond["not"], facts)
    value = lookup(facts, cond["fact"])
    return all(_OPS[op](value, operand) for op, operand in cond.items() if op != "fact")


def render(template: str, facts: Facts) -> str:
    """Replace ``{fact.path}`` with the fact's value; nothing else is interpreted."""
    def one(m: re.Match[str]) -> str:
        value = lookup(facts, m.group(1))
        return "<missing>" if value is MISSING else str(value)

    return _PLACEHOLDER.sub(one, template)


def _facts_named(cond: Mapping[str, Any]) -> list[str]:
    if "all" in cond or "any" in cond:
        return [p for c in cond.get("all", cond.get("any", [])) for p in _facts_named(c)]
    if "not" in cond:
        return _facts_named(cond["not"])
    return [cond["fact"]]


def _build(spec: Mapping[str, Any]) -> Rule:
    when = spec["when"]
    fixes = tuple(Fix(title=f["title"], snippet=f["snippet"], lang=f.get("lang", "sh"),
                      target=f.get("target", "shell"), safety=f.get("safety", "review"))
                  for f in spec.get("fixes", []))

    def check(facts: Facts) -> Finding | None:
        if not evaluate_condition(when, facts):
            return None
        evidence = {p: v for p in dict.fromkeys(_facts_named(when))
                    if (v := lookup(facts, p)) is not MISSING}
        return Finding(
            message=render(spec["message"], facts),
            evidence=evidence,
            fixes=tuple(Fix(title=render(f.title, facts), snippet=render(f.snippet, facts),
                            lang=f.lang, target=f.target, safety=f.safety) for f in fixes),
        )

    # The contract says a rule's function is named after the rule (kebab -> snake).
    check.__name__ = check.__qualname__ = spec["name"].replace("-", "_")
    check.__doc__ = spec["doc"]
    return rule(id=spec["id"], name=spec["name"], cause=spec["cause"],
                severity=spec["severity"], needs=spec["needs"],
                confidence=spec.get("confidence", 0.8))(check)


def parse_rules(data: Any, name: str) -> list[Rule]:
    """Validate parsed rule data (schema ``declarative-rules``) and build the rules."""
    validate(data, "declarative-rules", name)
    out = []
    for index, spec in enumerate(data["rules"]):
        for path in _facts_named(spec["when"]):
            # A condition on a fact the rule does not need would be judged on
            # "not probed" as if it were "absent": require it in `needs`.
            if not any(path == n or path.startswith(n + ".") for n in spec["needs"]):
                raise KnowledgeError(f"{name}: rules/{index}: condition on {path!r}, "
                                     f"which is not under any of needs {spec['needs']}")
        for op_spec in _walk(spec["when"]):
            if "matches" in op_spec:
                try:
                    re.compile(op_spec["matches"])
                except re.error as exc:
                    raise KnowledgeError(f"{name}: rules/{index}: bad regex: {exc}") from None
        out.append(_build(spec))
    return out


def _walk(cond: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "all" in cond or "any" in cond:
        return [s for c in cond.get("all", cond.get("any", [])) for s in _walk(c)]
    if "not" in cond:
        return _walk(cond["not"])
    return [cond]


def load_rules(path: Traversable | Path) -> list[Rule]:
    """Load a declarative rules file; errors name the file (and line, for YAML syntax)."""
    label = str(getattr(path, "name", path))
    return parse_rules(load_yaml_text(path.read_text(encoding="utf-8"), label), label)
