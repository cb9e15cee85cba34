"""Provider rules on what the provider route answered (PRV009-PRV017), registered by rules/provider.py. Pure functions of provider.model_checks."""

from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import urlsplit

from gwdoctor.engine import Facts, Finding, Fix, Severity, rule

from ._netfix import shq

__all__ = ["WIRE_RULES"]

_NEEDS = ("provider.model_checks", "route.target")
_NAMES = {"bedrock": "Bedrock", "vertex": "Vertex", "mantle": "Bedrock Mantle"}


def _checks(facts: Facts, fault: str) -> Iterator[dict[str, Any]]:
    for check in facts["provider.model_checks"] or []:
        if check.get("checked") and check.get("fault") == fault:
            yield check


def _severity(check: dict[str, Any]) -> Severity:
    """The main model failing stops `claude -p`; another role's model only degrades it."""
    return Severity.ERROR if "main" in (check.get("roles") or []) else Severity.WARNING


def _var(route: dict[str, Any]) -> str:
    return "ANTHROPIC_BEDROCK_BASE_URL" if route.get("mode") == "bedrock" else "ANTHROPIC_VERTEX_BASE_URL"


def _said(check: dict[str, Any]) -> str:
    parts = [str(check.get("status"))] + [str(check[k]) for k in ("error_type", "error_message") if check.get(k)]
    return " ".join(parts)[:300]


def _evidence(check: dict[str, Any], route: dict[str, Any]) -> dict[str, Any]:
    return {"check": check, "route.base_url": route.get("base_url"), "route.auth": route.get("auth")}


@rule(id="PRV009", name="provider-route-not-found", cause="gateway.base_url_path",
      severity=Severity.ERROR, needs=_NEEDS, confidence=0.85,
      reads=("provider.route_check",))
def provider_route_not_found(facts: Facts) -> Finding | None:
    """## What it checks
    In Bedrock or Vertex mode, every model request on the client's route
    (`/model/<id>/invoke-with-response-stream` or `.../models/<id>:streamRawPredict` under the
    base URL) is answered 404 or 405 by something that is not the provider's "model not found".

    ## Why it matters
    The base URL's path is wrong, so every request misses the pass-through route. Claude Code
    says only `API Error: 404` (or that the model "is not available on your deployment").

    ## Example
    `ANTHROPIC_BEDROCK_BASE_URL=http://litellm:4000` (LiteLLM serves Bedrock under `/bedrock`),
    or `ANTHROPIC_VERTEX_BASE_URL=http://litellm:4000/vertex_ai` (it needs `/vertex_ai/v1`).

    ## Fix
    Set the base URL to the gateway's pass-through prefix; gwdoctor names it when it found one.

    ## Fix safety
    Review: it changes where every request goes.
    """
    route = facts["route.target"] or {}
    checks = [c for c in facts["provider.model_checks"] or [] if c.get("checked")]
    if not checks or any(c.get("fault") != "route_not_found" for c in checks):
        return None
    around = facts.get("provider.route_check") or {}
    hint = around.get("route_hint")
    if not hint and around.get("anthropic_route"):
        return None  # PRV010: the gateway has no pass-through at all
    var = _var(route)
    where = f"; it answers under {hint['base_url']}" if hint else ""
    fixes = [Fix(title=f"Point {var} at the pass-through route", safety="review",
                 snippet=f"export {var}={shq(hint['base_url'])}")] if hint else [
        Fix(title="Find the gateway's pass-through prefix", safety="safe",
            snippet=f"curl -si -X POST {shq(checks[0]['url'])} -d '{{}}' | head -5")]
    return Finding(message=(f"The {_NAMES.get(str(route.get('mode')), 'provider')} route under {route.get('base_url')} "
                            f"is not found ({_said(checks[0])}){where}"),
                   evidence={"checks": checks, "provider.route_check": around, "route.base_url": route.get("base_url")},
                   fixes=tuple(fixes))


@rule(id="PRV010", name="gateway-lacks-provider-passthrough", cause="gateway.api_format",
      severity=Severity.ERROR, needs=_NEEDS, confidence=0.8,
      reads=("provider.route_check",))
