"""LiteLLM config rules (CFG002-004, CFG009-011, CFG017): a gateway config.yaml that LiteLLM reads
other than its author meant. Pure functions of gateway_config.* facts."""

from __future__ import annotations

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule


@rule(id="CFG002", name="gateway-config-invalid", cause="config.gateway_config_invalid",
      severity=Severity.ERROR, needs=("gateway_config.error", "gateway_config.path"),
      confidence=0.95)
def gateway_config_invalid(facts: Facts) -> Finding | None:
    """## What it checks
    The LiteLLM config given with `--gateway-config` cannot be read: a YAML syntax
    error, a tag LiteLLM's safe loader refuses (`!!python/object`), a top level that
    is not a mapping, or a `model_list` entry without `model_name`/`litellm_params.model`.

    ## Why it matters
    LiteLLM refuses to start (or drops the model), so the gateway is down or serves
    fewer models than you think.

    ## Example
    A tab used for indentation under `model_list:` on line 7.

    ## Fix
    Correct the file at the reported line and column.

    ## Fix safety
    Safe: the file does not load today.
    """
    err = facts["gateway_config.error"]
    if not err:
        return None
    path = facts["gateway_config.path"]
    at = f" (line {err['line']}, column {err.get('column') or 1})" if err.get("line") else ""
    return Finding(
        message=f"{path}: {err['message']}{at}",
        evidence={"path": path, **err},
        fixes=(Fix(title=f"Check {path} with a safe YAML parser", safety="safe",
                   snippet="python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "
                           f"'{path}'"),),
    )


@rule(id="CFG003", name="master-key-misplaced", cause="config.gateway_config_invalid",
      severity=Severity.ERROR, needs=("gateway_config.master_key", "gateway_config.path"),
      confidence=0.95)
def master_key_misplaced(facts: Facts) -> Finding | None:
    """## What it checks
    `master_key` written under `litellm_settings` instead of `general_settings`.

    ## Why it matters
    LiteLLM reads the master key only from `general_settings.master_key` (falling back
    to `LITELLM_MASTER_KEY`). Under `litellm_settings` it is ignored: the proxy either
    refuses to start ("no master key is set") or expects another key, and the client's
    token is rejected. Two LiteLLM tutorials show the wrong placement.

    ## Example
    ```yaml
    litellm_settings:
      master_key: os.environ/LITELLM_MASTER_KEY
    ```

    ## Fix
    Move the line under `general_settings`.

    ## Fix safety
    Safe: it makes the proxy use the key the file already names.
    """
    mk = facts["gateway_config.master_key"]
    if not mk or mk.get("placement") != "litellm_settings":
        return None
    path = facts["gateway_config.path"]
    value = f"os.environ/{mk['env_ref']}" if mk.get("env_ref") else "os.environ/LITELLM_MASTER_KEY"
    effective = ("LITELLM_MASTER_KEY from the environment is used instead" if mk.get("env_fallback")
                 else "the proxy has no master key")
    return Finding(
        message=(f"{path} line {mk.get('line')}: master_key is under litellm_settings, where "
                 f"LiteLLM ignores it; {effective}"),
        evidence={"path": path, **mk},
        fixes=(Fix(title="Move master_key under general_settings", lang="yaml", safety="safe",
                   target=path,
                   snippet=(f"general_settings:\n  master_key: {value}"
                            f"   # moved from litellm_settings (line {mk.get('line')})")),),
    )


@rule(id="CFG004", name="gateway-env-reference-unset", cause="config.env_reference_unset",
      severity=Severity.ERROR, needs=("gateway_config.env_refs", "gateway_config.path"),
      confidence=0.7)
def gateway_env_reference_unset(facts: Facts) -> Finding | None:
    """## What it checks
    `os.environ/VAR` references in the LiteLLM config whose variable is not set in
    the environment gwdoctor runs in.

    ## Why it matters
    LiteLLM resolves them at load time to nothing: a missing `api_key` becomes an
    upstream 401 that the client shows as "Failed to authenticate", a missing master
    key stops the proxy from starting.

    ## Example
    `api_key: os.environ/OPENAI_API_KEY` with `OPENAI_API_KEY` exported only in
    another terminal.

    ## Fix
    Export the variables where the proxy starts (or pass them to its container).

    ## Fix safety
    Safe: it only supplies values the config already asks for.

    ## Known problems
    The proxy may run elsewhere (a container, a service) with its own environment;
    hence the moderate confidence.
    """
    unset = [r for r in facts["gateway_config.env_refs"] or []
             if not r["set"] and not r.get("shell_style")]
    if not unset:
        return None
    names = sorted({r["var"] for r in unset})
    where = ", ".join(f"{r['key_path']} (line {r['line']})" for r in unset[:5])
    return Finding(
        message=f"{facts['gateway_config.path']}: {', '.join(names)} not set, used by {where}",
        evidence={"unset": unset},
        fixes=(Fix(title="Set them where LiteLLM starts", safety="safe",
                   snippet="\n".join(f"export {n}=<value-for-{n.lower()}>" for n in names)),),
    )


