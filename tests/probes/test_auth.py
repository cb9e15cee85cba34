"""auth.models: GET /v1/models with exactly the client's headers (MockTransport), then against real
LiteLLM."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from gwdoctor.engine import ProbeSkipped
from gwdoctor.probes.auth import gateway_models, parse_models
from live._ctx import fire, gateway_ctx

CANARY = "sk-canary-7f3a9c2e41d0"


def _capture(status: int = 200,
             body: object | None = None) -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body if body is not None
                              else {"data": [{"id": "m-b"}, {"id": "m-a"}]})

    return seen, httpx.MockTransport(handler)


def test_token_goes_as_bearer_with_the_clients_other_headers() -> None:
    seen, transport = _capture()
    ctx = gateway_ctx("http://gw.test", token="tok-123456", transport=transport)
    facts = gateway_models.run(ctx)
    req = seen[0]
    assert req.url.path == "/v1/models"
    assert req.headers["authorization"] == "Bearer tok-123456"
    assert "x-api-key" not in req.headers
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert req.headers["anthropic-beta"].startswith("claude-code-20250219")
    assert req.headers["user-agent"] == "claude-cli/2.1.332 (external, sdk-cli)"  # captured, -p
    assert req.headers["x-app"] == "cli"
    assert facts["gateway.models"]["ids"] == ["m-a", "m-b"]
    assert facts["gateway.models"]["sent_headers"] == ["authorization"]


def test_api_key_goes_as_x_api_key_and_helper_output_in_both() -> None:
    seen, transport = _capture()
    gateway_models.run(gateway_ctx("http://gw.test", api_key="key-123456", transport=transport))
    assert seen[0].headers["x-api-key"] == "key-123456" and "authorization" not in seen[0].headers
    gateway_models.run(gateway_ctx("http://gw.test", helper="helper-tok", transport=transport))
    assert seen[1].headers["x-api-key"] == "helper-tok"
    assert seen[1].headers["authorization"] == "Bearer helper-tok"


def test_token_and_key_together_send_both_headers() -> None:
    seen, transport = _capture()
    gateway_models.run(gateway_ctx("http://gw.test", token="tok-1111", api_key="key-2222",
                                   transport=transport))
    assert seen[0].headers["authorization"] == "Bearer tok-1111"
    assert seen[0].headers["x-api-key"] == "key-2222"


def test_custom_headers_are_parsed_newline_separated_and_bad_lines_skipped() -> None:
    seen, transport = _capture()
    text = "x-portkey-api-key: pk-1\nnot a header\nx-portkey-provider: @anthropic"
    gateway_models.run(gateway_ctx("http://gw.test", token="t-1234", custom_headers=text,
                                   transport=transport))
    assert seen[0].headers["x-portkey-api-key"] == "pk-1"
    assert seen[0].headers["x-portkey-provider"] == "@anthropic"


def test_disable_experimental_betas_drops_the_beta_header() -> None:
    seen, transport = _capture()
    ctx = gateway_ctx("http://gw.test", token="t-1234", transport=transport,
                      env={"CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS": "1"})
    gateway_models.run(ctx)
    assert "anthropic-beta" not in seen[0].headers


def test_redirect_is_recorded_never_followed() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"location": "https://sso.corp.example/login?next=x"})

    facts = gateway_models.run(gateway_ctx("https://gw.test", token="t-1234",
                                           transport=httpx.MockTransport(handler)))
    assert len(seen) == 1
    assert facts["gateway.models"]["error"] == "redirect"
    assert facts["gateway.models"]["location"] == "https://sso.corp.example/login"


def test_skipped_when_the_gateway_probe_saw_a_transport_failure() -> None:
    with pytest.raises(ProbeSkipped):
        gateway_models.run(gateway_ctx("http://gw.test", token="t",
                                       gateway__transport_error="refused"))
    with pytest.raises(ProbeSkipped):
        gateway_models.run(gateway_ctx("http://gw.test", token="t",
                                       dns__gateway={"status": "nxdomain", "addresses": []}))


def test_parse_models_reads_both_shapes_and_litellm_source_model() -> None:
    ids, limits = parse_models(json.dumps({"data": [
        {"id": "claude-opus-5-5[1m]", "source_model": "claude-opus-5-5", "max_tokens": 128000},
        {"id": "gpt-x", "object": "model", "max_output_tokens": 8192}]}).encode())
    assert ids == ["claude-opus-5-5", "gpt-x"]
    assert limits == {"claude-opus-5-5": 128000, "gpt-x": 8192}


# ---- confirm before blaming the path: GET /v1/models under the shorter base URLs -------------

DASHBOARD_404 = "<!DOCTYPE html><html><head><title>LiteLLM Dashboard</title></head>404</html>"
MODEL_LIST = {"data": [{"id": "claude-sonnet-5-5"}, {"id": "claude-haiku-5-5"}]}


def _site(lists_models_at: set[str],
          base_answer: httpx.Response | None = None) -> tuple[list[httpx.Request], Any]:
    """A gateway that lists models only under the given paths' /v1/models; elsewhere the
    dashboard's 404 page (or ``base_answer`` for the first request)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1 and base_answer is not None:
            return base_answer
        if request.url.path.removesuffix("/v1/models") in lists_models_at:
            return httpx.Response(200, json=MODEL_LIST)
        return httpx.Response(404, text=DASHBOARD_404,
                              headers={"content-type": "text/html; charset=utf-8"})

    return seen, httpx.MockTransport(handler)


