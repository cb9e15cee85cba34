"""Provider mode without the client: the route table, SigV4, Bedrock event-stream frames and fault
classes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from gwdoctor.probes._provider_route import (
    bedrock_host,
    provider_route,
    vertex_host,
    vertex_region_var,
)
from gwdoctor.probes._provider_wire import (
    classify,
    eventstream_events,
    provider_error,
    sigv4_headers,
)

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests/live"))

from _provider_fake import bedrock_stream, eventstream_frame  # noqa: E402


def _req(role: str, sent: str, source: object = "default", configured: str | None = None) -> dict:
    return {"role": role, "configured": configured or sent, "sent": sent, "source": source,
            "remapped": False}


DEFAULTS = [_req("main", "claude-opus-5-5"), _req("opus", "claude-opus-5-5"),
            _req("sonnet", "claude-sonnet-5-5"), _req("haiku", "claude-haiku-5-5"),
            _req("background", "claude-haiku-5-5")]


def _defaults(mode: str) -> list[dict]:
    """What config.settings predicts for 2.1.332 with no model set, in ``mode``: provider-mode
    default ids come from knowledge (provider_default_models, captured)."""
    from gwdoctor.probes._effective import model_facts
    from gwdoctor.probes.client_behaviour import client_behaviour

    return model_facts({}, (None, None), client_behaviour("2.1.332"), mode)["model.requested"]


@pytest.mark.parametrize(("region", "host"), [
    ("global", "aiplatform.googleapis.com"), ("us", "aiplatform.us.rep.googleapis.com"),
    ("eu", "aiplatform.eu.rep.googleapis.com"),
    ("europe-west1", "europe-west1-aiplatform.googleapis.com")])
def test_vertex_hosts(region: str, host: str) -> None:
    assert vertex_host(region) == host


def test_bedrock_hosts_and_fips_in_govcloud() -> None:
    assert bedrock_host("eu-west-1") == "bedrock-runtime.eu-west-1.amazonaws.com"
    assert bedrock_host("us-gov-west-1") == "bedrock-runtime-fips.us-gov-west-1.amazonaws.com"


def test_vertex_region_table_takes_the_first_match() -> None:
    # claude-sonnet-5-5 must not fall into claude-sonnet-5's variable (the table's order matters)
    assert vertex_region_var("claude-sonnet-5-5") == "VERTEX_REGION_CLAUDE_5_5_SONNET"
    assert vertex_region_var("claude-sonnet-5") == "VERTEX_REGION_CLAUDE_5_SONNET"
    assert vertex_region_var("claude-haiku-4-5@20251001") == "VERTEX_REGION_CLAUDE_HAIKU_4_5"
    assert vertex_region_var("gemini-2.5-pro") is None


def test_bedrock_direct_route_per_region_with_defaults_prefixed() -> None:
    bedrock = {"region": "eu-west-1", "region_prefix": "eu", "skip_auth": False, "base_url": None,
               "credentials": {"kind": "env"}}
    route = provider_route("bedrock", lambda v: None, bedrock, None, _defaults("bedrock"))
    assert route["host"] == "bedrock-runtime.eu-west-1.amazonaws.com" and route["override"] is False
    assert [r["model"] for r in route["requests"]] == [
        "eu.anthropic.claude-opus-5-5", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "eu.anthropic.claude-haiku-4-5-20251001-v1:0"]
    assert route["requests"][0]["path"] == ("/model/eu.anthropic.claude-opus-5-5/"
                                            "invoke-with-response-stream")
    assert (route["auth"] == "sigv4"
            and route["control"]["host"] == "bedrock.eu-west-1.amazonaws.com")


def test_bedrock_small_fast_region_only_for_background_roles() -> None:
    env = {"ANTHROPIC_SMALL_FAST_MODEL_AWS_REGION": "us-west-2",
           "ANTHROPIC_DEFAULT_HAIKU_MODEL": "us.anthropic.claude-haiku-4-5-20251001-v1:0"}
    bedrock = {"region": "us-east-1", "region_prefix": "us", "skip_auth": True, "base_url": None}
    requested = [_req("main", "claude-opus-5-5"),
                 _req("haiku", "us.anthropic.claude-haiku-4-5-20251001-v1:0", {"layer": "shell"}),
                 _req("background", "us.anthropic.claude-haiku-4-5-20251001-v1:0",
                      {"layer": "shell"})]
    route = provider_route("bedrock", env.get, bedrock, None, requested)
    haiku = route["requests"][1]
    assert (haiku["region"] == "us-west-2"
            and haiku["host"] == "bedrock-runtime.us-west-2.amazonaws.com")
    assert route["host"] == "bedrock-runtime.us-east-1.amazonaws.com"  # the main model's
    assert route["auth"] == "none"


def test_vertex_override_keeps_its_path_and_per_model_location() -> None:
    env = {"VERTEX_REGION_CLAUDE_HAIKU_4_5": "global"}
    vertex = {"region": "us-east5", "project_id": "acme", "skip_auth": True,
              "base_url": "http://127.0.0.1:4000/vertex_ai/v1"}
    route = provider_route("vertex", env.get, None, vertex, _defaults("vertex"))
    assert (route["host"] == "127.0.0.1" and route["port"] == 4000
            and route["path"] == "/vertex_ai/v1")
    paths = {r["model"]: r["path"] for r in route["requests"]}
    assert paths["claude-opus-5-5"] == ("/vertex_ai/v1/projects/acme/locations/us-east5/"
                                        "publishers/anthropic/"
                                        "models/claude-opus-5-5:streamRawPredict")
    assert "/locations/global/" in paths["claude-haiku-4-5@20251001"]


def test_anthropic_mode_has_no_provider_route() -> None:
    assert provider_route("anthropic", lambda v: None, None, None, DEFAULTS) is None


def test_eventstream_frames_round_trip_and_a_bad_crc_is_caught() -> None:
    data = b"".join(bedrock_stream("m"))
    events, exception, framing = eventstream_events(data)
    assert (events[0] == "message_start" and events[-1] == "message_stop" and framing
            and exception is None)
    broken = bytearray(data)
    broken[9] ^= 0xFF  # the prelude CRC
    assert eventstream_events(bytes(broken))[2] is False
    exc = eventstream_frame({":message-type": "exception",
                             ":exception-type": "throttlingException"}, b"{}")
    assert eventstream_events(exc)[1] == "throttlingException"


def test_provider_error_bodies() -> None:
    assert provider_error(400,
                          {"x-amzn-errortype": "ValidationException:http://internal.amazon.com/"},
                          b'{"message":"The provided model identifier is invalid."}') == (
        "ValidationException", "The provided model identifier is invalid.")
    assert provider_error(404, {}, json.dumps({"error": {
        "code": 404, "status": "NOT_FOUND", "message": "Publisher Model x"}}).encode()) == (
        "NOT_FOUND", "Publisher Model x")


@pytest.mark.parametrize(("status", "etype", "message", "fault"), [
    (400, "ValidationException", "The provided model identifier is invalid.", "model_not_offered"),
    (400, None, "allm_passthrough_route: Invalid model name passed in model=x",
     "model_not_offered"),
    (400, "ValidationException",
     "Invocation of model ID anthropic.x with on-demand throughput isn\u2019t supported.",
     "needs_profile"),
    (404, "NOT_FOUND",
     "Publisher Model `projects/p/locations/r/publishers/anthropic/models/m` was not found",
     "model_not_in_region"),
    (403, "AccessDeniedException",
     "You don't have access to the model with the specified model ID.", "access_denied"),
    (403, "UnrecognizedClientException",
     "The security token included in the request is invalid.", "credentials"),
    (401, "auth_error", "Authentication Error, No api key passed in.", "credentials"),
    (400, "no_db_connection", "No connected db.", "credentials"),
    (429, "ThrottlingException", "Too many requests", "quota"),
    (404, None, "Not Found", "route_not_found"),
    (502, None, "bad gateway", "upstream_error"),
])
def test_fault_classes(status: int, etype: str | None, message: str, fault: str) -> None:
    assert classify(status, None, etype, message) == fault


def test_sigv4_matches_botocore() -> None:
    """The signature the probe sends is the one botocore (the AWS reference implementation,
    installed with LiteLLM in the lab) computes for the same request."""
    when = datetime(2026, 12, 6, 12, 0, 0, tzinfo=timezone.utc)
    url = ("https://bedrock-runtime.eu-west-1.amazonaws.com/model/"
           "eu.anthropic.claude-opus-4-5-20251101-v1:0/invoke-with-response-stream")
    body = b'{"anthropic_version":"bedrock-2023-05-31","max_tokens":1}'
    mine = sigv4_headers("POST", url, body, access_key="AKIDEXAMPLE",
                         secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                         session_token=None, region="eu-west-1", now=when)
    lab_python = REPO / ".lab/litellm/bin/python"
    script = f"""
