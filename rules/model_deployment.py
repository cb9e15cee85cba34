"""Deployment rules (MDL011): the gateway knows the model name but has no deployment that can
serve it. Pure functions of facts."""

from __future__ import annotations

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._gw import checks, faults_of, first_line

BACKGROUND = {"haiku", "background"}


@rule(id="MDL011", name="model-without-working-deployment", cause="model.no_healthy_deployment",
      severity=Severity.ERROR, needs=("model.checks",), confidence=0.9,
      reads=("http.faults", "gateway.base_url", "gateway.kind", "gateway_config.path"))
def model_without_working_deployment(facts: Facts) -> Finding | None:
    """## What it checks
    A model request answered with LiteLLM's `There are no healthy deployments for this
    model`: the gateway has the model name, but no deployment behind it that it could call.

    ## Why it matters
    Every deployment of that model name failed to load when the gateway started (a
    `model_list` entry LiteLLM dropped: `LLM Provider NOT provided`, logged as `Error
    creating deployment … ignoring and continuing`) or is marked down. The client prints
    `API Error: 400 litellm.BadRequestError: You passed in model=… There are no healthy
    deployments for this model … No fallback was attempted`, which reads like a provider
    failure although the gateway never called a provider.

    ## Example
    `model: gpt-4o-deployment` (an Azure deployment name without `azure/`) serving
    `claude-opus-5-5` in the LiteLLM config (BerriAI/litellm#11755); with the config given
    (`--gateway-config`), CFG017 names the entry and this finding ranks under it.

    ## Fix
    On the gateway host, check its config (`gwdoctor scan --gateway-config
    <config.yaml>`) and its startup log for the dropped deployment, fix the entry (often the
    missing provider prefix) and restart the gateway.

    ## Fix safety
    Safe: the commands only read; the config change itself is the gateway admin's.
    """
    hits = [c for c in checks(facts) if (c.get("status") or 0) >= 400
            and "http.no_healthy_deployment" in faults_of(facts, c)]
    if not hits:
        return None
    models = [str(c["model"]) for c in hits]
    # A background (haiku) model the client survives without: a warning unless the main
    # conversation's model is hit too.
    main = any(set(c.get("roles") or ["main"]) - BACKGROUND for c in hits)
    first = hits[0]
    where = facts.get("gateway_config.path")
    fixes = [Fix(title="Find the dropped deployments in the gateway's startup log", safety="safe",
                 snippet="grep -E 'Error creating deployment|LLM Provider NOT provided' "
                         "<litellm-log>   # or: docker logs <litellm-container> 2>&1 | grep ...")]
    if not where:
        fixes.insert(0, Fix(title="Check the gateway's config on the gateway host", safety="safe",
                            snippet="gwdoctor scan --gateway-config <config.yaml>"))
    if facts.get("gateway.kind") == "litellm":
        fixes.append(Fix(title="List the deployments LiteLLM loaded (needs the master key)",
                         safety="safe",
                         snippet=f"curl -s '{facts.get('gateway.base_url')}/v1/model/info' "
                                 "-H 'Authorization: Bearer <master-key>'"))
    return Finding(
        message=(f"The gateway has no working deployment for {', '.join(models)}: it knows "
                 f"{'these model names' if len(models) > 1 else 'the model name'} but every "
                 "deployment behind it failed to load or is down, so it called no provider "
                 f"({first.get('status')} "
                 f"{first_line(first.get('error_message'), 120)})"),
        evidence={"models": models, "status": first.get("status"),
                  "error_message": first.get("error_message"), "gateway_config": where},
        fixes=tuple(fixes), severity=None if main else Severity.WARNING)


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [model_without_working_deployment]