def test_a_page_under_the_path_is_asked_again_at_the_origin_with_the_same_headers() -> None:
    seen, transport = _site({""})
    facts = gateway_models.run(gateway_ctx("http://gw.test:4000/ui", token="tok-123456",
                                           transport=transport))
    assert [str(r.url) for r in seen] == ["http://gw.test:4000/ui/v1/models",
                                          "http://gw.test:4000/v1/models"]
    assert seen[1].headers["authorization"] == "Bearer tok-123456"  # same host, same credential
    assert dict(seen[1].headers) == dict(seen[0].headers)
    root = facts["gateway.root_models"]
    assert root["answered"] == "http://gw.test:4000"
    assert root["tried"] == [{"base_url": "http://gw.test:4000",
                              "url": "http://gw.test:4000/v1/models", "status": 200,
                              "error": None, "content_type": "application/json",
                              "error_message": None, "api": True, "model_count": 2}]
    assert facts["gateway.models"]["status"] == 404  # the base URL's own answer is kept


def test_the_parent_path_is_asked_first_and_at_most_two_shorter_urls() -> None:
    seen, transport = _site({"/llm"})
    facts = gateway_models.run(gateway_ctx("https://gw.test/llm/admin", token="t-1234",
                                           transport=transport))
    assert [r.url.path for r in seen] == ["/llm/admin/v1/models", "/llm/v1/models"]
    assert facts["gateway.root_models"]["answered"] == "https://gw.test/llm"
    seen, transport = _site(set())
    facts = gateway_models.run(gateway_ctx("https://gw.test/a/b/c", token="t-1234",
                                           transport=transport))
    assert [r.url.path for r in seen] == ["/a/b/c/v1/models", "/a/b/v1/models", "/v1/models"]
    assert {r.url.host for r in seen} == {"gw.test"}
    root = facts["gateway.root_models"]
    assert root["answered"] is None and [t["api"] for t in root["tried"]] == [False, False]


@pytest.mark.parametrize("answer", [
    httpx.Response(200, json=MODEL_LIST),  # the API answered
    httpx.Response(401, json={"error": {"message": "Invalid key"}}),  # the API judged the key
    httpx.Response(302, headers={"location": "https://sso.corp.example/login"}),  # never followed
], ids=["listed", "key_refused", "redirect"])
def test_an_api_answer_under_the_path_asks_nothing_more(answer: httpx.Response) -> None:
    seen, transport = _site({""}, base_answer=answer)
    facts = gateway_models.run(gateway_ctx("http://gw.test:4000/api", token="t-1234",
                                           transport=transport))
    assert len(seen) == 1 and facts["gateway.root_models"] is None


