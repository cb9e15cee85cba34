"""Client-only setups: `enterprise` gateways, a corporate `proxy`, direct `bedrock` and
`vertex`. Pure."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ._data import (
    SetupError,
    bedrock_prefix_for_region,
    claude_models,
    gateway_profiles,
    is_internal_host,
)
from ._litellm import base_url
from ._render import Setup, Var

__all__ = ["bedrock", "enterprise", "proxy", "vertex"]

LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _credential(var: str, gid: str, hint: str) -> Var:
    header = "Authorization: Bearer" if var == "ANTHROPIC_AUTH_TOKEN" else "x-api-key"
    value = "<your-anthropic-api-key>" if var == "ANTHROPIC_API_KEY" else f"<your-{gid}-key>"
    return Var(var, value, f"{hint}; sent as `{header}`", placeholder=True)


def enterprise(opts: dict[str, Any]) -> Setup:
    gid = opts.get("gateway") or "litellm"
    profiles = gateway_profiles()
    if gid not in profiles:
        raise SetupError(f"--gateway {gid}: choose one of {', '.join(profiles)}")
    prof = profiles[gid]
    url = base_url(opts.get("base_url") or prof.base_url)
    env = [Var("ANTHROPIC_BASE_URL", url,
               f"{prof.name} base URL, without the Anthropic /v1 (the client appends /v1/messages)"
               + ("" if prof.base_url_fixed or opts.get("base_url")
                  else "; replace the UPPERCASE parts")),
           _credential(prof.credential_var, gid, prof.credential_hint)]
    headers = list(prof.headers)
    if opts.get("auth_header"):
        headers.append((opts["auth_header"].strip().lower(), "<your-gateway-key>"))
    if headers:
        env.append(Var("ANTHROPIC_CUSTOM_HEADERS", "\n".join(f"{n}: {v}" for n, v in headers),
                       "extra headers on every request, one `Name: Value` per line "
                       "(`\\n` in JSON): " + ", ".join(n for n, _ in headers), placeholder=True))
    for role, var in (("main", "ANTHROPIC_MODEL"), ("opus", "ANTHROPIC_DEFAULT_OPUS_MODEL"),
                      ("sonnet", "ANTHROPIC_DEFAULT_SONNET_MODEL"),
                      ("haiku", "ANTHROPIC_DEFAULT_HAIKU_MODEL")):
        value = opts.get(f"{role}_model")
        if value:
            env.append(Var(var, value, f"the `{role}` model, as {prof.name} names it"))
    steps = ["Merge settings.json's `env` into ~/.claude/settings.json and replace the <...> "
             "values.",
             *(f"Run `unset {v}` in your shell profile: {prof.name} needs it unset."
               for v in prof.unset),
             "Check with `gwdoctor validate --settings ~/.claude/settings.json`, then "
             "`gwdoctor scan`."]
    notes = list(prof.notes)
    if not any(opts.get(f"{r}_model") for r in ("main", "opus", "sonnet", "haiku")):
        notes.append("Without --main-model/--haiku-model the client requests its own default ids; "
                     "the gateway must serve them (including the background haiku model).")
    notes.append(f"Source: {prof.source}.")
    return Setup(kind="enterprise", title=f"Claude Code through {prof.name}",
                 summary=f"Client settings for {prof.name} ({gid}).", client_env=env,
                 shell_unset=list(prof.unset), steps=steps, notes=notes)


def _proxy_url(raw: str, auth: bool) -> str:
    parts = urlsplit(raw if "://" in raw else f"http://{raw}")
    if parts.scheme not in ("http", "https"):
        raise SetupError(f"--proxy-url {raw}: Claude Code supports http:// proxies only (no SOCKS)")
    if not parts.hostname:
        raise SetupError(f"--proxy-url {raw}: no host")
    if parts.scheme == "https":
        raise SetupError(f"--proxy-url {raw}: corporate proxies almost always speak plain HTTP on "
                         "their port (https://proxy ends in EPROTO); use http://")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    hostport = f"{host}:{parts.port}" if parts.port else host
    if not auth and parts.username is None:
        return f"http://{hostport}"
    # Never write a real password: keep the user name (percent-encoded) and leave a placeholder.
    user = quote(unquote(parts.username or ""), safe="") or "PROXY_USER"
    return f"http://{user}:PROXY_PASSWORD@{hostport}"


def proxy(opts: dict[str, Any]) -> Setup:
    if not opts.get("proxy_url"):
        raise SetupError("--proxy-url is required (e.g. http://proxy.corp:3128)")
    if not opts.get("gateway_url"):
        raise SetupError("--gateway URL is required (the ANTHROPIC_BASE_URL the client uses)")
    gw = base_url(opts["gateway_url"])
    host = urlsplit(gw).hostname or ""
    internal = opts.get("internal")
    internal = is_internal_host(host) if internal is None else bool(internal)
    purl = _proxy_url(opts["proxy_url"], bool(opts.get("proxy_auth", True)))
    bypass = list(LOOPBACK)
    if internal and host not in bypass:
        bypass.append(host)
    no_proxy = ",".join(bypass)
    env = [Var("ANTHROPIC_BASE_URL", gw, "the gateway root, without /v1"),
           Var("ANTHROPIC_AUTH_TOKEN", "<your-gateway-key>",
               "your gateway key; sent as Authorization: Bearer", placeholder=True)]
    why_proxy = ("the proxy; credentials percent-encoded "
                 "(@ → %40, : → %3A, / → %2F, # → %23, % → %25)"
                 if "@" in purl else "the proxy (no credentials)")
    for name in ("HTTPS_PROXY", "https_proxy"):
        env.append(Var(name, purl, why_proxy + ("" if name == "HTTPS_PROXY" else
                       "; lower-case too, because it wins over HTTPS_PROXY and a stale one would")))
    why_np = ("hosts reached directly: loopback (NO_PROXY=localhost does not cover 127.0.0.1)"
              + (f", and the internal gateway {host}, which the proxy cannot reach"
                 if internal and host not in LOOPBACK else ""))
    for name in ("NO_PROXY", "no_proxy"):
        env.append(Var(name, no_proxy,
                       why_np + ("" if name == "NO_PROXY" else "; lower-case read first")))
    if opts.get("ca"):
        ca = str(opts["ca"])
        if not ca.startswith("/") and not re.match(r"^[A-Za-z]:[\\/]", ca):
            raise SetupError(f"--ca {ca}: give an absolute path (the client does not expand ~ or "
                             "resolve relative paths the way your shell does)")
        env.append(Var("NODE_EXTRA_CA_CERTS", ca,
                       "the TLS-inspection root CA (PEM), added to the bundled and system roots"))
    shell = [*env, Var("HTTP_PROXY", purl, "plain-HTTP traffic of other tools (curl, pip)"),
             Var("http_proxy", purl, "same, lower-case")]
    notes = ["Claude Code supports Basic proxy authentication only. For NTLM/Kerberos proxies "
             "run a local relay (cntlm, px) and point HTTPS_PROXY at http://127.0.0.1:<port>.",
             "Never set NODE_TLS_REJECT_UNAUTHORIZED=0: it disables certificate checks for "
             "everything.",
             "Percent-encode the user name and password: "
             "`python3 -c 'import sys, urllib.parse; "
             "print(urllib.parse.quote(sys.argv[1], safe=\"\"))' 'p@ss:word'`."]
    if not internal:
        notes.append(f"{host} is treated as reached through the proxy; pass --internal if the "
                     "proxy cannot reach it (it is then added to NO_PROXY).")
    return Setup(kind="proxy", title="Claude Code behind a corporate proxy",
                 summary=(f"Route the client to {gw} through "
                          f"{purl.replace('PROXY_PASSWORD', '***')}."),
                 client_env=env, shell_env=shell,
                 steps=["Replace PROXY_USER/PROXY_PASSWORD with your percent-encoded credentials "
                        "(or pass --no-proxy-auth).",
                        "Merge settings.json's `env` into ~/.claude/settings.json, or source "
                        "env.sh in your shell profile.",
                        "Restart Claude Code: network variables are read once at start."],
                 notes=notes)


def aws_region(opts: dict[str, Any]) -> str:
    """``--aws-region`` (us-east-1 when not given), refused unless it reads as a region name."""
    region = opts.get("aws_region") or "us-east-1"
    if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region):
        raise SetupError(f"--aws-region {region}: not an AWS region name (e.g. us-east-1)")
    return str(region)


def vertex_region(opts: dict[str, Any], default: str) -> str:
    """``--region`` (``default`` when not given), refused unless it reads as a GCP location."""
    region = opts.get("region") or default
    if not re.fullmatch(r"global|us|eu|[a-z]+-[a-z]+\d+", region):
        raise SetupError(f"--region {region}: not a GCP location (global, us, eu or e.g. us-east5)")
    return str(region)


def model_pins(ids: dict[str, str], why: str) -> list[Var]:
    """The main model and the three aliases pinned to ``ids`` (by role), each saying ``why``."""
    return [Var("ANTHROPIC_MODEL", ids["sonnet"], f"the main model ({why})"),
            Var("ANTHROPIC_DEFAULT_OPUS_MODEL", ids["opus"], f"the `opus` alias ({why})"),
            Var("ANTHROPIC_DEFAULT_SONNET_MODEL", ids["sonnet"], f"the `sonnet` alias ({why})"),
            Var("ANTHROPIC_DEFAULT_HAIKU_MODEL", ids["haiku"],
                f"the `haiku` alias and background work ({why})")]


def bedrock(opts: dict[str, Any]) -> Setup:
    region = aws_region(opts)
    prefix = opts.get("bedrock_prefix") or bedrock_prefix_for_region(region)
    ids = {cm.role: f"{prefix}.{cm.bedrock_id}" for cm in claude_models()}
    env = [Var("CLAUDE_CODE_USE_BEDROCK", "1",
               "talk to Amazon Bedrock (InvokeModel) instead of the Anthropic API"),
           Var("AWS_REGION", region, "the Bedrock region; the client reads AWS_REGION first")]
    if opts.get("aws_profile"):
        env.append(Var("AWS_PROFILE", opts["aws_profile"],
                       "the AWS profile holding the credentials"))
    env += model_pins(ids, f"inference-profile id with the `{prefix}.` prefix for {region}")
    return Setup(kind="bedrock", title="Claude Code on Amazon Bedrock",
                 summary=f"Direct Bedrock access in {region} with `{prefix}.` inference profiles.",
                 client_env=env,
                 steps=["Get credentials: `aws sso login --profile <name>` (and AWS_PROFILE), "
                        "`aws configure`, or AWS_BEARER_TOKEN_BEDROCK.",
                        "Enable the Claude models in the Bedrock console (model access).",
                        "Merge settings.json's `env` into ~/.claude/settings.json."],
                 notes=["Bare ids (anthropic.claude-...) fail with \"on-demand throughput isn't "
                        "supported\": use the inference-profile ids above.",
                        "IAM: bedrock:InvokeModel, bedrock:InvokeModelWithResponseStream, "
                        "bedrock:ListInferenceProfiles, bedrock:GetInferenceProfile."])


def vertex(opts: dict[str, Any]) -> Setup:
    region = vertex_region(opts, "global")
    project = opts.get("project")
    env = [Var("CLAUDE_CODE_USE_VERTEX", "1", "talk to Claude on Vertex AI (rawPredict)"),
           Var("CLOUD_ML_REGION", region, "the default Vertex location"),
           Var("ANTHROPIC_VERTEX_PROJECT_ID", project or "<your-gcp-project-id>",
               "the GCP project with the Claude models enabled", placeholder=not project)]
    for cm in claude_models():
        if region not in cm.vertex_regions:
            env.append(Var(cm.vertex_region_var, cm.vertex_regions[0],
                           f"{cm.vertex_id} is not known to be offered in {region}; "
                           f"use {cm.vertex_regions[0]} for it"))
    env += model_pins({cm.role: cm.vertex_id for cm in claude_models()},
                       "Vertex id, '@' before the date")
    return Setup(kind="vertex", title="Claude Code on Vertex AI",
                 summary=f"Direct Claude-on-Vertex access, default location {region}.",
                 client_env=env,
                 steps=["`gcloud auth application-default login` "
                        "(or GOOGLE_APPLICATION_CREDENTIALS).",
                        "Enable the Claude models in Model Garden; grant roles/aiplatform.user.",
                        "Merge settings.json's `env` into ~/.claude/settings.json."],
                 notes=["GCLOUD_PROJECT / GOOGLE_CLOUD_PROJECT, if set, override "
                        "ANTHROPIC_VERTEX_PROJECT_ID.",
                        "404 \"model not found\" means the model is not enabled or not offered "
                        "in that location: set its VERTEX_REGION_* variable."])
