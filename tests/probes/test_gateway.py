"""gateway.http: root, kind, LiteLLM health, count_tokens, transport errors (MockTransport, real
sockets, real LiteLLM)."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from gwdoctor.engine import ProbeSkipped
from gwdoctor.probes._envelope import parse_error, scrub
from gwdoctor.probes.gateway import detect_kind, gateway_http, gateways
from live._ctx import fire, gateway_ctx


def _run(ctx):  # noqa: ANN001, ANN202
    return {**ctx.facts, **gateway_http.run(ctx)}


def _fixed(status: int = 404, headers: dict | None = None, body: bytes = b"{}",
           ctype: str = "application/json") -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(
        status, headers={"content-type": ctype, **(headers or {})}, content=body))


@pytest.mark.parametrize(("headers", "url", "kind"), [
    ({"x-kong-request-id": "abc"}, "https://kong.corp.example", "kong"),
    ({"cf-ray": "8a1b-AMS", "server": "cloudflare"}, "https://llm.corp.example", "cloudflare"),
    ({}, "https://gateway.ai.cloudflare.com/v1/acct/gw/anthropic", "cloudflare"),
    ({"server": "envoy"}, "https://llm.corp.example", "envoy"),
    ({"server": "nginx/1.25.3"}, "https://llm.corp.example", "nginx"),
    ({}, "https://api.portkey.ai", "portkey"),
    ({}, "https://acme.truefoundry.cloud/api/llm", "truefoundry"),
    ({"zp-rid": "1"}, "https://gw.example", "zuplo"),
    ({}, "https://api.anthropic.com", "anthropic"),
    ({}, "https://llm.corp.example", "unknown"),
])
def test_kind_from_headers_and_url_shape(headers: dict, url: str, kind: str) -> None:
    facts = _run(gateway_ctx(url, token="t-1234", transport=_fixed(headers=headers)))
    assert facts["gateway.kind"] == kind, facts["gateway.kind_evidence"]
    assert facts["gateway.health"] is None
    assert facts["gateway.transport_error"] is None


def test_knowledge_file_is_schema_checked_and_every_gateway_has_a_signal() -> None:
    ids = [g["id"] for g in gateways()]
    assert {"litellm", "truefoundry", "zuplo", "portkey", "cloudflare", "kong", "envoy",
            "nginx"} <= set(ids)
    assert detect_kind([{"where": "any", "headers": {"x-litellm-version": "1.108.7"}, "body": ""}],
                       "gw", "")[0] == "litellm"


def test_credentials_go_only_to_v1_routes() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"detail": "Not Found"})

    gateway_http.run(gateway_ctx("http://gw.test", token="tok-secret",
                                 transport=httpx.MockTransport(handler)))
    for req in seen:
        has_cred = "authorization" in req.headers
        assert has_cred == req.url.path.startswith("/v1/"), req.url


def test_both_error_envelopes_are_parsed_and_echoes_scrubbed() -> None:
    assert parse_error(b'{"type":"error","error":{"type":"invalid_request_error",'
                       b'"message":"bad"}}') == ("invalid_request_error", "bad")
    assert parse_error(b'{"error":{"message":"No connected db.","type":"no_db_connection",'
                       b'"code":"400"}}') == ("no_db_connection", "No connected db.")
    assert parse_error(b'{"error":{"message":{"error":"x: Invalid model name passed in model=m."},'
                       b'"type":"None"}}') == (None, "x: Invalid model name passed in model=m.")
    assert parse_error(b'{"detail":"Not Found"}') == ("detail", "Not Found")
    assert parse_error(b"<html>no</html>") == (None, None)
    text = ("Invalid proxy server token passed. Received API Key = sk-wro****, "
            "Key Hash (Token) =262b78")
    assert "sk-wro" not in scrub(text) and "262b78" not in scrub(text)
    assert scrub("Bearer abcdefgh and sk-live-123456", ["abcdefgh"]) == \
        "Bearer <redacted> and sk-<redacted>"


def test_refused_port_is_a_transport_error_and_gwy001_fires() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    facts = _run(gateway_ctx(f"http://127.0.0.1:{port}", token="t-1234"))
    assert facts["gateway.transport_error"] == "refused"
    assert facts["gateway.root"]["error"] == "refused"
    assert facts["gateway.count_tokens"] is None
    assert fire(facts, "GWY001")


def test_silent_gateway_is_a_timeout_bounded_by_the_probe_timeout() -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)  # accepts TCP, never answers
        port = srv.getsockname()[1]
        facts = _run(gateway_ctx(f"http://127.0.0.1:{port}", token="t-1234", timeout=0.5))
    assert facts["gateway.transport_error"] == "timeout"
    assert facts["gateway.root"]["duration_ms"] < 1500
    assert fire(facts, "GWY002")


def test_skipped_when_tcp_already_failed() -> None:
    with pytest.raises(ProbeSkipped, match="connect.gateway: refused"):
        gateway_http.run(gateway_ctx("http://gw.test", connect__gateway={"status": "refused"}))


# ---- real LiteLLM / fake gateways ---------------------------------------------------------

@pytest.mark.live
def test_litellm_is_recognised_with_health_and_count_tokens(litellm_gateway) -> None:
    facts = _run(gateway_ctx(litellm_gateway.url, token=litellm_gateway.master_key))
    assert facts["gateway.kind"] == "litellm"
    assert "I'm alive!" in facts["gateway.kind_evidence"]
    health = facts["gateway.health"]
    assert health["liveliness"]["status"] == 200 and health["db"] == "Not connected"
    assert facts["gateway.count_tokens"]["status"] == 200
    assert facts["gateway.transport_error"] is None
    assert not fire(facts, "GWY010")
    assert litellm_gateway.master_key not in json.dumps(facts)


@pytest.mark.live
def test_litellm_under_v1_base_still_found_at_the_origin(litellm_gateway) -> None:
    facts = _run(gateway_ctx(litellm_gateway.url + "/v1", token=litellm_gateway.master_key))
    assert facts["gateway.kind"] == "litellm"
    assert facts["gateway.count_tokens"]["status"] == 404
    assert facts["gateway.health"]["liveliness"]["url"] == \
        f"{litellm_gateway.url}/health/liveliness"
    found = fire(facts, "GWY003")
    assert found and f'ANTHROPIC_BASE_URL="{litellm_gateway.url}"' in found[0].fixes[0].snippet
    assert not fire(facts, "GWY010")


@pytest.mark.live
def test_html_login_page_is_recorded(fake_gateway) -> None:
    gw = fake_gateway("html_login")
    facts = _run(gateway_ctx(gw.url, token="t-1234"))
    assert facts["gateway.kind"] == "unknown"
    assert facts["gateway.count_tokens"]["content_type"].startswith("text/html")
    assert "Sign in - Corp SSO" in facts["gateway.count_tokens"]["body_excerpt"]
    assert fire(facts, "GWY011")
