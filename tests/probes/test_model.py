"""model.messages: one streaming max_tokens=1 request per model; SSE order and timing; no-beta
retry.

Unit tests use MockTransport; live tests use the real LiteLLM in front of the fake upstream and
the fake playing broken gateways.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from gwdoctor.engine import ProbeContext, ProbeSkipped
from gwdoctor.probes.model import model_messages
from live._ctx import fire, gateway_ctx

CANARY = "sk-canary-model-5d8e2b77"
HEALTHY_EVENTS = ["message_start", "content_block_start", "ping", "content_block_delta",
                  "content_block_delta", "content_block_stop", "message_delta", "message_stop"]


def _run(ctx):  # noqa: ANN001, ANN202
    return {**ctx.facts, **model_messages.run(ctx)}


def _by_model(facts: dict) -> dict:
    return {c["model"]: c for c in facts["model.checks"]}


def test_request_shape_and_roles() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = (b"event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
                b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    ctx = gateway_ctx("http://gw.test", token="tok-1234", transport=httpx.MockTransport(handler),
                      models={"main": "m-main", "haiku": "m-small", "background": "m-small"})
    facts = _run(ctx)
    assert len(seen) == 2
    for req in seen:
        assert req.url.path == "/v1/messages" and req.url.params["beta"] == "true"
        body = json.loads(req.content)
        assert body["max_tokens"] == 1 and body["stream"] is True
        assert req.headers["authorization"] == "Bearer tok-1234"
        assert "anthropic-beta" in req.headers
    checks = _by_model(facts)
    assert checks["m-small"]["roles"] == ["background", "haiku"]
    assert checks["m-main"]["sse"]["complete"] is True


def test_failure_is_retried_once_without_the_beta_header() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "anthropic-beta" in request.headers:
            return httpx.Response(400, json={"type": "error", "error": {
                "type": "invalid_request_error", "message": "invalid beta flag"}})
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              content=b"event: message_start\ndata: {}\n\n"
                                      b"event: message_stop\ndata: {}\n\n")

    ctx = gateway_ctx("http://gw.test", token="t-1234", transport=httpx.MockTransport(handler),
                      models={"main": "m"})
    check = _run(ctx)["model.checks"][0]
    assert check["status"] == 400 and check["error_message"] == "invalid beta flag"
    assert check["without_beta"]["status"] == 200 and check["without_beta"]["complete"]


def test_skipped_without_models_or_with_a_dead_gateway() -> None:
    with pytest.raises(ProbeSkipped):
        model_messages.run(gateway_ctx("http://gw.test", model__distinct=[]))
    with pytest.raises(ProbeSkipped):
        model_messages.run(gateway_ctx("http://gw.test", gateway__transport_error="timeout"))


# ---- the request padded to the client's size (a body-size limit on the route) ---------------

NGINX_413 = (b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
             b"<center><h1>413 Request Entity Too Large</h1></center>\r\n"
             b"<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n")
STREAM = b"event: message_start\ndata: {}\n\nevent: message_stop\ndata: {}\n\n"


def _limited(limit: int, seen: list[int]):  # noqa: ANN202
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(len(request.content))
        if len(request.content) > limit:
            return httpx.Response(413, headers={"content-type": "text/html"}, content=NGINX_413)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=STREAM)
    return handler


def test_only_the_main_models_request_is_padded_to_the_clients_size_with_whitespace() -> None:
    from gwdoctor.probes._netenv import behaviour
    from gwdoctor.probes.model import PAD_HEADROOM, pad_size

    bodies: dict[str, bytes] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        bodies[json.loads(request.content)["model"]] = request.content
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=STREAM)

    ctx = gateway_ctx("http://gw.test", token="t-1234", transport=httpx.MockTransport(handler),
                      models={"main": "m-main", "haiku": "m-small"})
    facts = _run(ctx)
    size = pad_size(behaviour(ctx))
    assert size == int(behaviour(ctx)["print_first_request_bytes"] * PAD_HEADROOM) > 50_000
    assert len(bodies["m-main"]) == size and len(bodies["m-small"]) < 200
    assert json.loads(bodies["m-main"]) == json.loads(bodies["m-small"]) | {"model": "m-main"}
    assert bodies["m-main"].strip(b"{ ").startswith(b'"model"')  # only spaces were added
    checks = _by_model(facts)
    assert checks["m-main"]["large_request"] == {
        "bytes": size, "status": 200, "error": None, "error_type": None, "error_message": None,
        "content_type": "text/event-stream", "body_excerpt": None, "complete": True,
        "unpadded": None, "again": None}
    assert checks["m-small"]["large_request"] is None


def test_a_413_for_the_padded_request_only_is_confirmed_unpadded_and_recorded() -> None:
    from gwdoctor.probes.faults import http_faults

    seen: list[int] = []
    ctx = gateway_ctx("http://gw.test", token="t-1234",
                      transport=httpx.MockTransport(_limited(16384, seen)), models={"main": "m"})
    facts = _run(ctx)
    check = facts["model.checks"][0]
    assert len(seen) == 2 and seen[0] > 16384 > seen[1]
    assert check["status"] == 200 and check["sse"]["complete"]  # the model is judged unpadded
    large = check["large_request"]
    assert large["status"] == 413 and large["body_excerpt"].startswith(
        "[html] 413 Request Entity Too Large")
    assert (large["unpadded"]["status"] == 200 and large["unpadded"]["complete"]
            and large["again"] is None)
    faults = http_faults.run(ProbeContext(env={}, facts=facts))["http.faults"]
    assert faults == {"model.checks[m].large_request": ["http.body_too_large"]}


def test_a_padded_failure_that_is_not_a_413_is_asked_again_before_the_size_is_blamed() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(len(request.content))
        if len(calls) == 1:  # a one-off error page from a front on the first (padded) request
            return httpx.Response(502, headers={"content-type": "text/html"},
                                  content=b"<html><head><title>502 Bad Gateway</title></head>"
                                          b"</html>")
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=STREAM)

    facts = _run(gateway_ctx("http://gw.test", token="t-1234",
                             transport=httpx.MockTransport(handler), models={"main": "m"}))
    large = facts["model.checks"][0]["large_request"]
    assert large["status"] == 502 and large["unpadded"]["complete"] and large["again"]["complete"]
    assert calls[0] == calls[2] > calls[1]


def test_an_api_error_for_the_padded_request_is_the_models_answer_with_no_extra_request() -> None:
    """The gateway's own JSON error says the same of a small request; asking again would only add
    a failure (LiteLLM cools a model down after two)."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(401, json={"error": {"message": "bad key", "type": "auth_error"}})

    facts = _run(gateway_ctx("http://gw.test", token="t-1234",
                             transport=httpx.MockTransport(handler), models={"main": "m"}))
    check = facts["model.checks"][0]
    assert check["status"] == 401 and check["error_message"] == "bad key"
    assert check["large_request"]["status"] == 401 and check["large_request"]["unpadded"] is None
    # the padded request, then the same without anthropic-beta (the beta check), as before padding
    assert len(calls) == 2 and "anthropic-beta" not in calls[1].headers


