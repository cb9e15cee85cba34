"""Provider-model rules: model ids and regions in Bedrock and Vertex mode, as configured (PRV003,
PRV006, PRV008) and as the provider route answered them (PRV011-PRV013). Pure functions of facts."""

from __future__ import annotations

from typing import Any, Iterator

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._netfix import shq
from ._provider_checks import NAMES, NEEDS, model_var, per_model, said

ROLE_VARS = {"main": "ANTHROPIC_MODEL", "opus": "ANTHROPIC_DEFAULT_OPUS_MODEL",
             "sonnet": "ANTHROPIC_DEFAULT_SONNET_MODEL", "haiku": "ANTHROPIC_DEFAULT_HAIKU_MODEL"}


def _ids(facts: Facts) -> Iterator[dict[str, Any]]:
    """The configured (not built-in) models, read the provider's way by the provider.ids probe."""
    for entry in facts.get("provider.model_ids") or []:
        if isinstance(entry, dict) and entry.get("role") in ROLE_VARS and entry.get("sent"):
            yield entry


@rule(id="PRV003", name="vertex-model-id-format", cause="provider.vertex_model_id",
      severity=Severity.ERROR, needs=("provider.model_ids", "provider.mode"), confidence=0.9)
def vertex_model_id_format(facts: Facts) -> list[Finding]:
    """## What it checks
    In Vertex mode, a configured model id spelled the Anthropic-API way
    (`claude-sonnet-4-5-20250929`) or the Bedrock way (`us.anthropic.claude-...-v1:0`)
    instead of Vertex's (`claude-sonnet-4-5@20250929`).

    ## Why it matters
    Vertex answers 404 "Publisher Model ... not found" for every request.

    ## Example
    `CLAUDE_CODE_USE_VERTEX=1`, `ANTHROPIC_MODEL=claude-3-7-sonnet-20250219`.

    ## Fix
    Use the '@' form of the id.

    ## Fix safety
    Safe: the same model, spelled as Vertex names it.

    ## References
    anthropics/claude-code#165
    """
    if facts["provider.mode"] != "vertex":
        return []
    out = []
    for entry in _ids(facts):
        fixed = entry.get("vertex_spelling")
        if not fixed:
            continue
        var = ROLE_VARS[entry["role"]]
        out.append(Finding(
            message=(f"{entry['role']} model {entry['sent']!r} is not a Vertex model id; "
                     f"Vertex spells it {fixed!r}"),
            evidence=dict(entry),
            fixes=(Fix(title=f"Use the Vertex id for the {entry['role']} model", safety="safe",
                       snippet=f"export {var}='{fixed}'"),),
        ))
    return out


@rule(id="PRV006", name="bedrock-model-id-needs-profile", cause="provider.bedrock_model_id",
      severity=Severity.ERROR, needs=("provider.model_ids", "provider.mode", "provider.bedrock"),
      confidence=0.85)
def bedrock_model_id_needs_profile(facts: Facts) -> list[Finding]:
    """## What it checks
    In Bedrock mode, a configured model that is a bare foundation-model id
    (`anthropic.claude-sonnet-4-5-20250929-v1:0`) or an Anthropic-API name
    (`claude-sonnet-4-5`), or an inference profile whose geography does not match the
    region (`eu.` profile called in `us-east-1`).

    ## Why it matters
    Current Claude models are served on Bedrock only through inference profiles:
    "on-demand throughput isn't supported" (400), or an SCP denying
    `foundation-model/*` (403) that the client retries for minutes.

    ## Example
    `AWS_REGION=eu-west-1`, `ANTHROPIC_MODEL=anthropic.claude-sonnet-4-5-20250929-v1:0`.

    ## Fix
    Use the inference-profile id for your region's prefix.

    ## Fix safety
    Review: the profile routes across the geography's regions (data residency).

    ## References
    anthropics/claude-code#27241
    """
    bedrock = facts["provider.bedrock"]
    if facts["provider.mode"] != "bedrock" or not bedrock:
        return []
    region = bedrock.get("region")
    via_gateway = bool(bedrock.get("base_url"))
    out = []
    for entry in _ids(facts):
        model, var = entry["sent"], ROLE_VARS[entry["role"]]
        prefix = entry.get("bedrock_prefix") or "global"
        fixed = entry.get("bedrock_profile")
        geo = entry.get("bedrock_geo")
        if fixed is None and geo and entry.get("bedrock_geo_known") \
                and geo not in (prefix, "global") and not model.startswith("arn:"):
            fixed = f"{prefix}.{model.split('.', 1)[1]}"
            why = f"its {geo}. profile does not serve region {region}"
        else:
            why = "Bedrock needs an inference-profile id"
        if not fixed:
            continue
        out.append(Finding(
            message=f"{entry['role']} model {model!r}: {why}; use {fixed!r}",
            evidence={**entry, "region": region, "prefix": prefix},
            confidence=0.6 if via_gateway else None,
            fixes=(Fix(title=f"Use the {prefix}. inference profile",
                       snippet=f"export {var}='{fixed}'"),),
        ))
    return out


