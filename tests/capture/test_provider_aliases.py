"""Which model id the real client sends for each alias in Bedrock, Vertex and Mantle mode (they
differ from Anthropic mode), against the model id gwdoctor's provider route (``route.target``)
predicts. The recorder answers as the provider (the lab's provider fakes)."""

from __future__ import annotations

from typing import Any, Callable, Mapping
from urllib.parse import unquote

import pytest
from _capture import Capture, Case, predict

BEDROCK = {"CLAUDE_CODE_USE_BEDROCK": "1", "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1",
           "AWS_REGION": "us-east-1", "ANTHROPIC_BEDROCK_BASE_URL": "{recorder}/bedrock"}
VERTEX = {"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
          "CLOUD_ML_REGION": "us-east5", "ANTHROPIC_VERTEX_PROJECT_ID": "acme-claude-prod",
          "ANTHROPIC_VERTEX_BASE_URL": "{recorder}/vertex_ai/v1"}
MANTLE = {"CLAUDE_CODE_USE_MANTLE": "1", "CLAUDE_CODE_SKIP_MANTLE_AUTH": "1",
          "AWS_REGION": "us-west-2", "ANTHROPIC_BEDROCK_MANTLE_BASE_URL": "{recorder}/mantle"}
V = ("2.1.332",)  # provider mode is captured on the CI pin only
CASES = [
    Case("bedrock-default", ("provider_default_models.bedrock",), env=BEDROCK, provider="/bedrock",
         versions=V),
    Case("bedrock-sonnet", ("provider_default_models.bedrock",), env=BEDROCK, provider="/bedrock",
         model="sonnet", versions=V),
    Case("bedrock-haiku", ("provider_default_models.bedrock",), env=BEDROCK, provider="/bedrock",
         model="haiku", versions=V),
    Case("vertex-default", ("provider_default_models.vertex",), env=VERTEX,
         provider="/vertex_ai/v1", versions=V),
    Case("vertex-sonnet", ("provider_default_models.vertex",), env=VERTEX, provider="/vertex_ai/v1",
         model="sonnet", versions=V),
    Case("vertex-haiku", ("provider_default_models.vertex",), env=VERTEX, provider="/vertex_ai/v1",
         model="haiku", versions=V),
    Case("mantle-default", ("provider_default_models.mantle",), env=MANTLE, versions=V),
    Case("mantle-sonnet", ("provider_default_models.mantle",), env=MANTLE, model="sonnet",
         versions=V),
    Case("mantle-haiku", ("provider_default_models.mantle",), env=MANTLE, model="haiku",
         versions=V),
]



def sent_model(cap: Capture) -> str | None:
    """The model id in the client's first model request's path."""
    for e in cap.exchanges:
        if e.method != "POST":
            continue
        path = unquote(e.path)
        if "/model/" in path:  # Bedrock: /model/<id>/invoke-with-response-stream
            return path.split("/model/", 1)[1].split("/", 1)[0]
        if "/models/" in path:  # Vertex: …/publishers/anthropic/models/<id>:streamRawPredict
            return path.split("/models/", 1)[1].split(":", 1)[0]
        if path.endswith("/v1/messages"):  # Mantle: the Messages API, the id in the body
            return e.model
    return None


def predicted_model(facts: Mapping[str, Any], cap: Capture) -> str | None:
    target = facts.get("route.target") or {}
    wanted = (cap.case.model or "").lower()
    role = wanted if wanted in ("opus", "sonnet", "haiku") else "main"
    for request in target.get("requests") or []:
        if role in (request.get("roles") or []):
            return str(request.get("model"))
    return None


def agrees(cap: Capture, behaviour: Mapping[str, Any] | None = None) -> bool:
    facts = predict(cap, behaviour=behaviour, probes=("route.target",))
    return predicted_model(facts, cap) == sent_model(cap)


@pytest.mark.client
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gwdoctor_predicts_the_provider_model_id(case: Case,
                                                 captured: Callable[[Case, str], Capture]) -> None:
    cap = captured(case, "2.1.332")
    assert sent_model(cap), [(e.method, e.path) for e in cap.exchanges]
    facts = predict(cap, probes=("route.target",))
    assert predicted_model(facts, cap) == sent_model(cap), (
        f"{case.id}: the client sent {sent_model(cap)!r}, "
        f"gwdoctor predicts {predicted_model(facts, cap)!r}")
