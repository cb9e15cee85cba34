"""Gateway-route rules (GWY001-005, GWY012, GWY015): reachability, the base-URL path and the API
the gateway serves. Pure functions of facts."""

from __future__ import annotations

from urllib.parse import urlsplit

from gwdoctor.engine import Facts, Finding, Fix, Rule, Severity, hookimpl, rule

from ._gw import base_url_fix, checks, env_fix, is_html, route_404s
from ._providers import route_endpoint


def _transport(facts: Facts) -> str | None:
    """The transport failure seen reaching the gateway itself (not a proxy)."""
    route = facts.get("proxy.route") or {}
    tcp = facts.get("connect.gateway") or {}
    if isinstance(tcp, dict) and tcp.get("status") in ("refused", "timeout", "unreachable"):
        return "timeout" if tcp["status"] == "unreachable" else tcp["status"]
    if isinstance(route, dict) and route.get("used"):
        return None  # a failure through the proxy is the proxy rules' business
    return facts.get("gateway.transport_error")


def _where(facts: Facts) -> tuple[str, object]:
    """Host and port the client connects to (the provider route's in Bedrock/Vertex mode)."""
    end = route_endpoint(facts)
    return str(end["host"] or ""), end["port"]


def _hostport(facts: Facts) -> str:
    host, port = _where(facts)
    return f"{host}:{port}"


@rule(id="GWY001", name="gateway-connection-refused", cause="gateway.unreachable",
      severity=Severity.CRITICAL, needs=("gateway.base_url",), confidence=0.95,
      reads=("connect.gateway", "gateway.host", "gateway.port", "gateway.transport_error",
             "proxy.route", "route.target"))
def gateway_connection_refused(facts: Facts) -> Finding | None:
    """## What it checks
    A direct TCP connection to the gateway's host and port is refused.

    ## Why it matters
    Nothing listens there. Claude Code retries for ≈3 minutes, then prints
    `API Error: Connection refused — a firewall or proxy may be blocking it (ECONNREFUSED)`.

    ## Example
    `ANTHROPIC_BASE_URL=http://127.0.0.1:4000` while LiteLLM is stopped or on port 4001.

    ## Fix
    Start the gateway, or correct the port in `ANTHROPIC_BASE_URL`.

    ## Fix safety
    Manual: which of the two is right needs a human.
    """
    if _transport(facts) != "refused":
        return None
    host, port = _where(facts)
    fixes = [Fix(title="Check what listens on the gateway's port", safety="safe",
                 snippet=f"ss -ltnp | grep ':{port}\\b'" if host in
                 ("127.0.0.1", "localhost", "::1") else f"nc -vz {host} {port}")]
    if host in ("127.0.0.1", "localhost", "::1"):
        fixes.append(Fix(title="Start LiteLLM on that port", safety="manual",
                         snippet=f"litellm --config config.yaml --host {host} --port {port}"))
    return Finding(message=f"Connection to the gateway {_hostport(facts)} is refused: nothing "
                           "listens there",
                   evidence={"connect.gateway": facts.get("connect.gateway"),
                             "gateway.transport_error": facts.get("gateway.transport_error")},
                   fixes=tuple(fixes))


@rule(id="GWY002", name="gateway-not-answering", cause="gateway.unreachable",
      severity=Severity.CRITICAL, needs=("gateway.base_url",), confidence=0.85,
      reads=("connect.gateway", "gateway.host", "gateway.port", "gateway.root",
             "gateway.transport_error", "proxy.route", "route.target"))
def gateway_not_answering(facts: Facts) -> Finding | None:
    """## What it checks
    The gateway does not answer in time: the TCP connection or the first HTTP response
    times out.

    ## Why it matters
    Claude Code waits `API_TIMEOUT_MS` (600 s by default) per attempt and retries:
    minutes pass before `Request timed out`.

    ## Example
    A firewall that drops packets to port 4000; a gateway stuck at startup.

    ## Fix
    Check the route to the host (VPN, firewall, security group) and the gateway's own logs.

    ## Fix safety
    Manual: network changes need their owner.
    """
    if _transport(facts) != "timeout":
        return None
    return Finding(message=f"The gateway {_hostport(facts)} does not answer in time",
                   evidence={"connect.gateway": facts.get("connect.gateway"),
                             "gateway.root": facts.get("gateway.root")},
                   fixes=(Fix(title="See where the connection stalls", safety="safe",
                              snippet=f"curl -sv --max-time 10 {facts['gateway.base_url']}/ "
                                      "-o /dev/null"),))


