"""Provider-mode setup rules (PRV001, PRV002, PRV004, PRV005, PRV007): Bedrock and Vertex region,
project and credentials. Pure functions of facts."""

from __future__ import annotations

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule


@rule(id="PRV001", name="vertex-project-missing", cause="provider.vertex_project_missing",
      severity=Severity.ERROR, needs=("provider.vertex",), confidence=0.95)
def vertex_project_missing(facts: Facts) -> Finding | None:
    """## What it checks
    Vertex mode (`CLAUDE_CODE_USE_VERTEX=1`) without a project: none of
    `ANTHROPIC_VERTEX_PROJECT_ID`, `GCLOUD_PROJECT`, `GOOGLE_CLOUD_PROJECT` or a
    project in the `GOOGLE_APPLICATION_CREDENTIALS` file.

    ## Why it matters
    The project is part of every Vertex URL (`.../projects/<id>/locations/...`);
    without it no request can be built.

    ## Example
    `CLAUDE_CODE_USE_VERTEX=1` and `CLOUD_ML_REGION=global`, nothing else.

    ## Fix
    Export the project id.

    ## Fix safety
    Safe: it only names the project you intend to bill.
    """
    vertex = facts["provider.vertex"]
    if not vertex or vertex.get("project_id"):
        return None
    unread = [f"{i['var']}={i['value']}" for i in vertex.get("project_ignored") or []]
    why = ((f"; {', '.join(unread)} {'is' if len(unread) == 1 else 'are'} set, but "
            f"{(vertex.get('project_ignored') or [{}])[0].get('why') or 'not read'}")
           if unread else "")
    return Finding(
        message=f"Vertex mode is on but no GCP project is set (ANTHROPIC_VERTEX_PROJECT_ID){why}",
        evidence={"provider.vertex": vertex},
        fixes=(Fix(title="Set the Vertex project", safety="safe",
                   snippet="export ANTHROPIC_VERTEX_PROJECT_ID=<your-gcp-project-id>"),),
    )


@rule(id="PRV002", name="vertex-credentials-missing", cause="provider.vertex_credentials_missing",
      severity=Severity.ERROR, needs=("provider.vertex",), confidence=0.8)
def vertex_credentials_missing(facts: Facts) -> Finding | None:
    """## What it checks
    Vertex mode with Google authentication on, but no usable Application Default
    Credentials file (`GOOGLE_APPLICATION_CREDENTIALS` missing or unreadable, or no
    `gcloud auth application-default login` file).

    ## Why it matters
    The client fails with "Could not load the default credentials", or hangs probing
    the GCE metadata server when that address is blocked.

    ## Example
    `GOOGLE_APPLICATION_CREDENTIALS=~/keys/sa.json` after the key file was deleted.

    ## Fix
    Log in for ADC, point `GOOGLE_APPLICATION_CREDENTIALS` at a real key file, or, when
    a gateway signs requests, skip Vertex auth.

    ## Fix safety
    Review: skipping auth is right only when a gateway adds credentials.

    ## Known problems
    On GCE/GKE the metadata server supplies credentials without a file; gwdoctor does
    not call it, hence confidence 0.8 when no file was named.
    """
    vertex = facts["provider.vertex"]
    if not vertex or vertex.get("skip_auth"):
        return None
    adc = vertex.get("adc") or {}
    if adc.get("exists") and not adc.get("error"):
        return None
    named = adc.get("source") == "GOOGLE_APPLICATION_CREDENTIALS"
    problem = adc.get("error") or "no such file"
    return Finding(
        message=(f"Vertex credentials: {'GOOGLE_APPLICATION_CREDENTIALS' if named else 'ADC file'} "
                 f"{adc.get('path')}: {problem}"),
        evidence={"adc": adc},
        confidence=0.95 if named else None,
        fixes=(Fix(title="Create Application Default Credentials",
                   snippet="gcloud auth application-default login"),
               Fix(title="Or, behind a gateway that authenticates to Vertex",
                   snippet="export CLAUDE_CODE_SKIP_VERTEX_AUTH=1")),
    )


@rule(id="PRV004", name="bedrock-region-missing", cause="provider.bedrock_region_missing",
      severity=Severity.ERROR, needs=("provider.bedrock",), confidence=0.9)
def bedrock_region_missing(facts: Facts) -> Finding | None:
    """## What it checks
    Bedrock mode where the region you configured is one this client version does not
    read (`AWS_DEFAULT_REGION` or the profile's `region` before 2.1.172; `AWS_REGION_NAME`
    always), so it falls back to `us-east-1`.

    ## Why it matters
    Requests go to the wrong region: "You don't have access to the model with the
    specified model ID" (403) or inference-profile 400s, while the AWS CLI, which reads
    `~/.aws/config`, works.

    ## Example
    `CLAUDE_CODE_USE_BEDROCK=1`, `region = ap-southeast-2` in `~/.aws/config`, Claude Code 2.1.100.

    ## Fix
    Export `AWS_REGION`.

    ## Fix safety
    Safe: it names the region you already configured.

    ## References
    anthropics/claude-code#1434
    """
    bedrock = facts["provider.bedrock"]
    if not bedrock:
        return None
    ignored = bedrock.get("region_ignored") or []
    if bedrock.get("region") and not (bedrock.get("region_source") == "default" and ignored):
        return None
    wanted = ignored[0]["value"] if ignored else "<your-aws-region>"
    used = bedrock.get("region") or "none"
    names = ", ".join(f"{i['var']}={i['value']}" for i in ignored) or "nothing"
    return Finding(
        message=f"Bedrock region resolves to {used}: this client ignores {names}",
        evidence={"provider.bedrock": bedrock},
        fixes=(Fix(title="Set the region the client reads", safety="safe",
                   snippet=f"export AWS_REGION={wanted}"),),
    )


