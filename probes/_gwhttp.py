"""What the gateway probes share: the client's exact request headers, HttpResult facts, and the
"is the gateway reachable at all" gate that keeps a dead gateway from being probed repeatedly.

No I/O of its own: requests go through :func:`gwdoctor.probes._http.client_for`.
"""

from __future__ import annotations

import time
from typing import Any, Mapping
from urllib.parse import urlsplit

from gwdoctor.engine import ProbeContext, ProbeSkipped

from ._effective import split_custom_headers
from ._envelope import excerpt, parse_error
from ._http import classify_transport_error, read_capped_info
from ._lazy import httpx  # imported on first use
from ._netenv import env_source, env_value, repo_chosen_untrusted, repo_tls_settings

__all__ = ["ANTHROPIC_VERSION", "DEFAULT_BETAS", "base_url", "provider_routed", "target",
           "client_headers", "credential_names", "credentials_withheld", "gate", "get",
           "http_result", "parse_custom_headers", "secrets", "user_agent", "withheld_because"]

ANTHROPIC_VERSION = "2023-06-01"
# What 2.1.332 sends on /v1/messages (live-lab-notes §4.1), first values; gateways that reject
# beta flags reject these.
DEFAULT_BETAS = ("claude-code-20250219", "interleaved-thinking-2025-05-14",
                 "context-management-2025-06-27")
_TRUE = {"1", "true", "yes", "on"}
_REACHABLE_DNS = {"ok", "literal"}
_REACHABLE_TCP = {"ok", "skipped_via_proxy"}


def base_url(ctx: ProbeContext) -> str:
    return str(ctx.facts["gateway.base_url"]).rstrip("/")


PROVIDER_MODES = ("bedrock", "vertex", "mantle")
_TARGET_KEYS = ("scheme", "host", "port", "path", "base_url", "url_error")


def target(ctx: ProbeContext) -> dict[str, Any]:
    """Where the client's requests go (``scheme``, ``host``, ``port``, ``path``, ``base_url``,
    ``url_error``, ``mode``): the ``route.target`` fact (the provider's endpoint in Bedrock or
    Vertex mode), else the ``gateway.*`` facts. The network probes follow this, not the
    Anthropic base URL, which the client never contacts in provider mode."""
    route = ctx.facts.get("route.target")
    if isinstance(route, dict) and route.get("mode") in PROVIDER_MODES:
        return {**{k: route.get(k) for k in _TARGET_KEYS}, "mode": route["mode"]}
    out = {k: ctx.facts.get(f"gateway.{k}") for k in _TARGET_KEYS}
    out["mode"] = "anthropic"  # no route.target: the probe follows the gateway facts
    return out


def provider_routed(ctx: ProbeContext) -> bool:
    """True in Bedrock or Vertex mode: the requests follow ``route.target``."""
    return target(ctx)["mode"] in PROVIDER_MODES


def user_agent(ctx: ProbeContext) -> str:
    """The user agent of ``claude -p`` for this version (captured:
    tests/capture/test_requests.py)."""
    version = ctx.facts.get("client.version") or "2.1.332"
    template = str(_behaviour(ctx).get("user_agent_print_mode") or "claude-cli/{version}")
    return template.replace("{version}", str(version))


def _behaviour(ctx: ProbeContext) -> Mapping[str, Any]:
    from ._netenv import behaviour

    return behaviour(ctx)


def parse_custom_headers(text: str | None) -> list[tuple[str, str]]:
    """The ``ANTHROPIC_CUSTOM_HEADERS`` lines the client sends (the auth.custom_headers fact
    lists the ones it refuses): one parser for both, in _effective."""
    return split_custom_headers(text)[0]


def _credentials(ctx: ProbeContext) -> tuple[str | None, str | None, str | None]:
    token = ctx.vault.get("auth.token") or env_value(ctx, "ANTHROPIC_AUTH_TOKEN") or None
    api_key = ctx.vault.get("auth.api_key") or env_value(ctx, "ANTHROPIC_API_KEY") or None
    helper = ctx.vault.get("auth.helper_output") or None
    return token, api_key, helper