def gateway_lacks_provider_passthrough(facts: Facts) -> Finding | None:
    """## What it checks
    In Bedrock or Vertex mode with a base-URL override, the provider route is missing (404/405)
    under the base URL and the usual prefixes, but the gateway serves the Anthropic Messages API
    (`POST /v1/messages`).

    ## Why it matters
    The gateway does not implement the Bedrock/Vertex pass-through the client speaks in this
    mode; no base path will fix it.

    ## Example
    `CLAUDE_CODE_USE_BEDROCK=1` with `ANTHROPIC_BEDROCK_BASE_URL` pointing at a gateway that
    only offers `/v1/messages`.

    ## Fix
    Use the gateway in Anthropic mode: unset `CLAUDE_CODE_USE_BEDROCK`/`CLAUDE_CODE_USE_VERTEX`
    and set `ANTHROPIC_BASE_URL` to it (the gateway then talks to the cloud).

    ## Fix safety
    Review: it changes the client's provider mode and model names.
    """
    route = facts["route.target"] or {}
    checks = [c for c in facts["provider.model_checks"] or [] if c.get("checked")]
    around = facts.get("provider.route_check") or {}
    if not checks or any(c.get("fault") != "route_not_found" for c in checks):
        return None
    if around.get("route_hint") or not around.get("anthropic_route"):
        return None
    parts = urlsplit(str(route.get("base_url") or ""))
    origin = f"{parts.scheme}://{parts.netloc}"
    use = "CLAUDE_CODE_USE_BEDROCK" if route.get("mode") == "bedrock" else "CLAUDE_CODE_USE_VERTEX"
    return Finding(
        message=(f"The gateway at {origin} has no {_NAMES.get(str(route.get('mode')), 'provider')} pass-through "
                 f"({_said(checks[0])}) but serves the Anthropic Messages API (POST /v1/messages: "
                 f"{around.get('anthropic_route')})"),
        evidence={"checks": checks, "provider.route_check": around},
        fixes=(Fix(title="Use the gateway in Anthropic mode", safety="review",
                   snippet=f"unset {use} {_var(route)}\nexport ANTHROPIC_BASE_URL={shq(origin)}"),),
    )


def _per_model(fault: str, facts: Facts, message: Any, fixes: Any) -> list[Finding]:
    route = facts["route.target"] or {}
    return [Finding(message=message(c, route), evidence=_evidence(c, route), fixes=tuple(fixes(c, route)),
                    severity=_severity(c)) for c in _checks(facts, fault)]


def _model_var(check: dict[str, Any]) -> str:
    roles = check.get("roles") or []
    for role, var in (("main", "ANTHROPIC_MODEL"), ("opus", "ANTHROPIC_DEFAULT_OPUS_MODEL"),
                      ("sonnet", "ANTHROPIC_DEFAULT_SONNET_MODEL"), ("haiku", "ANTHROPIC_DEFAULT_HAIKU_MODEL"),
                      ("background", "ANTHROPIC_DEFAULT_HAIKU_MODEL")):
        if role in roles:
            return var
    return "ANTHROPIC_MODEL"


@rule(id="PRV011", name="provider-model-not-offered", cause="model.not_found",
      severity=Severity.ERROR, needs=_NEEDS, confidence=0.85)
def provider_model_not_offered(facts: Facts) -> list[Finding]:
    """## What it checks
    A model request on the Bedrock/Vertex route is refused because the id is unknown there:
    Bedrock's "The provided model identifier is invalid", a gateway's "Invalid model name", a
    404 naming the model.

    ## Why it matters
    The client walks back through older model ids, one failing request each, then stops with
    "The model … is not available on your bedrock deployment".

    ## Example
    A LiteLLM pass-through whose `model_list` lacks `us.anthropic.claude-opus-5-5`.

    ## Fix
    Offer the id on the gateway, or pin the role's variable to an id it offers.

    ## Fix safety
    Review: the model changes.
    """
    return _per_model(
        "model_not_offered", facts,
        lambda c, r: f"The {_NAMES.get(r.get('mode'), 'provider')} route does not offer {c['model']} "
                     f"({', '.join(c.get('roles') or [])}): {_said(c)}",
        lambda c, r: [Fix(title="Pin the model to an id the route offers", safety="review",
                          snippet=f"export {_model_var(c)}=<an id the gateway offers>")])


@rule(id="PRV012", name="bedrock-on-demand-needs-profile", cause="provider.bedrock_model_id",
      severity=Severity.ERROR, needs=_NEEDS, confidence=0.9)
