"""Provider-access rules (PRV014-PRV016): the account behind the Bedrock or Vertex route is denied
the model, its credentials are rejected, or its quota is spent. Pure functions of
provider.model_checks."""

from __future__ import annotations

from typing import Any

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._netfix import shq
from ._provider_checks import NAMES, NEEDS, checks_with, per_model, said


@rule(id="PRV014", name="provider-access-denied", cause="model.access_denied",
      severity=Severity.ERROR, needs=NEEDS + ("provider.vertex",), confidence=0.85)
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
    mismatch = (vertex.get("project_mismatch")
                if not (facts["route.target"] or {}).get("skip_auth") else None)
    whose = ((f"; the Google credentials are a "
              f"{(vertex.get('adc') or {}).get('kind') or 'credential'} of project "
              f"{mismatch['adc_project']}, the requests name project {mismatch['configured']}")
             if mismatch else "")

    def fix(c: dict[str, Any], r: dict[str, Any]) -> list[Fix]:
        if r.get("mode") == "bedrock":
            return [Fix(title="Check model access and the IAM actions", safety="manual",
                        snippet=f"aws bedrock get-foundation-model-availability --model-id "
                                f"{shq(str(c['model']).split('.', 1)[-1])} "
                                f"--region {c.get('region') or 'us-east-1'}")]
        return [Fix(title="Enable the model in Model Garden and grant roles/aiplatform.user",
                    safety="manual",
                    snippet="gcloud projects get-iam-policy \"$ANTHROPIC_VERTEX_PROJECT_ID\" "
                            "| grep -B2 aiplatform")]

    return per_model("access_denied", facts,
                      lambda c, r: f"Access to {c['model']} is denied on the "
                                   f"{NAMES.get(r.get('mode'), 'provider')} route: {said(c)}"
                                   + (whose if r.get("mode") == "vertex" else ""),
                      fix)


@rule(id="PRV015", name="provider-credentials-rejected", cause="auth.rejected",
      severity=Severity.ERROR, needs=NEEDS, confidence=0.85)
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
    bad = list(checks_with(facts, "credentials"))
    if not bad:
        return None
    first = bad[0]
    cloud_kinds = {"unrecognizedclientexception", "expiredtokenexception",
                   "invalidsignatureexception", "unauthenticated"}
    if route.get("skip_auth") and str(first.get("error_type") or "").lower() in cloud_kinds:
        who = (f"{'AWS' if route.get('mode') == 'bedrock' else 'Google'} (relayed by the gateway, "
               "about the gateway's own cloud credentials)")
        fix = Fix(title="Fix the credentials on the gateway host", safety="review",
                  snippet="# on the gateway: check the AWS keys / service account LiteLLM uses "
                          "for this model")
    elif (route.get("skip_auth")
          and "no vertex ai credential" in str(first.get("error_message") or "").lower()):
        who = "the gateway (it holds no Vertex credential and got no Google token)"
        fix = Fix(title="Give LiteLLM a Vertex credential (default_vertex_config)", safety="review",
                  snippet="gwdoctor generate vertex --base-url <gateway-url> --project <project> "
                          "-o ./gw   # see config.yaml")
    elif route.get("skip_auth"):
        who = "the gateway"
        fix = Fix(title="Send the gateway's key with every request", safety="review",
                  snippet="export ANTHROPIC_CUSTOM_HEADERS="
                          "'x-litellm-api-key: Bearer <your LiteLLM key>'")
    elif route.get("mode") == "bedrock":
        who = "AWS"
        fix = Fix(title="Refresh the AWS credentials the client uses", safety="review",
                  snippet="aws sts get-caller-identity   # then: aws sso login, or new keys")
    else:
        who = "Google"
        fix = Fix(title="Refresh the Google credentials", safety="review",
                  snippet="gcloud auth application-default login")
    severity = (Severity.ERROR if any("main" in (c.get("roles") or []) for c in bad)
                else Severity.WARNING)
    return Finding(message=f"{who[0].upper() + who[1:]} rejects the credentials "
                           f"on the {NAMES.get(str(route.get('mode')), 'provider')} route "
                           f"({said(first)})",
                   evidence={"checks": bad, "route.skip_auth": route.get("skip_auth"),
                             "route.auth": route.get("auth")},
                   fixes=(fix,), severity=severity)


@rule(id="PRV016", name="provider-quota-exceeded", cause="gateway.rate_limited",
      severity=Severity.ERROR, needs=NEEDS, confidence=0.8)
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
    return per_model(
        "quota", facts,
        lambda c, r: f"The {NAMES.get(r.get('mode'), 'provider')} quota for {c['model']} "
                     f"in {c.get('region')} is exhausted: {said(c)}",
        lambda c, r: [Fix(title="Ask for a quota increase", safety="manual",
                          snippet="aws service-quotas list-service-quotas --service-code bedrock "
                          "| grep -i claude"
                          if r.get("mode") == "bedrock" else
                          "gcloud alpha services quota list --service=aiplatform.googleapis.com "
                          "--consumer=projects/$ANTHROPIC_VERTEX_PROJECT_ID | grep -i anthropic")])


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [provider_access_denied, provider_credentials_rejected, provider_quota_exceeded]