def test_a_version_with_no_captured_request_size_is_not_padded() -> None:
    seen: list[int] = []
    facts = _run(gateway_ctx("http://gw.test", token="t-1234",
                             transport=httpx.MockTransport(_limited(16384, seen)),
                             models={"main": "m"}, client__version="2.1.150"))
    assert seen and max(seen) < 200 and facts["model.checks"][0]["large_request"] is None


# ---- real LiteLLM -------------------------------------------------------------------------

@pytest.mark.live
def test_healthy_litellm_streams_every_default_model_incrementally(litellm_gateway) -> None:
    ctx = gateway_ctx(litellm_gateway.url, token=litellm_gateway.master_key)
    t0 = time.monotonic()
    facts = _run(ctx)
    elapsed = time.monotonic() - t0
    checks = _by_model(facts)
    # gateway_ctx models 2.1.332's defaults (knowledge); the lab serves what the client sends.
    assert set(checks) == {"claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5"}
    for check in checks.values():
        assert check["status"] == 200, check
        assert check["sse"]["events"] == HEALTHY_EVENTS
        assert check["sse"]["complete"] and check["sse"]["incremental"], check["sse"]
        assert check["without_beta"] is None
    assert elapsed < 1.5, f"healthy model probe took {elapsed:.2f} s"
    for rule_id in ("GWY006", "GWY007", "GWY008", "MDL001", "MDL002"):
        assert not fire(facts, rule_id), rule_id


