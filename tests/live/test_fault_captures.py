"""knowledge/faults.yaml, entry by entry, against the real part that writes each answer.

For every fault whose producing part runs here (LiteLLM 1.108.7 in front of the lab's fake
upstream), the part is made to write that answer, the model probe meets it as it would on the
client's route, probes/faults.py classifies what the probe recorded, and the catalogue entry's
`seen` body must be byte for byte what the part wrote: its `source` names the test below.

Entries written by hosted services that cannot run here (the Anthropic API, Bedrock, Vertex AI,
hosted relays) carry a verbatim body from a public report instead, with its address;
tests/test_faults.py classifies those like every other `seen` and keeps each one either
captured by a named test or cited.
"""

from __future__ import annotations

import copy
from typing import Any, Iterator

import httpx
import pytest
from gwdoctor.engine.explain import load_faults
from gwdoctor.probes.faults import classify
from gwdoctor.probes.model import model_messages

from ._ctx import gateway_ctx
from ._fake_upstream import FakeUpstream
from ._litellm import LAB_MODELS, LiteLLM, lab_config, start_litellm
from .network import UNRESOLVABLE_HOST

pytestmark = pytest.mark.live

CAPTURED = "captured from LiteLLM 1.108.7 by tests/live/test_fault_captures.py::"
FAULTS = {f["id"]: f for f in load_faults()["faults"]}

# A LiteLLM custom_auth hook that gives one key a model list, as a virtual key with
# `models: [...]` has: without a database (the lab has none) this is the only way LiteLLM 1.108.7
# runs its own key-model check (custom_auth_run_common_checks) and writes key_model_access_denied.
TEAM_KEY = "sk-team-sonnet-only-7c2d"
_KEY_MODELS = f'''
from fastapi import Request
from litellm.proxy._types import UserAPIKeyAuth


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    if api_key == "{TEAM_KEY}":
        return UserAPIKeyAuth(api_key=api_key, models=["claude-sonnet-4-5"])
    raise Exception("Invalid proxy server token passed")
'''


@pytest.fixture(scope="module")
def litellm_key_models(fake_upstream: FakeUpstream,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiteLLM]:
    """LiteLLM whose only key may use claude-sonnet-4-5 and nothing else the gateway serves."""
    hook_dir = tmp_path_factory.mktemp("litellm-hook")
    (hook_dir / "gwd_key_models.py").write_text(_KEY_MODELS)
    config = copy.deepcopy(lab_config(fake_upstream.url, models=LAB_MODELS))
    config["general_settings"].update(custom_auth="gwd_key_models.user_api_key_auth",
                                      custom_auth_run_common_checks=True)
    config["litellm_settings"]["enable_post_custom_auth_checks"] = True
    gw = start_litellm(config, env={"PYTHONPATH": str(hook_dir)})
    try:
        yield gw
    finally:
        gw.stop()


def _seen(fault_id: str, test_name: str) -> dict[str, Any]:
    found = [s for s in FAULTS[fault_id]["seen"] if s["source"] == CAPTURED + test_name]
    assert len(found) == 1, f"{fault_id}: no seen entry with source {CAPTURED + test_name!r}"
    return found[0]