@rule(id="CFG009", name="gateway-config-shell-style-reference", cause="config.env_reference_unset",
      severity=Severity.WARNING, needs=("gateway_config.env_refs", "gateway_config.path"),
      confidence=0.8)
def gateway_config_shell_style_reference(facts: Facts) -> Finding | None:
    """## What it checks
    `${VAR}` written in the LiteLLM config.

    ## Why it matters
    LiteLLM does not expand shell syntax: unless a wrapper (envsubst, docker compose)
    rewrites the file, the literal text `${VAR}` is sent as the key ("Received=${LM****KEY},
    expected to start with 'sk-'").

    ## Example
    `api_key: ${OPENAI_API_KEY}`

    ## Fix
    Use LiteLLM's own reference syntax, `os.environ/VAR`.

    ## Fix safety
    Safe when nothing pre-processes the file; review if a wrapper does.
    """
    refs = [r for r in facts["gateway_config.env_refs"] or [] if r.get("shell_style")]
    if not refs:
        return None
    lines = "\n".join(f"{r['key_path'].rsplit('.', 1)[-1]}: os.environ/{r['var']}"
                      f"   # line {r['line']}" for r in refs[:10])
    return Finding(
        message=(f"{facts['gateway_config.path']}: LiteLLM does not expand "
                 f"{', '.join(sorted({'${' + r['var'] + '}' for r in refs}))}"),
        evidence={"refs": refs},
        fixes=(Fix(title="Use os.environ/ references", lang="yaml", snippet=lines,
                   target=facts["gateway_config.path"]),),
    )


@rule(id="CFG010", name="gateway-master-key-publicly-known", cause="config.gateway_config_invalid",
      severity=Severity.WARNING, needs=("gateway_config.master_key",), confidence=0.95,
      reads=("gateway_config.path",))
def gateway_master_key_publicly_known(facts: Facts) -> Finding | None:
    """## What it checks
    The LiteLLM master key is a publicly known default (`sk-1234`, from the docs).

    ## Why it matters
    Recent LiteLLM refuses to start with it ("the master key is a publicly known
    default") unless an override is set (`dangerously_permit_weak_or_unset_master_key`
    on 1.108, `dangerously_allow_unsafe_proxy` later, or their `LITELLM_DANGEROUSLY_*`
    variables); where it does start, anyone who can reach the proxy can spend your
    provider credits.

    ## Example
    `general_settings: {master_key: sk-1234}`

    ## Fix
    Generate a random key, keep it in the environment, and hand clients virtual keys.

    ## Fix safety
    Review: every client using the old key must be given the new one.
    """
    mk = facts["gateway_config.master_key"]
    if not mk or not mk.get("publicly_known"):
        return None
    tail = ("it starts only because an unsafe-master-key override (dangerously_*) is set"
            if mk.get("allow_unsafe")
            else "recent LiteLLM refuses to start with it")
    return Finding(
        message=f"The LiteLLM master key is the publicly known sk-1234: {tail}",
        evidence=dict(mk),
        fixes=(Fix(title="Use a random master key from the environment",
                   snippet='export LITELLM_MASTER_KEY="sk-$(openssl rand -hex 32)"'),
               Fix(title="Reference it from the config", lang="yaml",
                   target=facts.get("gateway_config.path") or "config.yaml",
                   snippet="general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY")),
    )


@rule(id="CFG011", name="gateway-setting-misplaced", cause="config.gateway_config_invalid",
      severity=Severity.WARNING, needs=("gateway_config.misplaced_keys", "gateway_config.path"),
      confidence=0.85)
def gateway_setting_misplaced(facts: Facts) -> list[Finding]:
    """## What it checks
    A LiteLLM setting written in a section that does not read it (other than
    `master_key`, which CFG003 covers): `database_url` under `litellm_settings`,
    `model_group_alias` at the top level, `api_key` beside `model_name` instead of
    inside `litellm_params`.

    ## Why it matters
    LiteLLM ignores it silently: aliases do not resolve (model not found), header
    forwarding stays off, a deployment has no credentials.

    ## Example
    ```yaml
    litellm_settings:
      forward_client_headers_to_llm_api: true
    ```

    ## Fix
    Move the key under the section that reads it.

    ## Fix safety
    Review: the setting starts to take effect.
    """
    path = facts["gateway_config.path"]
    return [
        Finding(
            message=(f"{path} line {m['line']}: {m['key']} is in {m['found_in']}, but LiteLLM "
                     f"reads it from {m['belongs_in']}"),
            evidence=dict(m),
            fixes=(Fix(title=f"Move {m['key']} under {m['belongs_in']}", lang="yaml", target=path,
                       snippet=f"{m['belongs_in']}:\n  {m['key']}: ...   # moved from "
                               f"{m['found_in']} (line {m['line']})"),),
        )
        for m in facts["gateway_config.misplaced_keys"] or [] if m["key"] != "master_key"
    ]



