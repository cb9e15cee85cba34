"""LiteLLM setups: `litellm-vertex` (the eight Vertex AI models) and `litellm-multi` (Anthropic +
Bedrock + Vertex with fallbacks). Pure."""

from __future__ import annotations

import re
from typing import Any

from ._data import (
    SetupError,
    assumed_client_version,
    bedrock_prefix_for_region,
    claude_defaults,
    claude_models,
    litellm_string,
    output_budget,
    served_names,
    vertex_catalogue,
    vertex_region_for,
)
from ._render import Setup, Var

__all__ = ["base_url", "litellm_multi", "litellm_vertex"]

MASTER_KEY_REF = "os.environ/LITELLM_MASTER_KEY"
TOKEN_PLACEHOLDER = "<your-litellm-virtual-key-or-master-key>"


def _vertex_id(model: str) -> str:
    # Vertex spells dated ids with '@': claude-sonnet-4-5-20250929 -> claude-sonnet-4-5@20250929.
    return re.sub(r"^(claude-[a-z0-9-]+?)-(\d{8})$", r"\1@\2", model)


def base_url(value: str) -> str:
    url = value.rstrip("/")
    if url.endswith("/v1"):
        raise SetupError(f"--base-url {value}: drop the trailing /v1 "
                         "(the client appends /v1/messages)")
    if not re.match(r"^https?://[^/\s]+", url):
        raise SetupError(f"--base-url {value}: give a URL such as http://litellm.internal:4000")
    return url