def bedrock_on_demand_needs_profile(facts: Facts) -> list[Finding]:
    """## What it checks
    Bedrock answered "on-demand throughput isn't supported" for a model request.

    ## Why it matters
    Newer Claude models are served only through inference profiles (`us.`, `eu.`, `global.` …);
    a bare `anthropic.claude-…` id fails on every request.

    ## Example
    `ANTHROPIC_MODEL=anthropic.claude-sonnet-4-5-20250929-v1:0` in `us-east-1`.

    ## Fix
    Use the inference-profile id for your region's geography.

    ## Fix safety
    Safe: the same model through its profile.
    """
    def fix(c: dict[str, Any], r: dict[str, Any]) -> list[Fix]:
        region = str(c.get("region") or "us-east-1")
        geo = "us" if region.startswith("us-") else "eu" if region.startswith("eu-") else \
            "apac" if region.startswith("ap-") else "global"
        model = str(c["model"])
        return [Fix(title="Use the inference profile", safety="safe",
                    snippet=f"export {_model_var(c)}={shq(geo + '.' + model if model.startswith('anthropic.') else model)}")]

    return _per_model("needs_profile", facts,
                      lambda c, r: f"Bedrock refuses {c['model']} on demand: {_said(c)}", fix)


@rule(id="PRV013", name="vertex-model-not-in-region", cause="model.region_unavailable",
      severity=Severity.ERROR, needs=_NEEDS, confidence=0.8)
def vertex_model_not_in_region(facts: Facts) -> list[Finding]:
    """## What it checks
    Vertex answered 404 "Publisher Model `projects/…/locations/<region>/…` was not found" for a
    model request.

    ## Why it matters
    The model is not offered in that location (or not enabled in Model Garden for the project);
    every request for it fails.

    ## Example
    `CLOUD_ML_REGION=europe-west4` for a model served only on `global` and `us-east5`.

    ## Fix
    Pin that model's location with its `VERTEX_REGION_CLAUDE_*` variable (or change
    `CLOUD_ML_REGION`), and check the model is enabled in Model Garden.

    ## Fix safety
    Review: requests move to another location (data residency).
    """
    def fix(c: dict[str, Any], r: dict[str, Any]) -> list[Fix]:
        var = c.get("region_env") or "CLOUD_ML_REGION"
        return [Fix(title="Send this model to a location that serves it", safety="review",
                    snippet=f"export {var}=global   # or us-east5; see Model Garden for the model's locations")]

    return _per_model("model_not_in_region", facts,
                      lambda c, r: f"Vertex has no {c['model']} in {c.get('region')} for this project: {_said(c)}",
                      fix)


@rule(id="PRV014", name="provider-access-denied", cause="model.access_denied",
      severity=Severity.ERROR, needs=_NEEDS + ("provider.vertex",), confidence=0.85)
def provider_access_denied(facts: Facts) -> list[Finding]:
    """## What it checks
    A model request on the Bedrock/Vertex route is answered 403 access denied
    (`AccessDeniedException`, `PERMISSION_DENIED`) with valid credentials.

    ## Why it matters
    The identity may call the service but not this model: model access not granted (Bedrock
    console, Model Garden), an IAM policy or SCP without `bedrock:InvokeModelWithResponseStream`
    / `aiplatform.endpoints.predict`, or a project mismatch.

    ## Example
    Bedrock: "You don't have access to the model with the specified model ID."

    ## Fix
    Request model access for the account/project, or grant the IAM permission.

    ## Fix safety
    Manual: an administrator grants access.
    """
    vertex = facts.get("provider.vertex") or {}
    mismatch = vertex.get("project_mismatch") if not (facts["route.target"] or {}).get("skip_auth") else None
    whose = (f"; the Google credentials are a {(vertex.get('adc') or {}).get('kind') or 'credential'} of project "
             f"{mismatch['adc_project']}, the requests name project {mismatch['configured']}") if mismatch else ""

    def fix(c: dict[str, Any], r: dict[str, Any]) -> list[Fix]:
        if r.get("mode") == "bedrock":
            return [Fix(title="Check model access and the IAM actions", safety="manual",
                        snippet=f"aws bedrock get-foundation-model-availability --model-id {shq(str(c['model']).split('.', 1)[-1])} "
                                f"--region {c.get('region') or 'us-east-1'}")]
        return [Fix(title="Enable the model in Model Garden and grant roles/aiplatform.user", safety="manual",
                    snippet="gcloud projects get-iam-policy \"$ANTHROPIC_VERTEX_PROJECT_ID\" | grep -B2 aiplatform")]

    return _per_model("access_denied", facts,
                      lambda c, r: f"Access to {c['model']} is denied on the {_NAMES.get(r.get('mode'), 'provider')} "
                                   f"route: {_said(c)}" + (whose if r.get("mode") == "vertex" else ""), fix)


