"""Where the client sends each model's request in Bedrock and Vertex mode: host, path, region,
auth. Pure functions, no I/O.

Captured from Claude Code 2.1.332 (tests/capture/test_provider_capture.py):

* Bedrock: ``GET {base}/inference-profiles?type=SYSTEM_DEFINED`` (the AWS SDK's control-plane
  client; without a base URL it goes to ``bedrock.{region}.amazonaws.com``), then
  ``POST {base}/model/{id}/invoke-with-response-stream`` (``:`` in the id is not escaped), with
  ``/invoke`` as the non-streaming fallback. ``base`` is ``ANTHROPIC_BEDROCK_BASE_URL`` or
  ``https://bedrock-runtime.{region}.amazonaws.com`` (``bedrock-runtime-fips`` in ``us-gov-*``).
  A built-in default model goes out as ``{prefix}.anthropic.{id}``
  (``us.anthropic.claude-opus-5-5``). SigV4 ``authorization`` unless
  ``CLAUDE_CODE_SKIP_BEDROCK_AUTH`` (then no credential header).
* Vertex: ``POST
  {base}/projects/{project}/locations/{region}/publishers/anthropic/models/{id}:streamRawPredict``
  (``:rawPredict`` as the fallback), ``base`` = ``ANTHROPIC_VERTEX_BASE_URL`` (it includes
  ``/v1``) or ``https://{host}/v1`` with host ``aiplatform.googleapis.com`` (``global``),
  ``aiplatform.{us,eu}.rep.googleapis.com`` or ``{region}-aiplatform.googleapis.com``.
  The region is ``VERTEX_REGION_<MODEL>`` (first prefix match in the client's table) else
  ``CLOUD_ML_REGION`` else ``us-east5``. Google OAuth bearer unless
  ``CLAUDE_CODE_SKIP_VERTEX_AUTH``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote, urlsplit

from ._route import redact_url

__all__ = ["BEDROCK_CONTROL", "VERTEX_REGION_VARS", "from_default", "bedrock_host",
           "bedrock_model_id", "provider_route", "split_base", "vertex_host", "vertex_region_var"]

Getter = Callable[[str], "str | None"]

BEDROCK_CONTROL = "/inference-profiles?type=SYSTEM_DEFINED"

# The client's model-prefix -> region variable table, in its own order (first match wins:
# claude-sonnet-5-5 before claude-sonnet-5). Read from the 2.1.332 binary; the capture test
# checks VERTEX_REGION_CLAUDE_HAIKU_5_5 against the client.
VERTEX_REGION_VARS: tuple[tuple[str, str], ...] = (
    ("claude-3-5-sonnet", "VERTEX_REGION_CLAUDE_3_5_SONNET"),
    ("claude-3-7-sonnet", "VERTEX_REGION_CLAUDE_3_7_SONNET"),
    ("claude-sonnet-4-5", "VERTEX_REGION_CLAUDE_4_5_SONNET"),
    ("claude-sonnet-4-6", "VERTEX_REGION_CLAUDE_4_6_SONNET"),
    ("claude-sonnet-5-5", "VERTEX_REGION_CLAUDE_5_5_SONNET"),
    ("claude-3-5-haiku", "VERTEX_REGION_CLAUDE_3_5_HAIKU"),
    ("claude-fable-5-1", "VERTEX_REGION_CLAUDE_FABLE_5_1"),
    ("claude-fable-5-2", "VERTEX_REGION_CLAUDE_FABLE_5_2"),
    ("claude-haiku-4-5", "VERTEX_REGION_CLAUDE_HAIKU_4_5"),
    ("claude-haiku-5-5", "VERTEX_REGION_CLAUDE_HAIKU_5_5"),
    ("claude-opus-4-1", "VERTEX_REGION_CLAUDE_4_1_OPUS"),
    ("claude-opus-4-5", "VERTEX_REGION_CLAUDE_4_5_OPUS"),
    ("claude-opus-4-6", "VERTEX_REGION_CLAUDE_4_6_OPUS"),
    ("claude-opus-4-7", "VERTEX_REGION_CLAUDE_4_7_OPUS"),
    ("claude-opus-4-8", "VERTEX_REGION_CLAUDE_4_8_OPUS"),
    ("claude-opus-5-5", "VERTEX_REGION_CLAUDE_5_5_OPUS"),
    ("claude-sonnet-4", "VERTEX_REGION_CLAUDE_4_0_SONNET"),
    ("claude-sonnet-5", "VERTEX_REGION_CLAUDE_5_SONNET"),
    ("claude-fable-5", "VERTEX_REGION_CLAUDE_FABLE_5"),
    ("claude-opus-4", "VERTEX_REGION_CLAUDE_4_0_OPUS"),
    ("claude-opus-5", "VERTEX_REGION_CLAUDE_5_OPUS"),
)


def vertex_host(region: str) -> str:
    if region == "global":
        return "aiplatform.googleapis.com"
    if region in ("us", "eu"):
        return f"aiplatform.{region}.rep.googleapis.com"
    return f"{region}-aiplatform.googleapis.com"


def bedrock_host(region: str) -> str:
    return (f"bedrock-runtime{'-fips' if region.startswith('us-gov-') else ''}"
            f".{region}.amazonaws.com")


def vertex_region_var(model: str) -> str | None:
    for prefix, var in VERTEX_REGION_VARS:
        if model.startswith(prefix):
            return var
    return None


# What 2.1.332 sends for the built-in aliases in provider mode where it differs from the
# Anthropic-mode default (captured:
# tests/capture/test_provider_capture.py::test_provider_default_models). Bedrock ids get the
# region's inference-profile prefix in front.
_ALIASES = {"opus", "sonnet", "haiku", "default", "opusplan"}


def from_default(entry: Mapping[str, Any]) -> bool:
    """Whether a ``model.requested`` entry is a built-in default (not an id the user wrote)."""
    configured = str(entry.get("configured") or "").strip().lower().removesuffix("[1m]")
    return entry.get("source") == "default" or configured in _ALIASES


def bedrock_model_id(sent: str, default: bool, prefix: str | None) -> str:
    """What goes into the Bedrock path: a built-in default gets the inference-profile prefix
    (``claude-opus-5-5`` -> ``us.anthropic.claude-opus-5-5``); a configured id goes as it is."""
    if default:
        # model.requested already holds the provider-mode default ids (knowledge, captured).
        if sent.startswith("claude-"):
            sent = f"anthropic.{sent}"
        return f"{prefix or 'us'}.{sent}" if sent.startswith("anthropic.") else sent
    return sent


def _quote(text: str, safe: str) -> str:
    """Percent-encode a path segment; a value from the environment can hold lone surrogates
    (undecodable bytes), which str quoting refuses (the fuzz tier found 26 such crashes)."""
    return quote(text.encode("utf-8", "surrogateescape" if _escapable(text) else "replace"),
                 safe=safe)


def _escapable(text: str) -> bool:
    try:
        text.encode("utf-8", "surrogateescape")
        return True
    except UnicodeEncodeError:
        return False


def split_base(url: str) -> dict[str, Any]:
    """``scheme``, ``host``, ``port``, ``path`` (no trailing ``/``) and ``url_error`` of a base
    URL."""
    out: dict[str, Any] = {"scheme": None, "host": None, "port": None, "path": "",
                           "url_error": None}
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        out["url_error"] = f"cannot parse the URL: {exc}"
        return out
    scheme = parts.scheme.lower()
    out.update(scheme=scheme or None, host=parts.hostname,
               port=port or {"https": 443, "http": 80}.get(scheme), path=parts.path.rstrip("/"))
    if scheme not in ("http", "https"):
        out["url_error"] = (f"scheme {scheme!r} is not http or https" if scheme
                            else "no http:// or https:// scheme")
    elif not parts.hostname:
        out["url_error"] = "no host name"
    return out


def _roles(requested: Iterable[Mapping[str, Any]], mode: str) -> list[tuple[str, list[str], bool]]:
    """Distinct sent ids in the order the client uses them (main first), with their roles and
    whether they are built-in defaults (Vertex defaults already carry the provider's spelling)."""
    seen: dict[str, tuple[list[str], bool]] = {}
    for entry in requested:
        sent = str(entry.get("sent") or "")
        if not sent:
            continue
        default = from_default(entry)
        if sent not in seen:
            seen[sent] = ([], default)
        seen[sent][0].append(str(entry.get("role")))
    return [(m, roles, d) for m, (roles, d) in seen.items()]


def _bedrock(get: Getter, bedrock: Mapping[str, Any],
             requested: list[Mapping[str, Any]]) -> dict[str, Any]:
    region = str(bedrock.get("region") or "us-east-1")
    small_region = get("ANTHROPIC_SMALL_FAST_MODEL_AWS_REGION")
    small_applies = bool(small_region and (get("ANTHROPIC_DEFAULT_HAIKU_MODEL")
                                           or get("ANTHROPIC_SMALL_FAST_MODEL")))
    override = bedrock.get("base_url")
    skip = bool(bedrock.get("skip_auth"))
    kind = (bedrock.get("credentials") or {}).get("kind")
    auth = "none" if skip else "bearer" if kind == "bearer_token" else "sigv4"
    requests = []
    for model, roles, default in _roles(requested, "bedrock"):
        mid = bedrock_model_id(model, default, bedrock.get("region_prefix"))
        reg = small_region if small_applies and set(roles) <= {"haiku", "background"} else region
        base = str(override).rstrip("/") if override else f"https://{bedrock_host(str(reg))}"
        path = f"{split_base(base)['path']}/model/{_quote(mid, ':@')}/invoke-with-response-stream"
        requests.append({"model": mid, "roles": roles, "region": reg, "method": "POST",
                         "host": split_base(base)["host"], "path": path,
                         "url": redact_url(base) + path[len(split_base(base)["path"]):]})
    base = str(override).rstrip("/") if override else f"https://{bedrock_host(region)}"
    control_base = base if override else f"https://bedrock.{region}.amazonaws.com"
    return {"base": base, "base_url_var": "ANTHROPIC_BEDROCK_BASE_URL" if override else None,
            "skip_auth": skip, "auth": auth, "requests": requests,
            "control": {"method": "GET", "url": redact_url(control_base) + BEDROCK_CONTROL,
                        "host": split_base(control_base)["host"]}}


def _vertex(get: Getter, vertex: Mapping[str, Any],
            requested: list[Mapping[str, Any]]) -> dict[str, Any]:
    region = str(vertex.get("region") or "us-east5")
    project = vertex.get("project_id") or "<project>"
    override = vertex.get("base_url")
    skip = bool(vertex.get("skip_auth"))
    requests = []
    for model, roles, _default in _roles(requested, "vertex"):
        var = vertex_region_var(model)
        reg = (get(var) if var else None) or region
        base = str(override).rstrip("/") if override else f"https://{vertex_host(reg)}/v1"
        tail = (f"/projects/{_quote(str(project), '')}/locations/{_quote(reg, '')}"
                f"/publishers/anthropic/models/{_quote(model, '@')}:streamRawPredict")
        parts = split_base(base)
        requests.append({"model": model, "roles": roles, "region": reg,
                         "region_var": var if var and get(var) else None,
                         "method": "POST", "host": parts["host"], "path": parts["path"] + tail,
                         "url": redact_url(base) + tail})
    base = str(override).rstrip("/") if override else f"https://{vertex_host(region)}/v1"
    return {"base": base, "base_url_var": "ANTHROPIC_VERTEX_BASE_URL" if override else None,
            "skip_auth": skip, "auth": "none" if skip else "google_oauth", "requests": requests,
            "control": None}


def _mantle(get: Getter, bedrock: Mapping[str, Any],
            requested: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Bedrock Mantle (``CLAUDE_CODE_USE_MANTLE``): the Anthropic Messages API at
    ``ANTHROPIC_BEDROCK_MANTLE_BASE_URL`` or ``https://bedrock-mantle.{region}.api.aws/anthropic``,
    ``POST …/v1/messages?beta=true`` with ``anthropic.<id>`` in the body (captured)."""
    region = str(bedrock.get("region") or "us-east-1")
    override = bedrock.get("base_url")
    base = str(override).rstrip("/") if override else f"https://bedrock-mantle.{region}.api.aws/anthropic"
    parts = split_base(base)
    skip = bool(bedrock.get("skip_auth"))
    kind = (bedrock.get("credentials") or {}).get("kind")
    requests = []
    for model, roles, default in _roles(requested, "mantle"):
        mid = model
        if default:
            mid = model if model.startswith("anthropic.") else f"anthropic.{model}"
        requests.append({"model": mid, "roles": roles, "region": region, "method": "POST",
                         "host": parts["host"], "path": parts["path"] + "/v1/messages",
                         "url": redact_url(base) + "/v1/messages?beta=true"})
    return {"base": base, "base_url_var": "ANTHROPIC_BEDROCK_MANTLE_BASE_URL" if override else None,
            "skip_auth": skip,
            "auth": "none" if skip else "bearer" if kind == "bearer_token" else "sigv4",
            "requests": requests, "control": None}


def provider_route(mode: str, get: Getter, bedrock: Mapping[str, Any] | None,
                   vertex: Mapping[str, Any] | None,
                   requested: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The ``route.target`` fact for Bedrock or Vertex mode (None in any other mode).

    ``scheme/host/port/path`` are those of the main model's request, the one the client
    sends first; ``requests`` lists one entry per distinct model id."""
    if mode == "bedrock" and bedrock is not None:
        out = _bedrock(get, bedrock, requested)
    elif mode == "vertex" and vertex is not None:
        out = _vertex(get, vertex, requested)
    elif mode == "mantle" and bedrock is not None:
        out = _mantle(get, bedrock, requested)
    else:
        return None
    first = out["requests"][0] if out["requests"] else None
    base = out.pop("base")
    if first and not out["base_url_var"] and mode != "mantle":
        # No override: the main model's region picks the host (a per-model region can differ).
        base = f"https://{first['host']}" + ("/v1" if mode == "vertex" else "")
    parts = split_base(base)
    return {"mode": mode, "base_url": redact_url(base), "override": bool(out["base_url_var"]),
            **{k: parts[k] for k in ("scheme", "host", "port", "path", "url_error")}, **out}
