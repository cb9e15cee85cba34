"""Model rules (MDL): is every model id the client sends served, allowed and usable? Pure
functions of facts."""

from __future__ import annotations

from typing import Any

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._gw import (
    ROLE_VARS,
    checks,
    env_fix,
    faults_of,
    first_line,
    in_use,
    requested_models,
    served_alternative,
    served_ids,
    serves,
)

BACKGROUND = ("haiku", "background")
DEFAULT_MAX_OUTPUT = 32000  # the client's max_tokens for ids it does not recognise (docs: env-vars)


def _check_says_unserved(facts: Facts, check: dict[str, Any]) -> bool:
    faults = faults_of(facts, check)
    if "http.invalid_model_name" in faults:
        return True
    return check.get("status") in (400, 404) and "http.model_not_found" in faults \
        and not faults & {"http.model_region_unavailable", "http.model_access_denied"}


def _unserved(facts: Facts) -> dict[str, tuple[str, float]]:
    """model -> (evidence, confidence) for requested models the gateway does not serve."""
    requested = requested_models(facts)
    out: dict[str, tuple[str, float]] = {}
    by_model = {c.get("model"): c for c in checks(facts)}
    for model, check in by_model.items():
        if model in requested and _check_says_unserved(facts, check):
            out[model] = (f"{check.get('status')} {first_line(check.get('error_message'), 160)}",
                          0.97)
    ids = served_ids(facts)
    if ids:
        for model in requested:
            check = by_model.get(model, {})
            # A request that timed out says nothing about the model (GWY008 judges the hang);
            # a model name without a working deployment is known to the gateway (MDL011).
            if (check.get("status") == 200 or check.get("error") == "timeout"
                    or "http.no_healthy_deployment" in faults_of(facts, check)):
                continue
            if model not in out and not serves(ids, model):
                out[model] = (f"not among the {len(ids)} ids /v1/models lists", 0.75)
    return out


def _provider_entry(facts: Facts, model: str) -> dict[str, Any] | None:
    entries = [e for e in facts.get("gateway_config.models") or [] if isinstance(e, dict)]
    fam = next((f for f in ("opus", "sonnet", "haiku") if f in model), None)
    same = [e for e in entries if fam and fam in str(e.get("model_name", ""))]
    return (same or entries)[0] if (same or entries) else None


def _litellm_entry(facts: Facts, model: str) -> str:
    entry = _provider_entry(facts, model)
    if entry:
        provider = entry.get("provider") or str(entry.get("model", "anthropic/x")).split("/")[0]
        params = {k: v for k, v in (entry.get("params") or {}).items()
                  if k not in ("model",) and isinstance(v, (str, int, float))}
    else:
        provider, params = "anthropic", {"api_key": "os.environ/ANTHROPIC_API_KEY"}
    lines = ["model_list:", f"  - model_name: {model}", "    litellm_params:",
             f"      model: {provider}/{model}   # the provider's id for this model"]
    lines += [f"      {k}: {v}" for k, v in params.items()]
    return "\n".join(lines)


def _kind(entries: list[dict[str, Any]]) -> str:
    """main: sent for the conversation; background: sent only for background work; alias: sent
    only if someone picks that alias (``/model sonnet``, ``--model sonnet``)."""
    used = [e for e in entries if in_use(e)]
    if any(e.get("role") not in BACKGROUND for e in used):
        return "main"
    return "background" if used else "alias"