import hashlib
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
body = {body!r}
req = AWSRequest(method="POST", url={url!r}, data=body,
                 headers={{"x-amz-content-sha256": hashlib.sha256(body).hexdigest(), \
"X-Amz-Date": "20261206T120000Z"}})
req.context["timestamp"] = "20261206T120000Z"
auth = SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), \
"bedrock", "eu-west-1")
print(auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req))
"""
    done = subprocess.run([str(lab_python), "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert mine["authorization"].endswith(f"Signature={done.stdout.strip()}")
    assert "SignedHeaders=host;x-amz-content-sha256;x-amz-date," in mine["authorization"]


def test_a_model_id_with_undecodable_bytes_does_not_crash_the_route() -> None:
    """Found by the fuzz tier: a Vertex or Bedrock model id from the environment that holds a lone
    surrogate made route.target raise UnicodeEncodeError in quote()."""
    vertex = {"region": "us-east5", "project_id": "p", "skip_auth": True, "base_url": None}
    requested = [_req("main", "claude-\udcff-opus", {"layer": "shell"}),
                 _req("haiku", "claude-\ud800", {"layer": "shell"})]
    route = provider_route("vertex", lambda v: None, None, vertex, requested)
    assert [r["path"].rsplit("/", 1)[1] for r in route["requests"]] == [
        "claude-%FF-opus:streamRawPredict", "claude-%3F:streamRawPredict"]
    bedrock = {"region": "us-east-1", "region_prefix": "us", "skip_auth": True, "base_url": None}
    route = provider_route("bedrock", lambda v: None, bedrock, None, requested[:1])
    assert "claude-%FF-opus" in route["requests"][0]["path"]
