"""Provider mode, captured: what Claude Code 2.1.332 sends in Bedrock and Vertex mode, compared
with the route gwdoctor's probes follow (``route.target``).

Through a base-URL override the client talks to a loopback recorder that answers in the
provider's wire format (tests/live/_provider_fake.py), so it finishes after one request per
model. Without an override (the cloud's own endpoint) the client runs in a fresh network
namespace (``unshare --net``, loopback only) behind a recording proxy that refuses every
tunnel: the CONNECT target is the host it would reach, and nothing leaves the machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from _provider_lab import (
    AWS,
    GWDOCTOR,
    ProviderFake,
    Recorder,
    _capture,
    _env,
    _posts,
    _probed,
    _route,
    _run_client,
)

pytestmark = pytest.mark.client


@pytest.mark.parametrize("mode", ["bedrock", "vertex"])
def test_probes_hit_the_client_path(mode: str) -> None:
    """The model probe posts to exactly the path the client streams to, with the same
    credential headers (none under the skip variable), the same anthropic-version and body
    version, and never anywhere near /v1/messages."""
    extra, var, base = ((BEDROCK_SKIP, "ANTHROPIC_BEDROCK_BASE_URL", "/bedrock")
                        if mode == "bedrock"
                        else (VERTEX_SKIP, "ANTHROPIC_VERTEX_BASE_URL", "/vertex_ai/v1"))
    _done, client, _route_fact = _capture(extra, base_var=var, base_path=base)
    probe = _probed(extra, base_var=var, base_path=base)
    client_main = _streams(client)[0]
    probe_posts = _posts(probe)
    assert client_main.path in {e.path for e in probe_posts}, [e.path for e in probe_posts]
    mine = [e for e in probe_posts if e.path == client_main.path][0]
    for header in ("authorization", "x-api-key"):
        assert (header in mine.headers) == (header in client_main.headers)
    assert mine.headers["anthropic-version"] == client_main.headers["anthropic-version"]
    assert mine.json["anthropic_version"] == client_main.json["anthropic_version"]
    assert not any(e.path.endswith("/v1/messages") for e in probe)


def test_bedrock_gateway_skip_auth_main_model() -> None:
    done, seen, route = _capture({"CLAUDE_CODE_USE_BEDROCK": "1",
                                  "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1"},
                                 base_var="ANTHROPIC_BEDROCK_BASE_URL", base_path="/bedrock")
    assert "Hello from fake upstream." in done.stdout, done.stdout + done.stderr
    first = _posts(seen)[0]  # without credentials there is no availability check first
    assert (first.method, first.path) == (
        "POST", "/bedrock/model/us.anthropic.claude-opus-5-5/invoke-with-response-stream")
    assert "authorization" not in first.headers and "x-api-key" not in first.headers
    assert first.json["anthropic_version"] == "bedrock-2023-05-31" and "model" not in first.json
    control = [e for e in seen if e.method == "GET"]
    assert control and (control[0].path, control[0].query) == ("/bedrock/inference-profiles",
                                                                "type=SYSTEM_DEFINED")
    # What the probes hit: the same path on the same host, no credential header.
    assert route["requests"][0]["path"] == first.path
    assert route["host"] == "127.0.0.1" and route["auth"] == "none"
    assert route["control"]["url"].endswith("/bedrock/inference-profiles?type=SYSTEM_DEFINED")


def _streams(exchanges: list[Any]) -> list[Any]:
    return [e for e in _posts(exchanges)
            if e.path.endswith(("invoke-with-response-stream", ":streamRawPredict"))]


def test_bedrock_gateway_sigv4_region_prefix() -> None:
    """With credentials the client signs with SigV4 for AWS_REGION, prefixes the default model
    with that region's inference-profile geography, and (2.1.332) first sends max_tokens: 1
    ``/invoke`` availability checks; the conversation itself streams."""
    extra = {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "eu-west-1", **AWS,
             "ANTHROPIC_DEFAULT_HAIKU_MODEL": "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
             "ANTHROPIC_SMALL_FAST_MODEL_AWS_REGION": "us-west-2"}
    done, seen, route = _capture(extra, base_var="ANTHROPIC_BEDROCK_BASE_URL", base_path="/bedrock")
    assert "Hello from fake upstream." in done.stdout, done.stdout + done.stderr
    main = _streams(seen)[0]
    assert main.path == "/bedrock/model/eu.anthropic.claude-opus-5-5/invoke-with-response-stream"
    assert re.match(r"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/\d{8}/eu-west-1/bedrock/"
                    r"aws4_request", main.headers["authorization"])
    assert route["requests"][0]["path"] == main.path and route["auth"] == "sigv4"
    # ANTHROPIC_SMALL_FAST_MODEL_AWS_REGION is for the background (haiku) requests only: with
    # --model haiku the haiku model is the main one and goes to AWS_REGION, as predicted.
    done, seen, route = _capture(extra, "haiku", base_var="ANTHROPIC_BEDROCK_BASE_URL",
                                 base_path="/bedrock")
    main = _streams(seen)[0]
    assert main.path == ("/bedrock/model/eu.anthropic.claude-haiku-4-5-20251001-v1:0/"
                         "invoke-with-response-stream")
    assert "/eu-west-1/bedrock/" in main.headers["authorization"]
    assert (route["requests"][0]["path"] == main.path
            and route["requests"][0]["region"] == "eu-west-1")


def test_vertex_gateway_skip_auth_main_and_haiku_region() -> None:
    extra = {"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
             "ANTHROPIC_VERTEX_PROJECT_ID": "acme-claude-prod", "CLOUD_ML_REGION": "us-east5",
             "VERTEX_REGION_CLAUDE_HAIKU_5_5": "global"}
    done, seen, route = _capture(extra, base_var="ANTHROPIC_VERTEX_BASE_URL",
                                 base_path="/vertex_ai/v1")
    assert "Hello from fake upstream." in done.stdout, done.stdout + done.stderr
    first = _posts(seen)[0]
    assert first.path == ("/vertex_ai/v1/projects/acme-claude-prod/locations/us-east5/"
                          "publishers/anthropic/models/claude-opus-5-5:streamRawPredict")
    assert "authorization" not in first.headers
    assert first.headers["anthropic-version"] == "2023-06-01"
    assert first.json["anthropic_version"] == "vertex-2023-10-16" and first.json["stream"] is True
    assert route["requests"][0]["path"] == first.path and route["auth"] == "none"
    # --model haiku: in Vertex mode the haiku alias is claude-haiku-4-5@20251001 (not the
    # Anthropic-mode claude-haiku-5-5), so VERTEX_REGION_CLAUDE_HAIKU_4_5 picks its location.
    done, seen, route = _capture({**extra, "VERTEX_REGION_CLAUDE_HAIKU_4_5": "global"}, "haiku",
                                 base_var="ANTHROPIC_VERTEX_BASE_URL", base_path="/vertex_ai/v1")
    first = _streams(seen)[0]
    assert first.path.endswith("/locations/global/publishers/anthropic/models/"
                               "claude-haiku-4-5@20251001:streamRawPredict")
    assert (route["requests"][0]["path"] == first.path
            and route["requests"][0]["region_var"] == "VERTEX_REGION_CLAUDE_HAIKU_4_5")


BEDROCK_SKIP = {"CLAUDE_CODE_USE_BEDROCK": "1", "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1"}
VERTEX_SKIP = {"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
               "ANTHROPIC_VERTEX_PROJECT_ID": "acme-claude-prod", "CLOUD_ML_REGION": "us-east5"}


@pytest.mark.parametrize(("mode", "alias", "sent"), [
    ("bedrock", "opus", "us.anthropic.claude-opus-5-5"),
    ("bedrock", "sonnet", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("bedrock", "haiku", "us.anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("vertex", "opus", "claude-opus-5-5"),
    ("vertex", "sonnet", "claude-sonnet-5-5"),
    ("vertex", "haiku", "claude-haiku-4-5@20251001"),
])
def test_provider_default_models(mode: str, alias: str, sent: str) -> None:
    """The built-in aliases in provider mode (knowledge/client.yaml provider_default_models)."""
    extra, var, base = ((BEDROCK_SKIP, "ANTHROPIC_BEDROCK_BASE_URL", "/bedrock")
                        if mode == "bedrock"
                        else (VERTEX_SKIP, "ANTHROPIC_VERTEX_BASE_URL", "/vertex_ai/v1"))
    done, seen, route = _capture(extra, alias, base_var=var, base_path=base)
    first = _streams(seen)[0]
    assert f"/{sent}/" in first.path or f"/{sent}:" in first.path, first.path
    assert route["requests"][0]["model"] == sent and route["requests"][0]["path"] == first.path


MANTLE = {"CLAUDE_CODE_USE_MANTLE": "1", "CLAUDE_CODE_SKIP_MANTLE_AUTH": "1",
          "AWS_REGION": "us-west-2"}


@pytest.mark.parametrize(("alias", "sent"), [(None, "anthropic.claude-opus-5-5"),
                                             ("sonnet", "anthropic.claude-sonnet-5"),
                                             ("haiku", "anthropic.claude-haiku-4-5")])
def test_mantle_gateway_route_and_probe(alias: str | None, sent: str) -> None:
    """Bedrock Mantle speaks the Anthropic Messages API under its base URL, with ``anthropic.<id>``
    in the body; gwdoctor's model probe posts the same path, query and model."""
    with Recorder() as rec, tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp), {**MANTLE,
                               "ANTHROPIC_BEDROCK_MANTLE_BASE_URL": rec.url + "/mantle"})
        done = _run_client(env, alias)
        client = list(rec.exchanges)
        route = _route(env, alias)
        probe_env = {**env, **({"ANTHROPIC_MODEL": alias} if alias else {})}
        subprocess.run([str(GWDOCTOR), "scan", "--format", "json", "--fail-on", "never",
                        "--timeout", "3"],
                       env=probe_env, capture_output=True, text=True, timeout=60, cwd=tmp)
        probe = rec.exchanges[len(client):]
    assert done.returncode == 0, done.stdout + done.stderr
    main = _posts(client)[0]
    assert (main.path, main.query, main.model) == ("/mantle/v1/messages", "beta=true", sent)
    assert route["requests"][0]["model"] == sent and route["requests"][0]["path"] == main.path
    assert any((e.path, e.query, e.model) == (main.path, main.query, sent)
               for e in _posts(probe)), [(e.path, e.model) for e in probe]