def withheld_because(ctx: ProbeContext) -> list[str]:
    """Why the user's credentials are not sent: ``"base_url"`` when the repository (project/local
    settings) chose the base URL, ``"proxy"`` when it chose the proxy the gateway requests go
    through (an http:// gateway's headers cross that proxy in clear, as an absolute-URI
    request), ``"tls"`` when it weakened the certificate checks of a TLS connection on the route
    (``NODE_TLS_REJECT_UNAUTHORIZED=0``, its own CA: :func:`repo_tls_settings`; gwdoctor's TLS
    follows the client's, so any interception on the route, or the holder of that CA's key,
    would read the headers), in a workspace the user has not trusted. A missing trust fact
    counts as untrusted. Empty: the credentials go out."""
    reasons = []
    route = ctx.facts.get("route.target")
    base_source = ctx.facts.get("gateway.base_url_source")
    if provider_routed(ctx) and isinstance(route, dict):
        var = route.get("base_url_var")
        base_source = env_source(ctx, str(var)) if var else None
    if repo_chosen_untrusted(ctx, base_source):
        reasons.append("base_url")
    route = ctx.facts.get("proxy.route")
    used = isinstance(route, dict) and bool(route.get("used"))
    if used:
        # client_for mounts the proxy whenever route["used"], so every used route is judged:
        # by the source proxy.route recorded, else (older facts) recomputed from config.env.
        source = route.get("source")
        if not isinstance(source, dict):
            source = env_source(ctx, str(route.get("variable") or ""))
        if repo_chosen_untrusted(ctx, source):
            reasons.append("proxy")
    # NOTE: an http:// gateway reached directly or through an http:// proxy has no TLS on the
    # route: its headers are in clear whatever the trust store says, so the TLS settings
    # change nothing there.
    # Missing scheme counts as https, as in _http.client_for: never send on a weakened hop.
    tls = (str(target(ctx)["scheme"] or "https").lower() == "https"
           or (used and route.get("scheme") == "https"))
    if tls and repo_tls_settings(ctx):
        reasons.append("tls")
    return reasons


def credentials_withheld(ctx: ProbeContext) -> bool:
    """Whether the user's credentials stay home (see :func:`withheld_because`). The requests
    still go out, without them, so reachability is still diagnosed."""
    return bool(withheld_because(ctx))


def credential_names(ctx: ProbeContext) -> list[str]:
    """The credential headers the probe sends (the ``auth.headers`` fact, recomputed)."""
    return [k for k in client_headers(ctx, beta=False) if k in ("authorization", "x-api-key")]


def client_headers(ctx: ProbeContext, *, beta: bool = True,
                   json_body: bool = False) -> dict[str, Any]:
    """Exactly the headers Claude Code sends: credential(s), custom headers, version, beta,
    user agent, ``x-app``. Precedence per the docs: token > API key > apiKeyHelper (both
    headers); token and key together send both headers (measured on 2.1.332)."""
    headers: dict[str, str] = {"accept": "application/json", "anthropic-version": ANTHROPIC_VERSION}
    withheld = credentials_withheld(ctx)
    token, api_key, helper = (None, None, None) if withheld else _credentials(ctx)
    if token:
        headers["authorization"] = f"Bearer {token}"
    if api_key:
        headers["x-api-key"] = api_key
    if not token and not api_key and helper:
        headers["authorization"] = f"Bearer {helper}"
        headers["x-api-key"] = helper
    if not token and not api_key and not helper and not withheld:
        oauth = env_value(ctx, "CLAUDE_CODE_OAUTH_TOKEN")
        if oauth:
            headers["authorization"] = f"Bearer {oauth}"
    disabled = ((env_value(ctx, "CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS") or "").strip().lower()
                in _TRUE)
    if beta and not disabled:
        extra = [b.strip() for b in (env_value(ctx, "ANTHROPIC_BETAS") or "").split(",")
                 if b.strip()]
        # The client's own list for this version (captured), else the first three every
        # version sends: a gateway that rejects beta flags rejects the client's, not ours.
        betas = _behaviour(ctx).get("beta_headers") or DEFAULT_BETAS
        headers["anthropic-beta"] = ",".join(dict.fromkeys([*betas, *extra]))
    headers["user-agent"] = user_agent(ctx)
    headers["x-app"] = "cli"
    if json_body:
        headers["content-type"] = "application/json"
    custom = None if withheld else \
        ctx.vault.get("auth.custom_headers") or env_value(ctx, "ANTHROPIC_CUSTOM_HEADERS")
    for name, value in parse_custom_headers(custom):
        headers[name.lower()] = value
    return _wire(headers)


def _wire(headers: dict[str, str]) -> dict[str, Any]:
    """Header values as the client puts them on the wire: Latin-1 (httpx would raise on a
    non-ASCII str); a value beyond U+00FF is refused by the client too ("Invalid
    ANTHROPIC_CUSTOM_HEADERS"), so the request is not made."""
    out: dict[str, Any] = {}
    for name, value in headers.items():
        if value.isascii():
            out[name] = value
            continue
        try:
            out[name] = value.encode("latin-1")
        except UnicodeEncodeError:
            raise ProbeSkipped(f"the {name} header has a character beyond U+00FF, which the "
                               "client refuses to send") from None
    return out


