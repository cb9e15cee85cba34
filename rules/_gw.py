"""Shared reading of gateway/auth/model facts for the AUT, GWY and MDL rules. Pure: no I/O."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from gwdoctor.engine import Facts, Fix

__all__ = [
    "ROLE_VARS", "faults_of", "base_url_fix", "checks", "env_fix", "family",
    "first_line", "http_results", "in_use", "is_html", "requested_models", "route_404s",
    "served_alternative", "served_ids", "serves",
]

ROLE_VARS = {"main": "ANTHROPIC_MODEL", "opus": "ANTHROPIC_DEFAULT_OPUS_MODEL",
             "sonnet": "ANTHROPIC_DEFAULT_SONNET_MODEL", "haiku": "ANTHROPIC_DEFAULT_HAIKU_MODEL",
             "background": "ANTHROPIC_DEFAULT_HAIKU_MODEL"}
SETTINGS_LAYERS = {"user", "project", "local", "managed"}


def checks(facts: Facts) -> list[dict[str, Any]]:
    return [c for c in facts.get("model.checks") or [] if isinstance(c, dict)]


def http_results(facts: Facts) -> Iterable[tuple[str, dict[str, Any]]]:
    """Every HttpResult-like answer the gateway gave to an API route, with its fact name."""
    for key in ("gateway.models", "gateway.count_tokens"):
        value = facts.get(key)
        if isinstance(value, dict):
            yield key, value
    for check in checks(facts):
        yield f"model.checks[{check.get('model')}]", check


def first_line(text: str | None, limit: int = 200) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def is_html(result: Mapping[str, Any]) -> bool:
    ctype = str(result.get("content_type") or "").lower()
    return "html" in ctype or str(result.get("body_excerpt") or "").startswith("[html]") \
        or result.get("error_type") == "html_body"


def _norm(model_id: str) -> str:
    return model_id.strip().removesuffix("[1m]")


def served_ids(facts: Facts) -> list[str] | None:
    models = facts.get("gateway.models")
    if not isinstance(models, dict) or models.get("ids") is None:
        return None
    return [_norm(str(i)) for i in models["ids"]]


def serves(ids: list[str], model: str) -> bool:
    """Exact match, or a LiteLLM wildcard entry (``*``, ``anthropic/*``, ``claude-*``)."""
    model = _norm(model)
    for served in ids:
        if served == model or served == "*":
            return True
        if served.endswith("*") and model.startswith(served[:-1]):
            return True
        if served.endswith("/*") and model.startswith(served[:-1]):
            return True
    return False


def family(model: str) -> str | None:
    for name in ("opus", "sonnet", "haiku", "fable"):
        if name in model.lower():
            return name
    return None


def served_alternative(ids: list[str] | None, model: str) -> str | None:
    """A served id to point the client at instead: same family first, then any Claude id."""
    if not ids:
        return None
    fam = family(model)
    same = [i for i in ids if fam and fam in i.lower() and "*" not in i]
    claude = [i for i in ids if "claude" in i.lower() and "*" not in i]
    pool = same or claude or [i for i in ids if "*" not in i]
    return sorted(pool, key=lambda i: (len(i), i))[0] if pool else None


def env_fix(var: str, value: str, source: Any, *, title: str, safety: str = "review") -> Fix:
    """``export VAR=value``, or the settings ``env`` entry when the value lives in a settings file
    (settings beat the shell, so an export alone would not change anything)."""
    if (isinstance(source, Mapping) and source.get("layer") in SETTINGS_LAYERS
            and source.get("file")):
        return Fix(title=title, lang="json", target=str(source["file"]), safety=safety,
                   snippet=json.dumps({"env": {var: value}}, indent=2))
    return Fix(title=title, snippet=f'export {var}="{value}"', safety=safety)


def base_url_fix(facts: Facts, new_base: str, title: str) -> Fix:
    return env_fix("ANTHROPIC_BASE_URL", new_base, facts.get("gateway.base_url_source"),
                   title=title, safety="safe")


def faults_of(facts: Facts, check: Mapping[str, Any]) -> set[str]:
    """The catalogue faults (knowledge/faults.yaml) the faults.http probe found in one model
    check's answer: rules match these, never the error text."""
    found = (facts.get("http.faults") or {}).get(f"model.checks[{check.get('model')}]") or []
    return {str(f) for f in found}


def route_404s(facts: Facts) -> list[dict[str, Any]]:
    """Model checks answered 404 about the route, not about the model, by the gateway itself (a
    404 the gateway relays from its provider is GWY008's: the route here answered)."""
    out = []
    for c in checks(facts):
        if c.get("status") != 404:
            continue
        if faults_of(facts, c) & {"http.model_named_not_found", "http.invalid_model_name"}:
            continue  # Anthropic-style "model: X" not found, LiteLLM's invalid model: MDL001
        if "http.upstream_error" in faults_of(facts, c):
            continue  # e.g. claude-code-router's "Error from provider(p,m: 404)": GWY008
        out.append(c)
    return out


def requested_models(facts: Facts) -> dict[str, dict[str, Any]]:
    """sent id -> {"roles": [...], "entries": [...]}"""
    out: dict[str, dict[str, Any]] = {}
    for entry in facts.get("model.requested") or []:
        if isinstance(entry, dict) and entry.get("sent"):
            slot = out.setdefault(str(entry["sent"]), {"roles": [], "entries": []})
            slot["roles"].append(str(entry.get("role")))
            slot["entries"].append(entry)
    return out


def in_use(entry: dict[str, Any]) -> bool:
    """Does the configuration make the client send this entry's model? The main and background
    models, yes; an alias only when the configuration selects it (``in_use`` from the config
    probe; older bundles without it: main and background only)."""
    return bool(entry.get("in_use", entry.get("role") in ("main", "background")))