@pytest.mark.parametrize("no_proxy", [None, "127.0.0.1"], ids=["through-proxy", "no-proxy-bypass"])
def test_proxy_rules_on_the_provider_route(no_proxy: str | None) -> None:
    """HTTPS_PROXY and NO_PROXY apply to the provider route's host as to a gateway's: the client
    sends its Bedrock requests through the proxy unless NO_PROXY covers the base URL's host, and
    proxy.route says the same."""
    from gwdoctor.probes._recorder import RecordingProxy

    fake = ProviderFake(require_auth=False, prefix="/bedrock")
    with Recorder(responder=fake.respond) as rec, RecordingProxy() as px, \
            tempfile.TemporaryDirectory() as tmp:
        extra = {**BEDROCK_SKIP, "ANTHROPIC_BEDROCK_BASE_URL": rec.url + "/bedrock",
                 "HTTPS_PROXY": px.url, **({"NO_PROXY": no_proxy} if no_proxy else {})}
        env = _env(Path(tmp), extra)
        done = _run_client(env)
        out = subprocess.run([str(GWDOCTOR), "scan", "--offline", "--format", "json", "--fail-on",
                              "never"],
                             env=env, capture_output=True, text=True, timeout=60, cwd=tmp)
        route = json.loads(out.stdout)["facts"]["proxy.route"]
    assert "Hello from fake upstream." in done.stdout, done.stdout + done.stderr
    proxied = [e for e in px.exchanges if "/model/" in (e.path or e.target)]
    assert bool(proxied) == (no_proxy is None), [(e.via, e.target) for e in px.exchanges]
    assert route["used"] is (no_proxy is None)