@pytest.mark.live
def test_openai_translated_model_streams_too(litellm_gateway) -> None:
    ctx = gateway_ctx(litellm_gateway.url, token=litellm_gateway.master_key,
                      models={"main": "gemini-2.5-pro"})
    check = _run(ctx)["model.checks"][0]
    assert check["status"] == 200 and check["sse"]["complete"], check


@pytest.mark.live
def test_unknown_models_are_400_invalid_model_and_mdl001_mdl002_fire(litellm_gateway) -> None:
    ctx = gateway_ctx(litellm_gateway.url, token=litellm_gateway.master_key,
                      models={"main": "claude-opus-9", "haiku": "claude-haiku-9",
                              "background": "claude-haiku-9"})
    from gwdoctor.probes.auth import gateway_models

    facts = {**_run(ctx), **gateway_models.run(ctx)}
    check = _by_model(facts)["claude-opus-9"]
    assert check["status"] == 400
    assert "Invalid model name passed in model=claude-opus-9" in check["error_message"]
    main = fire(facts, "MDL001")
    assert len(main) == 1 and "claude-opus-9" in main[0].message
    snippets = " ".join(f.snippet for f in main[0].fixes)
    assert ('ANTHROPIC_MODEL="claude-opus-5-5"' in snippets
            and "model_name: claude-opus-9" in snippets)
    background = fire(facts, "MDL002")
    assert background and ('ANTHROPIC_DEFAULT_HAIKU_MODEL="claude-haiku-5-5"'
                           in background[0].fixes[0].snippet)


@pytest.mark.live
def test_upstream_failures_are_told_apart_from_the_clients_credential(litellm_gateway) -> None:
    models = {"main": "claude-upstream-500", "opus": "claude-upstream-429",
              "sonnet": "claude-upstream-401"}
    facts = _run(gateway_ctx(litellm_gateway.url, token=litellm_gateway.master_key, models=models))
    checks = _by_model(facts)
    assert checks["claude-upstream-500"]["status"] == 500
    assert checks["claude-upstream-429"]["status"] == 429
    up401 = checks["claude-upstream-401"]
    assert up401["status"] == 401 and "litellm.AuthenticationError" in up401["error_message"]
    upstream = {f.evidence["model"] for f in fire(facts, "GWY008")}
    assert upstream == {"claude-upstream-500", "claude-upstream-401"}
    assert fire(facts, "GWY009")
    assert not fire(facts, "MDL001") and not fire(facts, "GWY006")


@pytest.mark.live
def test_buffered_cut_and_html_streams_are_detected(litellm_gateway) -> None:
    models = {"main": "claude-upstream-buffered", "opus": "claude-upstream-cut",
              "sonnet": "claude-upstream-html"}
    facts = _run(gateway_ctx(litellm_gateway.url, token=litellm_gateway.master_key, models=models))
    checks = _by_model(facts)
    buffered = checks["claude-upstream-buffered"]["sse"]
    assert buffered["complete"] and not buffered["incremental"], buffered
    html = checks["claude-upstream-html"]
    assert html["status"] == 200 and html["error_type"] == "html_body"
    stream_findings = " ".join(f.message for f in fire(facts, "GWY007"))
    # LiteLLM sends its headers only with the upstream's first bytes, so a stream held at the
    # source looks exactly like a slow one-token answer: no evidence of a buffering hop.
    assert buffered["held_ms"] is not None and buffered["held_ms"] < 150, buffered
    assert "claude-upstream-buffered" not in stream_findings
    cut = checks["claude-upstream-cut"]
    # NOTE: LiteLLM answers a cut that lands before it commits to streaming with 500
    # "Response payload is not completed"; after that, with a truncated 200 stream.
    if cut["status"] == 200:
        assert not cut["sse"]["complete"] and "message_stop" not in cut["sse"]["events"], cut
        assert "claude-upstream-cut" in stream_findings
    else:
        assert cut["status"] == 500 and "not completed" in cut["error_message"], cut
        assert "claude-upstream-cut" in " ".join(f.message for f in fire(facts, "GWY008"))
    assert fire(facts, "GWY011")