def test_a_405_under_the_path_is_confirmed_too_and_an_empty_list_is_no_api() -> None:
    seen, transport = _site({""}, base_answer=httpx.Response(
        405, json={"detail": "Method Not Allowed"}))
    facts = gateway_models.run(gateway_ctx("http://gw.test:4000/ui", token="t-1234",
                                           transport=transport))
    assert facts["gateway.root_models"]["answered"] == "http://gw.test:4000"

    def empty(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200 if request.url.path == "/v1/models" else 404, json={"data": []})

    facts = gateway_models.run(gateway_ctx("http://gw.test:4000/ui", token="t-1234",
                                           transport=httpx.MockTransport(empty)))
    assert facts["gateway.root_models"]["answered"] is None


def test_a_base_url_without_a_path_asks_nothing_more() -> None:
    seen, transport = _site(set())
    facts = gateway_models.run(gateway_ctx("http://gw.test:4000", token="t-1234",
                                           transport=transport))
    assert len(seen) == 1 and facts["gateway.root_models"] is None


# ---- real LiteLLM -------------------------------------------------------------------------

@pytest.mark.live
def test_litellm_lists_the_served_models_for_the_master_key(litellm_gateway) -> None:
    facts = gateway_models.run(gateway_ctx(litellm_gateway.url, token=litellm_gateway.master_key))
    models = facts["gateway.models"]
    assert models["status"] == 200
    from live._client_truth import client_models  # what the lab serves comes from the client

    assert {*client_models().values(), "gemini-2.5-pro"} <= set(models["ids"])
    assert litellm_gateway.master_key not in json.dumps(facts)


@pytest.mark.live
def test_litellm_dashboard_path_is_not_the_api_and_the_origin_lists_the_models(
        litellm_gateway) -> None:
    facts = gateway_models.run(gateway_ctx(f"{litellm_gateway.url}/ui",
                                           token=litellm_gateway.master_key))
    assert facts["gateway.models"]["status"] == 404  # 1.108.7's dashboard 404 page
    assert "html" in facts["gateway.models"]["content_type"]
    root = facts["gateway.root_models"]
    assert root["answered"] == litellm_gateway.url.rstrip("/")
    assert root["tried"][0]["api"] and root["tried"][0]["model_count"] > 0
    assert litellm_gateway.master_key not in json.dumps(facts)


@pytest.mark.live
def test_litellm_wrong_key_is_400_no_connected_db_and_aut003_fires(litellm_gateway) -> None:
    ctx = gateway_ctx(litellm_gateway.url, token=CANARY)
    facts = {**ctx.facts, **gateway_models.run(ctx)}
    models = facts["gateway.models"]
    assert (models["status"], models["error_type"], models["error_message"]) == \
        (400, "no_db_connection", "No connected db.")
    assert fire(facts, "AUT003") and not fire(facts, "AUT002")
    assert CANARY not in json.dumps(facts) and CANARY[:6] not in json.dumps(facts)


@pytest.mark.live
def test_litellm_missing_key_is_401_and_aut001_fires(litellm_gateway) -> None:
    ctx = gateway_ctx(litellm_gateway.url)
    facts = {**ctx.facts, **gateway_models.run(ctx), "auth.credential_source": None}
    assert facts["gateway.models"]["status"] == 401
    assert "No api key passed in" in facts["gateway.models"]["error_message"]
    found = fire(facts, "AUT001")
    assert found and found[0].confidence == 0.99
    assert not fire(facts, "AUT002") and not fire(facts, "AUT004")


@pytest.mark.live
def test_gateway_echoing_a_key_prefix_is_scrubbed_and_aut002_fires(fake_gateway) -> None:
    gw = fake_gateway("auth", key="sk-right-0000000000")
    ctx = gateway_ctx(gw.url, token=CANARY, auth__credential_source="ANTHROPIC_AUTH_TOKEN")
    facts = {**ctx.facts, **gateway_models.run(ctx)}
    assert gw.requests[0].headers["authorization"] == f"Bearer {CANARY}"
    dumped = json.dumps(facts)
    assert facts["gateway.models"]["status"] == 401
    assert CANARY not in dumped and "sk-can" not in dumped
    assert "Received API Key = <redacted>" in facts["gateway.models"]["error_message"]
    assert fire(facts, "AUT002")