@rule(id="PRV015", name="provider-credentials-rejected", cause="auth.rejected",
      severity=Severity.ERROR, needs=_NEEDS, confidence=0.85)
def provider_credentials_rejected(facts: Facts) -> Finding | None:
    """## What it checks
    The model requests on the Bedrock/Vertex route are refused for their credentials: 401, or
    an AWS `UnrecognizedClientException`/`ExpiredTokenException`/`InvalidSignatureException`,
    Google `UNAUTHENTICATED`, LiteLLM "No api key passed in". With `CLAUDE_CODE_SKIP_*_AUTH`
    the client sends no cloud credential, so this is the gateway's verdict on its own key
    (usually sent with `ANTHROPIC_CUSTOM_HEADERS`) or on the gateway's cloud credentials.

    ## Why it matters
    Every request fails the same way; the client prints the bare status.

    ## Example
    `CLAUDE_CODE_SKIP_BEDROCK_AUTH=1` in front of a LiteLLM with a master key, and no
    `x-litellm-api-key` header configured.

    ## Fix
    Send the gateway's key (`ANTHROPIC_CUSTOM_HEADERS`), or refresh the cloud credentials.

    ## Fix safety
    Review: credentials change.
    """
    route = facts["route.target"] or {}
    bad = list(_checks(facts, "credentials"))
    if not bad:
        return None
    first = bad[0]
    cloud_kinds = {"unrecognizedclientexception", "expiredtokenexception", "invalidsignatureexception",
                   "unauthenticated"}
    if route.get("skip_auth") and str(first.get("error_type") or "").lower() in cloud_kinds:
        who = f"{'AWS' if route.get('mode') == 'bedrock' else 'Google'} (relayed by the gateway, about the gateway's own cloud credentials)"
        fix = Fix(title="Fix the credentials on the gateway host", safety="review",
                  snippet="# on the gateway: check the AWS keys / service account LiteLLM uses for this model")
    elif route.get("skip_auth") and "no vertex ai credential" in str(first.get("error_message") or "").lower():
        who = "the gateway (it holds no Vertex credential and got no Google token)"
        fix = Fix(title="Give LiteLLM a Vertex credential (default_vertex_config)", safety="review",
                  snippet="gwdoctor generate vertex --base-url <gateway-url> --project <project> -o ./gw   # see config.yaml")
    elif route.get("skip_auth"):
        who = "the gateway"
        fix = Fix(title="Send the gateway's key with every request", safety="review",
                  snippet="export ANTHROPIC_CUSTOM_HEADERS='x-litellm-api-key: Bearer <your LiteLLM key>'")
    elif route.get("mode") == "bedrock":
        who = "AWS"
        fix = Fix(title="Refresh the AWS credentials the client uses", safety="review",
                  snippet="aws sts get-caller-identity   # then: aws sso login, or new keys")
    else:
        who = "Google"
        fix = Fix(title="Refresh the Google credentials", safety="review",
                  snippet="gcloud auth application-default login")
    severity = Severity.ERROR if any("main" in (c.get("roles") or []) for c in bad) else Severity.WARNING
    return Finding(message=f"{who[0].upper() + who[1:]} rejects the credentials "
                           f"on the {_NAMES.get(str(route.get('mode')), 'provider')} route ({_said(first)})",
                   evidence={"checks": bad, "route.skip_auth": route.get("skip_auth"), "route.auth": route.get("auth")},
                   fixes=(fix,), severity=severity)


@rule(id="PRV016", name="provider-quota-exceeded", cause="gateway.rate_limited",
      severity=Severity.ERROR, needs=_NEEDS, confidence=0.8)