@rule(id="GWY003", name="base-url-ends-in-v1", cause="gateway.base_url_path",
      severity=Severity.ERROR, needs=("gateway.base_url", "gateway.path"), confidence=0.9,
      reads=("http.faults", "gateway.base_url_source", "gateway.models", "model.checks"))
def base_url_ends_in_v1(facts: Facts) -> Finding | None:
    """## What it checks
    The path of `ANTHROPIC_BASE_URL` ends in `/v1`.

    ## Why it matters
    The client appends `/v1/messages` itself, so it posts to `/v1/v1/messages` and gets
    404; it then prints the misleading `There's an issue with the selected model`.

    ## Example
    `ANTHROPIC_BASE_URL=http://127.0.0.1:4000/v1`

    ## Fix
    Drop the trailing `/v1`.

    ## Fix safety
    Safe: the client adds `/v1` on every request.
    """
    path = (facts["gateway.path"] or "").rstrip("/")
    if not path.lower().endswith("/v1"):
        return None
    base = str(facts["gateway.base_url"]).rstrip("/")
    fixed = base[: -len("/v1")]
    seen_404 = any(c.get("status") == 404 for c in checks(facts)) or \
        (facts.get("gateway.models") or {}).get("status") == 404
    return Finding(
        message=f"ANTHROPIC_BASE_URL ends in /v1, so requests go to {base}/v1/messages",
        evidence={"gateway.base_url": base, "gateway.path": path, "404_seen": seen_404},
        fixes=(base_url_fix(facts, fixed, "Use the gateway root, without /v1"),),
        confidence=0.99 if seen_404 else None,
    )


@rule(id="GWY004", name="messages-route-not-found", cause="gateway.base_url_path",
      severity=Severity.ERROR, needs=("gateway.base_url", "model.checks"), confidence=0.85,
      reads=("http.faults", "gateway.base_url_source", "gateway.path"))
def messages_route_not_found(facts: Facts) -> Finding | None:
    """## What it checks
    `POST {ANTHROPIC_BASE_URL}/v1/messages` answers 404 about the route (not about a model),
    and the base URL does not end in `/v1` (GWY003 covers that).

    ## Why it matters
    Every request 404s; the client blames the model ("There's an issue with the selected model").

    ## Example
    A gateway serving its Messages route under `/api`, with `ANTHROPIC_BASE_URL` set to the host
    root.

    ## Fix
    Set `ANTHROPIC_BASE_URL` to the prefix under which the gateway serves `/v1/messages`
    (gwdoctor tries `/api`, `/anthropic` and `/api/llm` and names the one that answers).

    ## Fix safety
    Safe when gwdoctor found a prefix that answers; otherwise check the gateway's docs.

    ## Known problems
    A base URL with one path segment too many (a dashboard address such as LiteLLM's `/ui`)
    is GWY015's when `GET /v1/models` lists models under the shorter URL: this rule then ranks
    under it. A 405 is never this rule's: without that confirmation it is left to GWY013.
    """
    path = str(facts.get("gateway.path") or "").rstrip("/")
    misses = route_404s(facts)
    if not misses or path.lower().endswith("/v1") or any(c.get("openai_route") for c in misses):
        return None
    hint = next((c.get("route_hint") for c in misses if c.get("route_hint")), None)
    base = facts["gateway.base_url"]
    if hint:
        fixes = (base_url_fix(facts, hint["base_url"], "Use the prefix that serves /v1/messages"),)
    else:
        fixes = (Fix(title="Find the gateway's Anthropic-compatible prefix", lang="text",
                     safety="manual",
                     snippet=f"{base}/v1/messages answers 404. Look up the path under which the "
                             "gateway serves the Anthropic Messages API (often /api or "
                             "/anthropic) and set ANTHROPIC_BASE_URL to it, without /v1."),)
    return Finding(
        message=f"{base}/v1/messages answers 404: the gateway has no Messages route there"
                + (f"; {hint['base_url']}/v1/messages answers {hint['status']}" if hint else ""),
        evidence={"models": [c.get("model") for c in misses],
                  "error_message": misses[0].get("error_message"), "route_hint": hint},
        fixes=fixes, confidence=0.97 if hint else None,
    )


