"""`generate bedrock|vertex --base-url URL`: Claude Code in Bedrock/Vertex mode through a
LiteLLM pass-through (client settings + the LiteLLM config). Pure.

The shapes are the ones the lab runs end to end (tests/scenarios/_parts.py `gw:litellm_provider`,
tests/provider/test_generate_gateway.py): the client posts to ``{base}/bedrock/model/<id>/…`` or
``{base}/vertex_ai/v1/projects/…``, sends no cloud credential (``CLAUDE_CODE_SKIP_*_AUTH``) but the
LiteLLM key in ``x-litellm-api-key``, and LiteLLM signs for the cloud with its own credentials.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from ._client import aws_region, model_pins, vertex_region
from ._data import bedrock_prefix_for_region, claude_models
from ._litellm import base_url
from ._render import Setup, Var

__all__ = ["GATEWAY_VARIANTS", "bedrock_gateway", "vertex_gateway"]

_KEY_HEADER = Var("ANTHROPIC_CUSTOM_HEADERS", "x-litellm-api-key: Bearer <your-litellm-key>",
                  "the LiteLLM key: the client sends no credential of its own in this mode "
                  "(a virtual key, or the master key)", placeholder=True)
_MASTER = Var("LITELLM_MASTER_KEY", "<a-long-random-sk-key>",
              "the proxy's admin key (starts with sk-)", placeholder=True)


def _root(opts: dict[str, Any], suffix: str) -> str:
    # A base URL given with the pass-through suffix already is the same gateway.
    return base_url(re.sub(rf"{re.escape(suffix)}/?$", "", str(opts["base_url"]).rstrip("/")))


def bedrock_gateway(opts: dict[str, Any]) -> Setup:
    region = aws_region(opts)
    prefix = opts.get("bedrock_prefix") or bedrock_prefix_for_region(region)
    root = _root(opts, "/bedrock")
    ids = {cm.role: f"{prefix}.{cm.bedrock_id}" for cm in claude_models()}
    env = [Var("CLAUDE_CODE_USE_BEDROCK", "1",
               "speak the Bedrock InvokeModel API (to the gateway)"),
           Var("ANTHROPIC_BEDROCK_BASE_URL", f"{root}/bedrock",
               "LiteLLM's Bedrock pass-through route"),
           Var("CLAUDE_CODE_SKIP_BEDROCK_AUTH", "1",
               "LiteLLM signs for AWS; the client sends no AWS credential"),
           Var("AWS_REGION", region, "picks the inference-profile prefix of the default ids"),
           _KEY_HEADER]
    env += model_pins(ids,
                 f"`{prefix}.` inference profile, served by a model_list entry of the same name")
    config = {
        "model_list": [{"model_name": i, "litellm_params": {
            "model": f"bedrock/{i}", "aws_region_name": region,
            "aws_access_key_id": "os.environ/AWS_ACCESS_KEY_ID",
            "aws_secret_access_key": "os.environ/AWS_SECRET_ACCESS_KEY"}}
            for i in dict.fromkeys(ids.values())],
        "litellm_settings": {"num_retries": 1},
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
    }
    return Setup(
        kind="bedrock", title="Claude Code in Bedrock mode through LiteLLM's /bedrock pass-through",
        summary=(f"The client speaks Bedrock to {root}/bedrock; LiteLLM signs with its AWS keys "
                 f"for {region}."),
        client_env=env,
        gateway_env=[Var("AWS_ACCESS_KEY_ID", "<aws-access-key-id>",
                         "the gateway's AWS credentials", placeholder=True),
                     Var("AWS_SECRET_ACCESS_KEY", "<aws-secret-access-key>",
                         "the gateway's AWS credentials", placeholder=True), _MASTER],
        config=config,
        config_comments={i: "the id the client sends in the path "
                            "(/model/<id>/invoke-with-response-stream)" for i in ids.values()},
        steps=["On the gateway host: set the variables of env.sh's gateway part, then "
               "`litellm --config config.yaml --port 4000`.",
               "Enable the Claude models for the gateway's AWS account (Bedrock model access).",
               "Put your LiteLLM key into ANTHROPIC_CUSTOM_HEADERS and merge settings.json's "
               "`env`.",
               "Check: gwdoctor scan (it sends one max_tokens: 1 request per model through the "
               "pass-through)."],
        notes=["LiteLLM's pass-through serves only the ids in its model_list (a missing one "
               "answers 400 \"Invalid model name\"); keep the client's pins and the model_list in "
               "step.",
               "The base URL ends in /bedrock, not /v1: the client appends /model/<id>/…",
               "Without a database LiteLLM accepts only the master key (a virtual key answers 400 "
               "\"No connected db\")."])


def vertex_gateway(opts: dict[str, Any]) -> Setup:
    region = vertex_region(opts, "us-east5")
    project = opts.get("project")
    root = _root(opts, "/vertex_ai/v1")
    env = [Var("CLAUDE_CODE_USE_VERTEX", "1", "speak Vertex rawPredict (to the gateway)"),
           Var("ANTHROPIC_VERTEX_BASE_URL", f"{root}/vertex_ai/v1",
               "LiteLLM's Vertex pass-through route, with /v1"),
           Var("CLAUDE_CODE_SKIP_VERTEX_AUTH", "1",
               "LiteLLM authenticates to Google; the client sends no token"),
           Var("ANTHROPIC_VERTEX_PROJECT_ID", project or "<your-gcp-project-id>",
               "the project in the path: with CLAUDE_CODE_SKIP_VERTEX_AUTH the only variable the "
               "client reads for it", placeholder=not project),
           Var("CLOUD_ML_REGION", region, "the location in the path"),
           _KEY_HEADER]
    for cm in claude_models():
        if region not in cm.vertex_regions:
            env.append(Var(cm.vertex_region_var, cm.vertex_regions[0],
                           f"{cm.vertex_id} is not known to be offered in {region}"))
    env += model_pins({cm.role: cm.vertex_id for cm in claude_models()},
                 "Vertex id, '@' before the date")
    config = {
        # LiteLLM's Vertex pass-through uses this credential for every project/location in the path.
        "default_vertex_config": {"vertex_project": "os.environ/VERTEXAI_PROJECT",
                                  "vertex_location": region,
                                  "vertex_credentials": "os.environ/VERTEXAI_CREDENTIALS"},
        "litellm_settings": {"num_retries": 1},
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
    }
    return Setup(
        kind="vertex", title="Claude Code in Vertex mode through LiteLLM's /vertex_ai pass-through",
        summary=(f"The client speaks Vertex rawPredict to {root}/vertex_ai/v1; LiteLLM holds the "
                 "Google credential."),
        client_env=env,
        gateway_env=[Var("VERTEXAI_PROJECT", project or "<your-gcp-project-id>",
                         "the gateway's GCP project", placeholder=not project),
                     Var("VERTEXAI_CREDENTIALS", "/path/to/service-account.json",
                         "the gateway's service-account key (needs google-auth installed with "
                         "LiteLLM)", placeholder=True), _MASTER],
        config=config,
        steps=["On the gateway host: set the gateway variables, then "
               "`litellm --config config.yaml --port 4000`.",
               "Enable the Claude models in Model Garden for the project; grant the service "
               "account roles/aiplatform.user.",
               "Put your LiteLLM key into ANTHROPIC_CUSTOM_HEADERS and merge settings.json's "
               "`env`."],
        notes=["The base URL ends in /vertex_ai/v1: the client appends "
               "/projects/<p>/locations/<r>/…",
               "ANTHROPIC_VERTEX_PROJECT_ID must be set even here: GOOGLE_CLOUD_PROJECT is not "
               "read (measured on 2.1.332)."])


GATEWAY_VARIANTS: dict[str, Callable[[dict[str, Any]], Setup]] = {"bedrock": bedrock_gateway,
                                                                  "vertex": vertex_gateway}