def _findings(facts: Facts, kind: str) -> list[Finding]:
    requested = requested_models(facts)
    ids = served_ids(facts)
    out = []
    for model, (why, conf) in sorted(_unserved(facts).items()):
        entries = requested[model]["entries"]
        if _kind(entries) != kind:
            continue
        roles = requested[model]["roles"]
        fixes = []
        alt = served_alternative(ids, model)
        wanted = [e for e in entries if kind == "alias" or in_use(e)]
        for role in sorted({str(e.get("role")) for e in wanted}):
            var = ROLE_VARS.get(role)
            if var and alt:
                entry = next(e for e in entries if e.get("role") == role)
                src = entry.get("source") if isinstance(entry.get("source"), dict) else None
                fixes.append(env_fix(var, alt, src, title=f"Send the {role} model as {alt}, "
                                                          "which the gateway serves"))
        if (facts.get("gateway.kind") in ("litellm", None, "unknown")
                or facts.get("gateway_config.models")):
            fixes.append(Fix(title=f"Or serve {model} from the gateway", lang="yaml",
                             safety="review",
                             target=str(facts.get("gateway_config.path") or "litellm config.yaml"),
                             snippet=_litellm_entry(facts, model)))
        evidence = {"model": model, "roles": roles, "why": why, "served_ids": (ids or [])[:30]}
        if kind == "alias":
            aliases = sorted({str(e.get("role")) for e in entries})
            picks = " or ".join(f"`/model {a}`" for a in aliases)
            explicit = any(e.get("explicit") for e in entries)
            message = (f"{picks} would fail: the gateway does not serve {model} ({why}). Nothing "
                       "in this configuration selects it, so the client works until someone "
                       "picks it")
            out.append(Finding(message=message, evidence={**evidence, "explicit": explicit},
                               fixes=tuple(fixes), confidence=conf,
                               # An alias the user pointed at a model on purpose is a mistake
                               # waiting to happen; a default one nobody picks is a note.
                               severity=Severity.WARNING if explicit else None))
            continue
        label = "background (haiku) model" if kind == "background" else "model"
        out.append(Finding(
            message=f"The gateway does not serve the {label} {model} ({', '.join(roles)}): {why}",
            evidence=evidence, fixes=tuple(fixes), confidence=conf))
    return out


@rule(id="MDL001", name="model-not-served", cause="model.not_found", severity=Severity.ERROR,
      needs=("model.requested",), confidence=0.9,
      reads=("http.faults", "gateway.kind", "gateway.models", "gateway_config.models",
             "gateway_config.path", "model.checks"))
def model_not_served(facts: Facts) -> list[Finding]:
    """## What it checks
    A model id the client will send for its main model (what `ANTHROPIC_MODEL`, `--model`,
    the settings `model` or the version's default selects) is refused by the gateway
    (`Invalid model name passed in model=…`, 404 `model: …`) or missing from `/v1/models`.
    An alias nothing selects is MDL008's, the background model MDL002's.

    ## Why it matters
    Behind a gateway the client passes any id through unchecked, so the first request
    fails: `API Error: 400 … Invalid model name passed in model=…`.

    ## Example
    Claude Code 2.1.332 defaults to `claude-opus-5-5`; the LiteLLM `model_list` names only
    `claude-sonnet-4-5`.

    ## Fix
    Point the client at an id the gateway serves (`ANTHROPIC_MODEL`,
    `ANTHROPIC_DEFAULT_*_MODEL`), or add a `model_list` entry named exactly as sent.

    ## Fix safety
    Review: a different model changes cost and behaviour.
    """
    if "model.checks" not in facts and "gateway.models" not in facts:
        return []
    return _findings(facts, "main")


@rule(id="MDL002", name="background-model-not-served", cause="model.alias_missing",
      severity=Severity.WARNING, needs=("model.requested",), confidence=0.9,
      reads=("http.faults", "gateway.kind", "gateway.models", "gateway_config.models",
             "gateway_config.path", "model.checks"))
def background_model_not_served(facts: Facts) -> list[Finding]:
    """## What it checks
    The haiku-class model the client uses for background work is not served by the gateway,
    although other models may be.

    ## Why it matters
    The main conversation works while titles, summaries and sub-agents on the small
    model fail with 400s (BerriAI/litellm#12061). A warning, not an error: measured on
    2.1.332, `claude -p` (with or without `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC`)
    sends only the main model and answers normally (scenario background-model-not-served),
    so the setup is degraded, not broken. A background id that is also the main model
    is MDL001's.

    ## Example
    `model_list` has `claude-opus-5-5` but not the 2.1.332 default `claude-haiku-5-5`.

    ## Fix
    Set `ANTHROPIC_DEFAULT_HAIKU_MODEL` to a served id, or serve the background id.

    ## Fix safety
    Review: background work moves to another model.
    """
    if "model.checks" not in facts and "gateway.models" not in facts:
        return []
    return _findings(facts, "background")