class _Recording(httpx.HTTPTransport):
    """The real network transport, keeping each answer's status and body as the probe got them
    (an injected transport, as the probes take one): the capture is what reached the probe, not a
    second request (LiteLLM cools a failing deployment down after two failures and would then
    answer 429 "No deployments available")."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[int, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        body = response.read()
        self.answers.append((response.status_code, body.decode("utf-8", "replace")))
        return httpx.Response(response.status_code, headers=response.headers, content=body,
                              request=request, extensions=response.extensions)


def _probe(url: str, token: str | None, model: str) -> tuple[dict[str, Any], tuple[int, str]]:
    """What the model probe records for ``model`` (the request the client sends, then the
    probe's own retry without anthropic-beta), and the first answer as it came back."""
    recording = _Recording()
    ctx = gateway_ctx(url, token=token, models={"main": model}, transport=recording)
    check = model_messages.run(ctx)["model.checks"][0]
    return check, recording.answers[0]


def _assert_captured(fault_id: str, test_name: str, url: str, token: str | None,
                     model: str) -> None:
    check, (status, body) = _probe(url, token, model)
    assert fault_id in classify(check), (classify(check), check)
    seen = _seen(fault_id, test_name)
    assert (status, body) == (seen["status"], seen["body"]), \
        f"{fault_id}: the real part now writes {status} {body!r}; update its seen body"


def test_no_key_is_key_missing(litellm_gateway: LiteLLM) -> None:
    _assert_captured("http.key_missing", "test_no_key_is_key_missing",
                     litellm_gateway.url, None, "claude-sonnet-4-5")


def test_wrong_key_without_a_database_is_no_db(litellm_gateway: LiteLLM) -> None:
    _assert_captured("http.no_db", "test_wrong_key_without_a_database_is_no_db",
                     litellm_gateway.url, "sk-wrong-key-1234", "claude-sonnet-4-5")


def test_unknown_model_is_invalid_model_name(litellm_gateway: LiteLLM) -> None:
    _assert_captured("http.invalid_model_name", "test_unknown_model_is_invalid_model_name",
                     litellm_gateway.url, litellm_gateway.master_key, "no-such-model")


def test_upstream_401_is_upstream_error(litellm_gateway: LiteLLM) -> None:
    _assert_captured("http.upstream_error", "test_upstream_401_is_upstream_error",
                     litellm_gateway.url, litellm_gateway.master_key, "claude-upstream-401")


def test_model_outside_the_keys_list_is_model_access_denied(litellm_key_models: LiteLLM) -> None:
    # The gateway serves gemini-2.5-pro; this key may use only claude-sonnet-4-5.
    _assert_captured("http.model_access_denied",
                     "test_model_outside_the_keys_list_is_model_access_denied",
                     litellm_key_models.url, TEAM_KEY, "gemini-2.5-pro")
    check, _ = _probe(litellm_key_models.url, TEAM_KEY, "claude-sonnet-4-5")
    assert check["status"] == 200 and not classify(check), check



# An entry whose litellm_params.model names no provider LiteLLM can infer (practice case 33,
# BerriAI/litellm#11755: `gpt-4o-deployment`, not `azure/gpt-4o-deployment`). LiteLLM 1.108.7 logs
# "LLM Provider NOT provided" at startup, drops the deployment and keeps the model name.
UNPREFIXED = "claude-opus-5-5"


@pytest.fixture(scope="module")
def litellm_unprefixed(fake_upstream: FakeUpstream) -> Iterator[LiteLLM]:
    config = {"model_list": [{"model_name": UNPREFIXED, "litellm_params": {
        "model": "gpt-4o-deployment", "api_base": fake_upstream.url,
        "api_key": "sk-fake-upstream-key"}}],
        "litellm_settings": {"num_retries": 0, "request_timeout": 5},
        "general_settings": {"master_key": "sk-right-key"}}
    gw = start_litellm(config)
    try:
        yield gw
    finally:
        gw.stop()


def test_dropped_deployment_is_no_healthy_deployment(litellm_unprefixed: LiteLLM) -> None:
    _assert_captured("http.no_healthy_deployment",
                     "test_dropped_deployment_is_no_healthy_deployment",
                     litellm_unprefixed.url, litellm_unprefixed.master_key, UNPREFIXED)
    assert "LLM Provider NOT provided" in litellm_unprefixed.log  # dropped at startup


# ---- squid 5.7: the proxy error codes the catalogue explains (`proxy_errors`) ----------------

# Each code real squid writes here, and how: (gateway URL, proxy URL) for the proxy probe. Squid's
# own DNS client gets no answer in this lab (measured: CONNECT to example.com and to a .invalid
# name both get 500 ERR_CANNOT_FORWARD at once), so a host name squid must resolve produces
# ERR_CANNOT_FORWARD, and ERR_DNS_FAIL is not produced here; nor are ERR_READ_TIMEOUT (squid's
# 15-minute read_timeout) and ERR_GATEWAY_FAILURE.
SQUID_CODES = {
    "ERR_CACHE_ACCESS_DENIED": lambda squid, closed, tls: (tls.valid.url("http"),
                                                           squid.url(credentials=False)),
    "ERR_ACCESS_DENIED": lambda squid, closed, tls: (f"https://127.0.0.1:{squid.blocked_port}",
                                                     squid.url()),
    "ERR_CONNECT_FAIL": lambda squid, closed, tls: (f"https://127.0.0.1:{closed}", squid.url()),
    "ERR_CANNOT_FORWARD": lambda squid, closed, tls: (f"https://{UNRESOLVABLE_HOST}", squid.url()),
}


@pytest.mark.parametrize("code", sorted(SQUID_CODES))
def test_squid_writes_each_catalogued_error_code(code: str, squid: Any, closed_port_number: int,
                                                 tls_servers: Any) -> None:
    from gwdoctor.probes.proxy import proxy_connect

    from ._netctx import net_ctx

    gateway, proxy = SQUID_CODES[code](squid, closed_port_number, tls_servers)
    ctx = net_ctx(gateway, {"HTTPS_PROXY": proxy})
    connect = proxy_connect.run(ctx)["proxy.connect"]
    written = str(connect["error_header"] or "").split()[0]
    assert written == code, connect
    assert code in load_faults()["proxy_errors"]  # what the proxy fallback and explain say it means
