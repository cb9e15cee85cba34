"""Shared reading of answers for the fallback rules (rules/unexplained.py): what a status or an
error means (knowledge/faults.yaml) and the finding for a failed model request. Pure."""

from __future__ import annotations

import functools
from http import HTTPStatus
from typing import Any, Mapping

from gwdoctor.engine import Facts, Finding, Fix, Severity
from gwdoctor.engine.knowledge import builtin_dir, read_yaml

from ._gw import checks, first_line

__all__ = ["ROUTE", "catalogue", "http_evidence", "model_findings", "phrase", "route_note",
           "status_meaning"]

# Areas whose findings explain a failure further along the route. Config and provider are not
# listed: a settings problem that changes the route is ranked above these by graph edges, and
# the raw evidence stays in the report under it.
ROUTE = ("dns", "proxy", "tls", "gateway", "auth", "model")

@functools.lru_cache(maxsize=None)
def catalogue() -> dict[str, Any]:
    """knowledge/faults.yaml: what a status or a proxy error code means on its own (the same
    catalogue `gwdoctor explain` reads). Built-in: schema-checked by tests/test_knowledge.py."""
    return read_yaml(builtin_dir(), "faults.yaml")


def _fault_means(facts: Facts, name: str) -> list[str]:
    """What the faults probes/faults.py found in the answer recorded under ``name`` mean
    (knowledge/faults.yaml), in catalogue order."""
    ids = set((facts.get("http.faults") or {}).get(name) or [])
    return [f["means"] for f in catalogue().get("faults") or [] if f["id"] in ids]


def status_meaning(status: int | None) -> str:
    if status is None:
        return "no HTTP answer"
    table = catalogue()["statuses"]
    return (table.get(str(status)) or table.get(f"{status // 100}xx")
            or "an answer the client cannot use")


def phrase(status: int | None) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}" if status else "no status"
    except ValueError:
        return str(status)


def _first_bytes(result: Mapping[str, Any]) -> str | None:
    text = result.get("body_excerpt") or result.get("error_message")
    return first_line(str(text), 160) if text else None


def http_evidence(tried: str, result: Mapping[str, Any], facts: Facts) -> dict[str, Any]:
    return {"tried": tried, "status": result.get("status"), "error": result.get("error"),
            "content_type": result.get("content_type"), "server": result.get("server"),
            "gateway_kind": facts.get("gateway.kind"), "error_type": result.get("error_type"),
            "error_message": first_line(result.get("error_message"), 200) or None,
            "first_bytes": _first_bytes(result)}


def _role_of(check: Mapping[str, Any]) -> str:
    return "main" if "main" in (check.get("roles") or []) else "background"


def _answer_class(check: Mapping[str, Any]) -> str | None:
    """Which fallback a model request's answer belongs to: ``auth``, ``model``, ``gateway``,
    or None when the client could use it. Disjoint, so one answer yields one finding."""
    status, sse = check.get("status"), check.get("sse")
    if check.get("error") is not None or status is None:
        return "gateway"
    if status in (401, 403, 407):
        return "auth"
    if status in (400, 404, 422):
        return "model"
    if 200 <= status < 300:
        usable = isinstance(sse, dict) and sse.get("complete") and not check.get("error_type")
        return None if usable else "model"
    return "gateway"


def _curl_messages(facts: Facts, model: str) -> str:
    base = str(facts.get("gateway.base_url") or "").rstrip("/")
    return (f"curl -sS -D - -N '{base}/v1/messages' -H 'content-type: application/json' "
            "-H 'anthropic-version: 2023-06-01' -H 'authorization: Bearer <your-token>' "
            f"-d '{{\"model\":\"{model}\",\"max_tokens\":1,\"stream\":true,"
            "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}' | head -30")


def route_note(facts: Facts) -> str:
    route = facts.get("proxy.route") or {}
    return (f" through the proxy {route.get('url')}"
            if isinstance(route, dict) and route.get("used") else "")


def _sent_by_client(facts: Facts, check: Mapping[str, Any]) -> bool:
    """Does this configuration make the client send the checked model? An alias nothing selects
    is sent only when someone picks it (MDL008 says what would fail); it breaks nothing now."""
    entries = [e for e in facts.get("model.requested") or []
               if isinstance(e, dict) and e.get("sent") == check.get("model")]
    if not entries:
        return True
    return any(e.get("in_use", e.get("role") in ("main", "background")) for e in entries)


def model_findings(facts: Facts, area: str) -> list[Finding]:
    """The fallback finding of ``area`` for the model requests the client sends: an error when
    the main model's request failed (what every prompt sends), a warning when only a
    background model's did (the client answers, its side tasks fail)."""
    bad = [c for c in checks(facts) if _answer_class(c) == area and _sent_by_client(facts, c)]
    models = facts.get("gateway.models")
    if area == "auth" and isinstance(models, dict) and models.get("credentials_withheld"):
        return []  # gwdoctor sent no credential on purpose (CFG013/CFG014): a refusal is expected
    if not bad:
        return []
    main = [c for c in bad if _role_of(c) == "main"]
    shown = (main or bad)[0]
    model = str(shown.get("model"))
    status = shown.get("status")
    meaning = (catalogue()["transport_errors"].get(str(shown.get("error")), str(shown.get("error")))
               if shown.get("error") is not None else status_meaning(status))
    if area == "model" and status is not None and 200 <= status < 300:
        meaning = ("the answer is not a usable Anthropic event stream (no complete "
                   "message_start ... message_stop sequence)")
    means = _fault_means(facts, f"model.checks[{model}]")
    if means:
        meaning = "; ".join(means)
    what = phrase(status) if shown.get("error") is None else f"a {shown.get('error')} failure"
    others = sorted({str(c.get("model")) for c in bad} - {model})
    also = f"; also {', '.join(others)}" if others else ""
    evidence = http_evidence(f"POST /v1/messages?beta=true, model {model} ({_role_of(shown)})"
                              f"{route_note(facts)}", shown, facts)
    evidence["sse"] = shown.get("sse")
    evidence["faults"] = sorted((facts.get("http.faults") or {}).get(f"model.checks[{model}]")
                                or [])
    listing = (models.get("status") if isinstance(models, dict) and models.get("error") is None
               else None)
    evidence["models_status"] = listing
    # GET /v1/models, already asked, tells the two readings apart: the whole address answers
    # like this (something else sits at the base URL), or only the model request fails.
    if listing is not None and listing == status:
        scope = f" (GET /v1/models got {status} too: every request to this address is answered so)"
    elif listing is not None and 200 <= listing < 300:
        scope = f" (GET /v1/models answers {listing}: only the model request fails)"
    else:
        scope = ""
    return [Finding(
        message=(f"The {_role_of(shown)} model request ({model}) got {what}, which no specific "
                 f"check recognises: {meaning}{also}{scope}"),
        evidence=evidence,
        fixes=(Fix(title="Send the client's request by hand and read the whole answer",
                   safety="safe", snippet=_curl_messages(facts, model)),),
        severity=None if main else Severity.WARNING,
    )]