@rule(id="MDL008", name="unselected-alias-not-served", cause="model.alias_missing",
      severity=Severity.INFO, needs=("model.requested",), confidence=0.9,
      reads=("http.faults", "gateway.kind", "gateway.models", "gateway_config.models",
             "gateway_config.path", "model.checks"))
def unselected_alias_not_served(facts: Facts) -> list[Finding]:
    """## What it checks
    A model alias (opus, sonnet, haiku) that nothing in this configuration selects resolves to
    a model the gateway does not serve.

    ## Why it matters
    The client sends an alias's model only when someone picks it (`/model sonnet`, `--model
    sonnet`, `ANTHROPIC_MODEL=sonnet`): captured from 2.1.197 and 2.1.332, `claude -p` with no
    model set sends the main model alone (tests/capture/test_models.py). So today's setup works,
    and picking that alias would fail with `API Error: 400 … Invalid model name …`. A note
    when the alias has its default model; a warning when `ANTHROPIC_DEFAULT_*_MODEL` points it
    at the unserved id on purpose. Either way the verdict stays healthy or degraded.

    ## Example
    The gateway serves `claude-opus-5-5` and `claude-haiku-5-5`; 2.1.332's sonnet alias is
    `claude-sonnet-5-5`.

    ## Fix
    Point the alias at a served id (`ANTHROPIC_DEFAULT_SONNET_MODEL`), or serve its model.

    ## Fix safety
    Review: picking the alias then uses another model.
    """
    if "model.checks" not in facts and "gateway.models" not in facts:
        return []
    return _findings(facts, "alias")


@rule(id="MDL003", name="model-access-denied", cause="model.access_denied", severity=Severity.ERROR,
      needs=("model.checks",), confidence=0.9,
      reads=("http.faults", "gateway.base_url",))
def model_access_denied(facts: Facts) -> list[Finding]:
    """## What it checks
    The gateway knows the model but refuses it to this key (LiteLLM `key_model_access_denied`,
    Bedrock `You don't have access to the model`, Vertex `PERMISSION_DENIED`).

    ## Why it matters
    The credential is valid, so re-entering it does not help; the key's model allowlist
    (or the provider's model access) must change.

    ## Example
    A LiteLLM virtual key created with `models: ["claude-sonnet-4-5"]` used for `claude-haiku-5-5`.

    ## Fix
    Ask the gateway admin to allow the model for your key, or use an allowed model.

    ## Fix safety
    Manual: access is the admin's decision.
    """
    out = []
    for c in checks(facts):
        if c.get("status") in (401, 403) and "http.model_access_denied" in faults_of(facts, c):
            out.append(Finding(
                message=f"The gateway refuses {c['model']} to this key: "
                        f"{first_line(c.get('error_message'), 160)}",
                evidence={"model": c["model"], "status": c["status"],
                          "error_message": c.get("error_message")},
                fixes=(Fix(title="Allow the model for the key (LiteLLM admin)", safety="manual",
                           snippet=f"curl -s {facts.get('gateway.base_url')}/key/update "
                                   "-H 'Authorization: Bearer <master-key>' "
                                   "-H 'content-type: application/json' "
                                   f"-d '{{\"key\": \"<the-key>\", \"models\": "
                                   f"[\"{c['model']}\"]}}'"),)))
    return out


@rule(id="MDL004", name="model-region-unavailable", cause="model.region_unavailable",
      severity=Severity.ERROR, needs=("model.checks",), confidence=0.8,
      reads=("http.faults", "gateway_config.path",))
def model_region_unavailable(facts: Facts) -> list[Finding]:
    """## What it checks
    The model request fails because the provider region the gateway calls does not offer
    the model (`Publisher Model … not found`, "not available in this region").

    ## Why it matters
    The model exists and the key is fine; only the region is wrong, so the message looks
    like a missing model.

    ## Example
    A Vertex deployment with `vertex_location: us-central1` for a model offered only on `global`.

    ## Fix
    Use a region (or `global`) where the model is offered, in the gateway's deployment.

    ## Fix safety
    Review: data residency may depend on the region.
    """
    out = []
    for c in checks(facts):
        if (c.get("status") or 0) >= 400 and "http.model_region_unavailable" in faults_of(facts, c):
            out.append(Finding(
                message=f"{c['model']} is not offered in the region the gateway calls: "
                        f"{first_line(c.get('error_message'), 160)}",
                evidence={"model": c["model"], "status": c["status"],
                          "error_message": c.get("error_message")},
                fixes=(Fix(title="Call the model in a region that offers it", lang="yaml",
                           safety="review",
                           target=str(facts.get("gateway_config.path") or "litellm config.yaml"),
                           snippet=f"  - model_name: {c['model']}\n    litellm_params:\n"
                                   "      vertex_location: global"
                                   "   # or a region listed for the model"),)))
    return out