@pytest.mark.live
def test_a_hop_that_sends_headers_then_holds_the_stream_is_called_buffered(fake_gateway) -> None:
    """The evidence GWY007 needs: headers first, then every event at once 250 ms later (what a
    buffering proxy in front of a streaming gateway does). A fast healthy stream stays quiet."""
    fake = fake_gateway("anthropic")
    models = {"main": "claude-upstream-buffered", "opus": "claude-opus-5-5"}
    facts = _run(gateway_ctx(fake.url, token="sk-any", models=models))
    checks = _by_model(facts)
    held = checks["claude-upstream-buffered"]["sse"]
    assert held["complete"] and not held["incremental"] and held["held_ms"] >= 150, held
    messages = " ".join(f.message for f in fire(facts, "GWY007"))
    assert "claude-upstream-buffered" in messages and "after the headers" in messages
    assert "claude-opus-5-5" not in messages, checks["claude-opus-5-5"]["sse"]


@pytest.mark.live
def test_base_url_ending_in_v1_gets_404_and_a_corrected_base(litellm_gateway) -> None:
    ctx = gateway_ctx(litellm_gateway.url + "/v1", token=litellm_gateway.master_key,
                      models={"main": "claude-opus-5-5"})
    facts = _run(ctx)
    check = facts["model.checks"][0]
    assert check["status"] == 404 and check["route_hint"]["base_url"] == litellm_gateway.url
    assert fire(facts, "GWY003") and not fire(facts, "GWY004") and not fire(facts, "MDL001")


@pytest.mark.live
def test_wrong_key_canary_never_reaches_the_facts(litellm_gateway) -> None:
    facts = _run(gateway_ctx(litellm_gateway.url, token=CANARY, models={"main": "claude-opus-5-5"}))
    assert facts["model.checks"][0]["status"] == 400
    assert CANARY not in json.dumps(facts)


# ---- the fake playing broken gateways -----------------------------------------------------

@pytest.mark.live
def test_beta_rejecting_gateway_is_told_apart(fake_gateway) -> None:
    gw = fake_gateway("reject_beta")
    facts = _run(gateway_ctx(gw.url, token="t-1234", models={"main": "claude-opus-5-5"}))
    check = facts["model.checks"][0]
    assert check["status"] == 400 and check["without_beta"]["status"] == 200
    found = fire(facts, "GWY006")
    assert found and found[0].confidence >= 0.95
    assert not fire(facts, "GWY008")


@pytest.mark.live
def test_openai_only_gateway_fires_gwy005(fake_gateway) -> None:
    gw = fake_gateway("openai_only")
    facts = _run(gateway_ctx(gw.url, token="t-1234", models={"main": "claude-opus-5-5"}))
    check = facts["model.checks"][0]
    assert check["status"] == 404 and check["openai_route"] not in (None, 404)
    assert fire(facts, "GWY005") and not fire(facts, "GWY004")


@pytest.mark.live
def test_gateway_under_a_path_prefix_gets_the_prefix_as_fix(fake_gateway) -> None:
    gw = fake_gateway("prefix")
    facts = _run(gateway_ctx(gw.url, token="t-1234", models={"main": "claude-opus-5-5"}))
    assert facts["model.checks"][0]["route_hint"] == {"base_url": f"{gw.url}/api", "status": 200}
    found = fire(facts, "GWY004")
    assert found and f"{gw.url}/api" in found[0].fixes[0].snippet


@pytest.mark.live
def test_direct_fake_upstream_streams_and_a_hang_is_bounded(fake_gateway) -> None:
    gw = fake_gateway("anthropic", hang_s=5)
    t0 = time.monotonic()
    facts = _run(gateway_ctx(gw.url, token="t-1234", timeout=1.0,
                             models={"main": "claude-sonnet-4-5", "haiku": "fake-hang"}))
    assert time.monotonic() - t0 < 2.5
    checks = _by_model(facts)
    assert checks["claude-sonnet-4-5"]["sse"]["complete"]
    assert checks["fake-hang"]["error"] == "timeout" and checks["fake-hang"]["status"] is None