@rule(id="CFG017", name="gateway-model-without-provider", cause="config.litellm_model_unroutable",
      severity=Severity.ERROR, needs=("gateway_config.models", "gateway_config.path"),
      confidence=0.9)
def gateway_model_without_provider(facts: Facts) -> list[Finding]:
    """## What it checks
    A `model_list` entry whose `litellm_params.model` gives LiteLLM no provider: no
    `provider/` prefix it knows (`gpt-4o-deployment`, or `gpt4/deployment`), no
    `custom_llm_provider`, an `api_base` that is not one of its OpenAI-compatible
    endpoints, and not a model name LiteLLM maps by itself (`gpt-4o`, `claude-sonnet-4-5`
    and the other names of its model list, `knowledge/litellm_routing.yaml`).

    ## Why it matters
    LiteLLM logs `LLM Provider NOT provided. Pass in the LLM provider you are trying to
    call. You passed model=gpt-4o-deployment` at startup, drops the deployment and keeps
    running: `/v1/models` no longer lists it and every request for its `model_name` gets
    `400 litellm.BadRequestError: You passed in model=… There are no healthy deployments
    for this model`, although no provider was ever called (BerriAI/litellm#11755).

    ## Example
    ```yaml
    model_list:
      - model_name: claude-opus-5-5
        litellm_params:
          model: gpt-4o-deployment        # an Azure deployment name, without azure/
          api_base: https://corp-gpt.openai.azure.com
    ```

    ## Fix
    Prefix the model with its provider (`azure/gpt-4o-deployment` for an Azure
    deployment, `openai/…` for an OpenAI-compatible server, `anthropic/…`, `bedrock/…`,
    `vertex_ai/…`), or set `custom_llm_provider`, and restart LiteLLM.

    ## Fix safety
    Review: the prefix decides which provider API and credential LiteLLM uses; pick the
    provider the deployment really lives on.

    ## Known problems
    The names LiteLLM maps by itself are those of 1.108.7; a newer LiteLLM may know a
    model released since, and route an entry this rule reports.
    """
    path = facts["gateway_config.path"]
    # One finding per model string: the same deployment name often serves several model names.
    groups: dict[str, list[dict]] = {}
    for entry in facts["gateway_config.models"] or []:
        if isinstance(entry, dict) and isinstance(entry.get("model"), str) \
                and "provider_via" in entry and entry["provider_via"] is None:
            groups.setdefault(entry["model"], []).append(entry)
    out = []
    for model, entries in groups.items():
        served = sorted({str(e.get("model_name")) for e in entries})
        names = ", ".join(served)
        lines = ", ".join(str(e["line"]) for e in entries if e.get("line"))
        prefix = next((e["provider"] for e in entries if e.get("provider")), None)
        why = (f"its prefix {prefix}/ is not a LiteLLM provider" if prefix
               else "it has no provider/ prefix and is not a model name LiteLLM knows")
        hint = next((e["provider_hint"] for e in entries if e.get("provider_hint")), None)
        bare = model.split("/", 1)[1] if prefix else model
        fixed = f"{hint}/{bare}" if hint else f"<provider>/{bare}"
        out.append(Finding(
            message=(f"{path}{' line ' + lines if lines else ''}: model {model} (serving "
                     f"{names}) names no provider LiteLLM can infer ({why}): LiteLLM drops the "
                     f"entry at startup (\"LLM Provider NOT provided\"), so {names} has no "
                     "deployment"),
            evidence={"path": path, "model": model, "model_names": served,
                      "lines": [e.get("line") for e in entries], "unknown_prefix": prefix,
                      "provider_hint": hint},
            fixes=(Fix(title=f"Name the provider of {model}"
                             + (f" ({hint}, from its api_base)" if hint else ""),
                       lang="yaml", safety="review", target=path,
                       snippet=f"litellm_params:\n  model: {fixed}   # was {model} (line "
                               f"{lines or '?'})"),
                   Fix(title="Check LiteLLM's startup log for the dropped entries", safety="safe",
                       snippet="grep -E 'LLM Provider NOT provided|Error creating deployment' "
                               "<litellm-log>")),
        ))
    return out


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [gateway_config_invalid, master_key_misplaced, gateway_env_reference_unset,
            gateway_config_shell_style_reference, gateway_master_key_publicly_known,
            gateway_setting_misplaced, gateway_model_without_provider]