@rule(id="PRV008", name="vertex-model-outside-its-regions", cause="model.region_unavailable",
      severity=Severity.WARNING, needs=("provider.gateway_vertex_locations",), confidence=0.8,
      reads=("gateway_config.path",))
def vertex_model_outside_its_regions(facts: Facts) -> list[Finding]:
    """## What it checks
    A LiteLLM `vertex_ai/...` deployment whose `vertex_location` is not a region where
    that model is offered (knowledge/providers.yaml), or not a GCP location at all.

    ## Why it matters
    Vertex answers 404/400 "model not found in location" for each request: the
    client shows a 500 from the gateway naming the upstream.

    ## Example
    `model: vertex_ai/qwen/qwen3-235b-a22b-instruct-2507-maas` with `vertex_location: us-central1`.

    ## Fix
    Set `vertex_location` to a region where the model is served.

    ## Fix safety
    Review: a region change can move data and change quotas.
    """
    out = []
    # provider.ids read each vertex_ai/ deployment's location against knowledge/providers.yaml.
    for known in facts["provider.gateway_vertex_locations"] or []:
        loc, valid, key = known["location"], known["valid"], known["key"]
        if valid and (loc in known["regions"] or not known.get("regions_exhaustive", True)):
            continue
        m = {k: known.get(k) for k in ("model_name", "model", "line")}
        best = known["regions"][0]
        confidence = 0.9 if not valid else (0.8 if known["regions_confirmed"] else 0.5)
        out.append(Finding(
            message=(f"{m['model_name']} ({known['name']}) uses {key}: {loc}, "
                     f"{'not a GCP location' if not valid else 'where it is not offered'}; "
                     f"known regions: {', '.join(known['regions'][:6])}"),
            evidence={"model": m, "regions": known["regions"],
                      "regions_confirmed": known["regions_confirmed"]},
            confidence=confidence,
            fixes=(Fix(title=f"Serve {m['model_name']} from {best}", lang="yaml",
                       target=facts.get("gateway_config.path") or "config.yaml",
                       snippet=(f"- model_name: {m['model_name']}\n  litellm_params:\n"
                                f"    model: {m['model']}\n    {key}: {best}   "
                                f"# line {m.get('line')}")),),
        ))
    return out


@rule(id="PRV011", name="provider-model-not-offered", cause="model.not_found",
      severity=Severity.ERROR, needs=NEEDS, confidence=0.85)
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
    return per_model(
        "model_not_offered", facts,
        lambda c, r: f"The {NAMES.get(r.get('mode'), 'provider')} route does not offer "
                     f"{c['model']} ({', '.join(c.get('roles') or [])}): {said(c)}",
        lambda c, r: [Fix(title="Pin the model to an id the route offers", safety="review",
                          snippet=f"export {model_var(c)}=<an id the gateway offers>")])


@rule(id="PRV012", name="bedrock-on-demand-needs-profile", cause="provider.bedrock_model_id",
      severity=Severity.ERROR, needs=NEEDS, confidence=0.9)
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
        return [Fix(title="Use the inference profile", safety="safe", snippet=(
            f"export {model_var(c)}="
            f"{shq(geo + '.' + model if model.startswith('anthropic.') else model)}"))]

    return per_model("needs_profile", facts,
                      lambda c, r: f"Bedrock refuses {c['model']} on demand: {said(c)}", fix)


@rule(id="PRV013", name="vertex-model-not-in-region", cause="model.region_unavailable",
      severity=Severity.ERROR, needs=NEEDS, confidence=0.8)
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
                    snippet=f"export {var}=global   "
                            "# or us-east5; see Model Garden for the model's locations")]

    return per_model("model_not_in_region", facts,
                      lambda c, r: f"Vertex has no {c['model']} in {c.get('region')} "
                                   f"for this project: {said(c)}",
                      fix)


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [vertex_model_id_format, bedrock_model_id_needs_profile,
            vertex_model_outside_its_regions, provider_model_not_offered,
            bedrock_on_demand_needs_profile, vertex_model_not_in_region]