def secrets(ctx: ProbeContext) -> list[str]:
    """Every value to scrub from what the gateway echoes back."""
    found = [s for s in _credentials(ctx) if s]
    found += [v for _, v in parse_custom_headers(ctx.vault.get("auth.custom_headers"))]
    found += [v for _, v in ctx.vault.items()]
    return [s for s in dict.fromkeys(found) if len(s) >= 4]


def gate(ctx: ProbeContext, *, after_gateway_probe: bool = True, provider_ok: bool = False) -> None:
    """Raise ProbeSkipped when an earlier probe already showed the gateway cannot be reached,
    so one dead gateway costs one timeout, not one per probe. In Bedrock/Vertex mode only the
    probes that speak to ``route.target`` (``provider_ok``) go on."""
    mode = ctx.facts.get("provider.mode")
    if mode not in (None, "anthropic") and not (provider_ok and provider_routed(ctx)):
        # The client talks to the cloud provider, not to this URL: sending the user's
        # Anthropic credential (and paid requests) there would go to the wrong host.
        raise ProbeSkipped(f"provider mode {mode}: the client sends nothing to {base_url(ctx)}")
    url_error = target(ctx)["url_error"]
    if url_error:
        raise ProbeSkipped(f"gateway URL unusable: {url_error}")
    route = ctx.facts.get("proxy.route") or {}
    via_proxy = isinstance(route, dict) and bool(route.get("used"))
    dns = ctx.facts.get("dns.gateway")
    if not via_proxy and isinstance(dns, dict) and dns.get("status") not in _REACHABLE_DNS:
        raise ProbeSkipped(f"gateway host does not resolve (dns.gateway: {dns.get('status')})")
    tcp = ctx.facts.get("connect.gateway")
    if isinstance(tcp, dict) and tcp.get("status") not in _REACHABLE_TCP:
        raise ProbeSkipped("no TCP connection to the gateway "
                           f"(connect.gateway: {tcp.get('status')})")
    # NOTE: no tls.handshake check here: no HTTP probe declares it (an http:// gateway has
    # none), so reading it raced with tls.gateway and the verdict changed between runs. A
    # failing handshake shows up as gateway.transport_error "tls" from gateway.http itself.
    if after_gateway_probe and ctx.facts.get("gateway.transport_error"):
        raise ProbeSkipped(f"the gateway probe already failed to talk to it "
                           f"({ctx.facts['gateway.transport_error']})")


def http_result(url: str, *, status: int | None = None, error: str | None = None,
                headers: httpx.Headers | None = None, body: bytes | None = None,
                duration_ms: int = 0, secret_values: list[str] | None = None) -> dict[str, Any]:
    """The contract's ``HttpResult`` (docs/facts.md), scrubbed."""
    ctype = headers.get("content-type") if headers is not None else None
    etype = emsg = None
    if status is not None and status >= 400:
        etype, emsg = parse_error(body, secret_values or ())
    return {
        "url": _strip_userinfo(url), "status": status, "error": error,
        "error_type": etype, "error_message": emsg,
        "server": headers.get("server") if headers is not None else None,
        "content_type": ctype, "duration_ms": duration_ms,
        "body_excerpt": excerpt(body, ctype, secret_values or ()),
    }


def _strip_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def get(client: httpx.Client, method: str, url: str, *, headers: dict[str, str] | None = None,
        json_body: Any = None, secret_values: list[str] | None = None, limit: int = 256 * 1024,
        timeout: float | None = None) -> tuple[dict[str, Any], httpx.Headers | None, bytes | None]:
    """One bounded request: ``(HttpResult, response headers, capped body)``; never raises on
    transport failures (they become ``error``)."""
    t0 = time.monotonic()
    extra: dict[str, Any] = {} if timeout is None else {"timeout": httpx.Timeout(timeout)}
    try:
        with client.stream(method, url, headers=headers, json=json_body, **extra) as response:
            body, truncated = read_capped_info(response, limit)
            result = http_result(url, status=response.status_code, headers=response.headers,
                                 body=body, duration_ms=int((time.monotonic() - t0) * 1000),
                                 secret_values=secret_values)
            if truncated:
                result["error"] = "too_large"
            if response.is_redirect:
                # Never followed (the client treats any redirect as failure); say where it points.
                result["error"] = "redirect"
                location = response.headers.get("location") or ""
                result["location"] = _strip_userinfo(location.split("?", 1)[0])[:200] or None
            return result, response.headers, body
    except httpx.HTTPError as exc:
        cls = classify_transport_error(exc)
        return (http_result(url, error=cls, duration_ms=int((time.monotonic() - t0) * 1000)),
                None, None)