@rule(id="GWY005", name="gateway-lacks-messages-api", cause="gateway.api_format",
      severity=Severity.ERROR, needs=("gateway.base_url", "model.checks"), confidence=0.85,
      reads=("http.faults",))
def gateway_lacks_messages_api(facts: Facts) -> Finding | None:
    """## What it checks
    `/v1/messages` answers 404 while `/v1/chat/completions` exists: the gateway speaks only
    the OpenAI format.

    ## Why it matters
    Claude Code speaks only the Anthropic Messages format (or Bedrock/Vertex formats);
    it prints `There's an issue with the selected model`.

    ## Example
    An OpenAI-compatible endpoint such as `https://gw.corp/openai` set as `ANTHROPIC_BASE_URL`.

    ## Fix
    Point `ANTHROPIC_BASE_URL` at an Anthropic-format endpoint, or put a translating gateway
    (LiteLLM's `/v1/messages`) in front.

    ## Fix safety
    Manual: it changes which gateway serves the client.
    """
    misses = [c for c in route_404s(facts) if c.get("openai_route")]
    if not misses:
        return None
    base = facts["gateway.base_url"]
    return Finding(
        message=f"{base} serves /v1/chat/completions (HTTP {misses[0]['openai_route']}) but not "
                "/v1/messages: it is an OpenAI-format endpoint",
        evidence={"models": [c.get("model") for c in misses],
                  "openai_route": misses[0]["openai_route"]},
        fixes=(Fix(title="Serve the Anthropic format with LiteLLM in front", lang="yaml",
                   target="litellm config.yaml", safety="manual",
                   snippet=f"model_list:\n  - model_name: {misses[0].get('model')}\n"
                           "    litellm_params:\n"
                           f"      model: openai/<upstream-model-id>\n      api_base: {base}/v1\n"
                           "      api_key: os.environ/UPSTREAM_API_KEY\nlitellm_settings:\n"
                           "  use_chat_completions_url_for_anthropic_messages: true"),),
    )


@rule(id="GWY012", name="gateway-connection-reset", cause="gateway.unreachable",
      severity=Severity.ERROR, needs=("gateway.transport_error",), confidence=0.8,
      reads=("gateway.base_url", "gateway.root", "tls.scheme_mismatch"))
def gateway_connection_reset(facts: Facts) -> Finding | None:
    """## What it checks
    The gateway (or something in front of it) accepts the connection and then resets or
    breaks it before answering.

    ## Why it matters
    Claude Code prints `Connection dropped (ECONNRESET)` after retrying for minutes.

    ## Example
    A load balancer whose backend pool is empty; a TLS-only port reached with http://.

    ## Fix
    Check the scheme and port of `ANTHROPIC_BASE_URL`, then the load balancer's backends.

    ## Fix safety
    Manual: the fix depends on which hop resets.
    """
    if (facts["gateway.transport_error"] not in ("reset", "protocol")
            or facts.get("tls.scheme_mismatch")):
        return None
    parts = urlsplit(str(facts.get("gateway.base_url") or ""))
    return Finding(message=f"The connection to {parts.netloc} is dropped before an answer "
                           f"({facts['gateway.transport_error']})",
                   evidence={"gateway.transport_error": facts["gateway.transport_error"],
                             "gateway.root": facts.get("gateway.root")},
                   fixes=(Fix(title="See where the connection drops", safety="safe",
                              snippet=f"curl -sv {facts.get('gateway.base_url')}/ -o /dev/null"),))


def _answer(method: str, url: object, result: dict) -> str:
    """``POST http://h/ui/v1/messages → 405 Method Not Allowed (HTML page)``"""
    text = f"{method} {url} → {result.get('status')}"
    if result.get("error_message") and not is_html(result):
        text += f" {str(result['error_message'])[:80]}"
    return text + (" (HTML page)" if is_html(result) else "")