@pytest.mark.parametrize("mode", ["bedrock", "vertex", "foundry"])
def test_provider_mode_sends_nothing_to_the_anthropic_url(mode: str) -> None:
    """In a CLAUDE_CODE_USE_* mode the client talks to the cloud provider: the user's
    ANTHROPIC_API_KEY must not go to gateway.base_url, nor paid requests (review finding)."""
    from gwdoctor.engine import ProbeSkipped
    from gwdoctor.probes.auth import gateway_models
    from gwdoctor.probes.gateway import gateway_http
    from gwdoctor.probes.model import model_messages

    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(200, json={"data": []})

    ctx = gateway_ctx("https://api.anthropic.com", api_key="sk-ant-personal-canary",
                      transport=httpx.MockTransport(handler), **{"provider.mode": mode,
                                                                "gateway.transport_error": None})
    for p in (gateway_http, gateway_models, model_messages):
        with pytest.raises(ProbeSkipped, match=f"provider mode {mode}"):
            p.run(ctx)
    assert sent == []


def test_latin1_header_values_go_on_the_wire_and_beyond_are_refused() -> None:
    """The client allows header values up to U+00FF; httpx raised on any non-ASCII str and
    the probe crashed (review finding)."""
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-team"))
        return httpx.Response(200, json={"data": [{"id": "m"}]})

    ctx = gateway_ctx("http://gw.test:4000", token="sk-t", custom_headers="X-Team: Café",
                      transport=httpx.MockTransport(handler))
    assert gateway_models.run(ctx)["gateway.models"]["status"] == 200
    assert seen == ["Café"]
    ctx = gateway_ctx("http://gw.test:4000", token="sk-t\u2026",
                      transport=httpx.MockTransport(handler))
    with pytest.raises(ProbeSkipped, match="U\\+00FF"):
        gateway_models.run(ctx)


# --- review finding: a repository-chosen base URL gets no credentials before trust ----------------

def _sent_credentials(layer: str, trusted: bool | None) -> tuple[httpx.Request, dict]:
    seen, transport = _capture(401, {"error": {"message": "Unauthorized"}})
    facts: dict = {"gateway__base_url_source": {"layer": layer,
                                                "file": "/repo/.claude/settings.json"}}
    if trusted is not None:
        facts["config__workspace_trusted"] = trusted
    ctx = gateway_ctx("http://evil.test", token=CANARY, api_key=CANARY + "k", helper=CANARY + "h",
                      custom_headers=f"x-portkey-api-key: {CANARY}c", transport=transport, **facts)
    out = gateway_models.run(ctx)
    assert CANARY not in json.dumps(out)
    return seen[0], out["gateway.models"]


@pytest.mark.parametrize("layer", ["project", "local"])
@pytest.mark.parametrize("trusted", [False, None])
def test_untrusted_repo_base_url_gets_no_credentials(layer: str, trusted: bool | None) -> None:
    req, models = _sent_credentials(layer, trusted)
    assert req.url.host == "evil.test" and req.url.path == "/v1/models"  # still probed
    assert "authorization" not in req.headers and "x-api-key" not in req.headers
    assert "x-portkey-api-key" not in req.headers
    assert CANARY not in str(req.headers.raw)
    assert models["credentials_withheld"] is True and models["sent_headers"] == []
    assert models["status"] == 401


@pytest.mark.parametrize("layer, trusted", [
    ("project", True), ("local", True), ("shell", False), ("user", False), ("managed", None),
])
def test_trusted_or_user_chosen_base_url_gets_the_credentials(layer: str,
                                                              trusted: bool | None) -> None:
    req, models = _sent_credentials(layer, trusted)
    assert req.headers["authorization"] == f"Bearer {CANARY}"
    assert req.headers["x-api-key"] == CANARY + "k"
    assert req.headers["x-portkey-api-key"] == CANARY + "c"
    assert models["credentials_withheld"] is False
