"""Fault classifier: every HTTP answer the route probes recorded, as fault ids from
knowledge/faults.yaml, so rules match faults and never read error text. No I/O but the catalogue."""

from __future__ import annotations

import functools
import re
from typing import Any, Iterable, Mapping

from gwdoctor.engine import Facts, ProbeContext, hookimpl, probe
from gwdoctor.engine.knowledge import read_builtin

from ._outcome import reporting

__all__ = ["answers", "catalogue", "classify", "http_faults"]


@functools.lru_cache(maxsize=None)
def catalogue() -> tuple[dict[str, Any], ...]:
    """The ``faults`` entries, each with its ``text`` compiled (built-in knowledge:
    schema-checked by tests/test_knowledge.py, not on every scan)."""
    data = read_builtin("faults.yaml")
    return tuple({**f, "_re": re.compile(f["text"], re.IGNORECASE) if f.get("text") else None}
                 for f in data.get("faults") or [])


def classify(result: Mapping[str, Any]) -> list[str]:
    """The ids of every catalogue entry whose conditions all hold for one HTTP answer
    (``status``, ``error_type``, ``error_message``, ``body_excerpt`` as the probes record it)."""
    text = (f"{result.get('error_type') or ''}\n{result.get('error_message') or ''}\n"
            f"{result.get('body_excerpt') or ''}")
    out = []
    for fault in catalogue():
        if "status" in fault and result.get("status") not in fault["status"]:
            continue
        if "error_type" in fault and result.get("error_type") not in fault["error_type"]:
            continue
        if fault["_re"] is not None and not fault["_re"].search(text):
            continue
        out.append(fault["id"])
    return out


def answers(facts: Facts) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """Every recorded HTTP answer on the route, named as rules name it."""
    for key in ("gateway.models", "gateway.count_tokens"):
        value = facts.get(key)
        if isinstance(value, dict):
            yield key, value
    for check in facts.get("model.checks") or []:
        if isinstance(check, dict):
            yield f"model.checks[{check.get('model')}]", check
            large = check.get("large_request")
            if isinstance(large, dict):  # the same request padded to the client's size
                yield f"model.checks[{check.get('model')}].large_request", large


@probe(name="faults.http", provides=("http.faults",),
       after=("gateway.models", "gateway.count_tokens", "model.checks"))
def http_faults(ctx: ProbeContext) -> Facts:
    """Classify each answer of /v1/models, count_tokens and the model requests into fault ids;
    runs once those probes are done, whatever they found (an answer they did not get is absent)."""
    return {"http.faults": {name: ids for name, result in answers(ctx.facts)
                            if (ids := classify(result))}}


@hookimpl
def gwdoctor_register_probes() -> list:
    return reporting([http_faults])