def _no_api_here(facts: Facts) -> list[str]:
    """The base URL's answers that say no API is served under it: every model check a 404
    about the route or a 405 (count_tokens when no model was asked), and /v1/models."""
    base = str(facts["gateway.base_url"]).rstrip("/")
    asked = checks(facts)
    missing = {id(c) for c in route_404s(facts)}
    if asked:
        if not all(id(c) in missing or c.get("status") == 405 for c in asked):
            return []
        shown = [_answer("POST", f"{base}/v1/messages", asked[0])]
    else:
        count = facts.get("gateway.count_tokens")
        if not isinstance(count, dict) or count.get("status") not in (404, 405):
            return []
        shown = [_answer("POST", count.get("url"), count)]
    models = facts.get("gateway.models")
    if isinstance(models, dict):
        shown.append(_answer("GET", models.get("url"), models))
    return shown


@rule(id="GWY015", name="base-url-path-serves-no-api", cause="gateway.base_url_path",
      severity=Severity.ERROR, needs=("gateway.base_url", "gateway.root_models"), confidence=0.9,
      reads=("gateway.base_url_source", "gateway.count_tokens", "gateway.models", "gateway.path",
             "http.faults", "model.checks"))
def base_url_path_serves_no_api(facts: Facts) -> Finding | None:
    """## What it checks
    The base URL has a path under which the gateway serves no API: `POST /v1/messages` there
    answers 404 or 405 and `GET /v1/models` a 404, 405 or web page, while the same
    `GET /v1/models`, with the same headers on the same host, lists models under a shorter base
    URL (the parent path or the bare origin; gwdoctor asks at most these two).

    ## Why it matters
    Every request goes to a path the gateway does not route to its API, often its web
    dashboard. The client prints the status of whatever answers there, for example
    `API Error: 405 {"detail":"Method Not Allowed"}` from LiteLLM's dashboard mount, or
    `There's an issue with the selected model` on a 404.

    ## Example
    `ANTHROPIC_BASE_URL=http://127.0.0.1:4000/ui`, LiteLLM's dashboard address: POST
    `/ui/v1/messages` gets 405, `GET /ui/v1/models` the dashboard's 404 page, and
    `GET http://127.0.0.1:4000/v1/models` the model list.

    ## Fix
    Set `ANTHROPIC_BASE_URL` to the shorter URL that answered with the model list.

    ## Fix safety
    Review: a model list proves the API answers there with this credential; the client's
    first request under the new URL confirms its Messages route.

    ## Known problems
    Without the confirming answer (no path to shorten, or nothing lists models under the
    shorter URLs) the rule stays quiet and the answers are left to GWY004, GWY011 and GWY013.
    """
    root = facts["gateway.root_models"]
    path = str(facts.get("gateway.path") or "").rstrip("/")
    if not isinstance(root, dict) or not root.get("answered") or path.lower().endswith("/v1"):
        return None  # unconfirmed, or GWY003's /v1
    if any(c.get("route_hint") or c.get("openai_route") for c in checks(facts)):
        return None  # a longer prefix or the OpenAI route answered: GWY004/GWY005
    seen = _no_api_here(facts)
    if not seen:
        return None
    answered = str(root["answered"])
    hit = next(t for t in root.get("tried") or [] if t.get("base_url") == answered)
    confirmed = (f"GET {hit.get('url')} → {hit.get('status')} (the API: "
                 f"{hit.get('model_count')} models)")
    base = str(facts["gateway.base_url"]).rstrip("/")
    return Finding(
        message=f"ANTHROPIC_BASE_URL {base} has a path the gateway serves no API under: "
                f"{seen[0]}; {confirmed}",
        evidence={"base_url": base, "answers": seen, "confirmed": confirmed,
                  "tried": root.get("tried")},
        fixes=(env_fix("ANTHROPIC_BASE_URL", answered, facts.get("gateway.base_url_source"),
                       title="Use the base URL the API answers at"),),
    )


@hookimpl
def gwdoctor_register_rules() -> list[Rule]:
    return [gateway_connection_refused, gateway_not_answering, base_url_ends_in_v1,
            messages_route_not_found, gateway_lacks_messages_api, gateway_connection_reset,
            base_url_path_serves_no_api]
