"""Shared reading of provider.model_checks for the provider-route rules (PRV009-PRV018). Pure."""

from __future__ import annotations

from typing import Any, Iterator

from gwdoctor.engine import Facts, Finding, Severity

__all__ = ["NAMES", "NEEDS", "base_url_var", "checks_with", "evidence_of", "model_var", "per_model",
           "said", "severity_of"]

NEEDS = ("provider.model_checks", "route.target")
NAMES = {"bedrock": "Bedrock", "vertex": "Vertex", "mantle": "Bedrock Mantle"}


def checks_with(facts: Facts, fault: str) -> Iterator[dict[str, Any]]:
    for check in facts["provider.model_checks"] or []:
        if check.get("checked") and check.get("fault") == fault:
            yield check


def severity_of(check: dict[str, Any]) -> Severity:
    """The main model failing stops `claude -p`; another role's model only degrades it."""
    return Severity.ERROR if "main" in (check.get("roles") or []) else Severity.WARNING


def base_url_var(route: dict[str, Any]) -> str:
    return ("ANTHROPIC_BEDROCK_BASE_URL" if route.get("mode") == "bedrock"
            else "ANTHROPIC_VERTEX_BASE_URL")


def said(check: dict[str, Any]) -> str:
    parts = [str(check.get("status"))] + [str(check[k]) for k in ("error_type", "error_message")
                                          if check.get(k)]
    return " ".join(parts)[:300]


def evidence_of(check: dict[str, Any], route: dict[str, Any]) -> dict[str, Any]:
    return {"check": check, "route.base_url": route.get("base_url"),
            "route.auth": route.get("auth")}


def per_model(fault: str, facts: Facts, message: Any, fixes: Any) -> list[Finding]:
    route = facts["route.target"] or {}
    return [Finding(message=message(c, route), evidence=evidence_of(c, route),
                    fixes=tuple(fixes(c, route)), severity=severity_of(c))
            for c in checks_with(facts, fault)]


def model_var(check: dict[str, Any]) -> str:
    roles = check.get("roles") or []
    for role, var in (("main", "ANTHROPIC_MODEL"), ("opus", "ANTHROPIC_DEFAULT_OPUS_MODEL"),
                      ("sonnet", "ANTHROPIC_DEFAULT_SONNET_MODEL"),
                      ("haiku", "ANTHROPIC_DEFAULT_HAIKU_MODEL"),
                      ("background", "ANTHROPIC_DEFAULT_HAIKU_MODEL")):
        if role in roles:
            return var
    return "ANTHROPIC_MODEL"