@rule(id="MDL005", name="legacy-model-remapped", cause="model.remapped", severity=Severity.INFO,
      needs=("model.requested",), confidence=0.95,
      reads=("gateway.models",))
def legacy_model_remapped(facts: Facts) -> list[Finding]:
    """## What it checks
    The client rewrites a configured legacy model id before sending it
    (2.1.332: `claude-opus-4-1` is sent as `claude-opus-5-5`).

    ## Why it matters
    The gateway must serve the id that is *sent*; a `model_list` entry named after the
    configured id never matches.

    ## Example
    `ANTHROPIC_MODEL=claude-opus-4-1` with a LiteLLM entry `model_name: claude-opus-4-1`.

    ## Fix
    Serve the sent id, or keep the legacy id with `CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP=1`.

    ## Fix safety
    Safe: it only stops the rewrite.
    """
    ids = served_ids(facts)
    out = []
    for e in facts["model.requested"] or []:
        if not isinstance(e, dict) or not e.get("remapped"):
            continue
        legacy_served = (bool(ids) and serves(ids or [], e["configured"])
                         and not serves(ids or [], e["sent"]))
        out.append(Finding(
            message=f"The client sends {e['sent']} for the configured {e['configured']} "
                    f"({e.get('role')})"
                    + ("; the gateway serves only the configured id" if legacy_served else ""),
            evidence={"role": e.get("role"), "configured": e["configured"], "sent": e["sent"]},
            fixes=(Fix(title="Keep the configured id as is", safety="safe",
                       snippet="export CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP=1"),),
            severity=Severity.WARNING if legacy_served else None))
    return out


@rule(id="MDL006", name="model-output-limit-too-small", cause="model.output_limit",
      severity=Severity.WARNING, needs=("gateway.models", "model.requested"), confidence=0.75,
      reads=("config.env",))
def model_output_limit_too_small(facts: Facts) -> list[Finding]:
    """## What it checks
    `/v1/models` reports an output limit for a requested model below the `max_tokens` the
    client asks for (32000 for ids it does not recognise, or `CLAUDE_CODE_MAX_OUTPUT_TOKENS`).

    ## Why it matters
    The provider rejects or truncates requests asking for more output than the model allows.

    ## Example
    A DeepSeek R1 alias (8192 output tokens) behind LiteLLM.

    ## Fix
    Set `CLAUDE_CODE_MAX_OUTPUT_TOKENS` at or below the model's limit.

    ## Fix safety
    Safe: answers get shorter, never rejected.
    """
    limits = (facts["gateway.models"] or {}).get("output_limits") or {}
    env = (facts.get("config.env") or {}).get("CLAUDE_CODE_MAX_OUTPUT_TOKENS") or {}
    try:
        wanted = (int(str(env.get("value")).replace("_", "")) if isinstance(env.get("value"), str)
                  else DEFAULT_MAX_OUTPUT)
    except ValueError:
        wanted = DEFAULT_MAX_OUTPUT
    out = []
    for model in sorted(requested_models(facts)):
        limit = limits.get(model)
        if isinstance(limit, int) and limit < wanted:
            out.append(Finding(
                message=f"{model} allows {limit} output tokens; the client asks for up to {wanted}",
                evidence={"model": model, "output_limit": limit, "client_max_tokens": wanted},
                fixes=(Fix(title="Ask for no more than the model allows", safety="safe",
                           snippet=f'export CLAUDE_CODE_MAX_OUTPUT_TOKENS="{limit}"'),)))
    return out


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [model_not_served, background_model_not_served, unselected_alias_not_served,
            model_access_denied, model_region_unavailable, legacy_model_remapped,
            model_output_limit_too_small]