def provider_quota_exceeded(facts: Facts) -> list[Finding]:
    """## What it checks
    A model request on the Bedrock/Vertex route is answered 429 (`ThrottlingException`,
    `RESOURCE_EXHAUSTED` "Quota exceeded").

    ## Why it matters
    The client retries with back-off and then fails; for the main model `claude -p` fails.

    ## Example
    A new AWS account with the default tokens-per-minute quota for the model.

    ## Fix
    Request a quota increase for the model in that region, or use another region/profile.

    ## Fix safety
    Manual: quotas are granted by the provider.
    """
    return _per_model(
        "quota", facts,
        lambda c, r: f"The {_NAMES.get(r.get('mode'), 'provider')} quota for {c['model']} in {c.get('region')} "
                     f"is exhausted: {_said(c)}",
        lambda c, r: [Fix(title="Ask for a quota increase", safety="manual",
                          snippet="aws service-quotas list-service-quotas --service-code bedrock | grep -i claude"
                          if r.get("mode") == "bedrock" else
                          "gcloud alpha services quota list --service=aiplatform.googleapis.com "
                          "--consumer=projects/$ANTHROPIC_VERTEX_PROJECT_ID | grep -i anthropic")])


@rule(id="PRV017", name="bedrock-stream-rewritten", cause="gateway.streaming_broken",
      severity=Severity.ERROR, needs=_NEEDS, confidence=0.85)
def bedrock_stream_rewritten(facts: Facts) -> list[Finding]:
    """## What it checks
    A Bedrock `invoke-with-response-stream` answer arrives with a content type other than
    `application/vnd.amazon.eventstream`.

    ## Why it matters
    A gateway rewrote the binary event stream; the client stops with `Bedrock streaming
    response has content-type …` (before 2.1.208: `Truncated event message received`).

    ## Example
    A gateway that converts the Bedrock stream to SSE or JSON.

    ## Fix
    Pass the body and `Content-Type` through unchanged (or, to skip the client's check,
    `CLAUDE_CODE_DISABLE_BEDROCK_CONTENT_TYPE_GUARD=1`).

    ## Fix safety
    Review: the gateway's configuration changes.
    """
    return _per_model(
        "stream_rewritten", facts,
        lambda c, r: f"The Bedrock stream for {c['model']} arrives as {c.get('content_type')}, "
                     "not application/vnd.amazon.eventstream",
        lambda c, r: [Fix(title="See what the gateway returns", safety="safe",
                          snippet=f"curl -si -X POST {shq(str(c['url']))} -H 'content-type: application/json' "
                                  "-d '{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":1,"
                                  "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}' | head -5")])


@rule(id="PRV018", name="provider-request-failed", cause="gateway.upstream_error",
      severity=Severity.ERROR, needs=_NEEDS, confidence=0.6)
def provider_request_failed(facts: Facts) -> list[Finding]:
    """## What it checks
    A model request on the Bedrock/Vertex route failed in a way none of PRV009-PRV017 names:
    a 5xx, a stream that stopped early, a connection that broke mid-answer, or a status and
    body gwdoctor does not recognise. The finding quotes what came back.

    ## Why it matters
    The client fails the same way (`API Error: <status> …`), with less detail.

    ## Example
    A pass-through whose upstream answers 500, or a gateway that cuts the stream.

    ## Fix
    Read the quoted answer and the gateway's log for that request.

    ## Fix safety
    Manual: the fix depends on what the gateway says.
    """
    out: list[Finding] = []
    for fault in ("upstream_error", "stream_broken", "transport", "other"):
        out += _per_model(
            fault, facts,
            lambda c, r: f"The {_NAMES.get(r.get('mode'), 'provider')} request for {c['model']} failed "
                         f"({c.get('error') or _said(c)})",
            lambda c, r: [Fix(title="Repeat the request and read the answer", safety="safe",
                              snippet=f"curl -si -X POST {shq(str(c['url']))} -H 'content-type: application/json' "
                                      "-d '{}' | head -20")])
    return out


WIRE_RULES = [provider_request_failed, provider_route_not_found, gateway_lacks_provider_passthrough, provider_model_not_offered,
              bedrock_on_demand_needs_profile, vertex_model_not_in_region, provider_access_denied,
              provider_credentials_rejected, provider_quota_exceeded, bedrock_stream_rewritten]