@pytest.mark.parametrize("extra_ca", [True, False], ids=["ca-given", "ca-missing"])
def test_tls_rules_on_the_provider_route(extra_ca: bool, tmp_path: Path) -> None:
    """An https:// Bedrock base URL with a private-CA certificate: the client needs the CA in
    NODE_EXTRA_CA_CERTS like for any gateway, and gwdoctor's TLS probe checks that host
    (TLS001 without the CA, no TLS finding with it)."""
    import ssl

    import trustme

    ca = trustme.CA()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    fake = ProviderFake(require_auth=False, prefix="/bedrock")
    with Recorder(responder=fake.respond, tls=ctx, host="127.0.0.1") as rec, \
            tempfile.TemporaryDirectory() as tmp:
        base = f"https://localhost:{rec.port}/bedrock"
        env = _env(Path(tmp), {**BEDROCK_SKIP, "ANTHROPIC_BEDROCK_BASE_URL": base,
                               **({"NODE_EXTRA_CA_CERTS": str(ca_file)} if extra_ca else {})})
        done = _run_client(env)
        out = subprocess.run([str(GWDOCTOR), "scan", "--format", "json", "--fail-on", "never",
                              "--timeout", "3"],
                             env=env, capture_output=True, text=True, timeout=60, cwd=tmp)
        report = json.loads(out.stdout)
    answered = "Hello from fake upstream." in done.stdout
    assert answered is extra_ca, done.stdout + done.stderr
    ids = [f["rule_id"] for f in report["findings"]]
    assert report["facts"]["tls.handshake"]["status"] == "ok"
    assert report["facts"]["tls.verify.client"]["trusted"] is extra_ca
    assert ("TLS001" in ids) is (not extra_ca) and (report["verdict"] == "healthy") is extra_ca, (
        report["findings"])
