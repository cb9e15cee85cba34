"""Retired-model rules (MDL009, MDL010): an id the client version itself reports retired, sent by
the client or served by the gateway. Pure functions of facts."""

from __future__ import annotations

from gwdoctor.engine import Facts, Finding, Rule, Severity, hookimpl, rule

from ._gw import ROLE_VARS, env_fix, in_use, requested_models


@rule(id="MDL009", name="retired-model-in-use", cause="model.retired", severity=Severity.WARNING,
      needs=("model.requested",), confidence=0.9,
      reads=("client.behaviour", "client.version"))
def retired_model_in_use(facts: Facts) -> list[Finding]:
    """## What it checks
    A model the configuration makes the client send (main or background) is one this client
    version itself reports as retired ("Claude Sonnet 4.5 was retired on November 30, 2026"),
    and the retirement date has passed. (A gateway config serving one is MDL010.)

    ## Why it matters
    The client still sends a retired id (captured: tests/capture/test_models.py); providers stop
    serving retired models, so a gateway that still answers today can start failing with 404s
    when its upstream drops the id. A warning: it works until then.

    ## Example
    `ANTHROPIC_MODEL=claude-sonnet-4-5` with Claude Code 2.1.332 after 2026-11-30.

    ## Fix
    Move to the version's current model for that role (its alias id), and serve it.

    ## Fix safety
    Review: another model changes cost and behaviour.
    """
    beh = facts.get("client.behaviour") or {}
    defaults = beh.get("default_models") or {} if isinstance(beh, dict) else {}
    out = []
    for model, slot in sorted(requested_models(facts).items()):
        used = [e for e in slot["entries"] if in_use(e)]
        if not used or not any(e.get("retired") for e in used):
            continue
        roles = sorted({str(e.get("role")) for e in used})
        family = next((f for f in ("opus", "sonnet", "haiku") if f in model), None)
        current = defaults.get(family) if family else None
        fixes = []
        for e in used:
            var = ROLE_VARS.get(str(e.get("role")))
            if var and current and current != model:
                src = e.get("source") if isinstance(e.get("source"), dict) else None
                fixes.append(env_fix(var, str(current), src,
                                     title=f"Send this version's current {family} model"))
                break
        out.append(Finding(
            message=(f"{model} ({', '.join(roles)}) was retired on {used[0].get('retired_on')}, as "
                     f"Claude Code {facts.get('client.version')} itself warns; it is still sent"),
            evidence={"model": model, "roles": roles, "retired_on": used[0].get("retired_on"),
                      "current": current},
            fixes=tuple(fixes)))
    return out


@rule(id="MDL010", name="gateway-serves-retired-model", cause="model.retired",
      severity=Severity.WARNING, needs=("gateway_config.models",), confidence=0.85,
      reads=("client.version", "gateway_config.path"))
def gateway_serves_retired_model(facts: Facts) -> list[Finding]:
    """## What it checks
    A LiteLLM config (`--gateway-config`, `gwdoctor validate`) serves a model name from an
    upstream id that the client version itself reports as retired, in any provider's spelling
    (`bedrock/eu.anthropic.claude-sonnet-4-5-20250929-v1:0`, `vertex_ai/claude-3-5-haiku@20241022`).

    ## Why it matters
    Providers stop serving retired models; the gateway then answers the client's requests for
    that name with the provider's 404, which the client reports as a model problem.

    ## Example
    `model_name: claude-opus-5-5` served by `anthropic/claude-sonnet-4-5-20250929` after 2026-11-30.

    ## Fix
    Point the entry at a current upstream id (for Sonnet: `claude-sonnet-4-6`).

    ## Fix safety
    Review: a different upstream model changes cost and behaviour.
    """
    out = []
    for entry in facts.get("gateway_config.models") or []:
        # gateway_config.litellm marks each upstream id this version reports retired by now.
        when = entry.get("retired_on") if isinstance(entry, dict) else None
        if when:
            where = f"{facts.get('gateway_config.path')}:{entry.get('line')}"
            out.append(Finding(
                message=(f"The gateway serves {entry.get('model_name')} from {entry['model']}, "
                         f"retired on {when} as Claude Code {facts.get('client.version')} itself "
                         f"reports ({where})"),
                evidence={"model_name": entry.get("model_name"), "upstream": entry["model"],
                          "retired_on": when, "file": facts.get("gateway_config.path"),
                          "line": entry.get("line")}))
    return out


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [retired_model_in_use, gateway_serves_retired_model]