def _gateway_common(opts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    litellm_settings: dict[str, Any] = {
        # Claude Code sends Anthropic-only parameters (thinking, metadata, top_k...); drop what
        # a non-Anthropic model does not take instead of failing with UnsupportedParamsError.
        "drop_params": True,
        # The client waits up to API_TIMEOUT_MS (600 s) per request.
        "request_timeout": 600,
    }
    # LiteLLM reads the master key only here (not under litellm_settings).
    general_settings: dict[str, Any] = {"master_key": MASTER_KEY_REF}
    return litellm_settings, general_settings


def _client_env(url: str, main: str, opus: str, sonnet: str, haiku: str,
                limits: list[int]) -> list[Var]:
    env = [
        Var("ANTHROPIC_BASE_URL", url,
            "the gateway root, without /v1: the client appends /v1/messages itself"),
        Var("ANTHROPIC_AUTH_TOKEN", TOKEN_PLACEHOLDER,
            "sent as Authorization: Bearer, which LiteLLM reads first; an sk- key this proxy knows",
            placeholder=True),
        Var("ANTHROPIC_MODEL", main, "the main model: a model_name the gateway serves"),
        Var("ANTHROPIC_DEFAULT_OPUS_MODEL", opus, "what the `opus` alias resolves to"),
        Var("ANTHROPIC_DEFAULT_SONNET_MODEL", sonnet, "what the `sonnet` alias resolves to"),
        Var("ANTHROPIC_DEFAULT_HAIKU_MODEL", haiku,
            "the `haiku` alias, also used for background work: must be served too"),
    ]
    budget = output_budget(limits)
    if budget is not None:
        env.append(Var("CLAUDE_CODE_MAX_OUTPUT_TOKENS", str(budget),
                       f"below the smallest output limit of the models above ({min(limits)}); "
                       "the client asks for 32000 for ids it does not know"))
    return env


def litellm_vertex(opts: dict[str, Any]) -> Setup:
    """The eight Vertex AI models, each in a region it is offered in, plus the client's defaults."""
    wanted_region = opts.get("region") or "global"
    catalogue = vertex_catalogue()
    by_name = {served_names()[m["model_id"]]: m for m in catalogue}
    main, small = (opts.get("main_model") or "gemini-2.5-pro",
                   opts.get("small_model") or "gemini-2.5-flash")
    for flag, name in (("--main-model", main), ("--small-model", small)):
        if name not in by_name:
            raise SetupError(f"{flag} {name}: choose one of {', '.join(by_name)}")
    model_list: list[dict[str, Any]] = []
    comments: dict[str, str] = {}
    rows: list[tuple[str, str, str]] = []
    params_of: dict[str, dict[str, Any]] = {}
    for m in catalogue:
        name = served_names()[m["model_id"]]
        region = vertex_region_for(m, wanted_region)
        params = {"model": litellm_string(m), "vertex_project": "os.environ/VERTEXAI_PROJECT",
                  "vertex_location": region}
        params_of[name] = params
        model_list.append({"model_name": name, "litellm_params": params})
        where = "regional model" if region != wanted_region else "offered there"
        comments[name] = (f"{m['name']}: {region} ({where}; known regions: "
                          f"{', '.join(m['regions'][:4])}"
                          f"{', ...' if len(m['regions']) > 4 else ''}); "
                          f"max output {m['max_output_tokens']}")
        rows.append((f"{name} → vertex_location", region,
                     f"{m['name']}; known regions {', '.join(m['regions'][:6])}. "
                     f"Source: {m['source']}"))
    version = opts.get("client_version") or assumed_client_version()
    defaults = claude_defaults(version)
    alias_target = {"opus": main, "sonnet": main, "haiku": small}
    served_aliases: dict[str, str] = {}
    for role in ("opus", "sonnet", "haiku"):
        alias = defaults.get(role)
        if not alias or alias in params_of or alias in served_aliases:
            continue
        if opts.get("claude_on_vertex"):
            region = opts.get("claude_region") or "us-east5"
            params = {"model": f"vertex_ai/{_vertex_id(alias)}",
                      "vertex_project": "os.environ/VERTEXAI_PROJECT", "vertex_location": region}
            comments[alias] = (f"the client's default {role} id, served by Claude on Vertex "
                               f"({region})")
        else:
            params = dict(params_of[alias_target[role]])
            comments[alias] = (f"the client's default {role} id (Claude Code {version}), "
                               f"routed to {alias_target[role]}")
        served_aliases[alias] = params["model"]
        model_list.append({"model_name": alias, "litellm_params": params})
    litellm_settings, general_settings = _gateway_common(opts)
    config = {"model_list": model_list, "litellm_settings": litellm_settings,
              "general_settings": general_settings}
    rows += [("litellm_settings.drop_params", "true",
              "drop parameters a Vertex model does not accept instead of failing the request"),
             ("general_settings.master_key", MASTER_KEY_REF,
              "the only place LiteLLM reads it; never under litellm_settings, never a literal")]
    base = base_url(opts.get("base_url") or "http://127.0.0.1:4000")
    limits = [by_name[n]["max_output_tokens"] for n in dict.fromkeys((main, small))]
    setup = Setup(
        kind="litellm-vertex", title="LiteLLM in front of Vertex AI, for Claude Code",
        summary=("A LiteLLM proxy serving eight Vertex AI models (Gemini 2.5 Flash and Pro, "
                 "DeepSeek R1, Llama 3.1 405B, Codestral, Qwen3 Coder 480B, Qwen3 235B, "
                 "gpt-oss-20b) on the Anthropic Messages API, and the Claude Code settings "
                 "that use it."),
        client_env=_client_env(base, main, main, main, small, limits),
        shell_env=[],
        gateway_env=[Var("VERTEXAI_PROJECT", "",
                         "your GCP project id (every vertex_project reads it)", placeholder=True),
                     Var("LITELLM_MASTER_KEY", "", "the proxy's admin key; must start with sk-")],
        config=config, config_comments=comments, config_rows=rows,
        steps=["On the gateway host: `gcloud auth application-default login` (or set "
               "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file).",
               "Enable each open model's card in Vertex AI Model Garden for the project.",
               "`. ./env.sh` then `litellm --config config.yaml --port 4000`.",
               "On each developer machine: merge settings.json's `env` into "
               "~/.claude/settings.json and put a LiteLLM key in ANTHROPIC_AUTH_TOKEN."],
        notes=["Claude Code's gateway model discovery only lists ids containing `claude` or "
               "`anthropic`, so pick these models with ANTHROPIC_MODEL, --model or /model <name>.",
               "Per-model output limits: " + ", ".join(
                   f"{served_names()[m['model_id']]} {m['max_output_tokens']}" for m in catalogue)
               + ". Switching to a model below CLAUDE_CODE_MAX_OUTPUT_TOKENS (default 32000) needs "
               "that variable lowered.",
               "Qwen models have low default quotas (20-40 requests per minute): expect 429s "
               "under parallel sub-agents.",
               "Regions marked unconfirmed in gwdoctor's knowledge use the first region the "
               "sources name; check the model card if Vertex answers 404 in that location."],
    )
    return setup


def litellm_multi(opts: dict[str, Any]) -> Setup:
    """Claude on Anthropic, Bedrock and Vertex behind one name each, with fallbacks between them."""
    aws_region = opts.get("aws_region") or "us-east-1"
    prefix = opts.get("bedrock_prefix") or bedrock_prefix_for_region(aws_region)
    vertex_region = opts.get("vertex_region") or "us-east5"
    primary = opts.get("primary") or "anthropic"
    providers = ["anthropic", "bedrock", "vertex"]
    if primary not in providers:
        raise SetupError(f"--primary {primary}: choose anthropic, bedrock or vertex")
    order = [primary] + [p for p in providers if p != primary]

    def params(provider: str, cm: Any) -> dict[str, Any]:
        if provider == "anthropic":
            return {"model": f"anthropic/{cm.api_id}", "api_key": "os.environ/ANTHROPIC_API_KEY"}
        if provider == "bedrock":
            return {"model": f"bedrock/{prefix}.{cm.bedrock_id}", "aws_region_name": aws_region}
        return {"model": f"vertex_ai/{cm.vertex_id}",
                "vertex_project": "os.environ/VERTEXAI_PROJECT", "vertex_location": vertex_region}

    model_list: list[dict[str, Any]] = []
    fallbacks: list[dict[str, list[str]]] = []
    comments: dict[str, str] = {}
    for cm in claude_models():
        names = [cm.api_id if p == primary else f"{cm.api_id}-{p}" for p in order]
        for p, name in zip(order, names):
            model_list.append({"model_name": name, "litellm_params": params(p, cm)})
            comments[name] = f"{cm.role} on {p}" + (" (primary)" if p == primary else " (fallback)")
        fallbacks.append({names[0]: names[1:]})
    defaults = claude_defaults(opts.get("client_version"))
    by_role = {cm.role: cm for cm in claude_models()}
    for role in ("opus", "sonnet", "haiku"):
        alias = defaults.get(role)
        if alias and alias not in {m["model_name"] for m in model_list}:
            model_list.append({"model_name": alias,
                               "litellm_params": params(primary, by_role[role])})
            comments[alias] = f"the client's default {role} id, served by {by_role[role].api_id}"
            fallbacks.append({alias: [f"{by_role[role].api_id}-{p}" for p in order[1:]]})
    litellm_settings, general_settings = _gateway_common(opts)
    litellm_settings["fallbacks"] = fallbacks
    config = {"model_list": model_list, "litellm_settings": litellm_settings,
              "general_settings": general_settings}
    base = base_url(opts.get("base_url") or "http://127.0.0.1:4000")
    ids = {cm.role: cm.api_id for cm in claude_models()}
    rows = [(f"bedrock/{prefix}.…", prefix,
             f"inference-profile prefix for {aws_region}: on-demand base ids fail with "
             "\"on-demand throughput isn't supported\""),
            ("vertex_ai/claude-…@date", vertex_region, "Vertex spells dated Claude ids with '@'"),
            ("litellm_settings.fallbacks", " → ".join(order),
             "a failing primary deployment retries on the next provider"),
            ("general_settings.master_key", MASTER_KEY_REF, "the only place LiteLLM reads it")]
    gateway_env = [Var("ANTHROPIC_API_KEY", "",
                       "the Anthropic API key the anthropic/ deployments use", placeholder=True),
                   Var("AWS_REGION", aws_region, "region for Bedrock credentials resolution"),
                   Var("VERTEXAI_PROJECT", "", "your GCP project id", placeholder=True),
                   Var("LITELLM_MASTER_KEY", "", "the proxy's admin key; must start with sk-")]
    return Setup(
        kind="litellm-multi", title="LiteLLM with Claude on Anthropic, Bedrock and Vertex",
        summary=("One model_name per Claude model (Opus 4.5, Sonnet 4.5, Haiku 4.5), served by "
                 f"{order[0]} first and falling back to {order[1]} then {order[2]}."),
        client_env=_client_env(base, ids["sonnet"], ids["opus"], ids["sonnet"], ids["haiku"], []),
        shell_env=[], gateway_env=gateway_env, config=config, config_comments=comments,
        config_rows=rows,
        steps=["On the gateway host: AWS credentials for Bedrock (`aws sso login`, a profile or "
               "keys), `gcloud auth application-default login` for Vertex.",
               "Enable the Claude models in the Bedrock console and in Vertex Model Garden.",
               "`. ./env.sh` then `litellm --config config.yaml --port 4000`.",
               "On each developer machine: merge settings.json's `env` into "
               "~/.claude/settings.json."],
        notes=["The newest Claude models are Messages-API-only on Bedrock (the Mantle endpoint), "
               "so the dated 4.5 models, present on all three providers, are used here.",
               "The client's own default ids are served as aliases, so an unconfigured client "
               "works too."],
    )