@rule(id="PRV005", name="bedrock-credentials-missing", cause="provider.bedrock_credentials",
      severity=Severity.ERROR, needs=("provider.bedrock",), confidence=0.75)
def bedrock_credentials_missing(facts: Facts) -> Finding | None:
    """## What it checks
    Bedrock mode with AWS authentication on and no credentials the AWS SDK would find
    (env keys, `AWS_BEARER_TOKEN_BEDROCK`, profile keys, SSO, `credential_process`,
    web identity, container credentials), or with credentials that have expired.

    ## Why it matters
    Every request fails before reaching Bedrock; expired SSO sessions show up as
    "The security token included in the request is expired" or a 60 s chain timeout.

    ## Example
    `AWS_PROFILE=dev` with `sso_session = corp` whose cached token expired yesterday.

    ## Fix
    Log in again (`aws sso login`), or export keys / a Bedrock API key.

    ## Fix safety
    Safe: it refreshes your own credentials.

    ## Known problems
    Instance and pod roles (IMDS) are invisible offline; a "missing" verdict on EC2 may
    be wrong, hence the moderate confidence.
    """
    bedrock = facts["provider.bedrock"]
    if not bedrock or bedrock.get("skip_auth"):
        return None
    creds = bedrock.get("credentials") or {}
    profile = bedrock.get("profile") or "default"
    if creds.get("kind") and not creds.get("expired"):
        return None
    lost = "; ".join(f"not used: {x.get('source')} ({x.get('why')})"
                     for x in creds.get("shadowed") or [])
    lost = f"; {lost}" if lost else ""
    if creds.get("expired"):
        login = (f"aws sso login --profile {profile}" if creds.get("kind") == "sso"
                 else f"aws configure --profile {profile}")
        won = (f" from {creds['source']}, chosen because {creds.get('why')}"
               if creds.get("source") else "")
        return Finding(
            message=(f"Bedrock {creds.get('kind')} credentials (profile {profile}){won} expired "
                     f"{creds.get('expires_at') or '(no cached token)'}{lost}"),
            evidence={"credentials": creds, "profile": profile}, confidence=0.9,
            fixes=(Fix(title="Refresh the credentials", safety="safe", snippet=login),),
        )
    return Finding(
        message=(f"Bedrock mode but no AWS credentials found (profile {profile}, no env keys, "
                 "no AWS_BEARER_TOKEN_BEDROCK)"
                 + (f": {creds['why']}" if creds.get("why") else "") + lost),
        evidence={"credentials": creds, "profile": profile},
        fixes=(Fix(title="Log in with your profile",
                   snippet=f"aws sso login --profile {profile}\nexport AWS_PROFILE={profile}"),
               Fix(title="Or use a Bedrock API key",
                   snippet="export AWS_BEARER_TOKEN_BEDROCK=<your-bedrock-api-key>")),
    )


@rule(id="PRV007", name="vertex-region-invalid", cause="provider.vertex_region_invalid",
      severity=Severity.ERROR, needs=("provider.vertex",), confidence=0.9)
def vertex_region_invalid(facts: Facts) -> list[Finding]:
    """## What it checks
    `CLOUD_ML_REGION` or a `VERTEX_REGION_*` override that is not a Google Cloud
    location (`global`, `us`, `eu`, or a region such as `us-east5`).

    ## Why it matters
    A value with a slash, dot or space is treated as unset (the client silently uses
    `us-east5`); an AWS-style name such as `us-east-1` builds a hostname that does not
    exist, so every request fails.

    ## Example
    `CLOUD_ML_REGION=us-east-1`

    ## Fix
    Use a GCP location name.

    ## Fix safety
    Review: pick the region where your models are enabled.
    """
    vertex = facts["provider.vertex"]
    if not vertex:
        return []
    out = []
    raw = vertex.get("region_raw")
    if not vertex.get("region_valid", True) and raw is not None:
        used = vertex.get("region")
        tail = f"; the client falls back to {used}" if used != raw else ""
        out.append(Finding(
            message=f"CLOUD_ML_REGION={raw!r} is not a Google Cloud location{tail}",
            evidence={"region_raw": raw, "region": used},
            fixes=(Fix(title="Use a GCP location",
                       snippet=("export CLOUD_ML_REGION="
                                f"{vertex.get('region_suggestion') or 'global'}")),),
        ))
    for var in vertex.get("invalid_model_regions") or []:
        value = (vertex.get("model_regions") or {}).get(var, "")
        out.append(Finding(
            message=f"{var}={value!r} is not a Google Cloud location",
            evidence={var: value},
            fixes=(Fix(title="Use a GCP location", snippet=(
                f"export {var}="
                f"{(vertex.get('model_region_suggestions') or {}).get(var) or 'global'}")),),
        ))
    return out


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [vertex_project_missing, vertex_credentials_missing, bedrock_region_missing,
            bedrock_credentials_missing, vertex_region_invalid]
